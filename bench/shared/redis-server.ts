/**
 * A redis-server of the benchmark's own on a free loopback port (no persistence), so that its CPU and its
 * command counts are the benchmark's alone and not mixed with tests using the shared Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { onCleanup, stopChild, track } from './child-processes.js';
import { freePort } from './free-port.js';

export interface PrivateRedis {
  readonly pid: number;
  readonly url: string;
  /** `INFO` (default sections, or e.g. `all`) as key → value (numbers stay strings). */
  info(section?: string): Promise<Readonly<Record<string, string>>>;
  stop(): Promise<void>;
}

export async function startPrivateRedis(options: { readonly binary?: string; readonly readyTimeoutMs?: number } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = track(
    spawn(options.binary ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-2_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawned = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  if (spawned) throw new Error(`redis-server could not be started: ${spawned.message}`);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined); // connect failures are retried below; later ones fail the command
  const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline || child.exitCode !== null) {
        await stopChild(child, 1_000);
        throw new Error(`redis-server on ${port} not answering: ${String(error)}\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (child.pid === undefined) throw new Error('redis-server has no pid');
  onCleanup(() => client.disconnect());
  return {
    pid: child.pid,
    url,
    async info(section) {
      const text = section === undefined ? await client.info() : await client.info(section);
      const fields: Record<string, string> = {};
      for (const line of text.split('\r\n')) {
        const at = line.indexOf(':');
        if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1);
      }
      return fields;
    },
    async stop() {
      client.disconnect();
      await stopChild(child, 5_000);
    },
  };
}

/** Calls of one command so far, from `INFO all` (`cmdstat_<name>:calls=…`); 0 when never called. */
export function commandCalls(info: Readonly<Record<string, string>>, command: string): number {
  const match = /calls=(\d+)/.exec(info[`cmdstat_${command.toLowerCase()}`] ?? '');
  return match?.[1] ? Number(match[1]) : 0;
}
