import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { decodeDocBusMessage, encodeDocBusMessage, type DocBusMessage } from '../../src/protocol/yjs-bus.js';
import { decodeYjsMessage, encodeAwareness, encodeSyncStep1, encodeSyncStep2, encodeUpdate, parseFraming } from '../../src/protocol/yjs-messages.js';

function sampleUpdate(): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, 'hello');
  return Y.encodeStateAsUpdate(doc);
}

describe('yjs wire codec', () => {
  test('decodes what y-protocols encodes (the y-websocket client)', () => {
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'x');
    const step1 = encoding.createEncoder();
    encoding.writeVarUint(step1, 0);
    syncProtocol.writeSyncStep1(step1, doc);
    const decoded = decodeYjsMessage(encoding.toUint8Array(step1), 'y-websocket');
    assert.ok(decoded.ok && decoded.value.kind === 'sync-step-1');
    assert.deepEqual(decoded.value.stateVector, Y.encodeStateVector(doc));

    const update = encoding.createEncoder();
    encoding.writeVarUint(update, 0);
    syncProtocol.writeUpdate(update, sampleUpdate());
    const decodedUpdate = decodeYjsMessage(encoding.toUint8Array(update), 'y-websocket');
    assert.ok(decodedUpdate.ok && decodedUpdate.value.kind === 'update');

    const awareness = new Awareness(doc);
    awareness.setLocalStateField('user', 'a');
    const decodedAwareness = decodeYjsMessage(encodeAwareness(encodeAwarenessUpdate(awareness, [doc.clientID]), 'y-websocket'), 'y-websocket');
    assert.ok(decodedAwareness.ok && decodedAwareness.value.kind === 'awareness');
    awareness.destroy();
    assert.deepEqual(decodeYjsMessage(Uint8Array.of(3), 'y-websocket'), { ok: true, value: { kind: 'query-awareness' } });
  });

  test('round-trips both framings', () => {
    const update = sampleUpdate();
    for (const framing of ['y-websocket', 'flat'] as const) {
      const step2 = decodeYjsMessage(encodeSyncStep2(update, framing), framing);
      assert.ok(step2.ok && step2.value.kind === 'sync-step-2');
      assert.deepEqual([...step2.value.update], [...update]);
      const relayed = decodeYjsMessage(encodeUpdate(update, framing), framing);
      assert.ok(relayed.ok && relayed.value.kind === 'update');
      const step1 = decodeYjsMessage(encodeSyncStep1(Uint8Array.of(0), framing), framing);
      assert.ok(step1.ok && step1.value.kind === 'sync-step-1');
    }
    assert.deepEqual([...encodeUpdate(update, 'flat').subarray(0, 1)], [2]);
  });

  test('refuses malformed input with a reason, never throws', () => {
    const update = encodeUpdate(sampleUpdate(), 'y-websocket');
    for (let cut = 0; cut < update.length; cut++) assert.equal(decodeYjsMessage(update.subarray(0, cut), 'y-websocket').ok, false, `cut at ${cut}`);
    assert.equal(decodeYjsMessage(Buffer.concat([update, Buffer.of(0)]), 'y-websocket').ok, false, 'trailing bytes');
    assert.equal(decodeYjsMessage(Uint8Array.of(2, 0, 0), 'y-websocket').ok, false, 'auth is not a client message');
    assert.equal(decodeYjsMessage(Uint8Array.of(9), 'flat').ok, false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('y-websocket' as const, 'flat' as const), (bytes, framing) => {
        const decoded = decodeYjsMessage(bytes, framing);
        if (decoded.ok && (decoded.value.kind === 'update' || decoded.value.kind === 'sync-step-2')) {
          // whatever passes applies without throwing
          Y.applyUpdate(new Y.Doc(), decoded.value.update);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('parses the framing parameter', () => {
    assert.equal(parseFraming(null), 'y-websocket');
    assert.equal(parseFraming('flat'), 'flat');
    assert.equal(parseFraming('xml'), undefined);
  });
});

describe('document bus codec', () => {
  test('round-trips updates and awareness', () => {
    const messages: DocBusMessage[] = [
      { kind: 'updates', instance: 'i-1', seq: 7, ids: [1, 2, 300000], updates: [Uint8Array.of(1, 2), Uint8Array.of()] },
      { kind: 'awareness', instance: 'i-2', update: Uint8Array.of(0) },
    ];
    for (const message of messages) {
      const decoded = decodeDocBusMessage(encodeDocBusMessage(message));
      assert.deepEqual(JSON.parse(JSON.stringify(decoded, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))), JSON.parse(JSON.stringify(message, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))));
    }
  });
});
