import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness';
import * as Y from 'yjs';
import type { Bus, Topic } from '../../core/bus.js';
import type { Peer, SendOptions } from '../../core/peer.js';
import type { DocBusMessage } from '../../protocol/yjs-bus.js';
import { documentSource, structChunks } from '../../protocol/yjs-chunks.js';
import { encodeAwareness, encodeSyncStep1, encodeSyncStep2, encodeUpdate, type YjsFraming, type YjsMessage } from '../../protocol/yjs-messages.js';
import type { Logger } from '../../shared/logger.js';
import type { CollabStats } from './collab-stats.js';
import { DocBusLink, type LinkedDocument } from './doc-bus-link.js';
import type { DocStore } from './doc-store.js';
import type { UpdateJournal } from './update-journal.js';

export interface CollabPeerState {
  readonly room: DocRoom;
  readonly framing: YjsFraming;
  readonly access: 'write' | 'read';
  /** Awareness client ids this connection introduced; their states are removed when it leaves. */
  readonly clientIds: Set<number>;
}

export type CollabPeer = Peer<CollabPeerState>;

/**
 * Where a change to a room's document or awareness came from (the Yjs transaction origin). `instance-down`: the
 * awareness states of peers of a dead instance, removed by every instance on its own.
 */
export type ChangeOrigin = CollabPeer | 'bus' | 'storage' | 'leave' | 'instance-down';

/** An update on its way to the log, then to the other peers and instances. */
export interface RoomEntry {
  readonly docId: string;
  readonly update: Uint8Array;
  readonly room: DocRoom;
  /** The peer it came from (not relayed back to it); undefined for changes found in storage. */
  readonly sender: CollabPeer | undefined;
  /** The frame it arrived in, relayed as is to peers using the same framing. */
  readonly frame: Uint8Array | undefined;
  readonly framing: YjsFraming | undefined;
}

/** What all rooms share (one object, no closures per room or connection). */
export interface RoomContext {
  readonly store: DocStore;
  readonly journal: UpdateJournal<RoomEntry>;
  readonly bus: Bus;
  readonly topic: (docId: string) => Topic<DocBusMessage>;
  readonly logger: Logger;
  readonly stats: CollabStats;
  /** Largest document-state frame sent to a peer; larger states go as several updates. */
  readonly maxFrameBytes: number;
  readonly saveIntervalMs: number;
  /** Every change was applied to a document: e.g. the save-latency histogram. */
  readonly observeSave: (seconds: number) => void;
}

const DROPPABLE: SendOptions = { droppable: true };
/** While a large state is streamed to a peer, wait when this much is still unsent to it. */
const STREAM_BUFFER_BYTES = 1024 * 1024;
/** A large document is compacted at most this often relative to how long encoding it takes (≤ 5 % of the time). */
const COMPACTION_DUTY_FACTOR = 20;

/**
 * One open collaborative document: its live `Y.Doc`, the server-side awareness, its peers on this instance, and
 * its persistence state. Lifecycle: `loading → open → closing → closed`; a peer joining while `closing` (a page
 * reload) reopens it, and it keeps its in-memory document.
 *
 * Every change a peer makes is applied here, appended to the journal, and relayed (to the other peers and, over
 * the bus, to other instances) only once the journal has made it durable.
 */
export class DocRoom implements LinkedDocument {
  readonly doc = new Y.Doc();
  readonly awareness = new Awareness(this.doc);
  readonly peers = new Set<CollabPeer>();
  phase: 'loading' | 'open' | 'closing' | 'closed' = 'loading';
  /** Log entries contained in `doc`: merged and deleted by the next compaction. */
  private readonly knownIds = new Set<number>();
  private version = 0;
  private dirty = false;
  private changes = 0;
  private approxBytes = 0;
  private nextSaveAt = 0;
  /** Awareness client ids of peers on other instances, with the instance that relayed their latest state. */
  private readonly remoteClients = new Map<number, string>();
  /** The instance whose awareness update is being applied (set around `applyAwarenessUpdate`). */
  private awarenessFrom: string | undefined;
  private readonly link: DocBusLink;
  private lock: Promise<unknown> = Promise.resolve();
  private transactionChanged = false;

