import { randomBytes } from 'node:crypto';
import type { Bus, Topic, Unsubscribe } from '../../core/bus.js';
import type { Peer } from '../../core/peer.js';
import { close, type Close } from '../../protocol/close-codes.js';
import { encodeEnvelope, encodeError } from '../../protocol/envelope.js';
import type { PeerJoinedData, PeerLeftData, PeersData, VideoPeerInfo, VideoSignalType } from '../../protocol/video-messages.js';
import type { Logger } from '../../shared/logger.js';
import { RoomPeer } from './room-peer.js';
import type { HeldMember, RoomMember, RoomMembership, RoomSnapshot } from './room-membership.js';
import { RoomView } from './room-view.js';
import { mayJoin, type VideoSession } from './video-session.js';
import { videoRoomTopic, videoSignalTopic, type VideoRoomMessage, type VideoSignalMessage } from './video-topic.js';

export { RoomPeer };

/** The close code `ws` reports when a socket ended without a close frame (dropped, or cut by the heartbeat). */
const ABNORMAL_CLOSURE = 1006;

export type RoomState = 'opening' | 'open' | 'closing' | 'closed';

export interface VideoRoomOptions {
  readonly sessionId: string;
  readonly bus: Bus;
  readonly membership: RoomMembership;
  readonly rejoinGraceMs: number;
  /** See RoomViewOptions.orphanMs. */
  readonly orphanMs: number;
  readonly logger: Logger;
  /** Told once, when the room has closed. */
  readonly onClosed: (room: VideoRoom) => void;
}

/**
 * A video session as seen by this instance: the peers it holds (`local`) and its view of the whole room across
 * instances. Lifecycle: `opening` (subscribing to the session's bus topic) → `open` → `closing` → `closed`; it
 * closes when it holds no peer and nobody is joining, or when the session ends.
 * Joins, departures and rejoins are decided by the shared membership, then announced on the session's topic; every
 * instance's room updates its view and tells its own peers from there. Signals go to the instance holding the
 * addressed peer only.
 */
export class VideoRoom {
  state: RoomState = 'opening';
  /** Resolves once the room is subscribed and may take peers; rejects if it could not subscribe. */
  readonly ready: Promise<void>;
  private readonly local = new Map<string, RoomPeer>();
  private readonly view: RoomView;
  private readonly topic: Topic<VideoRoomMessage>;
  private readonly instanceId: string;
  private unsubscribe: Unsubscribe | undefined;
  private holds = 0;
  private closing: Promise<void> | undefined;
  private handingOff = false;

