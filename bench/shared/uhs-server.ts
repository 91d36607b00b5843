/**
 * uhs-realtime as a child process for a benchmark: `node --import tsx src/bin/uhs-realtime.ts serve --workers N`
 * on a loopback port, with its own secrets, data folder and SQLite file (unless given), exit-with-parent.ts
 * preloaded and, on request, the inspector on a loopback port (for GCs and heap readings, see remote-gc.ts).
 *
 * Several instances of one deployment share `secret`, `apiKey` and `dataDir` (so the SQLite file): start the
 * first, then pass its `shared` to the others.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import type { Role } from '../../src/protocol/roles.js';
import { freePort } from './free-port.js';
import { onCleanup, stopChild, track } from './child-processes.js';
import { parsePrometheus, type MetricSamples } from './prometheus-text.js';
import { collectGarbage, readHeapUsage, type HeapUsage } from './remote-gc.js';

const sharedDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(sharedDir, '..', '..');
const ENTRY = path.join(repoRoot, 'src', 'bin', 'uhs-realtime.ts');
const EXIT_WITH_PARENT = pathToFileURL(path.join(sharedDir, 'exit-with-parent.ts')).href;
const OUTPUT_TAIL_CHARS = 4_000;


/** What the instances of one deployment have in common. */
export interface SharedDeployment {
  readonly secret: string;
  readonly apiKey: string;
  readonly dataDir: string;
}

export interface UhsServerOptions {
  /** Environment on top of the defaults below (PORT, HOST, secrets and DATA_DIR are set here). */
  readonly env?: Readonly<Record<string, string>>;
  /** `serve --workers N` (default 1). */
  readonly workers?: number;
  /** Another instance of the same deployment (same secrets, same SQLite file). */
  readonly shared?: SharedDeployment;
  /** Start with `--inspect=127.0.0.1:<free port>` (GC and heap readings from outside). */
  readonly inspect?: boolean;
  readonly readyTimeoutMs?: number;
  /** Name in error messages. */
  readonly label?: string;
}

export interface UhsServer {
  readonly label: string;
  readonly pid: number;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly shared: SharedDeployment;
  /** An HS256 access token for this deployment. */
  token(sub: string, role: Role, ttlSeconds?: number): Promise<string>;
  /** GET /metrics, parsed. */
  metrics(): Promise<MetricSamples>;
  /** A service-API request with the key; resolves with status and parsed JSON body (or null). */
  api(method: string, apiPath: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Full GCs through the inspector; false without `inspect` or when it could not be reached. */
  collectGarbage(): Promise<boolean>;
  /** V8 heap used/total through the inspector; null without `inspect`. */
  heapUsage(): Promise<HeapUsage | null>;
  /** The last lines the process printed. */
  output(): string;
  readonly exited: boolean;
  stop(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function newDeployment(): { shared: SharedDeployment; removeDataDir: () => void } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'uhs-bench-'));
  return {
    shared: { secret: randomBytes(32).toString('hex'), apiKey: randomBytes(24).toString('hex'), dataDir },
    removeDataDir: onCleanup(() => rmSync(dataDir, { recursive: true, force: true })),
  };
}

export async function startUhsServer(options: UhsServerOptions = {}): Promise<UhsServer> {
  const label = options.label ?? 'uhs-realtime';
  const port = await freePort();
  const own = options.shared ? null : newDeployment();
  const shared = options.shared ?? own!.shared;
  const inspectPort = options.inspect ? await freePort() : null;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: shared.secret,
    PUBLISH_API_KEY: shared.apiKey,
    DATA_DIR: shared.dataDir,
    DATABASE_URL: `sqlite:${path.join(shared.dataDir, 'realtime.db')}`,
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  if (!options.env?.REDIS_URL) delete env.REDIS_URL;
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const args = [
    '--import',
    'tsx',
    '--import',
    EXIT_WITH_PARENT,
    ...(inspectPort === null ? [] : [`--inspect=127.0.0.1:${inspectPort}`]),
    ...extra,
    ENTRY,
    'serve',
    '--workers',
    String(options.workers ?? 1),
  ];
  const child: ChildProcess = track(spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const httpUrl = `http://127.0.0.1:${port}`;
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const fail = async (why: string): Promise<never> => {
    await stopChild(child, 1_000);
    own?.removeDataDir();
    throw new Error(`${label}: ${why}:\n${tail.trim()}`);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited()) {
      await Promise.race([once(child, 'close'), sleep(1_000)]);
      return fail(`exited (${child.exitCode ?? child.signalCode}) before /readyz answered`);
    }
    try {
      const response = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) return fail('GET /readyz not 200 in time');
    await sleep(100);
  }
  if (child.pid === undefined) return fail('no pid');
  const pid = child.pid;
  const headers = { authorization: `Bearer ${shared.apiKey}` };
  return {
    label,
    pid,
    port,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    shared,
    token: (sub, role, ttlSeconds = 3 * 3600) => mintAccessToken({ secret: shared.secret, sub, role, ttlSeconds }),
    async metrics() {
      const response = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return parsePrometheus(await response.text());
    },
    async api(method, apiPath, body) {
      const response = await fetch(`${httpUrl}${apiPath}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: response.status, body: parsed };
    },
    collectGarbage: () => (inspectPort === null ? Promise.resolve(false) : collectGarbage(inspectPort).then(() => true, () => false)),
    heapUsage: () => (inspectPort === null ? Promise.resolve(null) : readHeapUsage(inspectPort).catch(() => null)),
    output: () => tail.trim(),
    get exited() {
      return exited();
    },
    async stop() {
      await stopChild(child, 12_000);
      own?.removeDataDir();
    },
  };
}
