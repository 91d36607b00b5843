import type { Bus, Unsubscribe } from '../../core/bus.js';
import { encodeEnvelope } from '../../protocol/envelope.js';
import type { PeerLeftData } from '../../protocol/video-messages.js';
import type { Logger } from '../../shared/logger.js';
import type { Departure, HeldPeer, RoomMembership } from './room-membership.js';
import { VideoRoom } from './video-room.js';
import { videoRoomTopic, videoSignalTopic } from './video-topic.js';

export interface VideoRoomRegistryOptions {
  readonly bus: Bus;
  readonly membership: RoomMembership;
  readonly rejoinGraceMs: number;
  /** How often open rooms compare their view with the shared membership; undefined: never (one instance). */
  readonly reconcileIntervalMs?: number;
  /** See RoomViewOptions.orphanMs. */
  readonly orphanMs: number;
  readonly logger: Logger;
}

/** The video rooms open on this instance, one per session with peers here (or someone joining). */
export class VideoRoomRegistry {
  private readonly rooms = new Map<string, VideoRoom>();
  private unsubscribeSignals: Unsubscribe | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling = false;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;

  constructor(private readonly options: VideoRoomRegistryOptions) {}

  /** Subscribe to the signals for this instance's peers and watch the shared membership. */
  async start(): Promise<void> {
    this.unsubscribeSignals = await this.options.bus.subscribe(videoSignalTopic(this.options.bus.instanceId), (message) => {
      this.rooms.get(message.sessionId)?.receiveSignal(message);
    });
    await this.options.membership.start({
      reaped: (departures) => this.announceDepartures(departures),
      resyncNeeded: () => this.resync(),
    });
    if (this.options.reconcileIntervalMs !== undefined) {
      this.reconcileTimer = setInterval(() => void this.reconcileAll(), this.options.reconcileIntervalMs);
      this.reconcileTimer.unref();
    }
  }

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
        membership: this.options.membership,
        rejoinGraceMs: this.options.rejoinGraceMs,
        orphanMs: this.options.orphanMs,
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

  /** Every open room compares its view with the shared membership (heals messages lost while Redis was away). */
  async reconcileAll(): Promise<void> {
    if (this.reconciling) return;
    this.reconciling = true;
    try {
      for (const room of [...this.rooms.values()]) await room.reconcile();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'video rooms reconcile failed');
    } finally {
      this.reconciling = false;
    }
  }

  /** Write what this instance holds back to the shared membership, then fix up every open room. */
  resync(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return this.resyncing;
    }
    this.resyncing = this.doResync().finally(() => {
      this.resyncing = undefined;
      if (this.resyncAgain) {
        this.resyncAgain = false;
        void this.resync();
      }
    });
    return this.resyncing;
  }

  /** Shutdown, before the sockets are closed: peers keep their places for a rejoin on another instance. */
  handOff(): void {
    for (const room of this.rooms.values()) room.handOff();
  }

  /** Shutdown: drop every room and its grace timers (sockets are closed by the gateway). */
  async closeAll(): Promise<void> {
    clearInterval(this.reconcileTimer);
    this.unsubscribeSignals?.();
    await Promise.all([...this.rooms.values()].map((room) => room.close()));
  }

  private async doResync(): Promise<void> {
    const held: HeldPeer[] = [];
    for (const room of this.rooms.values()) {
      for (const member of room.heldMembers()) held.push({ sessionId: room.sessionId, member });
    }
    const report = await this.options.membership.resync(held);
    if (!report) return; // still away; the membership asks again when it is back
    for (const { sessionId, member } of report.lost) this.rooms.get(sessionId)?.lost(member);
    this.announceDepartures(report.removed);
    for (const room of this.rooms.values()) room.announceHeld();
    await this.reconcileAll();
  }

  /** Departures decided outside any room (reaped instances, leaves during an outage): tell every instance. */
  private announceDepartures(departures: readonly Departure[]): void {
    for (const { sessionId, peerId } of departures) {
      const left: PeerLeftData = { peer_id: peerId };
      const message = { kind: 'left', origin: this.options.bus.instanceId, peerId, frame: encodeEnvelope('peer_left', left) } as const;
      this.options.bus.publish(videoRoomTopic(sessionId), message).catch((error: unknown) => {
        this.options.logger.warn({ err: error, session_id: sessionId }, 'video departure publish failed');
      });
    }
  }
}
