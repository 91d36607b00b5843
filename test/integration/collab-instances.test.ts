import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { MemoryBus } from '../../src/adapters/bus/memory-bus.js';
import type { Bus, Topic, Unsubscribe } from '../../src/core/bus.js';
import { createLogger } from '../../src/shared/logger.js';
import { createServer } from '../../src/server.js';
import { addParagraph, docReaches, fragmentText, synced, withTimeout, yClient } from '../helpers/collab-clients.js';
import { onCleanup } from '../helpers/cleanup.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { TEST_API_KEY, TEST_SECRET, tempDir } from '../helpers/server.js';

/** One instance's view of a bus shared by several in-process servers: its own id, and optionally lossy. */
class InstanceBus implements Bus {
  readonly instanceId = randomUUID();
  readonly reachesOtherInstances = true;
  dropUpdates = false;
  constructor(private readonly shared: MemoryBus) {}
  async publish<M>(topic: Topic<M>, message: M): Promise<void> {
    if (this.dropUpdates && topic.name.startsWith('yjs:') && (message as { kind?: string }).kind === 'updates') return;
    // through the codec, as a network bus would carry it
    return this.shared.publish(topic, topic.codec.decode(topic.codec.encode(message)));
  }
  subscribe<M>(topic: Topic<M>, handler: (message: M) => void): Promise<Unsubscribe> {
    return this.shared.subscribe(topic, handler);
  }
  isHealthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

async function instance(databaseUrl: string, bus: Bus): Promise<{ wsUrl: string; close: () => Promise<void> }> {
  const server = await createServer({
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir(), JWT_SECRET: TEST_SECRET, PUBLISH_API_KEY: TEST_API_KEY, DATABASE_URL: databaseUrl, SAVE_INTERVAL_SECONDS: '0.2' },
    logger: createLogger({ level: 'silent' }),
    bus,
  });
  const { port } = await server.listen();
  let closed = false;
  const close = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  onCleanup(close);
  return { wsUrl: `ws://127.0.0.1:${port}`, close };
}

const token = (sub: string) => mintAccessToken({ secret: TEST_SECRET, sub, role: 'student', ttlSeconds: 600 });

describe('one document on two instances (shared bus and PostgreSQL)', () => {
  test('edits and awareness cross instances; concurrent compactions lose nothing', { timeout: 60_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const shared = new MemoryBus();
    const one = await instance(databaseUrl, new InstanceBus(shared));
    const two = await instance(databaseUrl, new InstanceBus(shared));
    const a = yClient(one.wsUrl, 'multi-1', await token('a'));
    const b = yClient(two.wsUrl, 'multi-1', await token('b'));
    a.provider.awareness.setLocalStateField('user', { name: 'A' });
    await Promise.all([synced(a), synced(b)]);
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => (b.provider.awareness.getStates().has(a.doc.clientID) ? resolve() : void b.provider.awareness.once('change', check));
        check();
      }),
      5000,
      'awareness across instances',
    );
    // both instances compact every 200 ms while both sides type
    for (let round = 0; round < 40; round++) {
      addParagraph(a.doc, `a${round}`);
      addParagraph(b.doc, `b${round}`);
      if (round % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await docReaches(b.doc, (d) => fragmentText(d).includes('a39'));
    await docReaches(a.doc, (d) => fragmentText(d).includes('b39'));
    assert.equal(fragmentText(a.doc), fragmentText(b.doc));
    const expected = fragmentText(a.doc);
    a.destroy();
    b.destroy();
    await one.close();
    await two.close();

    const three = await instance(databaseUrl, new InstanceBus(shared));
    const c = yClient(three.wsUrl, 'multi-1', await token('c'));
    await synced(c);
    assert.equal(fragmentText(c.doc), expected);
  });

  test('updates lost on the bus are healed from the log when the next message shows the gap', { timeout: 60_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const shared = new MemoryBus();
    const lossyBus = new InstanceBus(shared);
    const one = await instance(databaseUrl, lossyBus);
    const two = await instance(databaseUrl, new InstanceBus(shared));
    const a = yClient(one.wsUrl, 'multi-2', await token('a'));
    const b = yClient(two.wsUrl, 'multi-2', await token('b'));
    await Promise.all([synced(a), synced(b)]);
    addParagraph(a.doc, 'first');
    await docReaches(b.doc, (d) => fragmentText(d).includes('first'));
    lossyBus.dropUpdates = true;
    addParagraph(a.doc, 'lost on the bus');
    // the next message that gets through carries a sequence number that reveals the gap
    const probe = yClient(one.wsUrl, 'multi-2', await token('probe'));
    await synced(probe);
    await docReaches(probe.doc, (d) => fragmentText(d).includes('lost on the bus'));
    lossyBus.dropUpdates = false;
    addParagraph(a.doc, 'after the gap');
    await docReaches(b.doc, (d) => fragmentText(d).includes('after the gap') && fragmentText(d).includes('lost on the bus'));
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(b.doc));
    assert.equal(fragmentText(copy), fragmentText(a.doc));
  });
});
