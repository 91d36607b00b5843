import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as Y from 'yjs';
import { documentSource, structChunks, updateEndStateVector, updateSource } from '../../src/protocol/yjs-chunks.js';

/** Several clients editing a TipTap-like fragment, a text, a map and an array concurrently, with syncs in between. */
function randomHistory(seed: number, steps: number): Y.Doc[] {
  let state = seed >>> 0;
  const rand = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
  const words = ['héllo ', 'world ', '😀 ', 'a', 'bc', 'long text '.repeat(20)];
  for (let i = 0; i < steps; i++) {
    const doc = docs[rand(docs.length)]!;
    const text = doc.getText('text');
    const fragment = doc.getXmlFragment('default');
    switch (rand(7)) {
      case 0:
        text.insert(rand(text.length + 1), words[rand(words.length)]!);
        break;
      case 1:
        if (text.length > 0) {
          const at = rand(text.length);
          text.delete(at, Math.min(1 + rand(5), text.length - at));
        }
        break;
      case 2: {
        const paragraph = new Y.XmlElement('paragraph');
        paragraph.insert(0, [new Y.XmlText(words[rand(words.length)]!)]);
        fragment.insert(rand(fragment.length + 1), [paragraph]);
        break;
      }
      case 3:
        doc.getMap('meta').set(`k${rand(5)}`, { n: rand(100), s: words[rand(words.length)] });
        break;
      case 4:
        doc.getArray('list').insert(0, [rand(1000), 'x'.repeat(rand(40)), { deep: [1, 2] }]);
        break;
      case 5: {
        const a = docs[rand(docs.length)]!;
        const b = docs[rand(docs.length)]!;
        Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
        break;
      }
      default: {
        const first = fragment.get(0);
        if (first instanceof Y.XmlElement && first.length > 0) {
          const t = first.get(0);
          if (t instanceof Y.XmlText) t.insert(rand(t.length + 1), words[rand(words.length)]!);
        }
      }
    }
  }
  for (const a of docs) for (const b of docs) Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  return docs;
}

function snapshotOf(doc: Y.Doc): unknown {
  return {
    text: doc.getText('text').toString(),
    fragment: doc.getXmlFragment('default').toString(),
    meta: doc.getMap('meta').toJSON(),
    list: doc.getArray('list').toJSON(),
  };
}

describe('yjs chunks', () => {
  test('a document sent as bounded chunks rebuilds exactly, with nothing left pending', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1, max: 400 }), fc.constantFrom(16, 64, 300, 5000), (seed, steps, maxBytes) => {
        const [source] = randomHistory(seed, steps);
        const target = new Y.Doc();
        const chunks = [...structChunks(documentSource(source!), maxBytes)];
        for (const chunk of chunks) {
          Y.applyUpdate(target, chunk);
          assert.equal(target.store.pendingStructs, null, 'chunks arrive in dependency order');
        }
        Y.applyUpdate(target, Y.encodeStateAsUpdate(source!, Y.encodeStateVector(source!)));
        assert.deepEqual(snapshotOf(target), snapshotOf(source!));
        assert.deepEqual(Y.encodeStateVector(target), Y.encodeStateVector(source!));
      }),
      { numRuns: 60 },
    );
  });

  test('only what is beyond the receiver state vector is sent', () => {
    const [a] = randomHistory(7, 200);
    const b = new Y.Doc();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a!));
    a!.getText('text').insert(0, 'fresh');
    const chunks = [...structChunks(documentSource(a!, Y.decodeStateVector(Y.encodeStateVector(b))), 1000)];
    assert.equal(chunks.length, 1);
    assert.ok(chunks[0]!.length < 100);
    for (const chunk of chunks) Y.applyUpdate(b, chunk);
    assert.equal(b.getText('text').toString(), a!.getText('text').toString());
  });

  test('frames stay near the bound, and one huge string item is cut without breaking surrogate pairs', () => {
    const doc = new Y.Doc();
    const big = '😀ab'.repeat(100_000);
    doc.getText('text').insert(0, big);
    const chunks = [...structChunks(documentSource(doc), 32 * 1024)];
    assert.ok(chunks.length > 10);
    for (const chunk of chunks) assert.ok(chunk.length < 3 * 32 * 1024 + 256, `chunk of ${chunk.length} bytes`);
    const target = new Y.Doc();
    for (const chunk of chunks) Y.applyUpdate(target, chunk);
    assert.equal(target.getText('text').toString(), big);
  });

  test('an encoded update splits into pieces that together equal it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.constantFrom(32, 500), (seed, maxBytes) => {
        const [source] = randomHistory(seed, 150);
        const update = Y.encodeStateAsUpdate(source!);
        const target = new Y.Doc();
        for (const chunk of structChunks(updateSource(update), maxBytes)) Y.applyUpdate(target, chunk);
        Y.applyUpdate(target, Y.diffUpdate(update, updateEndStateVector(update)));
        assert.equal(target.store.pendingStructs, null);
        assert.deepEqual(snapshotOf(target), snapshotOf(source!));
      }),
      { numRuns: 30 },
    );
  });
});
