/**
 * Resource usage of another process, read from Linux /proc.
 *
 * Only the process itself is measured, not its children: `node --import tsx` keeps an esbuild
 * service child whose memory and CPU are not the server's.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let cachedClockTicks: number | undefined;

/** Clock ticks per second used by /proc/<pid>/stat (`getconf CLK_TCK`, 100 on most Linux). */
export function clockTicksPerSecond(): number {
  if (cachedClockTicks === undefined) {
    let ticks = 100;
    try {
      const parsed = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10);
      if (Number.isFinite(parsed) && parsed > 0) ticks = parsed;
    } catch {
      // getconf missing: 100 is the Linux default (USER_HZ)
    }
    cachedClockTicks = ticks;
  }
  return cachedClockTicks;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  if (!match?.[1]) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function readRssBytes(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Highest resident set size the process ever had, in bytes (VmHWM). */
export function readPeakRssBytes(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** User + system CPU time consumed so far, in seconds (/proc/<pid>/stat fields 14 and 15). */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) is fields[12].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`bad /proc/${pid}/stat`);
  return (utime + stime) / clockTicksPerSecond();
}

/** CPU time of the whole machine so far, in seconds summed over all CPUs (first line of /proc/stat). */
export interface MachineCpu {
  /** Everything but idle and iowait. */
  readonly busy: number;
  /**
   * Interrupt and softirq time: with IRQ time accounting it is charged to no process, and on
   * loopback it is mostly the network stack's receive work for the processes measured.
   */
  readonly irq: number;
}

export function readMachineCpuSeconds(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const hz = clockTicksPerSecond();
  return { busy: (user + nice + system + irq + softirq + steal) / hz, irq: (irq + softirq) / hz };
}

/** `readCpuSeconds`, or 0 for a process that has exited. */
export function readCpuSecondsOrZero(pid: number): number {
  try {
    return readCpuSeconds(pid);
  } catch {
    return 0;
  }
}

/** User + system CPU of this process so far, in seconds. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
