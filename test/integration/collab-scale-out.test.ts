import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as Y from 'yjs';
import { startCluster, type Instance } from '../helpers/cluster.js';
import { awarenessReaches } from '../helpers/cluster-waits.js';
import { addParagraph, docReaches, fragmentText, synced, yClient } from '../helpers/collab-clients.js';
import { TEST_API_KEY } from '../helpers/server.js';

/** Every paragraph text of the document, sorted (the order of concurrent inserts is Yjs's to decide). */
function paragraphs(doc: Y.Doc): string[] {
  return doc
    .getXmlFragment('default')
    .toArray()
    .map((node) => (node instanceof Y.XmlElement ? node.toArray().map((text) => text.toString()).join('') : ''))
    .sort();
}

async function storedParagraphs(instance: Instance, docId: string): Promise<string[]> {
  const response = await fetch(`${instance.httpUrl}/api/v1/docs/${docId}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
  assert.equal(response.status, 200);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, new Uint8Array(await response.arrayBuffer()));
  return paragraphs(doc);
}

describe('documents across server processes (Redis, PostgreSQL)', () => {
  test('peers of one document on two processes converge, and a newcomer sees the cursors already there at once', async () => {
    const cluster = await startCluster(2);
    const [one, two] = cluster.instances as [Instance, Instance];
    const a = yClient(one.wsUrl, 'conv-1', await cluster.token('a', 'student'));
    const a2 = yClient(one.wsUrl, 'conv-1', await cluster.token('a2', 'student'));
    a.provider.awareness.setLocalStateField('user', { name: 'A' });
    await Promise.all([synced(a), synced(a2)]);
    await awarenessReaches(a2, a.doc.clientID, true);

    // b's instance opens the document now: it asks the other instance, which answers with its peers' states,
    // long before a's client renews its own (every 15 s)
    const b = yClient(two.wsUrl, 'conv-1', await cluster.token('b', 'student'));
    b.provider.awareness.setLocalStateField('user', { name: 'B' });
    await synced(b);
    await awarenessReaches(b, a.doc.clientID, true, 5000, (state) => (state.user as { name?: string } | undefined)?.name === 'A');
    await awarenessReaches(a, b.doc.clientID, true, 5000);

    // concurrent edits through both processes
    const expected: string[] = [];
    for (let round = 0; round < 25; round++) {
      addParagraph(a.doc, `a-${round}`);
      addParagraph(a2.doc, `a2-${round}`);
      addParagraph(b.doc, `b-${round}`);
      expected.push(`a-${round}`, `a2-${round}`, `b-${round}`);
    }
    expected.sort();
    for (const client of [a, a2, b]) await docReaches(client.doc, (doc) => paragraphs(doc).length === expected.length, 15_000, 'every edit');
    assert.deepEqual(paragraphs(a.doc), expected);
    assert.equal(fragmentText(a.doc), fragmentText(b.doc));
    assert.equal(fragmentText(a2.doc), fragmentText(b.doc));

    // an awareness change crosses too, and a clean leave removes the state everywhere
    a.provider.awareness.setLocalStateField('user', { name: 'A, renamed' });
    await awarenessReaches(b, a.doc.clientID, true, 5000, (state) => (state.user as { name?: string } | undefined)?.name === 'A, renamed');
    a2.destroy();
    await awarenessReaches(b, a2.doc.clientID, false, 5000);
  });

  test('edits through two processes, both restarted (one SIGKILL, one SIGTERM): every edit is there, none overwritten', async () => {
    // compaction every 100 ms on both: they race on the stored state while both append to the log
    const cluster = await startCluster(2, { SAVE_INTERVAL_SECONDS: '0.1' });
    const [one, two] = cluster.instances as [Instance, Instance];
    const a = yClient(one.wsUrl, 'restart-1', await cluster.token('a', 'student'));
    const b = yClient(two.wsUrl, 'restart-1', await cluster.token('b', 'student'));
    await Promise.all([synced(a), synced(b)]);
    const expected: string[] = [];
    for (let round = 0; round < 60; round++) {
      addParagraph(a.doc, `one-${round}`);
      addParagraph(b.doc, `two-${round}`);
      expected.push(`one-${round}`, `two-${round}`);
      if (round % 15 === 14) await new Promise((resolve) => setTimeout(resolve, 120));
    }
    expected.sort();
    // each side has every edit of the other: they were relayed, so they are durable
    await docReaches(a.doc, (doc) => paragraphs(doc).length === expected.length, 15_000, 'b edits on a');
    await docReaches(b.doc, (doc) => paragraphs(doc).length === expected.length, 15_000, 'a edits on b');

    one.process.kill('SIGKILL');
    two.process.kill('SIGTERM');
    assert.equal((await two.exited).code, 0);
    await one.exited;
    a.destroy();
    b.destroy();

    const three = await cluster.add();
    const four = await cluster.add();
    assert.deepEqual(await storedParagraphs(three, 'restart-1'), expected);
    const c = yClient(three.wsUrl, 'restart-1', await cluster.token('c', 'student'));
    const d = yClient(four.wsUrl, 'restart-1', await cluster.token('d', 'student'));
    await Promise.all([synced(c), synced(d)]);
    await docReaches(c.doc, (doc) => paragraphs(doc).length === expected.length, 10_000, 'every edit after the restart');
    await docReaches(d.doc, (doc) => paragraphs(doc).length === expected.length, 10_000, 'every edit after the restart');
    assert.deepEqual(paragraphs(c.doc), expected);
    assert.equal(fragmentText(c.doc), fragmentText(d.doc));
  });
});
