import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Y from 'yjs';
import { decodeDocBusMessage, encodeDocBusMessage, type DocBusMessage } from '../../src/protocol/yjs-bus.js';

test('the document bus codec round-trips a state-vector sync, asked and answered', () => {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, 'hello');
  for (const reply of [false, true]) {
    const message: DocBusMessage = { kind: 'sync', instance: 'i-3', seq: 41, stateVector: Y.encodeStateVector(doc), reply };
    const decoded = decodeDocBusMessage(encodeDocBusMessage(message));
    assert.equal(decoded.kind, 'sync');
    if (decoded.kind !== 'sync') return;
    assert.equal(decoded.instance, 'i-3');
    assert.equal(decoded.seq, 41);
    assert.equal(decoded.reply, reply);
    assert.deepEqual(Y.decodeStateVector(decoded.stateVector), Y.decodeStateVector(Y.encodeStateVector(doc)));
  }
});

test('an unknown document bus message kind is refused', () => {
  assert.throws(() => decodeDocBusMessage(Uint8Array.of(9, 1, 0x61)), /unknown document bus message kind 9/);
});
