import { randomBytes } from 'node:crypto';
import type { Bus, Topic, Unsubscribe } from '../../core/bus.js';
import type { Peer } from '../../core/peer.js';
import { close, type Close } from '../../protocol/close-codes.js';
import { encodeEnvelope, encodeError } from '../../protocol/envelope.js';
import type { PeerJoinedData, PeerLeftData, PeersData, VideoPeerInfo, VideoSignalType } from '../../protocol/video-messages.js';
import type { Logger } from '../../shared/logger.js';
import type { RoomMember, RoomMembership } from './room-membership.js';
import { mayJoin, type VideoSession } from './video-session.js';
import { videoRoomTopic, type VideoRoomMessage } from './video-topic.js';

/** The close code `ws` reports when a socket ended without a close frame (dropped, or cut by the heartbeat). */
const ABNORMAL_CLOSURE = 1006;
/** Signals kept for a peer in its grace period, replayed when it rejoins. */
const QUEUE_LIMIT_CHARS = 256 * 1024;

export type RoomState = 'opening' | 'open' | 'closing' | 'closed';

/**
 * One peer of this instance in a room: everything about it in one object, which is also its connection's
 * `peer.state`. `connection` is undefined while the peer is in its rejoin grace period.
 */
export class RoomPeer {
  connection: Peer<RoomPeer> | undefined = undefined;
  graceTimer: NodeJS.Timeout | undefined = undefined;
  queued: string[] = [];
  queuedChars = 0;

  constructor(readonly room: VideoRoom, readonly member: RoomMember) {}

  /** False for a connection this peer has since been moved off (a rejoin took over its half-open socket). */
  isCurrent(connection: Peer<RoomPeer>): boolean {
    return this.connection === connection;
  }
}

export interface VideoRoomOptions {
  readonly sessionId: string;
  readonly bus: Bus;
  readonly membership: RoomMembership;
  readonly rejoinGraceMs: number;
  readonly logger: Logger;
  /** Told once, when the room has closed. */
  readonly onClosed: (room: VideoRoom) => void;
}

/**
 * The peers of one video session on this instance. Lifecycle: `opening` (subscribing to the session's bus topic)
 * → `open` → `closing` → `closed`; it closes when it holds no peer and nobody is joining, or when the session ends.
 * Everything the peers hear comes from the bus handler, so peers on other instances hear the same.
 */
