/**
 * The two set-ups under comparison, both behind the benchmark's own Redis: one uhs-realtime instance, or two
 * instances (separate processes on two ports, one deployment: same secrets, same SQLite file). Load clients are
 * split into two sides; side A connects to the instance the publisher posts to, side B to the other one (with two
 * instances), so side B's latency is the cross-instance latency.
 */
import { randomBytes } from 'node:crypto';
import type { ClientTarget } from '../fanout/protocol.js';
import type { PublishEndpoint } from '../fanout/publisher.js';
import type { PrivateRedis } from '../shared/redis-server.js';
import { startUhsServer, type UhsServer } from '../shared/uhs-server.js';

export type SetupName = 'one instance' | 'two instances';

export interface Deployment {
  readonly name: SetupName;
  readonly instances: readonly UhsServer[];
  /** Where side A (index 0) and side B (index 1) connect. */
  readonly sideInstance: readonly [UhsServer, UhsServer];
  readonly publish: PublishEndpoint;
  /** Connections of every side share one user (`u0`): no presence traffic per connection. */
  target(instance: UhsServer): Promise<ClientTarget>;
  stop(): Promise<void>;
}

export async function startDeployment(name: SetupName, redis: PrivateRedis): Promise<Deployment> {
  const env = {
    REDIS_URL: redis.url,
    // a prefix per set-up: nothing of the previous set-up's keys (presence of its instances) is seen
    REDIS_KEY_PREFIX: `bench-scale-${randomBytes(3).toString('hex')}:`,
    HEARTBEAT_INTERVAL_SECONDS: '30',
    HEALTH_INTERVAL_SECONDS: '3600',
    MAX_CONNECTIONS_PER_USER: '100000',
    RATE_LIMIT_PER_SECOND: '1000',
  };
  const first = await startUhsServer({ env, label: `${name} #1` });
  const instances: UhsServer[] = [first];
  try {
    if (name === 'two instances') instances.push(await startUhsServer({ env, shared: first.shared, label: `${name} #2` }));
  } catch (error) {
    await first.stop();
    throw error;
  }
  const second = instances[1] ?? first;
  return {
    name,
    instances,
    sideInstance: [first, second],
    publish: { url: `${first.httpUrl}/api/v1/events`, headers: { authorization: `Bearer ${first.shared.apiKey}` } },
    async target(instance) {
      return { kind: 'ws', urls: [`${instance.wsUrl}/ws/admin/${await instance.token('u0', 'admin')}`] };
    },
    async stop() {
      // the first instance owns the data folder: stop it last
      for (const instance of [...instances].reverse()) await instance.stop();
    },
  };
}
