import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { MemoryBus } from '../../src/adapters/bus/memory-bus.js';
import { RedisBus } from '../../src/adapters/bus/redis-bus.js';
import { topic, type Bus, type Codec } from '../../src/core/bus.js';
import { createLogger } from '../../src/shared/logger.js';
import { REDIS_URL, rawRedis, redisPrefix } from '../helpers/redis.js';

const logger = createLogger({ level: 'silent' });

interface Note {
  readonly n: number;
  readonly from: string;
}

const binaryCodec: Codec<Uint8Array> = { encode: (m) => Buffer.from(m), decode: (raw) => new Uint8Array(raw) };

function collector<M>(): { items: M[]; handler: (m: M) => void; waitFor: (count: number) => Promise<M[]> } {
  const items: M[] = [];
  let wake: (() => void) | undefined;
  return {
    items,
    handler: (m) => {
      items.push(m);
      wake?.();
    },
    async waitFor(count) {
      const deadline = Date.now() + 5000;
      while (items.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count}, got ${items.length}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return items;
    },
  };
}

const implementations: Array<{ name: string; make: () => Promise<Bus> }> = [
  { name: 'memory', make: async () => new MemoryBus(logger) },
  {
    name: 'redis',
    make: async () => {
      const bus = new RedisBus({ url: REDIS_URL, keyPrefix: redisPrefix(), logger });
      await bus.start();
      return bus;
    },
  },
];

for (const impl of implementations) {
  describe(`bus contract: ${impl.name}`, () => {
    const buses: Bus[] = [];
    after(() => Promise.all(buses.map((b) => b.close())));
    const make = async () => {
      const bus = await impl.make();
      buses.push(bus);
      return bus;
    };

    test('a publish reaches local subscribers before it resolves, in order, once', async () => {
      const bus = await make();
      const notes = topic<Note>('notes');
      const seen = collector<Note>();
      await bus.subscribe(notes, seen.handler);
      for (let n = 0; n < 50; n++) await bus.publish(notes, { n, from: 'a' });
      assert.deepEqual(seen.items.map((m) => m.n), [...Array(50).keys()]);
    });

    test('unsubscribe removes only that subscription; a throwing handler does not stop the others', async () => {
      const bus = await make();
      const t = topic<Note>('unsub');
      const a = collector<Note>();
      const b = collector<Note>();
      const unsubscribeA = await bus.subscribe(t, a.handler);
      await bus.subscribe(t, () => {
        throw new Error('boom');
      });
      await bus.subscribe(t, b.handler);
      await bus.publish(t, { n: 1, from: 'x' });
      unsubscribeA();
      unsubscribeA();
      await bus.publish(t, { n: 2, from: 'x' });
      assert.deepEqual(a.items.map((m) => m.n), [1]);
      assert.deepEqual(b.items.map((m) => m.n), [1, 2]);
    });

    test('binary payloads survive the codec', async () => {
      const bus = await make();
      const t = topic<Uint8Array>('bin', binaryCodec);
      const seen = collector<Uint8Array>();
      await bus.subscribe(t, seen.handler);
      await bus.publish(t, new Uint8Array([0, 255, 1, 128]));
      assert.deepEqual([...seen.items[0]!], [0, 255, 1, 128]);
    });

    test('reports itself healthy while it can deliver', async () => {
      assert.equal((await make()).isHealthy(), true);
    });
  });
}

describe('redis bus across instances', () => {
  const prefix = redisPrefix();
  const buses: RedisBus[] = [];
  after(() => Promise.all(buses.map((b) => b.close())));
  const make = async () => {
    const bus = new RedisBus({ url: REDIS_URL, keyPrefix: prefix, logger });
    await bus.start();
    buses.push(bus);
    return bus;
  };

  test('each instance gets each message exactly once, in publish order, and never its own echo twice', async () => {
    const [a, b, c] = [await make(), await make(), await make()];
    const t = topic<Note>('fanout');
    const seen = [collector<Note>(), collector<Note>(), collector<Note>()];
    await a.subscribe(t, seen[0]!.handler);
    await b.subscribe(t, seen[1]!.handler);
    await c.subscribe(t, seen[2]!.handler);
    for (let n = 0; n < 100; n++) await a.publish(t, { n, from: 'a' });
    await b.publish(t, { n: 1000, from: 'b' });
    for (const s of seen) await s.waitFor(101);
    // one more round trip so that late duplicates would have arrived
    const fence = collector<Note>();
    await a.subscribe(topic<Note>('fence'), fence.handler);
    await b.publish(topic<Note>('fence'), { n: 0, from: 'b' });
    await fence.waitFor(1);
    for (const s of seen) {
      assert.equal(s.items.length, 101);
      assert.deepEqual(s.items.filter((m) => m.from === 'a').map((m) => m.n), [...Array(100).keys()]);
    }
  });

  test('another prefix is another cluster', async () => {
    const other = new RedisBus({ url: REDIS_URL, keyPrefix: redisPrefix(), logger });
    await other.start();
    buses.push(other);
    const mine = await make();
    const t = topic<Note>('isolated');
    const heard = collector<Note>();
    await other.subscribe(t, heard.handler);
    await mine.publish(t, { n: 1, from: 'mine' });
    const probe = collector<Note>();
    await other.subscribe(topic<Note>('probe'), probe.handler);
    await rawRedis().publish(other.channelName('probe'), Buffer.concat([Buffer.from('zzzzzzzz'), Buffer.from(JSON.stringify({ n: 2, from: 'raw' }))]));
    await probe.waitFor(1);
    assert.equal(heard.items.length, 0);
  });
});
