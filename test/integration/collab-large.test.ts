import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { before, describe, test } from 'node:test';
import * as Y from 'yjs';
import { decodeYjsMessage } from '../../src/protocol/yjs-messages.js';
import { docReaches, synced, yClient } from '../helpers/collab-clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect } from '../helpers/ws-client.js';

const PARAGRAPH = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. '.repeat(4);

describe('a 20 MB document', () => {
  let server: TestServer;
  before(async () => {
    // no periodic compaction: compacting a 20 MB document is one synchronous step of its own (docs/operations.md),
    // not what this test measures
    server = await startServer({ LOG_LEVEL: 'warn', SAVE_INTERVAL_SECONDS: '3600' });
  });

  test('reaches a new y-websocket client as bounded frames without stalling other documents', { timeout: 120_000 }, async () => {
    const token = await server.token('author', 'student');
    // a witness counts the author's updates as the server relays them: then the server has the whole document
    const witness = connect(`${server.wsUrl}/ws/yjs/big-doc?token=${token}`);
    await witness.opened;
    const author = yClient(server.wsUrl, 'big-doc', token);
    await synced(author);
    let relayedClock = 0;
    witness.ws.on('message', (data: Buffer) => {
      const message = decodeYjsMessage(data, 'y-websocket');
      if (message.ok && message.value.kind === 'update') {
        relayedClock = Math.max(relayedClock, Y.parseUpdateMeta(message.value.update).to.get(author.doc.clientID) ?? 0);
      }
    });
    let transactions = 0;
    let size = 0;
    author.doc.on('update', (update: Uint8Array) => (size += update.length));
    const fragment = author.doc.getXmlFragment('default');
    let last: Y.XmlElement | null = null;
    while (size < 20 * 1024 * 1024) {
      author.doc.transact(() => {
        for (let i = 0; i < 1000; i++) {
          const paragraph = new Y.XmlElement('paragraph');
          paragraph.insert(0, [new Y.XmlText(`${transactions}.${i} ${PARAGRAPH}`)]);
          fragment.insertAfter(last, [paragraph]); // O(1), where insert(length) walks the whole fragment
          last = paragraph;
        }
      });
      transactions++;
    }
    const authorClock = Y.getState(author.doc.store, author.doc.clientID);
    const deadline = Date.now() + 60_000;
    while (relayedClock < authorClock && Date.now() < deadline) await new Promise((resolve) => witness.ws.once('message', resolve));
    assert.equal(relayedClock, authorClock, 'the server relayed the whole document');
    const text = fragment.length;

    // meanwhile, two peers of another document keep exchanging small edits: their latency is the stall others see
    const [p, q] = [yClient(server.wsUrl, 'small-doc', token), yClient(server.wsUrl, 'small-doc', token)];
    await Promise.all([synced(p), synced(q)]);
    const latencies: number[] = [];
    let sentAt = 0;
    q.doc.getMap('pings').observe(() => latencies.push(performance.now() - sentAt));
    let pinging = true;
    const pinger = (async () => {
      for (let n = 0; pinging; n++) {
        sentAt = performance.now();
        p.doc.getMap('pings').set('n', n);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const started = performance.now();
    const reader = yClient(server.wsUrl, 'big-doc', token);
    await synced(reader, 90_000);
    await docReaches(reader.doc, (d) => d.getXmlFragment('default').length === text, 30_000);
    const syncMs = performance.now() - started;
    lag.disable();
    pinging = false;
    await pinger;

    const largest = Math.max(...reader.frameSizes);
    latencies.sort((x, y) => x - y);
    const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? 0;
    const report = {
      documentBytes: size,
      frames: reader.frameSizes.length,
      largestFrameBytes: largest,
      syncMs: Math.round(syncMs),
      loopLagP99Ms: Math.round(lag.percentile(99) / 1e6),
      loopLagMaxMs: Math.round(lag.max / 1e6),
      otherDocLatencyP99Ms: Math.round(p99),
      otherDocLatencyMaxMs: Math.round(latencies.at(-1) ?? 0),
    };
    console.log(`# ${JSON.stringify(report)}`);
    assert.ok(Y.encodeStateAsUpdate(reader.doc).length >= 20 * 1024 * 1024);
    assert.ok(reader.frameSizes.length > 40, 'the state came as many frames');
    assert.ok(largest < 1024 * 1024, `largest frame ${largest} bytes`);
    assert.deepEqual(reader.closeCodes, [], 'the reader was never dropped');
    assert.equal(reader.doc.store.pendingStructs, null);
    assert.deepEqual(Y.encodeStateVector(reader.doc), Y.encodeStateVector(author.doc));
    // the test process runs the server and every client, so this bounds the whole stall, client work included
    assert.ok(report.otherDocLatencyMaxMs < 1000, `another document waited ${report.otherDocLatencyMaxMs} ms`);
  });
});