export class VideoRoom {
  state: RoomState = 'opening';
  /** Resolves once the room is subscribed and may take peers; rejects if it could not subscribe. */
  readonly ready: Promise<void>;
  private readonly local = new Map<string, RoomPeer>();
  private readonly topic: Topic<VideoRoomMessage>;
  private unsubscribe: Unsubscribe | undefined;
  private holds = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: VideoRoomOptions) {
    this.topic = videoRoomTopic(options.sessionId);
    this.ready = this.subscribe();
    this.ready.catch(() => undefined);
  }

  get sessionId(): string {
    return this.options.sessionId;
  }

  /** Peers of this instance, those in their grace period included. */
  get peerCount(): number {
    return this.local.size;
  }

  /** Keep the room open while a connection is being admitted; pair with `release`. */
  hold(): void {
    this.holds++;
  }

  release(): void {
    this.holds--;
    this.closeIfIdle();
  }

  /**
   * Admit an authorized connection: a fresh peer, or — with `requestedPeerId` of a peer of the same user still
   * held here — that peer again, silently. Returns the close to refuse with.
   */
  join(connection: Peer<RoomPeer>, session: VideoSession, requestedPeerId: string | undefined): Close | void {
    if (this.state !== 'open') return close('notFound', 'video session ended');
    if (requestedPeerId !== undefined) {
      const member = this.options.membership.get(requestedPeerId);
      if (member && member.userId !== connection.user.userId) return close('forbidden', 'peer_id belongs to another user');
      const held = this.local.get(requestedPeerId);
      if (held) {
        this.takeOver(held, connection);
        return;
      }
    }
    const member: RoomMember = { peerId: newPeerId(), userId: connection.user.userId, role: connection.user.role };
    if (!this.options.membership.admit(member, session.maxParticipants)) return close('tooMany', 'video session is full');
    const peer = new RoomPeer(this, member);
    this.local.set(member.peerId, peer);
    this.attach(peer, connection);
    const joined: PeerJoinedData = peerInfo(member);
    this.publish({ kind: 'joined', origin: this.options.bus.instanceId, member, frame: encodeEnvelope('peer_joined', joined) });
  }

  /** Relay offer / answer / ice_candidate to the addressed peer only, stamped with the sender's identity. */
  relay<D extends { readonly to: string }>(from: RoomPeer, type: VideoSignalType, data: D): void {
    const connection = from.connection;
    if (!connection) return;
    if (data.to === from.member.peerId) {
      connection.sendText(encodeError('invalid_message', 'a peer may not address itself'));
      return;
    }
    if (!this.options.membership.get(data.to)) {
      connection.sendText(encodeError('unknown_peer', `no peer "${data.to}" in this session`));
      return;
    }
    const frame = encodeEnvelope(type, { ...data, from: from.member.peerId, from_user_id: from.member.userId });
    this.publish({ kind: 'signal', origin: this.options.bus.instanceId, to: data.to, frame });
  }

  /**
   * The peer's socket is gone. A close frame from the client means it left; a socket that died without one
   * (1006: network drop, heartbeat) keeps its place for the grace period, waiting for a rejoin.
   */
  disconnected(peer: RoomPeer, code: number): void {
    peer.connection = undefined;
    if (this.state !== 'open') return;
    if (code === ABNORMAL_CLOSURE && this.options.rejoinGraceMs > 0) {
      peer.graceTimer = setTimeout(expireGrace, this.options.rejoinGraceMs, peer);
      peer.graceTimer.unref();
      return;
    }
    this.leave(peer);
  }

  /** The grace period ended without a rejoin. */
  expire(peer: RoomPeer): void {
    peer.graceTimer = undefined;
    if (peer.connection || this.local.get(peer.member.peerId) !== peer) return;
    this.leave(peer);
  }

  /** Unsubscribe and forget every peer without telling anyone (shutdown, session ended). Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    this.state = 'closing';
    for (const peer of this.local.values()) clearGrace(peer);
    this.local.clear();
    try {
      await this.ready;
    } catch {
      // never subscribed: nothing to undo
    }
    this.unsubscribe?.();
    this.state = 'closed';
    this.options.onClosed(this);
  }

  private async subscribe(): Promise<void> {
    try {
      this.unsubscribe = await this.options.bus.subscribe(this.topic, (message) => this.onBus(message));
    } catch (error) {
      this.options.logger.error({ err: error, session_id: this.sessionId }, 'video room could not subscribe');
      void this.close();
      throw error;
    }
    if (this.state === 'opening') this.state = 'open';
  }

  private onBus(message: VideoRoomMessage): void {
    if (this.state !== 'open') return;
    const fromElsewhere = message.origin !== this.options.bus.instanceId;
    switch (message.kind) {
      case 'joined':
        // our own joins are admitted in join(), with the capacity check
        if (fromElsewhere) this.options.membership.admit(message.member, Number.POSITIVE_INFINITY);
        this.broadcast(message.frame, message.member.peerId);
        return;
      case 'left':
        if (fromElsewhere) this.options.membership.remove(message.peerId);
        this.broadcast(message.frame, message.peerId);
        return;
      case 'signal':
        this.deliver(message.to, message.frame);
        return;
      case 'updated':
        this.revokeLostAccess(message.session);
        return;
      case 'ended':
        this.end();
        return;
    }
  }

  private attach(peer: RoomPeer, connection: Peer<RoomPeer>): void {
    clearGrace(peer);
    peer.connection = connection;
    connection.state = peer;
    const others = this.options.membership.list().filter((m) => m.peerId !== peer.member.peerId);
    const peers: PeersData = { peer_id: peer.member.peerId, peers: others.map(peerInfo) };
    connection.sendText(encodeEnvelope('peers', peers));
    const queued = peer.queued;
    peer.queued = [];
    peer.queuedChars = 0;
    for (const frame of queued) connection.sendText(frame);
  }

  private takeOver(peer: RoomPeer, connection: Peer<RoomPeer>): void {
    const previous = peer.connection;
    this.attach(peer, connection);
    // the old socket is usually half-open; its close, whenever it comes, no longer concerns this peer
    previous?.close(close('normal', 'replaced by a newer connection'));
  }

  private leave(peer: RoomPeer): void {
    clearGrace(peer);
    const { peerId } = peer.member;
    if (this.local.get(peerId) !== peer) return;
    this.local.delete(peerId);
    this.options.membership.remove(peerId);
    const left: PeerLeftData = { peer_id: peerId };
    this.publish({ kind: 'left', origin: this.options.bus.instanceId, peerId, frame: encodeEnvelope('peer_left', left) });
    this.closeIfIdle();
  }

  private broadcast(frame: string, except: string): void {
    for (const peer of this.local.values()) {
      if (peer.member.peerId !== except) peer.connection?.sendText(frame);
    }
  }

  private deliver(to: string, frame: string): void {
    const peer = this.local.get(to);
    if (!peer) return;
    if (peer.connection) {
      peer.connection.sendText(frame);
    } else if (peer.queuedChars + frame.length <= QUEUE_LIMIT_CHARS) {
      peer.queued.push(frame);
      peer.queuedChars += frame.length;
    }
  }

  /** After a PUT: peers whose user no longer may join are closed with 4403, and the others see them leave. */
  private revokeLostAccess(session: VideoSession): void {
    for (const peer of [...this.local.values()]) {
      if (mayJoin(session, peer.member)) continue;
      const connection = peer.connection;
      peer.connection = undefined;
      this.leave(peer);
      connection?.close(close('forbidden', 'no longer allowed in this video session'));
    }
  }

  /** After a DELETE: every peer is closed with 4410; nobody is told about the others leaving. */
  private end(): void {
    const connections = [...this.local.values()].map((peer) => peer.connection);
    for (const peer of this.local.values()) {
      peer.connection = undefined;
      this.options.membership.remove(peer.member.peerId);
    }
    void this.close();
    for (const connection of connections) connection?.close(close('disconnected', 'video session ended'));
  }

  private closeIfIdle(): void {
    if (this.state === 'open' && this.holds === 0 && this.local.size === 0) void this.close();
  }

  private publish(message: VideoRoomMessage): void {
    this.options.bus.publish(this.topic, message).catch((error: unknown) => {
      this.options.logger.warn({ err: error, session_id: this.sessionId, kind: message.kind }, 'video room publish failed');
    });
  }
}

function expireGrace(peer: RoomPeer): void {
  peer.room.expire(peer);
}

function clearGrace(peer: RoomPeer): void {
  clearTimeout(peer.graceTimer);
  peer.graceTimer = undefined;
}

function peerInfo(member: RoomMember): VideoPeerInfo {
  return { peer_id: member.peerId, user_id: member.userId, role: member.role };
}

/** 128 random bits, URL-safe: unguessable, so a peer id is no key to someone else's place. */
function newPeerId(): string {
  return randomBytes(16).toString('base64url');
}
