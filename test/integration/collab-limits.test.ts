import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { docReaches, synced, yClient } from '../helpers/collab-clients.js';
import { onCleanup } from '../helpers/cleanup.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect } from '../helpers/ws-client.js';

const QUERY_AWARENESS = Uint8Array.of(3);

/** One value of the Prometheus text, e.g. `uhs_yjs_peers` or `uhs_yjs_bytes_persisted_total{kind="log"}`. */
async function metric(server: TestServer, series: string): Promise<number> {
  const text = await (await server.api('/metrics', { key: null })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is exported`);
  return Number(line.split(' ')[1]);
}

describe('documents: refusals and metrics', () => {
  test('transient refusals on /ws/yjs close 1013 (y-websocket retries), never 4429; the other peers go on', async () => {
    const s = await startServer({ RATE_LIMIT_PER_SECOND: '1', MAX_CONNECTIONS_PER_USER: '2' });
    const [writer, watcher] = [yClient(s.wsUrl, 'refusals', await s.token('w', 'student')), yClient(s.wsUrl, 'refusals', await s.token('v', 'student'))];
    onCleanup(() => [writer, watcher].forEach((c) => c.destroy()));
    await Promise.all([synced(writer), synced(watcher)]);

    // rate: Yjs sockets get 10× RATE_LIMIT_PER_SECOND (bursts of 20); 60 messages at once are over it
    const spammer = connect(`${s.wsUrl}/ws/yjs/refusals?token=${await s.token('spam', 'student')}`);
    await spammer.opened;
    for (let i = 0; i < 60; i++) spammer.ws.send(QUERY_AWARENESS);
    assert.equal((await spammer.waitForClose()).code, 1013);

    // cap: the user's third connection
    const token = await s.token('capped', 'student');
    const first = connect(`${s.wsUrl}/ws/yjs/capped-doc?token=${token}`);
    const second = connect(`${s.wsUrl}/ws/yjs/capped-doc?token=${token}`);
    await Promise.all([first.opened, second.opened]);
    const third = connect(`${s.wsUrl}/ws/yjs/capped-doc?token=${token}`);
    assert.equal((await third.waitForClose()).code, 1013);

    writer.doc.getMap('m').set('after', 1);
    await docReaches(watcher.doc, (d) => d.getMap('m').get('after') === 1);
    assert.deepEqual([writer.closeCodes, watcher.closeCodes], [[], []]);
    for (const c of [first, second]) c.ws.close();
  });

  test('metrics: open documents, peers, updates in, bytes persisted (log and snapshot), save latency, loop lag', async () => {
    const s = await startServer({ SAVE_INTERVAL_SECONDS: '1' });
    assert.equal(await metric(s, 'uhs_yjs_documents_open'), 0);
    const token = await s.token('m', 'student');
    const [a, b] = [yClient(s.wsUrl, 'metered', token), yClient(s.wsUrl, 'metered', token)];
    onCleanup(() => [a, b].forEach((c) => c.destroy()));
    await Promise.all([synced(a), synced(b)]);
    for (let i = 0; i < 5; i++) a.doc.getText('t').insert(0, `edit ${i} `);
    await docReaches(b.doc, (d) => d.getText('t').length === a.doc.getText('t').length);

    assert.equal(await metric(s, 'uhs_yjs_documents_open'), 1);
    assert.equal(await metric(s, 'uhs_yjs_peers'), 2);
    assert.ok((await metric(s, 'uhs_yjs_updates_in_total')) >= 5);
    assert.ok((await metric(s, 'uhs_yjs_bytes_persisted_total{kind="log"}')) > 0);
    const deadline = Date.now() + 10_000;
    while ((await metric(s, 'uhs_yjs_save_seconds_count')) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok((await metric(s, 'uhs_yjs_save_seconds_count')) > 0, 'a compaction was timed');
    assert.ok((await metric(s, 'uhs_yjs_bytes_persisted_total{kind="snapshot"}')) > 0);
    assert.ok(Number.isFinite(await metric(s, 'uhs_event_loop_lag_seconds')));
  });
});