  constructor(
    readonly docId: string,
    private readonly ctx: RoomContext,
  ) {
    this.link = new DocBusLink(this, ctx.bus, ctx.topic(docId), ctx.logger);
    this.awareness.setLocalState(null);
    this.doc.on('afterTransaction', (transaction: Y.Transaction) => {
      // a remote change to formatted text makes Yjs run a second, empty clean-up transaction: keep the first verdict
      this.transactionChanged ||= changedBy(transaction);
    });
    this.awareness.on('update', (changes: AwarenessChanges, origin: unknown) => this.awarenessChanged(changes, origin));
  }

  /** Subscribe to other instances first (buffering), then read storage: nothing committed in between is missed. */
  async load(): Promise<void> {
    await this.link.subscribe();
    const stored = await this.ctx.store.load(this.docId);
    if (this.phase === 'closed') return;
    if (stored.state) {
      Y.applyUpdate(this.doc, stored.state, 'storage');
      this.approxBytes = stored.state.length;
    }
    for (const entry of stored.updates) {
      Y.applyUpdate(this.doc, entry.update, 'storage');
      this.knownIds.add(entry.id);
      this.approxBytes += entry.update.length;
    }
    this.version = stored.version;
    this.dirty = stored.updates.length > 0;
    this.phase = 'open';
    // the other instances answer with their view and their peers' awareness (a newcomer sees their cursors at once)
    this.link.open();
  }

  join(peer: CollabPeer): void {
    this.phase = 'open';
    this.peers.add(peer);
    const framing = peer.state!.framing;
    peer.sendBinary(encodeSyncStep1(Y.encodeStateVector(this.doc), framing));
    if (this.awareness.states.size > 0) {
      peer.sendBinary(encodeAwareness(encodeAwarenessUpdate(this.awareness, [...this.awareness.states.keys()]), framing), DROPPABLE);
    }
  }

  /** Removes the peer and its awareness states; returns true when the room has no peer left. */
  leave(peer: CollabPeer): boolean {
    if (!this.peers.delete(peer)) return this.peers.size === 0;
    const clientIds = peer.state?.clientIds;
    if (clientIds && clientIds.size > 0) removeAwarenessStates(this.awareness, [...clientIds], 'leave');
    return this.peers.size === 0;
  }

  receive(peer: CollabPeer, message: YjsMessage, frame: Uint8Array): void {
    const state = peer.state!;
    switch (message.kind) {
      case 'sync-step-1':
        this.sendState(peer, message.stateVector);
        return;
      case 'sync-step-2':
      case 'update':
        this.ctx.stats.updatesIn++;
        if (state.access !== 'write') {
          this.ctx.stats.updatesIgnoredReadOnly++;
          return;
        }
        if (message.kind === 'update' && !hasPending(this.doc)) this.applyRaw(message.update, peer, frame, state.framing);
        else this.applyCaptured(message.update, peer, true);
        return;
      case 'awareness':
        this.ctx.stats.awarenessIn++;
        applyAwarenessUpdate(this.awareness, message.update, peer);
        return;
      case 'query-awareness':
        peer.sendBinary(encodeAwareness(encodeAwarenessUpdate(this.awareness, [...this.awareness.states.keys()]), state.framing), DROPPABLE);
        return;
    }
  }

  /** After the journal made `entry` durable: relay it to every other local peer. */
  relay(entry: RoomEntry): void {
    if (this.phase === 'closed') return;
    let yFrame = entry.framing === 'y-websocket' ? entry.frame : undefined;
    let flatFrame = entry.framing === 'flat' ? entry.frame : undefined;
    for (const peer of this.peers) {
      if (peer === entry.sender) continue;
      if (peer.state!.framing === 'flat') peer.sendBinary((flatFrame ??= encodeUpdate(entry.update, 'flat')));
      else peer.sendBinary((yFrame ??= encodeUpdate(entry.update, 'y-websocket')));
    }
  }

