import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import WebSocket from 'ws';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { addParagraph, docReaches, fragmentText, synced, yClient } from '../helpers/collab-clients.js';
import { FUZZ_SEED } from '../helpers/fuzz.js';
import { startServer } from '../helpers/server.js';
import { connect } from '../helpers/ws-client.js';

/** Well-formed y-websocket messages of every kind, to mutate. */
function validMessages(): Uint8Array[] {
  const source = new Y.Doc();
  source.getXmlFragment('default').insert(0, [new Y.XmlText('seed')]);
  const update = Y.encodeStateAsUpdate(source);
  const sync = (write: (e: encoding.Encoder) => void) => {
    const e = encoding.createEncoder();
    encoding.writeVarUint(e, 0);
    write(e);
    return encoding.toUint8Array(e);
  };
  const awareness = new awarenessProtocol.Awareness(source);
  awareness.setLocalState({ user: { name: 'fuzz' } });
  const aw = encoding.createEncoder();
  encoding.writeVarUint(aw, 1);
  encoding.writeVarUint8Array(aw, awarenessProtocol.encodeAwarenessUpdate(awareness, [source.clientID]));
  awareness.destroy();
  return [
    sync((e) => syncProtocol.writeSyncStep1(e, source)),
    sync((e) => syncProtocol.writeSyncStep2(e, source)),
    sync((e) => syncProtocol.writeUpdate(e, update)),
    encoding.toUint8Array(aw),
    new Uint8Array([3]),
  ];
}

test('documents: random and mutated Yjs messages close only the sender (4400 or 1009); editors keep converging', async () => {
  const s = await startServer({ RATE_LIMIT_PER_SECOND: '100000', YJS_MAX_MESSAGE_BYTES: '65536' });
  const token = await s.token('editor', 'student');
  const a = yClient(s.wsUrl, 'fuzz-doc', token);
  const b = yClient(s.wsUrl, 'fuzz-doc', await s.token('editor-b', 'student'));
  await synced(a);
  await synced(b);
  const fuzzToken = await s.token('fuzzer', 'student');
  const valid = validMessages();
  const mutation = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }), fc.nat()).map(([m, flips, cut]) => {
      const bytes = Uint8Array.from(m);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      return bytes.subarray(0, Math.max(1, bytes.length - (cut % bytes.length)));
    }),
  );
  let round = 0;
  const closeCodes = new Set<number>();
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 5 }), async (frames) => {
      round++;
      const fuzzer = connect(`${s.wsUrl}/ws/yjs/fuzz-doc?token=${fuzzToken}`);
      await fuzzer.opened;
      for (const frame of frames) if (fuzzer.ws.readyState === WebSocket.OPEN) fuzzer.ws.send(frame);
      fuzzer.ws.close(1000);
      const closed = await fuzzer.waitForClose(5000);
      closeCodes.add(closed.code);
      assert.ok([1000, 1005, 4400, 1009].includes(closed.code), `documented close, got ${closed.code} ${closed.reason}`);
      // the editors still work and agree after every round
      addParagraph(a.doc, `round ${round}`);
      await docReaches(b.doc, (d) => fragmentText(d).includes(`round ${round}<`), 10_000, `round ${round} at b`);
    }),
    { numRuns: 60, seed: FUZZ_SEED },
  );
  assert.ok(closeCodes.has(4400), 'garbage was refused with 4400');
  await docReaches(a.doc, () => fragmentText(a.doc) === fragmentText(b.doc));
  // the server's own copy agrees with the editors
  const response = await s.api('/api/v1/docs/fuzz-doc');
  assert.equal(response.status, 200);
  const server = new Y.Doc();
  Y.applyUpdate(server, new Uint8Array(await response.arrayBuffer()));
  assert.equal(fragmentText(server), fragmentText(a.doc));
});
