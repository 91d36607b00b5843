import type { Bus } from '../../core/bus.js';
import type { Logger } from '../../shared/logger.js';
import type { RoomMembershipFactory } from './room-membership.js';
import { VideoRoom } from './video-room.js';

export interface VideoRoomRegistryOptions {
  readonly bus: Bus;
  readonly membership: RoomMembershipFactory;
  readonly rejoinGraceMs: number;
  readonly logger: Logger;
}

/** The video rooms open on this instance, one per session with peers here (or someone joining). */
export class VideoRoomRegistry {
  private readonly rooms = new Map<string, VideoRoom>();

  constructor(private readonly options: VideoRoomRegistryOptions) {}

  /**
   * The session's room, created (and subscribing) if there is none that is still open, held for the caller:
   * it stays open until `release()`. Creation is synchronous, so concurrent joins share one room.
   */
  acquire(sessionId: string): VideoRoom {
    let room = this.rooms.get(sessionId);
    if (!room || room.state === 'closing' || room.state === 'closed') {
      room = new VideoRoom({
        sessionId,
        bus: this.options.bus,
        membership: this.options.membership(sessionId),
        rejoinGraceMs: this.options.rejoinGraceMs,
        logger: this.options.logger,
        onClosed: (closed) => {
          if (this.rooms.get(closed.sessionId) === closed) this.rooms.delete(closed.sessionId);
        },
      });
      this.rooms.set(sessionId, room);
    }
    room.hold();
    return room;
  }

  get size(): number {
    return this.rooms.size;
  }

  /** Peers held on this instance, across rooms (grace periods included). */
  peerCount(): number {
    let count = 0;
    for (const room of this.rooms.values()) count += room.peerCount;
    return count;
  }

  /** Shutdown: drop every room and its grace timers (sockets are closed by the gateway). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.rooms.values()].map((room) => room.close()));
  }
}