  constructor(private readonly options: VideoRoomOptions) {
    this.instanceId = options.bus.instanceId;
    this.view = new RoomView({ instanceId: this.instanceId, orphanMs: options.orphanMs });
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

  /** What this instance holds, for a resync of the shared membership. */
  heldMembers(): HeldMember[] {
    return [...this.local.values()].map((peer) => peer.member);
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
   * Admit an authorized connection: with `requestedPeerId` of a member of the same user, wherever it is held, that
   * member again, silently; otherwise a fresh peer if the room has space. Resolves with the close to refuse with.
   */
  async join(connection: Peer<RoomPeer>, session: VideoSession, requestedPeerId: string | undefined): Promise<Close | void> {
    if (this.state !== 'open') return ended();
    const { userId, role } = connection.user;
    if (requestedPeerId !== undefined) {
      const known = this.local.get(requestedPeerId)?.member ?? this.view.get(requestedPeerId);
      if (known && known.userId !== userId) return close('forbidden', 'peer_id belongs to another user');
      const requestedAt = Date.now();
      const claim = await this.options.membership.claim(this.sessionId, requestedPeerId, userId);
      if (claim.status === 'other_user') return close('forbidden', 'peer_id belongs to another user');
      if (claim.status === 'claimed') return this.rejoin(connection, claim.member, claim.snapshot, requestedAt);
      const held = this.local.get(requestedPeerId);
      if (held?.member.userId === userId) {
        // the shared membership is away (or lost it before our resync), but the peer is ours: take it over here
        if (this.state !== 'open') return ended();
        if (connection.isOpen) this.takeOver(held, connection);
        return;
      }
    }
    const requestedAt = Date.now();
    const fresh: RoomMember = { peerId: newPeerId(), userId, role };
    const admission = await this.options.membership.admit(this.sessionId, fresh, session.maxParticipants);
    if (admission.status === 'full') return close('tooMany', 'video session is full');
    let member: HeldMember;
    if (admission.status === 'admitted') {
      member = admission.member;
    } else {
      // the shared membership is away: count what this instance knows; the resync writes the member back later
      if (this.view.size >= session.maxParticipants) return close('tooMany', 'video session is full');
      member = { ...fresh, instance: this.instanceId, generation: 1, order: this.nextLocalOrder() };
    }
    if (this.state !== 'open' || !connection.isOpen) {
      void this.forget(member);
      return this.state === 'open' ? undefined : ended();
    }
    const peer = new RoomPeer(this, member);
    this.local.set(member.peerId, peer);
    this.view.apply(member);
    if (admission.status === 'admitted') this.applySnapshot(admission.snapshot, requestedAt);
    this.attach(peer, connection);
    this.publishMember(member);
  }

  /** Relay offer / answer / ice_candidate to the addressed peer only, stamped with the sender's identity. */
  relay<D extends { readonly to: string }>(from: RoomPeer, type: VideoSignalType, data: D): void {
    const connection = from.connection;
    if (!connection) return;
    if (data.to === from.member.peerId) {
      connection.sendText(encodeError('invalid_message', 'a peer may not address itself'));
      return;
    }
    const frame = encodeEnvelope(type, { ...data, from: from.member.peerId, from_user_id: from.member.userId });
    if (!from.lookups && this.route(data.to, frame)) return;
    // not in this instance's view: ask the shared membership, keeping this sender's later signals behind it
    const next = (from.lookups ?? Promise.resolve()).then(() => this.routeAfterLookup(from, connection, data.to, frame));
    from.lookups = next;
    void next.then(() => {
      if (from.lookups === next) from.lookups = undefined;
    });
  }

  /** A signal addressed to a peer this instance holds (or held: then it is forwarded once to where it went). */
  receiveSignal(message: VideoSignalMessage): void {
    if (this.state !== 'open') return;
    const peer = this.local.get(message.to);
    if (peer) {
      peer.deliver(message.frame);
      return;
    }
    const member = this.view.get(message.to);
    if (!message.forwarded && member && member.instance !== this.instanceId) {
      this.sendSignal(member.instance, message.to, message.frame, true);
    }
  }

  /**
   * The peer's socket is gone. A close frame from the client means it left; a socket that died without one
   * (1006: network drop, heartbeat) keeps its place for the grace period, waiting for a rejoin on any instance.
   */
  disconnected(peer: RoomPeer, code: number): void {
    peer.connection = undefined;
    if (this.state !== 'open') return;
    if (this.handingOff) {
      // shutting down: the peer keeps its place in the shared membership and may rejoin on another instance
      this.local.delete(peer.member.peerId);
      peer.clearGrace();
      this.closeIfIdle();
      return;
    }
    if (code === ABNORMAL_CLOSURE && this.options.rejoinGraceMs > 0) {
      this.startGrace(peer);
      return;
    }
    void this.leave(peer);
  }

  /** The grace period ended without a rejoin. */
  expire(peer: RoomPeer): void {
    peer.graceTimer = undefined;
    if (peer.connection || this.local.get(peer.member.peerId) !== peer) return;
    void this.leave(peer);
  }

  /** Correct the view with a fresh snapshot of the shared membership. */
  async reconcile(): Promise<void> {
    if (this.state !== 'open') return;
    const requestedAt = Date.now();
    const snapshot = await this.options.membership.snapshot(this.sessionId);
    if (snapshot && this.state === 'open') this.applySnapshot(snapshot, requestedAt);
  }

  /** After a resync: announce every held peer again, so instances that dropped them (took us for dead) take them back. */
  announceHeld(): void {
    for (const peer of this.local.values()) this.publishMember(peer.member);
  }

  /** A held peer was claimed elsewhere while this instance could not hear of it. */
  lost(member: HeldMember): void {
    const peer = this.local.get(member.peerId);
    if (!peer || member.generation <= peer.member.generation) return;
    this.view.apply(member);
    this.handOver(peer, member);
  }

  /** Shutdown: from now on a closing socket is not a departure (see `disconnected`). */
  handOff(): void {
    this.handingOff = true;
  }

  /** Unsubscribe and forget every peer without telling anyone (shutdown, session ended). Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    this.state = 'closing';
    for (const peer of this.local.values()) peer.clearGrace();
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
    switch (message.kind) {
      case 'member':
        this.onMember(message.member, message.frame);
        return;
      case 'left':
        this.onLeft(message.peerId, message.frame, message.origin);
        return;
      case 'updated':
        this.revokeLostAccess(message.session);
        return;
      case 'ended':
        this.end();
        return;
    }
  }

  private onMember(member: HeldMember, frame: string): void {
    const held = this.local.get(member.peerId);
    if (held) {
      if (member.generation < held.member.generation) return;
      if (member.instance !== this.instanceId) {
        if (member.generation === held.member.generation) return;
        // a rejoin on another instance took this peer over
        this.view.apply(member);
        this.handOver(held, member);
        return;
      }
    } else if (member.instance === this.instanceId) {
      return; // our own announcement of a peer already gone again
    }
    if (!this.view.apply(member)) return;
    for (const peer of this.local.values()) peer.announceJoined(member.peerId, frame);
  }

  private onLeft(peerId: string, frame: string, origin: string): void {
    // another instance reaped a peer we still hold (it took us for dead): it stays; our resync announces it again
    if (this.local.has(peerId) && origin !== this.instanceId) return;
    this.view.remove(peerId);
    for (const peer of this.local.values()) peer.announceLeft(peerId, frame);
  }

  private applySnapshot(snapshot: RoomSnapshot, requestedAt: number): void {
    const result = this.view.merge(snapshot, requestedAt, (peerId) => this.local.get(peerId)?.member);
    for (const member of result.added) {
      const frame = encodeEnvelope('peer_joined', peerInfo(member));
      for (const peer of this.local.values()) peer.announceJoined(member.peerId, frame);
    }
    for (const peerId of result.removed) {
      const frame = encodeEnvelope('peer_left', { peer_id: peerId } satisfies PeerLeftData);
      for (const peer of this.local.values()) peer.announceLeft(peerId, frame);
    }
    for (const member of result.movedAway) this.lost(member);
  }

  /** A rejoin claimed `member` for this instance. */
  private rejoin(connection: Peer<RoomPeer>, member: HeldMember, snapshot: RoomSnapshot, requestedAt: number): Close | void {
    if (this.state !== 'open') {
      void this.forget(member);
      return ended();
    }
    let peer = this.local.get(member.peerId);
    const wasHere = peer !== undefined;
    if (peer) peer.member = member;
    else this.local.set(member.peerId, (peer = new RoomPeer(this, member)));
    this.view.apply(member);
    this.applySnapshot(snapshot, requestedAt);
    if (!connection.isOpen) {
      // gone again while claiming: hold the place like any dropped socket
      if (!peer.connection && !peer.graceTimer) this.startGrace(peer);
    } else if (wasHere) {
      this.takeOver(peer, connection);
    } else {
      this.attach(peer, connection);
    }
    // the instance that held it drops it quietly; everyone else already knows it
    this.publishMember(member);
  }

  private attach(peer: RoomPeer, connection: Peer<RoomPeer>): void {
    peer.clearGrace();
    peer.connection = connection;
    connection.state = peer;
    const others = this.view.list().filter((m) => m.peerId !== peer.member.peerId);
    peer.known.clear();
    for (const other of others) peer.known.add(other.peerId);
    const peers: PeersData = { peer_id: peer.member.peerId, peers: others.map(peerInfo) };
    connection.sendText(encodeEnvelope('peers', peers));
    for (const frame of peer.takeQueued()) connection.sendText(frame);
  }

  private takeOver(peer: RoomPeer, connection: Peer<RoomPeer>): void {
    const previous = peer.connection;
    this.attach(peer, connection);
    // the old socket is usually half-open; its close, whenever it comes, no longer concerns this peer
    previous?.close(close('normal', 'replaced by a newer connection'));
  }

  /** The peer now lives on another instance: drop it here without a word, passing on what was kept for it. */
  private handOver(peer: RoomPeer, to: HeldMember): void {
    peer.clearGrace();
    if (this.local.get(to.peerId) === peer) this.local.delete(to.peerId);
    const connection = peer.connection;
    peer.connection = undefined;
    for (const frame of peer.takeQueued()) this.sendSignal(to.instance, to.peerId, frame, true);
    connection?.close(close('normal', 'replaced by a newer connection'));
    this.closeIfIdle();
  }

  private startGrace(peer: RoomPeer): void {
    peer.clearGrace();
    peer.graceTimer = setTimeout(expireGrace, this.options.rejoinGraceMs, peer);
    peer.graceTimer.unref();
  }

  private async leave(peer: RoomPeer): Promise<void> {
    peer.clearGrace();
    const { peerId } = peer.member;
    if (this.local.get(peerId) !== peer) return;
    this.local.delete(peerId);
    const released = await this.options.membership.release(this.sessionId, peer.member);
    // 'moved': a rejoin elsewhere claimed it meanwhile, so it did not leave
    if (released !== 'moved') this.publishLeft(peerId);
    this.closeIfIdle();
  }

  /** Admitted, but the socket closed (or the session ended) before it was told: undo, quietly for the clients. */
  private async forget(member: HeldMember): Promise<void> {
    const released = await this.options.membership.release(this.sessionId, member);
    if (released !== 'moved') this.publishLeft(member.peerId);
  }

  private route(to: string, frame: string): boolean {
    const target = this.view.get(to);
    if (!target) return false;
    this.sendSignal(target.instance, to, frame, false);
    return true;
  }

  private async routeAfterLookup(from: RoomPeer, connection: Peer<RoomPeer>, to: string, frame: string): Promise<void> {
    try {
      if (this.route(to, frame)) return;
      await this.reconcile();
      if (this.route(to, frame)) return;
      if (from.connection === connection) connection.sendText(encodeError('unknown_peer', `no peer "${to}" in this session`));
    } catch (error) {
      this.options.logger.warn({ err: error, session_id: this.sessionId }, 'video relay look-up failed');
    }
  }

  /** After a PUT: peers whose user no longer may join are closed with 4403, and the others see them leave. */
  private revokeLostAccess(session: VideoSession): void {
    for (const peer of [...this.local.values()]) {
      if (mayJoin(session, peer.member)) continue;
      const connection = peer.connection;
      peer.connection = undefined;
      void this.leave(peer);
      connection?.close(close('forbidden', 'no longer allowed in this video session'));
    }
  }

  /** After a DELETE: every peer is closed with 4410; nobody is told about the others leaving. */
  private end(): void {
    const peers = [...this.local.values()];
    const connections = peers.map((peer) => peer.connection);
    for (const peer of peers) peer.connection = undefined;
    void this.close();
    for (const connection of connections) connection?.close(close('disconnected', 'video session ended'));
    // the session service already forgot the room; this catches a join that raced the end
    for (const peer of peers) void this.options.membership.release(this.sessionId, peer.member);
  }

  private closeIfIdle(): void {
    if (this.state === 'open' && this.holds === 0 && this.local.size === 0) void this.close();
  }

  private nextLocalOrder(): number {
    let order = 0;
    for (const member of this.view.list()) order = Math.max(order, member.order);
    return order + 1;
  }

  private publishMember(member: HeldMember): void {
    const joined: PeerJoinedData = peerInfo(member);
    this.publish({ kind: 'member', origin: this.instanceId, member, frame: encodeEnvelope('peer_joined', joined) });
  }

  private publishLeft(peerId: string): void {
    const left: PeerLeftData = { peer_id: peerId };
    this.publish({ kind: 'left', origin: this.instanceId, peerId, frame: encodeEnvelope('peer_left', left) });
  }

  private publish(message: VideoRoomMessage): void {
    this.options.bus.publish(this.topic, message).catch((error: unknown) => {
      this.options.logger.warn({ err: error, session_id: this.sessionId, kind: message.kind }, 'video room publish failed');
    });
  }

  private sendSignal(instance: string, to: string, frame: string, forwarded: boolean): void {
    const message: VideoSignalMessage = { sessionId: this.sessionId, to, frame, forwarded };
    this.options.bus.publish(videoSignalTopic(instance), message).catch((error: unknown) => {
      this.options.logger.warn({ err: error, session_id: this.sessionId }, 'video signal publish failed');
    });
  }
}

function expireGrace(peer: RoomPeer): void {
  peer.room.expire(peer);
}

function ended(): Close {
  return close('notFound', 'video session ended');
}

function peerInfo(member: RoomMember): VideoPeerInfo {
  return { peer_id: member.peerId, user_id: member.userId, role: member.role };
}

/** 128 random bits, URL-safe: unguessable, so a peer id is no key to someone else's place. */
function newPeerId(): string {
  return randomBytes(16).toString('base64url');
}
