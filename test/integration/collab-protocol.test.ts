import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { decodeYjsMessage, encodeAwareness, encodeQueryAwareness, encodeSyncStep1, encodeUpdate, type YjsFraming, type YjsMessage } from '../../src/protocol/yjs-messages.js';
import { addParagraph, docReaches, fragmentText, synced, yClient } from '../helpers/collab-clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect, type TestClient } from '../helpers/ws-client.js';

/** Decode what a raw test client received. */
function received(client: TestClient, framing: YjsFraming = 'y-websocket'): YjsMessage[] {
  return client.binary.map((frame) => {
    const decoded = decodeYjsMessage(frame, framing);
    assert.ok(decoded.ok, 'the server only sends well-formed messages');
    return decoded.value;
  });
}

async function waitForMessage(client: TestClient, framing: YjsFraming, predicate: (m: YjsMessage) => boolean, from = 0, timeoutMs = 5000): Promise<YjsMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = received(client, framing).slice(from).find(predicate);
    if (found) return found;
    if (client.closeCode !== undefined) throw new Error(`closed ${client.closeCode} ${client.closeReason}`);
    if (Date.now() > deadline) throw new Error(`timed out; got ${received(client, framing).map((m) => m.kind).join(',')}`);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        client.ws.off('message', done);
        client.ws.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, deadline - Date.now());
      client.ws.on('message', done);
      client.ws.on('close', done);
    });
  }
}

function awarenessUpdateFor(clientId: number, clock: number, state: Record<string, unknown> | null): Uint8Array {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  const awareness = new Awareness(doc);
  awareness.meta.set(clientId, { clock: clock - 1, lastUpdated: Date.now() });
  awareness.setLocalState(state);
  const update = encodeAwarenessUpdate(awareness, [clientId]);
  awareness.destroy();
  return update;
}

function statesIn(update: Uint8Array): Map<number, unknown> {
  const awareness = new Awareness(new Y.Doc());
  awareness.setLocalState(null);
  applyAwarenessUpdate(awareness, update, 'test');
  const states = new Map(awareness.getStates());
  awareness.destroy();
  return states;
}

