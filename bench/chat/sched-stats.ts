/**
 * How long a process was runnable but waiting for a CPU (Linux /proc/<pid>/schedstat, second field, summed
 * over its threads). On a shared machine this tells apart "the server is slow" from "the server was not
 * scheduled".
 */
import { readdirSync, readFileSync } from 'node:fs';

export function readRunQueueWaitSeconds(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/);
      total += Number(fields[1] ?? 0);
    }
  } catch {
    return Number.NaN;
  }
  return total / 1e9;
}
