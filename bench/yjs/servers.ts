/**
 * Starts the three Yjs servers under comparison, each as a child process pinned to one CPU (`taskset -c 0` when
 * available), with the inspector on a loopback port (used only to force a GC before memory readings):
 *
 * - `ours`: uhs-realtime (`src/bin/uhs-realtime.ts serve`) with its crash-safe persistence on a SQLite file (or
 *   `--ours-db` PostgreSQL), rate limits lifted for the load;
 * - `y-websocket`: y-websocket 1.5.4's own `bin/server.js` (`bin/utils.js` `setupWSConnection`), no persistence;
 * - `hocuspocus`: `@hocuspocus/server` 4 without extensions (ref-servers.ts), no persistence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { stopChild, track } from '../shared/child-processes.js';
import { collectGarbage } from '../shared/remote-gc.js';
import type { ClientTarget, ServerKind } from './protocol.js';
import { freePort } from '../shared/free-port.js';

export const SERVER_KINDS: readonly ServerKind[] = ['ours', 'y-websocket', 'hocuspocus'];

export interface RunningServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly target: ClientTarget;
  /** ours: the service API (document states, metrics). */
  readonly http?: { readonly base: string; readonly apiKey: string };
  collectGarbage(): Promise<boolean>;
  stop(): Promise<void>;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..', '..');

function hasTaskset(): boolean {
  return existsSync('/usr/bin/taskset') || existsSync('/bin/taskset');
}

async function waitReady(child: ChildProcess, url: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited before ${url} answered:\n${output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer within 60 s:\n${output()}`);
}

async function launch(args: readonly string[], env: NodeJS.ProcessEnv, readyUrl: string, cpu: string | undefined): Promise<{ child: ChildProcess; inspectPort: number }> {
  const inspectPort = await freePort();
  // BENCH_SERVER_NODE_ARGS: extra node flags for the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const node = [process.execPath, `--inspect=127.0.0.1:${inspectPort}`, ...extra, ...args];
  const [command, ...rest] = cpu !== undefined && hasTaskset() ? ['taskset', '-c', cpu, ...node] : node;
  const child = track(spawn(command!, rest, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    await waitReady(child, readyUrl, () => tail);
  } catch (error) {
    await stopChild(child, 1000);
    throw error;
  }
  return { child, inspectPort };
}

export interface StartOptions {
  /** CPU list for taskset, e.g. "0"; undefined: not pinned. */
  readonly cpu: string | undefined;
  /** DATABASE_URL for ours (default: a SQLite file in a temporary folder). */
  readonly oursDatabaseUrl: string | undefined;
}

export async function startServer(kind: ServerKind, options: StartOptions): Promise<RunningServer> {
  const port = await freePort();
  if (kind === 'ours') {
    const secret = randomBytes(32).toString('hex');
    const apiKey = randomBytes(24).toString('hex');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'uhs-bench-yjs-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: secret,
      PUBLISH_API_KEY: apiKey,
      DATABASE_URL: options.oursDatabaseUrl ?? `sqlite:${path.join(dataDir, 'bench.db')}`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      HEALTH_INTERVAL_SECONDS: '3600',
      MAX_CONNECTIONS_PER_USER: '100000',
      RATE_LIMIT_PER_SECOND: '1000000',
    };
    const { child, inspectPort } = await launch(['--import', 'tsx', 'src/bin/uhs-realtime.ts', 'serve'], env, `http://127.0.0.1:${port}/healthz`, options.cpu);
    const token = await mintAccessToken({ secret, sub: 'bench', role: 'student', ttlSeconds: 6 * 3600 });
    return handle(kind, child, inspectPort, { kind, base: `ws://127.0.0.1:${port}`, token }, { base: `http://127.0.0.1:${port}`, apiKey }, () =>
      rmSync(dataDir, { recursive: true, force: true }),
    );
  }
  if (kind === 'y-websocket') {
    // the package's exports hide bin/: take the file from the install folder
    const script = path.join(repoRoot, 'node_modules', 'y-websocket-server-ref', 'bin', 'server.js');
    const env = { ...process.env, HOST: '127.0.0.1', PORT: String(port) };
    const { child, inspectPort } = await launch([script], env, `http://127.0.0.1:${port}/`, options.cpu);
    return handle(kind, child, inspectPort, { kind, base: `ws://127.0.0.1:${port}` });
  }
  const env = { ...process.env, PORT: String(port) };
  const { child, inspectPort } = await launch(['--import', 'tsx', path.join(benchDir, 'ref-servers.ts'), 'hocuspocus'], env, `http://127.0.0.1:${port}/`, options.cpu);
  return handle(kind, child, inspectPort, { kind, base: `ws://127.0.0.1:${port}` });
}

function handle(
  kind: ServerKind,
  child: ChildProcess,
  inspectPort: number,
  target: ClientTarget,
  http?: { base: string; apiKey: string },
  cleanup: () => void = () => undefined,
): RunningServer {
  if (child.pid === undefined) throw new Error(`${kind}: no pid`);
  return {
    kind,
    pid: child.pid,
    target,
    ...(http ? { http } : {}),
    collectGarbage: () => collectGarbage(inspectPort).then(() => true, () => false),
    stop: async () => {
      await stopChild(child);
      cleanup();
    },
  };
}
