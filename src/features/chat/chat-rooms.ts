import type { Bus } from '../../core/bus.js';
import type { Logger } from '../../shared/logger.js';
import { ChatRoom } from './chat-room.js';
import type { TicketStore } from './ticket-store.js';

/**
 * The ticket rooms open on this instance. A room opens on the first join (concurrent joins share one load) and
 * closes when its last member has left and no join is in progress.
 */
export class ChatRooms {
  private readonly rooms = new Map<string, ChatRoom>();
  private readonly loading = new Map<string, Promise<ChatRoom | undefined>>();
  private readonly onBusError: (error: unknown) => void;

  constructor(private readonly options: { readonly bus: Bus; readonly store: TicketStore; readonly logger: Logger }) {
    this.onBusError = (error) => options.logger.warn({ err: error }, 'chat bus publish failed');
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
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    await Promise.all(rooms.map((room) => room.close()));
  }

  private load(ticketId: string): Promise<ChatRoom | undefined> {
    let pending = this.loading.get(ticketId);
    if (!pending) {
      pending = this.doLoad(ticketId).finally(() => this.loading.delete(ticketId));
      this.loading.set(ticketId, pending);
    }
    return pending;
  }

  private async doLoad(ticketId: string): Promise<ChatRoom | undefined> {
    const room = new ChatRoom(ticketId, this.options.bus, this.onBusError);
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
}
