import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startCluster, type Instance } from '../helpers/cluster.js';
import { awarenessReaches, isReady, until } from '../helpers/cluster-waits.js';
import { addParagraph, docReaches, fragmentText, synced, yClient, type YClient } from '../helpers/collab-clients.js';
import { startOwnRedis } from '../helpers/redis.js';

const has = (client: YClient, text: string) => docReaches(client.doc, (doc) => fragmentText(doc).includes(text), 15_000, `"${text}"`);

describe('documents through a Redis outage (two processes, a Redis of the test\'s own)', () => {
  test('Redis stopped: each process serves its own peers; restarted: the documents resynchronise with no further edit', async () => {
    const redis = await startOwnRedis();
    // no compaction (which also reads what others logged): only the resync on reconnection can heal
    const cluster = await startCluster(2, { REDIS_URL: redis.url, REDIS_CANARY_INTERVAL_SECONDS: '0.3', SAVE_INTERVAL_SECONDS: '3600' });
    const [one, two] = cluster.instances as [Instance, Instance];
    const a = yClient(one.wsUrl, 'outage-doc', await cluster.token('a', 'student'));
    const a2 = yClient(one.wsUrl, 'outage-doc', await cluster.token('a2', 'student'));
    const b = yClient(two.wsUrl, 'outage-doc', await cluster.token('b', 'student'));
    b.provider.awareness.setLocalStateField('user', { name: 'B' });
    await Promise.all([synced(a), synced(a2), synced(b)]);
    addParagraph(a.doc, 'before');
    await has(b, 'before');
    await awarenessReaches(a, b.doc.clientID, true);

    await redis.stop();
    await until(async () => !(await isReady(one)) && !(await isReady(two)), 'both processes to see Redis gone');
    addParagraph(a.doc, 'during-one');
    addParagraph(b.doc, 'during-two');
    b.provider.awareness.setLocalStateField('user', { name: 'B, during the outage' });
    // local peers are still served
    await has(a2, 'during-one');
    assert.ok(!fragmentText(b.doc).includes('during-one'), 'nothing crossed while Redis was away');

    await redis.start();
    // no edit after the restart: the reconnection alone must bring each side what the other stored
    await has(b, 'during-one');
    await has(a, 'during-two');
    await has(a2, 'during-two');
    assert.equal(fragmentText(a.doc), fragmentText(b.doc));
    assert.equal(fragmentText(a2.doc), fragmentText(b.doc));
    // the awareness change made during the outage arrives too (b's client renews it only every 15 s)
    await awarenessReaches(a, b.doc.clientID, true, 5000, (state) => (state.user as { name?: string } | undefined)?.name === 'B, during the outage');

    // and the live relay works again both ways
    addParagraph(b.doc, 'after');
    await has(a, 'after');
    addParagraph(a2.doc, 'after-one');
    await has(b, 'after-one');
    await until(async () => (await isReady(one)) && (await isReady(two)), 'both processes ready again');
    assert.equal(fragmentText(a.doc), fragmentText(b.doc));
  });

  test('Redis paused (connected but deaf) while both sides edit: readiness fails, and after resuming the documents converge', async () => {
    const redis = await startOwnRedis();
    const cluster = await startCluster(2, { REDIS_URL: redis.url, REDIS_CANARY_INTERVAL_SECONDS: '0.3' });
    const [one, two] = cluster.instances as [Instance, Instance];
    const a = yClient(one.wsUrl, 'paused-doc', await cluster.token('a', 'student'));
    const a2 = yClient(one.wsUrl, 'paused-doc', await cluster.token('a2', 'student'));
    const b = yClient(two.wsUrl, 'paused-doc', await cluster.token('b', 'student'));
    await Promise.all([synced(a), synced(a2), synced(b)]);
    addParagraph(b.doc, 'before');
    await has(a, 'before');

    redis.pause();
    try {
      await until(async () => !(await isReady(one)) && !(await isReady(two)), 'both processes to find Redis deaf');
      for (let round = 0; round < 10; round++) {
        addParagraph(a.doc, `paused-one-${round}`);
        addParagraph(b.doc, `paused-two-${round}`);
      }
      await has(a2, 'paused-one-9');
    } finally {
      redis.resume();
    }
    await has(b, 'paused-one-9');
    await has(a, 'paused-two-9');
    await has(a2, 'paused-two-9');
    for (let round = 0; round < 10; round++) {
      assert.ok(fragmentText(b.doc).includes(`paused-one-${round}`));
      assert.ok(fragmentText(a.doc).includes(`paused-two-${round}`));
    }
    assert.equal(fragmentText(a.doc), fragmentText(b.doc));
    assert.equal(fragmentText(a2.doc), fragmentText(b.doc));
    await until(async () => (await isReady(one)) && (await isReady(two)), 'both processes ready again', 20_000);
  });
});
