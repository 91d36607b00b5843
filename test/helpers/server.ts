import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { onCleanup } from './cleanup.js';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import type { Role } from '../../src/protocol/roles.js';
import { createLogger } from '../../src/shared/logger.js';
import { createServer, type RealtimeServer } from '../../src/server.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghij';
export const TEST_API_KEY = 'test-api-key-0123456789';

export interface TestServer {
  readonly server: RealtimeServer;
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly dataDir: string;
  /** Every log line the server wrote, as text. */
  readonly logs: string[];
  token(sub: string, role: Role, ttlSeconds?: number): Promise<string>;
  api(path: string, init?: { method?: string; body?: unknown; key?: string | null; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/** A temporary folder removed after the test file. */
export function tempDir(prefix = 'uhs-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real server on an ephemeral port with a real SQLite file (unless DATABASE_URL is given); closed after the file. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = tempDir();
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(chunk.toString('utf8'));
      callback();
    },
  });
  const fullEnv = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_SECRET,
    PUBLISH_API_KEY: TEST_API_KEY,
    LOG_LEVEL: 'debug',
    ...env,
  };
  const logger = createLogger({ level: fullEnv.LOG_LEVEL, destination });
  const server = await createServer({ env: fullEnv, logger });
  const { port } = await server.listen();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  onCleanup(close);
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    server,
    port,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}`,
    dataDir,
    logs,
    token: (sub, role, ttlSeconds = 3600) => mintAccessToken({ secret: fullEnv.JWT_SECRET, sub, role, ttlSeconds }),
    api: (path, init = {}) => {
      const headers: Record<string, string> = { ...init.headers };
      if (init.key !== null) headers.authorization = `Bearer ${init.key ?? fullEnv.PUBLISH_API_KEY}`;
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      return fetch(httpUrl + path, {
        method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'),
        headers,
        ...(init.body !== undefined ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
      });
    },
    close,
  };
}
