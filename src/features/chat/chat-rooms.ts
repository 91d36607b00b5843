import type { Bus, Unsubscribe } from '../../core/bus.js';
import type { ClusterEvents } from '../../core/cluster-events.js';
import type { Logger } from '../../shared/logger.js';
import { SingleFlight } from '../../shared/single-flight.js';
import { ChatRoom, type ChatRoomHooks } from './chat-room.js';
import type { TicketStore } from './ticket-store.js';

/** How many of a ticket's latest messages a catch-up compares with what the room delivered. */
const CATCH_UP_MESSAGES = 200;

export interface ChatRoomsOptions {
  readonly bus: Bus;
  readonly store: TicketStore;
  readonly logger: Logger;
  /** Instance down → its users leave the rooms; resync → every room re-announces itself and catches up. */
  readonly cluster?: ClusterEvents;
}

/**
 * The ticket rooms open on this instance. A room opens on the first join (concurrent joins share one load) and
 * closes when its last member has left and no join is in progress.
 */
export class ChatRooms {
  private readonly rooms = new Map<string, ChatRoom>();
  private readonly loading = new SingleFlight<string, ChatRoom | undefined>();
  private readonly hooks: ChatRoomHooks;
  /** Rooms with a catch-up running, and whether another was asked for meanwhile. */
  private readonly catchingUp = new Map<ChatRoom, boolean>();
  private readonly unsubscribes: Unsubscribe[] = [];

  constructor(private readonly options: ChatRoomsOptions) {
    this.hooks = {
      onError: (error) => options.logger.warn({ err: error }, 'chat bus publish failed'),
      catchUp: (room) => this.catchUp(room),
    };
    const { cluster } = options;
    if (cluster) {
      this.unsubscribes.push(
        cluster.onInstanceDown((instanceId) => {
          for (const room of this.rooms.values()) room.instanceDown(instanceId);
        }),
        cluster.onResync(() => {
          for (const room of this.rooms.values()) room.resync();
        }),
      );
    }
  }

  /** Open rooms on this instance. */
  get size(): number {
    return this.rooms.size;
  }

  get(ticketId: string): ChatRoom | undefined {
    return this.rooms.get(ticketId);
  }

  /**
   * The open room of a ticket, counted as being joined (call `release` when the join is over);
   * undefined if the ticket is not registered.
   */
  async acquire(ticketId: string): Promise<ChatRoom | undefined> {
    for (;;) {
      const room = this.rooms.get(ticketId) ?? (await this.load(ticketId));
      if (!room) return undefined;
      // re-check after the await: the room may have closed while this join waited for it
      if (room.phase === 'open') {
        room.joining++;
        return room;
      }
    }
  }

  release(room: ChatRoom): void {
    room.joining--;
    this.closeIfIdle(room);
  }

  closeIfIdle(room: ChatRoom): void {
    if (!room.isIdle || room.phase !== 'open') return;
    if (this.rooms.get(room.ticketId) === room) this.rooms.delete(room.ticketId);
    void room.close();
  }

  async closeAll(): Promise<void> {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    await Promise.all(rooms.map((room) => room.close()));
  }

  /** One load per ticket however many joins wait for it. */
  private load(ticketId: string): Promise<ChatRoom | undefined> {
    return this.loading.run(ticketId, () => this.loadRoom(ticketId));
  }

  private async loadRoom(ticketId: string): Promise<ChatRoom | undefined> {
    const room = new ChatRoom(ticketId, this.options.bus, this.hooks);
    try {
      await room.subscribe();
      const started = room.start(await this.options.store.getTicket(ticketId));
      if (!started) {
        await room.close();
        return undefined;
      }
    } catch (error) {
      await room.close();
      throw error;
    }
    this.rooms.set(ticketId, room);
    return room;
  }

  /** Read the ticket's latest messages and deliver what the room missed; one at a time per room. */
  private catchUp(room: ChatRoom): void {
    if (room.phase !== 'open') return;
    if (this.catchingUp.has(room)) {
      this.catchingUp.set(room, true);
      return;
    }
    this.catchingUp.set(room, false);
    this.options.store
      .recentMessages(room.ticketId, { includeInternal: true, limit: CATCH_UP_MESSAGES })
      .then(
        (messages) => room.deliverMissed(messages),
        (error: unknown) => this.options.logger.warn({ err: error, ticket_id: room.ticketId }, 'chat catch-up from storage failed'),
      )
      .finally(() => {
        const again = this.catchingUp.get(room);
        this.catchingUp.delete(room);
        if (again) this.catchUp(room);
      });
  }
}