describe('the /ws/yjs wire protocol', () => {
  let server: TestServer;
  let url: (docId: string, user: string, query?: string) => Promise<string>;
  before(async () => {
    server = await startServer();
    url = async (docId, user, query = '') => `${server.wsUrl}/ws/yjs/${docId}?token=${await server.token(user, 'student')}${query}`;
  });

  test('a newcomer gets sync step 1 and the awareness states already present, at once', async () => {
    const editor = yClient(server.wsUrl, 'aw-1', await server.token('alice', 'student'));
    editor.provider.awareness.setLocalStateField('user', { name: 'Alice' });
    await synced(editor);
    const raw = connect(await url('aw-1', 'bob'));
    const step1 = await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'sync-step-1');
    assert.equal(step1.kind, 'sync-step-1');
    const awareness = await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'awareness');
    assert.ok(awareness.kind === 'awareness');
    assert.deepEqual(statesIn(awareness.update).get(editor.doc.clientID), { user: { name: 'Alice' } });
  });

  test('awareness renewals are echoed to their sender, relayed to the others, and removed when the sender leaves', async () => {
    const watcher = yClient(server.wsUrl, 'aw-2', await server.token('carol', 'student'));
    // (a state still at clock 0 is ignored by every y-protocols awareness, the server's included: set a field)
    watcher.provider.awareness.setLocalStateField('user', { name: 'Carol' });
    await synced(watcher);
    const raw = connect(await url('aw-2', 'dave'));
    await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'sync-step-1');
    const clientId = 4242;
    raw.ws.send(encodeAwareness(awarenessUpdateFor(clientId, 1, { cursor: 1 }), 'y-websocket'));
    const echo = await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'awareness' && statesIn(m.update).has(clientId));
    assert.ok(echo);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (watcher.provider.awareness.getStates().has(clientId)) resolve();
        else watcher.provider.awareness.once('change', check);
      };
      check();
    });
    // a renewal (same state, higher clock) is echoed too: it is what keeps a quiet client's socket alive
    const before = raw.binary.length;
    raw.ws.send(encodeAwareness(awarenessUpdateFor(clientId, 2, { cursor: 1 }), 'y-websocket'));
    await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'awareness', before);
    // the same clock again (the 3.x client re-sends what it receives) is not a change: nothing comes back
    const beforeDuplicate = raw.binary.length;
    raw.ws.send(encodeAwareness(awarenessUpdateFor(clientId, 2, { cursor: 1 }), 'y-websocket'));
    raw.ws.send(encodeQueryAwareness());
    const answer = await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'awareness', beforeDuplicate);
    assert.ok(answer.kind === 'awareness');
    assert.deepEqual([...statesIn(answer.update).keys()].sort(), [clientId, watcher.doc.clientID].sort(), 'query awareness is answered with every state');
    assert.equal(raw.binary.length, beforeDuplicate + 1, 'the duplicate was not echoed');

    raw.ws.close();
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (!watcher.provider.awareness.getStates().has(clientId)) resolve();
        else watcher.provider.awareness.once('change', check);
      };
      check();
    });
  });

  test('flat framing interoperates with y-websocket peers in the same document', async () => {
    const editor = yClient(server.wsUrl, 'flat-1', await server.token('erin', 'student'));
    await synced(editor);
    addParagraph(editor.doc, 'typed in tiptap');
    const flat = connect(await url('flat-1', 'frank', '&framing=flat'));
    const mirror = new Y.Doc();
    await flat.opened;
    flat.ws.send(Buffer.concat([Buffer.of(0), Buffer.from(Y.encodeStateVector(mirror))]));
    const step2 = await waitForMessage(flat, 'flat', (m) => m.kind === 'sync-step-2');
    assert.ok(step2.kind === 'sync-step-2');
    Y.applyUpdate(mirror, step2.update);
    assert.equal(fragmentText(mirror), fragmentText(editor.doc));

    mirror.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') flat.ws.send(Buffer.concat([Buffer.of(2), Buffer.from(update)]));
    });
    addParagraph(mirror, 'typed in a flat client');
    await docReaches(editor.doc, (d) => fragmentText(d).includes('typed in a flat client'));

    const seen = flat.binary.length;
    addParagraph(editor.doc, 'back to flat');
    const update = await waitForMessage(flat, 'flat', (m) => m.kind === 'update', seen);
    assert.ok(update.kind === 'update');
    Y.applyUpdate(mirror, update.update, 'remote');
    assert.equal(fragmentText(mirror), fragmentText(editor.doc));
  });

  test('an update is never sent back to its sender', async () => {
    const raw = connect(await url('echo-1', 'gina'));
    await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'sync-step-1');
    const other = yClient(server.wsUrl, 'echo-1', await server.token('hank', 'student'));
    await synced(other);
    const source = new Y.Doc();
    addParagraph(source, 'only once');
    const seen = raw.binary.length;
    raw.ws.send(encodeUpdate(Y.encodeStateAsUpdate(source), 'y-websocket'));
    await docReaches(other.doc, (d) => fragmentText(d).includes('only once'));
    raw.ws.send(encodeSyncStep1(Y.encodeStateVector(source), 'y-websocket'));
    await waitForMessage(raw, 'y-websocket', (m) => m.kind === 'sync-step-2', seen);
    assert.ok(!received(raw).slice(seen).some((m) => m.kind === 'update'), 'no update came back');
  });

  for (const [name, payload] of [
    ['random bytes', () => randomBytes(64)],
    ['a truncated update', () => encodeUpdate(bigUpdate(), 'y-websocket').subarray(0, 40)],
    ['an update with a truncated payload inside a well-framed message', () => encodeUpdate(bigUpdate().subarray(0, 30), 'y-websocket')],
    ['an unknown message type', () => Uint8Array.of(9, 0)],
    ['an empty frame', () => new Uint8Array(0)],
  ] as const) {
    test(`${name} closes only its sender with 4400, and the document is unharmed`, async () => {
      const docId = `bad-${name.replace(/\W+/g, '-')}`;
      const a = yClient(server.wsUrl, docId, await server.token('ivy', 'student'));
      const b = yClient(server.wsUrl, docId, await server.token('jack', 'student'));
      await Promise.all([synced(a), synced(b)]);
      addParagraph(a.doc, 'before');
      await docReaches(b.doc, (d) => fragmentText(d).includes('before'));
      const expected = fragmentText(a.doc);

      const bad = connect(await url(docId, 'mallory'));
      await bad.opened;
      bad.ws.send(payload());
      const { code } = await bad.waitForClose();
      assert.equal(code, 4400);

      addParagraph(b.doc, 'after');
      await docReaches(a.doc, (d) => fragmentText(d).includes('after'));
      assert.equal(fragmentText(a.doc), fragmentText(b.doc));
      assert.ok(fragmentText(a.doc).startsWith(expected));
      assert.deepEqual([a.closeCodes, b.closeCodes], [[], []], 'the other peers were not disturbed');
    });
  }

  test('a text frame closes with 4400', async () => {
    const raw = connect(await url('text-1', 'kate'));
    await raw.opened;
    raw.ws.send('hello');
    assert.equal((await raw.waitForClose()).code, 4400);
  });

  test('an unknown framing or a malformed document id is refused with 4400', async () => {
    const framing = connect(await url('f-1', 'leo', '&framing=xml'));
    assert.equal((await framing.waitForClose()).code, 4400);
    const badId = connect(`${server.wsUrl}/ws/yjs/${'x'.repeat(129)}?token=${await server.token('leo', 'student')}`);
    assert.equal((await badId.waitForClose()).code, 4400);
  });

  test('a message over YJS_MAX_MESSAGE_BYTES closes with 1009', async () => {
    const small = await startServer({ YJS_MAX_MESSAGE_BYTES: '1024' });
    const raw = connect(`${small.wsUrl}/ws/yjs/big-1?token=${await small.token('max', 'student')}`);
    await raw.opened;
    raw.ws.send(encodeUpdate(bigUpdate(), 'y-websocket'));
    assert.equal((await raw.waitForClose()).code, 1009);
  });

  test('a missing or invalid token is refused with 4401', async () => {
    const raw = connect(`${server.wsUrl}/ws/yjs/t-1?token=nope`);
    assert.equal((await raw.waitForClose()).code, 4401);
  });
});

function bigUpdate(): Uint8Array {
  const doc = new Y.Doc();
  for (let i = 0; i < 20; i++) addParagraph(doc, `paragraph ${i} `.repeat(10));
  return Y.encodeStateAsUpdate(doc);
}
