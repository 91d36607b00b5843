/**
 * Starts and stops the three servers under comparison, each as its own child process with the
 * inspector on a loopback port (used only to force a GC before memory readings) and
 * exit-with-parent.ts preloaded.
 *
 * - `ours`: uhs-realtime (`src/bin/uhs-realtime.ts serve`), role channel `/ws/admin/<jwt>`,
 *   publishing with `POST /api/v1/events` and the service key;
 * - `bare-ws`: bare-ws-server.ts, the naive `ws` broadcaster;
 * - `socketio`: socketio-server.ts, Socket.IO 4 with one room per role.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import { onCleanup, stopChild, track } from '../shared/child-processes.js';
import { collectGarbage } from '../shared/remote-gc.js';
import type { ClientTarget } from './protocol.js';
import type { PublishEndpoint } from './publisher.js';
import { freePort } from '../shared/free-port.js';

export const SERVER_NAMES = ['ours', 'bare-ws', 'socketio'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export interface RunningServer {
  readonly name: ServerName;
  readonly pid: number;
  readonly publish: PublishEndpoint;
  /** Where load clients connect; `users` distinct user ids share the connections (ours only). */
  clientTarget(users: number): Promise<ClientTarget>;
  /** Forces full GCs in the server; false when the inspector could not be reached. */
  collectGarbage(): Promise<boolean>;
  stop(): Promise<void>;
}

/** The server could not be started; the bench goes on without it. */
export class ServerUnavailableError extends Error {}

export interface StartOptions {
  readonly readyTimeoutMs: number;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..', '..');
const OURS_ENTRY = path.join(repoRoot, 'src', 'bin', 'uhs-realtime.ts');
const EXIT_WITH_PARENT = pathToFileURL(path.join(benchDir, '..', 'shared', 'exit-with-parent.ts')).href;
const OUTPUT_TAIL_CHARS = 4_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keeps the last few KB a child wrote, for the error message when it fails to start. */
function captureOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail.trim();
}

async function waitHealthy(child: ChildProcess, port: number, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      // 'exit' can come before the last output: wait (briefly) for the pipes to close.
      await Promise.race([once(child, 'close'), sleep(1_000)]);
      throw new ServerUnavailableError(`exited (${child.exitCode ?? child.signalCode}) before /healthz answered:\n${output()}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stopChild(child, 1_000);
  throw new ServerUnavailableError(`GET /healthz not 200 within ${timeoutMs / 1000} s:\n${output()}`);
}

interface Launch {
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

async function launch(
  name: ServerName,
  port: number,
  spec: Launch,
  options: StartOptions,
): Promise<{ child: ChildProcess; inspectPort: number }> {
  const inspectPort = await freePort();
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, `--inspect=127.0.0.1:${inspectPort}`, ...spec.args], {
      cwd: repoRoot,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const output = captureOutput(child);
  try {
    await waitHealthy(child, port, options.readyTimeoutMs, output);
  } catch (error) {
    await stopChild(child, 1_000);
    if (error instanceof ServerUnavailableError) throw new ServerUnavailableError(`${name}: ${error.message}`);
    throw error;
  }
  return { child, inspectPort };
}

function handle(
  name: ServerName,
  child: ChildProcess,
  inspectPort: number,
  publish: PublishEndpoint,
  clientTarget: (users: number) => Promise<ClientTarget>,
  cleanup: () => void = () => {},
): RunningServer {
  if (child.pid === undefined) throw new ServerUnavailableError(`${name}: no pid`);
  return {
    name,
    pid: child.pid,
    publish,
    clientTarget,
    collectGarbage: () => collectGarbage(inspectPort).then(
      () => true,
      () => false,
    ),
    stop: async () => {
      await stopChild(child);
      cleanup();
    },
  };
}

async function startOurs(options: StartOptions): Promise<RunningServer> {
  if (!existsSync(OURS_ENTRY)) throw new ServerUnavailableError(`ours: ${path.relative(repoRoot, OURS_ENTRY)} does not exist yet`);
  const port = await freePort();
  const secret = randomBytes(32).toString('hex');
  const apiKey = randomBytes(24).toString('hex');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'uhs-bench-'));
  const removeDataDir = onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: secret,
    PUBLISH_API_KEY: apiKey,
    DATABASE_URL: 'sqlite::memory:',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    HEARTBEAT_INTERVAL_SECONDS: '30',
    HEALTH_INTERVAL_SECONDS: '3600',
    MAX_CONNECTIONS_PER_USER: '100000',
  };
  let started: { child: ChildProcess; inspectPort: number };
  try {
    started = await launch('ours', port, { args: [OURS_ENTRY, 'serve'], env }, options);
  } catch (error) {
    removeDataDir();
    throw error;
  }
  const key = new TextEncoder().encode(secret);
  const clientTarget = async (users: number): Promise<ClientTarget> => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const urls = await Promise.all(
      Array.from({ length: Math.max(1, users) }, async (_, i) => {
        const jwt = await new SignJWT({ role: 'admin', type: 'access' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(`u${i}`)
          .setIssuedAt()
          .setExpirationTime(exp)
          .sign(key);
        return `ws://127.0.0.1:${port}/ws/admin/${jwt}`;
      }),
    );
    return { kind: 'ws', urls };
  };
  const publish: PublishEndpoint = {
    url: `http://127.0.0.1:${port}/api/v1/events`,
    headers: { authorization: `Bearer ${apiKey}` },
  };
  return handle('ours', started.child, started.inspectPort, publish, clientTarget, removeDataDir);
}

async function startBaseline(name: 'bare-ws' | 'socketio', options: StartOptions): Promise<RunningServer> {
  const port = await freePort();
  const script = path.join(benchDir, name === 'bare-ws' ? 'bare-ws-server.ts' : 'socketio-server.ts');
  const { child, inspectPort } = await launch(name, port, { args: [script, '--port', String(port)], env: process.env }, options);
  const publish: PublishEndpoint = { url: `http://127.0.0.1:${port}/publish`, headers: {} };
  const clientTarget = (): Promise<ClientTarget> =>
    Promise.resolve(
      name === 'bare-ws'
        ? { kind: 'ws', urls: [`ws://127.0.0.1:${port}/ws/admin`] }
        : { kind: 'socketio', url: `http://127.0.0.1:${port}`, role: 'admin' },
    );
  return handle(name, child, inspectPort, publish, clientTarget);
}

export function startServer(name: ServerName, options: StartOptions): Promise<RunningServer> {
  return name === 'ours' ? startOurs(options) : startBaseline(name, options);
}
