import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as Y from 'yjs';
import { MemoryBus } from '../../src/adapters/bus/memory-bus.js';
import { createDatabase } from '../../src/adapters/db/database.js';
import { KyselyDocStore } from '../../src/adapters/db/stores/kysely-doc-store.js';
import type { Peer, SendOptions } from '../../src/core/peer.js';
import { CollabService } from '../../src/features/collab/collab-service.js';
import type { CollabPeerState } from '../../src/features/collab/doc-room.js';
import type { Close } from '../../src/protocol/close-codes.js';
import { decodeYjsMessage, encodeUpdate } from '../../src/protocol/yjs-messages.js';
import { createLogger } from '../../src/shared/logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/server.js';

/** A transport-free peer that records what the feature sends it (the core is driven directly here). */
class RecordingPeer implements Peer<CollabPeerState> {
  state: CollabPeerState | undefined;
  readonly sent: Uint8Array[] = [];
  readonly bufferedAmount = 0;
  isOpen = true;
  readonly endpoint = 'yjs' as const;
  readonly user: { userId: string; role: 'student'; expiresAt: number };
  constructor(readonly id: string) {
    this.user = { userId: id, role: 'student', expiresAt: Date.now() + 60_000 };
  }
  sendText(): void {}
  sendBinary(data: Uint8Array, _options?: SendOptions): void {
    this.sent.push(data);
  }
  async drained(): Promise<void> {}
  close(_close: Close): void {
    this.isOpen = false;
  }
  updates(): Uint8Array[] {
    return this.sent.flatMap((frame) => {
      const decoded = decodeYjsMessage(frame, 'y-websocket');
      return decoded.ok && decoded.value.kind === 'update' ? [decoded.value.update] : [];
    });
  }
}

test('updates committed together reach each peer as one merged update, never including its own', async () => {
  const database = createDatabase(`sqlite:${join(tempDir(), 'room.db')}`);
  await database.migrate();
  onCleanup(() => database.close());
  const collab = new CollabService({ store: new KyselyDocStore(database.db), bus: new MemoryBus(), logger: createLogger({ level: 'silent' }), saveIntervalMs: 60_000 });
  onCleanup(() => collab.close());
  const [a, b, c] = [new RecordingPeer('a'), new RecordingPeer('b'), new RecordingPeer('c')];
  for (const peer of [a, b, c]) await collab.endpoint.open(peer, { resource: 'merge-1', query: new URLSearchParams() });

  const source = new Y.Doc();
  const updates: Uint8Array[] = [];
  source.on('update', (update: Uint8Array) => updates.push(update));
  const text = source.getText('t');
  text.insert(0, 'a1');
  text.insert(2, 'a2');
  text.insert(4, 'b1');
  const before = [a, b, c].map((p) => p.sent.length);
  // all in one event-loop turn: one commit, one relay
  collab.endpoint.message(a, Buffer.from(encodeUpdate(updates[0]!, 'y-websocket')), true);
  collab.endpoint.message(a, Buffer.from(encodeUpdate(updates[1]!, 'y-websocket')), true);
  collab.endpoint.message(b, Buffer.from(encodeUpdate(updates[2]!, 'y-websocket')), true);
  assert.deepEqual([a, b, c].map((p) => p.sent.length), before, 'nothing is relayed before it is durable');
  while (c.sent.length === before[2]) await new Promise((resolve) => setImmediate(resolve));

  const rebuilt = (peer: RecordingPeer): string => {
    const doc = new Y.Doc();
    for (const update of peer.updates()) Y.applyUpdate(doc, update);
    return doc.getText('t').toString();
  };
  assert.equal(c.updates().length, 1, 'the watcher got one merged frame');
  assert.equal(rebuilt(c), 'a1a2b1');
  assert.equal(b.updates().length, 1);
  assert.equal(rebuilt(b), 'a1a2', 'b got only what a sent');
  assert.equal(a.updates().length, 1);
  const onlyB = new Y.Doc();
  Y.applyUpdate(onlyB, a.updates()[0]!);
  assert.equal(onlyB.store.pendingStructs !== null, true, "a got b's edit alone (it depends on a's own, which a has)");
  assert.equal(Buffer.from(a.updates()[0]!).includes(Buffer.from('a1')), false, 'never its own');
  assert.equal(Buffer.from(a.updates()[0]!).includes(Buffer.from('b1')), true);
});
