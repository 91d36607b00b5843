import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBus } from '../../src/adapters/bus/memory-bus.js';
import { ClusterEvents, INSTANCE_DOWN_TOPIC, type ResyncReason } from '../../src/core/cluster-events.js';
import { createLogger } from '../../src/shared/logger.js';

const logger = createLogger({ level: 'silent' });

/** The memory bus, with a health switch (as a Redis bus that lost its canary). */
class SwitchableBus extends MemoryBus {
  healthy = true;
  private polls = 0;
  private waiter: { count: number; resolve: () => void } | undefined;
  override isHealthy(): boolean {
    this.polls++;
    if (this.waiter && this.polls >= this.waiter.count) this.waiter.resolve();
    return this.healthy;
  }
  /** Resolves once health has been asked `more` more times. */
  polled(more: number): Promise<void> {
    return new Promise((resolve) => (this.waiter = { count: this.polls + more, resolve }));
  }
}

test('instance down reaches the listeners for other instances; news of its own death makes an instance resync', async () => {
  const bus = new MemoryBus();
  const events = new ClusterEvents({ bus, logger });
  await events.start();
  const down: string[] = [];
  const resyncs: ResyncReason[] = [];
  events.onInstanceDown((id) => down.push(id));
  events.onResync((reason) => resyncs.push(reason));
  await events.announceDown('other-1');
  await bus.publish(INSTANCE_DOWN_TOPIC, { instanceId: bus.instanceId });
  assert.deepEqual(down, ['other-1']);
  assert.deepEqual(resyncs, ['reaped_while_alive']);
  events.stop();
  await events.announceDown('other-2');
  assert.deepEqual(down, ['other-1'], 'no delivery after stop');
});

test('a resync waits until the bus delivers again; requests made meanwhile are merged into one', async () => {
  const bus = new SwitchableBus();
  const events = new ClusterEvents({ bus, logger, retryMs: 5 });
  await events.start();
  const fired = new Promise<ResyncReason>((resolve) => events.onResync(resolve));
  let count = 0;
  events.onResync(() => count++);
  bus.healthy = false;
  // the retry timer does not hold the process open (unref): this test does, meanwhile
  const keepAlive = setInterval(() => undefined, 1000);
  const polledThrice = bus.polled(3);
  events.resync('bus_reconnected');
  events.resync('reaped_while_alive');
  await polledThrice;
  assert.equal(count, 0, 'nothing while the bus is unhealthy');
  bus.healthy = true;
  assert.equal(await fired, 'reaped_while_alive');
  assert.equal(count, 1);
  clearInterval(keepAlive);
  events.stop();
});
