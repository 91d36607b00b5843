import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import type { Role } from '../../src/protocol/roles.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { createTestDatabase } from './postgres.js';
import { REDIS_URL, redisPrefix } from './redis.js';
import { tempDir, TEST_API_KEY, TEST_SECRET } from './server.js';

export interface Instance extends ChildServer {
  readonly wsUrl: string;
  readonly httpUrl: string;
  publish(body: unknown): Promise<Response>;
  api(path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
}

export interface Cluster {
  readonly instances: Instance[];
  readonly env: Record<string, string>;
  token(sub: string, role: Role, ttlSeconds?: number): Promise<string>;
  /** Start one more instance of the same cluster (same Redis prefix and database). */
  add(extraEnv?: Record<string, string>): Promise<Instance>;
}

/** N real server processes sharing one Redis key prefix and one fresh PostgreSQL database. */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const shared = {
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix(),
    DATABASE_URL: await createTestDatabase(),
    LOG_LEVEL: 'warn',
    ...env,
  };
  const instances: Instance[] = [];
  const add = async (extraEnv: Record<string, string> = {}): Promise<Instance> => {
    const child = await startChildServer({ DATA_DIR: tempDir(), ...shared, ...extraEnv });
    const httpUrl = `http://127.0.0.1:${child.port}`;
    const api = (path: string, init: { method?: string; body?: unknown } = {}) =>
      fetch(httpUrl + path, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    const instance: Instance = {
      ...child,
      wsUrl: `ws://127.0.0.1:${child.port}`,
      httpUrl,
      api,
      publish: (body) => api('/api/v1/events', { body }),
    };
    instances.push(instance);
    return instance;
  };
  // sequential starts: the first runs the migrations, the others find them applied
  for (let i = 0; i < count; i++) await add();
  return {
    instances,
    env: shared,
    add,
    token: (sub, role, ttlSeconds = 3600) => mintAccessToken({ secret: TEST_SECRET, sub, role, ttlSeconds }),
  };
}
