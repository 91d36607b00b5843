/**
 * The server under test as a child process (`src/bin/uhs-realtime.ts serve`), on a loopback port, with its own
 * data folder and database: a SQLite file, or a fresh PostgreSQL database dropped afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stopChild, track } from '../shared/child-processes.js';
import { freePort } from '../shared/free-port.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = path.join(repoRoot, 'src', 'bin', 'uhs-realtime.ts');

export type DialectName = 'sqlite' | 'postgres';

export interface ChatServer {
  readonly pid: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly secret: string;
  readonly apiKey: string;
  /** The value of a metric without labels from /metrics. */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

/** A fresh PostgreSQL database for one run, and how to drop it. */
export async function createPgDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `uhs_bench_chat_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function startChatServer(options: { databaseUrl: string | undefined; readyTimeoutMs: number }): Promise<ChatServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'uhs-bench-chat-'));
  const secret = randomBytes(32).toString('hex');
  const apiKey = randomBytes(24).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: secret,
    PUBLISH_API_KEY: apiKey,
    DATA_DIR: dataDir,
    DATABASE_URL: options.databaseUrl ?? `sqlite:${path.join(dataDir, 'realtime.db')}`,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_SECOND: '1000',
    HEALTH_INTERVAL_SECONDS: '3600',
  };
  // one process, in-process fan-out: the figures are one instance's
  delete env.REDIS_URL;
  // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const child: ChildProcess = track(spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ENTRY, 'serve', '--workers', '1'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const httpUrl = `http://127.0.0.1:${port}`;
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      cleanup();
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}):\n${output}`);
    }
    try {
      const response = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child, 1000);
      cleanup();
      throw new Error(`server not ready within ${options.readyTimeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (child.pid === undefined) throw new Error('server has no pid');
  return {
    pid: child.pid,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    secret,
    apiKey,
    async metric(name) {
      const text = await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return match ? Number(match[1]) : Number.NaN;
    },
    async stop() {
      await stopChild(child, 10_000);
      cleanup();
    },
  };
}