  /**
   * Several updates made durable together: each peer gets them merged into one update (one frame, one apply on
   * the client instead of many), without the ones it sent itself.
   */
  relayMerged(entries: readonly RoomEntry[]): void {
    if (this.phase === 'closed') return;
    const senders = new Set<CollabPeer | undefined>(entries.map((entry) => entry.sender));
    const merged = new Map<CollabPeer | undefined, { update: Uint8Array | undefined; y?: Uint8Array; flat?: Uint8Array }>();
    for (const peer of this.peers) {
      const key = senders.has(peer) ? peer : undefined;
      let entry = merged.get(key);
      if (!entry) {
        const updates = entries.filter((e) => key === undefined || e.sender !== key).map((e) => e.update);
        entry = { update: updates.length === 0 ? undefined : updates.length === 1 ? updates[0] : Y.mergeUpdates(updates) };
        merged.set(key, entry);
      }
      if (!entry.update) continue;
      if (peer.state!.framing === 'flat') peer.sendBinary((entry.flat ??= encodeUpdate(entry.update, 'flat')));
      else peer.sendBinary((entry.y ??= encodeUpdate(entry.update, 'y-websocket')));
    }
  }

  /** After the journal made this room's updates durable: tell the other instances (with their log ids). */
  publish(ids: readonly number[], updates: readonly Uint8Array[]): void {
    for (const id of ids) this.knownIds.add(id);
    this.link.publishUpdates(ids, updates);
  }

