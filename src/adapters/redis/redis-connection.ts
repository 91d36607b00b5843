import { Redis } from 'ioredis';
import type { Logger } from '../../shared/logger.js';

export type { Redis };

/**
 * A Redis connection that never queues commands while disconnected (callers fall back to local behaviour and
 * resynchronise on reconnect instead of piling up memory) and reconnects forever with capped backoff.
 */
export function createRedisConnection(url: string, name: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // subscriptions are restored by their owner on 'ready' (see RedisBus), including ones asked for while away
    autoResubscribe: false,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 3000),
    reconnectOnError: () => true,
  });
  let wasReady = false;
  redis.on('ready', () => {
    if (wasReady) logger.info({ connection: name }, 'redis reconnected');
    wasReady = true;
  });
  redis.on('error', (error: Error) => logger.debug({ connection: name, err: error.message }, 'redis error'));
  redis.on('end', () => logger.debug({ connection: name }, 'redis connection ended'));
  return redis;
}

/** Resolves once the connection is ready, or after `timeoutMs` (the server starts without Redis and catches up). */
export async function waitForReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
