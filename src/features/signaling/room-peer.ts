import type { Peer } from '../../core/peer.js';
import type { HeldMember } from './room-membership.js';
import type { VideoRoom } from './video-room.js';

/** Signals kept for a peer in its grace period, replayed when it rejoins. */
const QUEUE_LIMIT_CHARS = 256 * 1024;

/**
 * One peer held by this instance in a room: everything about it in one object, which is also its connection's
 * `peer.state`. `connection` is undefined while the peer is in its rejoin grace period.
 */
export class RoomPeer {
  connection: Peer<RoomPeer> | undefined = undefined;
  graceTimer: NodeJS.Timeout | undefined = undefined;
  queued: string[] = [];
  private queuedChars = 0;
  /** Peer ids this connection has been told about (`peers`, `peer_joined`), so each is announced once. */
  readonly known = new Set<string>();
  /** Relays waiting for a look-up in the shared membership; later relays queue behind, to keep their order. */
  lookups: Promise<void> | undefined = undefined;

  constructor(readonly room: VideoRoom, public member: HeldMember) {}

  /** False for a connection this peer has since been moved off (a rejoin took over its half-open socket). */
  isCurrent(connection: Peer<RoomPeer>): boolean {
    return this.connection === connection;
  }

  /** Deliver a frame now, or keep it for a rejoin while in grace (bounded). */
  deliver(frame: string): void {
    if (this.connection) {
      this.connection.sendText(frame);
    } else if (this.queuedChars + frame.length <= QUEUE_LIMIT_CHARS) {
      this.queued.push(frame);
      this.queuedChars += frame.length;
    }
  }

  takeQueued(): string[] {
    const queued = this.queued;
    this.queued = [];
    this.queuedChars = 0;
    return queued;
  }

  /** Tell this connection about a peer it does not know yet. */
  announceJoined(peerId: string, frame: string): void {
    if (!this.connection || peerId === this.member.peerId || this.known.has(peerId)) return;
    this.known.add(peerId);
    this.connection.sendText(frame);
  }

  /** Tell this connection a peer it knew is gone. */
  announceLeft(peerId: string, frame: string): void {
    if (this.connection && this.known.delete(peerId)) this.connection.sendText(frame);
  }

  clearGrace(): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }
}