  /**
   * Fold the log into the compacted state (SPEC §6 "saved every SAVE_INTERVAL_SECONDS, on unload and on
   * shutdown"). Only when something changed; a large document at most every COMPACTION_DUTY_FACTOR × its encoding
   * time unless `force`. Safe against other instances: entries it did not apply are read and applied first, the
   * write is compare-and-set, and only the entries it read are deleted.
   */
  save(force: boolean): Promise<void> {
    const run = this.lock.then(() => this.compact(force));
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Apply what other instances stored that this room has not seen (after a gap in their bus messages): their
   * compacted state if it changed, and log entries this room does not know.
   */
  heal(): Promise<void> {
    const run = this.lock.then(async () => {
      if (this.phase === 'closed') return;
      const stored = await this.ctx.store.loadState(this.docId);
      if (stored && stored.version !== this.version && !this.isClosed()) {
        this.applyCaptured(stored.state, 'storage', false);
        this.version = stored.version;
      }
      await this.applyUnknownEntries(await this.ctx.store.logIds(this.docId));
    });
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * This instance may have missed bus messages (Redis reconnected) or was taken for dead: read what others stored
   * meanwhile, then tell them our view (they heal if they lack something, and answer with theirs) and our peers'
   * awareness states. Heals an outage that no later message reveals.
   */
  resync(): Promise<void> {
    if (this.phase !== 'open' && this.phase !== 'closing') return Promise.resolve();
    return this.heal().finally(() => {
      if (!this.isClosed()) this.link.announce();
    });
  }

  /** Another instance died: the awareness states its peers introduced are removed here (no ghost cursors). */
  instanceDown(instanceId: string): void {
    if (this.phase === 'closed') return;
    const ids: number[] = [];
    for (const [clientId, instance] of this.remoteClients) if (instance === instanceId) ids.push(clientId);
    if (ids.length > 0) removeAwarenessStates(this.awareness, ids, 'instance-down');
  }

  /** Closes every peer (they reconnect and resync) and forgets the in-memory document without saving it. */
  fail(code: 1011 | 1013, reason: string): void {
    for (const peer of [...this.peers]) peer.close({ code, reason });
    this.destroy();
  }

  destroy(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.link.close();
    this.doc.destroy(); // destroys the awareness (and its timer) too
  }

  /** A method, not a field read, so that TypeScript does not narrow it across awaits. */
  isClosed(): boolean {
    return this.phase === 'closed';
  }

  private async compact(force: boolean): Promise<void> {
    if (this.phase === 'closed' || this.phase === 'loading' || !this.dirty) return;
    if (!force && Date.now() < this.nextSaveAt) return;
    const started = performance.now();
    const changesAtStart = this.changes;
    await this.ctx.journal.flush();
    let ids = await this.ctx.store.logIds(this.docId);
    await this.applyUnknownEntries(ids);
    for (let attempt = 0; attempt < 3 && !this.isClosed(); attempt++) {
      const encodeStart = performance.now();
      const state = Y.encodeStateAsUpdate(this.doc);
      const encodeMs = performance.now() - encodeStart;
      const version = await this.ctx.store.saveSnapshot(this.docId, { state, expectedVersion: this.version, mergedIds: ids });
      if (version !== undefined) {
        this.version = version;
        for (const id of ids) this.knownIds.delete(id);
        this.approxBytes = state.length;
        if (this.changes === changesAtStart) this.dirty = false;
        this.nextSaveAt = Date.now() + COMPACTION_DUTY_FACTOR * encodeMs - this.ctx.saveIntervalMs;
        this.ctx.stats.compactions++;
        this.ctx.stats.bytesPersistedSnapshot += state.length;
        this.ctx.observeSave((performance.now() - started) / 1000);
        return;
      }
      // another instance compacted first: take its state (and what it has not merged) and try again
      this.ctx.stats.compactionConflicts++;
      const stored = await this.ctx.store.loadState(this.docId);
      if (stored) {
        this.applyCaptured(stored.state, 'storage', false);
        this.version = stored.version;
      }
      ids = await this.ctx.store.logIds(this.docId);
      await this.applyUnknownEntries(ids);
    }
  }

  private async applyUnknownEntries(ids: readonly number[]): Promise<void> {
    const unknown = ids.filter((id) => !this.knownIds.has(id));
    if (unknown.length === 0) return;
    for (const entry of await this.ctx.store.logEntries(this.docId, unknown)) {
      if (this.phase === 'closed') return;
      this.applyCaptured(entry.update, 'storage', false);
      this.knownIds.add(entry.id);
    }
  }

  /** The fast path: the update is relayed exactly as it arrived (no re-encoding per peer). */
  private applyRaw(update: Uint8Array, sender: CollabPeer, frame: Uint8Array, framing: YjsFraming): void {
    this.transactionChanged = false;
    Y.applyUpdate(this.doc, update, sender);
    // a duplicate changes nothing; an update waiting for a missing dependency is kept and relayed as it is
    if (!this.transactionChanged && !hasPending(this.doc)) return;
    this.record({ docId: this.docId, update, room: this, sender, frame, framing });
  }

  /**
   * Apply and keep only what actually changed, as Yjs encodes it for the transaction (a reconnecting client's
   * sync step 2 repeats mostly known history; pending structs integrated by this update are included).
   * `persist` false: the change is already durable (from storage), relay it only.
   */
  private applyCaptured(update: Uint8Array, origin: ChangeOrigin, persist: boolean): void {
    let delta: Uint8Array | undefined;
    const capture = (change: Uint8Array): void => {
      delta = delta ? Y.mergeUpdates([delta, change]) : change;
    };
    this.doc.on('update', capture);
    try {
      Y.applyUpdate(this.doc, update, origin);
    } finally {
      this.doc.off('update', capture);
    }
    if (!delta) return;
    const sender = typeof origin === 'object' ? origin : undefined;
    const entry: RoomEntry = { docId: this.docId, update: delta, room: this, sender, frame: undefined, framing: undefined };
    if (persist) this.record(entry);
    else this.relay(entry);
  }

  private record(entry: RoomEntry): void {
    this.dirty = true;
    this.changes++;
    this.approxBytes += entry.update.length;
    this.ctx.stats.updatesApplied++;
    this.ctx.journal.append(entry);
  }

  /** Another instance's updates, already durable: applied and relayed to local peers, not stored again. */
  applyFromBus(ids: readonly number[], updates: readonly Uint8Array[]): void {
    if (this.phase === 'closed') return;
    for (const id of ids) this.knownIds.add(id);
    for (const update of updates) {
      if (hasPending(this.doc)) {
        this.applyCaptured(update, 'bus', false);
        continue;
      }
      this.transactionChanged = false;
      Y.applyUpdate(this.doc, update, 'bus');
      if (this.transactionChanged || hasPending(this.doc)) {
        this.relay({ docId: this.docId, update, room: this, sender: undefined, frame: undefined, framing: undefined });
      }
    }
  }

  applyAwarenessFromBus(update: Uint8Array, instance: string): void {
    if (this.phase === 'closed') return;
    this.awarenessFrom = instance;
    try {
      applyAwarenessUpdate(this.awareness, update, 'bus');
    } finally {
      this.awarenessFrom = undefined;
    }
  }

  localAwareness(): Uint8Array | undefined {
    const ids: number[] = [];
    for (const peer of this.peers) for (const id of peer.state!.clientIds) if (this.awareness.states.has(id)) ids.push(id);
    return ids.length > 0 ? encodeAwarenessUpdate(this.awareness, ids) : undefined;
  }

  private sendState(peer: CollabPeer, stateVector: Uint8Array): void {
    const framing = peer.state!.framing;
    if (this.approxBytes <= this.ctx.maxFrameBytes) {
      const frame = encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, stateVector), framing);
      this.ctx.stats.syncFrames++;
      this.ctx.journal.afterDurable(() => peer.sendBinary(frame));
      return;
    }
    this.streamState(peer, stateVector).catch((error: unknown) => {
      this.ctx.logger.error({ err: error, docId: this.docId }, 'sending document state failed');
      peer.close({ code: 1011, reason: 'internal error' });
    });
  }

