import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCluster } from '../helpers/cluster.js';
import { startOwnRedis } from '../helpers/redis.js';
import { connectReady } from '../helpers/ws-client.js';

async function readyz(url: string): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, checks: ((await response.json()) as { checks: Record<string, string> }).checks };
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('Redis stopped and restarted: local service goes on, readiness tells the truth, cross-instance delivery comes back', async () => {
  const redis = await startOwnRedis();
  const cluster = await startCluster(2, { REDIS_URL: redis.url, REDIS_CANARY_INTERVAL_SECONDS: '0.3' });
  const [a, b] = cluster.instances as [typeof cluster.instances[0], typeof cluster.instances[0]];
  const onA = await connectReady(`${a.wsUrl}/ws/admin/${await cluster.token('outage-a', 'admin')}`);
  const onB = await connectReady(`${b.wsUrl}/ws/admin/${await cluster.token('outage-b', 'admin')}`);
  assert.equal((await readyz(a.httpUrl)).status, 200);

  await redis.stop();
  const down = await until(() => readyz(a.httpUrl), (r) => r.status === 503);
  assert.equal(down.checks.bus, 'down');
  const metrics = await (await fetch(`${a.httpUrl}/metrics`)).text();
  assert.match(metrics, /uhs_bus_unhealthy\{reason="redis_disconnected"\} 1/);

  // local connections are still served while Redis is away
  assert.equal((await a.publish({ type: 'system.alert', data: { k: 'during-outage' } })).status, 202);
  await onA.waitFor((m) => m.data.k === 'during-outage');
  onB.send({ type: 'ping' });
  await onB.waitForType('pong');

  await redis.start();
  await until(() => readyz(a.httpUrl), (r) => r.status === 200);
  await until(() => readyz(b.httpUrl), (r) => r.status === 200);
  // subscriptions are restored: an event published on A reaches B's client again
  await until(
    async () => {
      await a.publish({ type: 'system.alert', data: { k: 'after-restart' } });
      return onB.messages.some((m) => m.data.k === 'after-restart');
    },
    (ok) => ok,
  );
  assert.equal(onA.closeCode, undefined);
  assert.equal(onB.closeCode, undefined);
});

test('a paused Redis (connected but deaf) makes readiness fail via the canary, and recover when resumed', async () => {
  const redis = await startOwnRedis();
  const cluster = await startCluster(1, { REDIS_URL: redis.url, REDIS_CANARY_INTERVAL_SECONDS: '0.3' });
  const instance = cluster.instances[0]!;
  assert.equal((await readyz(instance.httpUrl)).status, 200);
  redis.pause();
  try {
    const down = await until(() => readyz(instance.httpUrl), (r) => r.status === 503);
    assert.equal(down.checks.bus, 'down');
    const metrics = await (await fetch(`${instance.httpUrl}/metrics`)).text();
    assert.match(metrics, /uhs_bus_unhealthy\{reason="(canary_lost|redis_disconnected)"\} 1/);
  } finally {
    redis.resume();
  }
  await until(() => readyz(instance.httpUrl), (r) => r.status === 200, 20_000);
});
