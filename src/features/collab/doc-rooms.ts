import * as Y from 'yjs';
import type { Unsubscribe } from '../../core/bus.js';
import type { ClusterEvents } from '../../core/cluster-events.js';
import type { Logger } from '../../shared/logger.js';
import { SingleFlight } from '../../shared/single-flight.js';
import { DocRoom, type RoomContext, type RoomEntry } from './doc-room.js';

/** Compactions of the periodic sweep in flight at once (they overlap database round trips). */
const SAVES_AT_ONCE = 4;

/**
 * The open documents of this instance, one `DocRoom` per document id. Concurrent opens of one document share one
 * load; a room is saved and unloaded when its last peer leaves, unless a peer comes back meanwhile.
 */
export class DocRooms {
  private readonly rooms = new Map<string, DocRoom>();
  private readonly loading = new SingleFlight<string, DocRoom>();
  private readonly unloading = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private closed = false;
  private readonly logger: Logger;
  private readonly unsubscribes: Unsubscribe[] = [];

  constructor(
    private readonly ctx: RoomContext,
    options: {
      readonly logger: Logger;
      /** Instance down → awareness of its peers is removed; resync → every open document heals and re-announces. */
      readonly cluster?: ClusterEvents;
    },
  ) {
    this.logger = options.logger;
    const { cluster } = options;
    if (cluster) {
      this.unsubscribes.push(
        cluster.onInstanceDown((instanceId) => {
          for (const room of this.rooms.values()) room.instanceDown(instanceId);
        }),
        cluster.onResync(() => {
          for (const room of this.rooms.values()) {
            room.resync().catch((error: unknown) => this.logger.warn({ err: error, docId: room.docId }, 'document resync failed'));
          }
        }),
      );
    }
  }

  /** Start the periodic compaction (every `saveIntervalMs`). */
  start(): void {
    this.timer ??= setInterval(() => void this.saveAll(), this.ctx.saveIntervalMs);
    this.timer.unref();
  }

  /**
   * The room of `docId`, loaded from storage if it is not open. A room that is unloading is taken back as it is
   * (its in-memory document is current). The caller must `join` a peer or `release` the room.
   */
  acquire(docId: string): Promise<DocRoom> {
    if (this.closed) return Promise.reject(new Error('documents are shutting down'));
    const room = this.rooms.get(docId);
    if (room && room.phase !== 'closed') {
      room.phase = 'open';
      return Promise.resolve(room);
    }
    return this.loading.run(docId, () => this.load(docId));
  }

  /** A room acquired for a peer that went away before joining. */
  release(room: DocRoom): void {
    if (room.peers.size === 0) this.unload(room);
  }

  /** Called after a peer left `room`. */
  left(room: DocRoom, empty: boolean): void {
    if (empty) this.unload(room);
  }

  get(docId: string): DocRoom | undefined {
    const room = this.rooms.get(docId);
    return room && room.phase !== 'closed' ? room : undefined;
  }

  get size(): number {
    return this.rooms.size;
  }

  peerCount(): number {
    let count = 0;
    for (const room of this.rooms.values()) count += room.peers.size;
    return count;
  }

  /** The journal made these entries durable: relay them locally, then tell the other instances. */
  committed(entries: readonly RoomEntry[], ids: ReadonlyMap<string, readonly number[]>): void {
    const byRoom = new Map<DocRoom, RoomEntry[]>();
    for (const entry of entries) {
      let list = byRoom.get(entry.room);
      if (!list) byRoom.set(entry.room, (list = []));
      list.push(entry);
    }
    for (const [room, list] of byRoom) {
      if (list.length === 1) room.relay(list[0]!);
      else room.relayMerged(list);
      room.publish(
        ids.get(room.docId) ?? [],
        list.map((entry) => entry.update),
      );
    }
  }

  /** The journal could not write these entries: their rooms start over from storage, their peers resync. */
  failed(entries: readonly RoomEntry[]): void {
    this.ctx.stats.storageErrors++;
    for (const room of new Set(entries.map((entry) => entry.room))) {
      room.fail(1011, 'storage unavailable');
      this.forget(room);
    }
  }

  /** A peer's update could not be applied: the in-memory document may be damaged, so it is dropped unsaved. */
  discard(room: DocRoom): void {
    room.fail(1013, 'document reloading');
    this.forget(room);
  }

  /** Shutdown: persist everything, then unload every room. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    await Promise.allSettled(this.loading.pending());
    await this.ctx.journal.flush();
    await Promise.allSettled([...this.unloading]);
    await Promise.all(
      [...this.rooms.values()].map(async (room) => {
        try {
          await room.save(true);
        } catch (error) {
          this.logger.error({ err: error, docId: room.docId }, 'saving document at shutdown failed');
        }
        room.destroy();
      }),
    );
    this.rooms.clear();
  }

  /** The document's current state: the live room's, else what storage holds; undefined when there is none. */
  async state(docId: string): Promise<Uint8Array | undefined> {
    const room = this.get(docId);
    if (room && room.phase !== 'loading') return Y.encodeStateAsUpdate(room.doc);
    const stored = await this.ctx.store.load(docId);
    const parts = [...(stored.state ? [stored.state] : []), ...stored.updates.map((entry) => entry.update)];
    if (parts.length === 0) return undefined;
    return parts.length === 1 ? parts[0] : Y.mergeUpdates(parts);
  }

  private async load(docId: string): Promise<DocRoom> {
    // updates of an earlier room of this document that are still being written must be readable first
    await this.ctx.journal.flush();
    const room = new DocRoom(docId, this.ctx);
    try {
      await room.load();
    } catch (error) {
      room.destroy();
      throw error;
    }
    if (this.closed) {
      room.destroy();
      throw new Error('documents are shutting down');
    }
    this.rooms.set(docId, room);
    return room;
  }

  private unload(room: DocRoom): void {
    if (room.phase !== 'open' || this.closed) return;
    room.phase = 'closing';
    const done = room
      .save(true)
      .catch((error: unknown) => this.logger.error({ err: error, docId: room.docId }, 'saving document on unload failed'))
      .then(() => {
        // a peer came back while saving (a page reload): keep the room and its document
        if (room.phase !== 'closing' || room.peers.size > 0) return;
        room.destroy();
        this.forget(room);
      })
      .finally(() => this.unloading.delete(done));
    this.unloading.add(done);
  }

  private forget(room: DocRoom): void {
    if (this.rooms.get(room.docId) === room) this.rooms.delete(room.docId);
  }

  /**
   * Compact every open room, a few at a time and with a turn of the event loop after each, so that a sweep over
   * many documents never holds the peers' updates back for the length of the whole sweep. A sweep still running
   * when the next one is due (a slow database) is not started twice.
   */
  private async saveAll(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    const rooms = [...this.rooms.values()].values();
    const worker = async (): Promise<void> => {
      for (const room of rooms) {
        if (room.phase !== 'open' || this.closed) continue;
        try {
          await room.save(false);
        } catch (error) {
          this.ctx.stats.storageErrors++;
          this.logger.warn({ err: error, docId: room.docId }, 'saving document failed');
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    try {
      await Promise.all(Array.from({ length: SAVES_AT_ONCE }, worker));
    } finally {
      this.sweeping = false;
    }
  }
}