  /**
   * A large state goes as bounded update frames, one per event-loop turn (other documents keep being served), and
   * waits while the peer has a lot unread. The last frame, a sync step 2 with the delete set, marks the end.
   */
  private async streamState(peer: CollabPeer, stateVector: Uint8Array): Promise<void> {
    const framing = peer.state!.framing;
    const chunks = structChunks(documentSource(this.doc, Y.decodeStateVector(stateVector)), this.ctx.maxFrameBytes);
    for (;;) {
      if (!this.serves(peer)) return;
      const next = chunks.next();
      if (next.done) break;
      const frame = encodeUpdate(next.value, framing);
      this.ctx.stats.syncFrames++;
      this.ctx.journal.afterDurable(() => peer.sendBinary(frame));
      await nextTurn();
      while (this.serves(peer) && peer.bufferedAmount > STREAM_BUFFER_BYTES) await delay(10);
    }
    if (!this.serves(peer)) return;
    const last = encodeSyncStep2(Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(this.doc)), framing);
    this.ctx.stats.syncFrames++;
    this.ctx.journal.afterDurable(() => peer.sendBinary(last));
  }

  private serves(peer: CollabPeer): boolean {
    return this.phase !== 'closed' && peer.isOpen && this.peers.has(peer);
  }

  private awarenessChanged({ added, updated, removed }: AwarenessChanges, origin: unknown): void {
    if (this.phase === 'closed') return;
    const from = typeof origin === 'object' && origin !== null ? (origin as CollabPeer) : undefined;
    if (from?.state) {
      // `updated` too: a client that moved here from another instance renews the state it had there
      for (const id of added.concat(updated)) {
        from.state.clientIds.add(id);
        this.remoteClients.delete(id);
      }
      for (const id of removed) from.state.clientIds.delete(id);
    } else if (origin === 'bus' && this.awarenessFrom !== undefined) {
      for (const id of added.concat(updated)) this.remoteClients.set(id, this.awarenessFrom);
    }
    for (const id of removed) this.remoteClients.delete(id);
    const update = encodeAwarenessUpdate(this.awareness, added.concat(updated, removed));
    let yFrame: Uint8Array | undefined;
    let flatFrame: Uint8Array | undefined;
    // everyone, the sender too: its 15-second renewal echoed back is what keeps a quiet y-websocket client connected
    for (const peer of this.peers) {
      if (peer.state!.framing === 'flat') peer.sendBinary((flatFrame ??= encodeAwareness(update, 'flat')), DROPPABLE);
      else peer.sendBinary((yFrame ??= encodeAwareness(update, 'y-websocket')), DROPPABLE);
    }
    if (from || origin === 'leave') this.link.publishAwareness(update);
  }
}

interface AwarenessChanges {
  readonly added: number[];
  readonly updated: number[];
  readonly removed: number[];
}

/** As Yjs decides whether a transaction produces an update: new structs or new deletions. */
function changedBy(transaction: Y.Transaction): boolean {
  if (transaction.deleteSet.clients.size > 0) return true;
  for (const [client, clock] of transaction.afterState) {
    if (transaction.beforeState.get(client) !== clock) return true;
  }
  return false;
}

function hasPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
