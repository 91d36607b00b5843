import * as Y from 'yjs';
import type { Bus, Topic, Unsubscribe } from '../../core/bus.js';
import type { DocBusMessage } from '../../protocol/yjs-bus.js';
import type { Logger } from '../../shared/logger.js';

/** What a document room does with what other instances send (see `DocBusLink`). */
export interface LinkedDocument {
  readonly docId: string;
  readonly doc: Y.Doc;
  /** Apply another instance's updates (already durable: relay them, do not store them again). */
  applyFromBus(ids: readonly number[], updates: readonly Uint8Array[]): void;
  applyAwarenessFromBus(update: Uint8Array, instance: string): void;
  /** Read from storage what other instances stored and this room has not seen. */
  heal(): Promise<void>;
  /** The awareness states of this instance's own peers, encoded; undefined when there are none. */
  localAwareness(): Uint8Array | undefined;
}

/**
 * One document's link to the other instances, on the document's bus topic: what the room publishes (its updates
 * with a per-instance sequence number, its awareness changes, its view) and what it receives (buffered until the
 * room has loaded). Losses are healed from storage: a gap in an instance's sequence numbers, or a view (`sync`:
 * state vector and last sequence number) that shows updates this room never got. A view is sent when the room opens
 * and on `announce` (after a reconnection to Redis, or after having been taken for dead); every instance that has
 * the document open answers a view with its own and with its peers' awareness states.
 */
export class DocBusLink {
  private seq = 0;
  private readonly lastSeqOf = new Map<string, number>();
  private backlog: DocBusMessage[] | undefined = [];
  private unsubscribe: Unsubscribe | undefined;
  private closed = false;

  constructor(
    private readonly room: LinkedDocument,
    private readonly bus: Bus,
    private readonly topic: Topic<DocBusMessage>,
    private readonly logger: Logger,
  ) {}

  /** Subscribe before the room reads storage: what arrives meanwhile waits until `open`. */
  async subscribe(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(this.topic, (message) => this.receive(message));
  }

  /** The room has loaded: handle what waited, and ask the other instances for their view and awareness. */
  open(): void {
    const backlog = this.backlog ?? [];
    this.backlog = undefined;
    for (const message of backlog) this.receive(message);
    this.publishSync(false);
  }

  /** After the journal made this room's updates durable: tell the other instances (with their log ids). */
  publishUpdates(ids: readonly number[], updates: readonly Uint8Array[]): void {
    this.publish({ kind: 'updates', instance: this.bus.instanceId, seq: ++this.seq, ids, updates });
  }

  publishAwareness(update: Uint8Array): void {
    this.publish({ kind: 'awareness', instance: this.bus.instanceId, update });
  }

  /** Send this room's view and its peers' awareness (the others heal if they lack something, and answer). */
  announce(): void {
    this.publishSync(false);
    this.publishLocalAwareness();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
  }

  private receive(message: DocBusMessage): void {
    if (message.instance === this.bus.instanceId || this.closed) return;
    if (this.backlog) {
      this.backlog.push(message);
      return;
    }
    switch (message.kind) {
      case 'awareness':
        this.room.applyAwarenessFromBus(message.update, message.instance);
        return;
      case 'sync':
        this.receiveSync(message);
        return;
      case 'updates': {
        const last = this.lastSeqOf.get(message.instance);
        this.lastSeqOf.set(message.instance, message.seq);
        this.room.applyFromBus(message.ids, message.updates);
        // messages of that instance were lost (a network bus is at most once): what they carried is in the log
        if (last !== undefined && message.seq !== last + 1) this.heal();
        return;
      }
    }
  }

  private receiveSync(message: Extract<DocBusMessage, { kind: 'sync' }>): void {
    const last = this.lastSeqOf.get(message.instance);
    if (last === undefined || message.seq > last) this.lastSeqOf.set(message.instance, message.seq);
    if ((last !== undefined && message.seq > last) || aheadOf(message.stateVector, this.room.doc)) this.heal();
    if (!message.reply) {
      this.publishSync(true);
      this.publishLocalAwareness();
    }
  }

  private heal(): void {
    this.room.heal().catch((error: unknown) => this.logger.warn({ err: error, docId: this.room.docId }, 'healing from storage failed'));
  }

  private publishSync(reply: boolean): void {
    this.publish({ kind: 'sync', instance: this.bus.instanceId, seq: this.seq, stateVector: Y.encodeStateVector(this.room.doc), reply });
  }

  private publishLocalAwareness(): void {
    const update = this.room.localAwareness();
    if (update) this.publishAwareness(update);
  }

  private publish(message: DocBusMessage): void {
    // everything published here is for other instances (a room drops its own messages)
    if (this.closed || !this.bus.reachesOtherInstances) return;
    this.bus.publish(this.topic, message).catch((error: unknown) => {
      this.logger.warn({ err: error, docId: this.room.docId }, 'publishing to other instances failed');
    });
  }
}

/** Whether a state vector counts structs `doc` does not have. */
function aheadOf(stateVector: Uint8Array, doc: Y.Doc): boolean {
  for (const [client, clock] of Y.decodeStateVector(stateVector)) if (Y.getState(doc.store, client) < clock) return true;
  return false;
}
