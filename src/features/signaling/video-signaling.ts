import type { EndpointHandler, Peer, PeerRequest } from '../../core/peer.js';
import { close, type Close } from '../../protocol/close-codes.js';
import { decodeIncoming, encodeEnvelope, encodeError, validateIncoming } from '../../protocol/envelope.js';
import { PEER_ID_PATTERN, videoClientSchemas } from '../../protocol/video-messages.js';
import type { RoomPeer } from './video-room.js';
import type { VideoRoomRegistry } from './video-room-registry.js';
import { mayJoin, type VideoSessionStore } from './video-session.js';

export interface VideoSignalingOptions {
  readonly rooms: VideoRoomRegistry;
  readonly sessions: VideoSessionStore;
}

/** `/ws/video/{session_id}` (SPEC §8): admits registered participants and relays WebRTC signaling inside the room. */
export class VideoSignaling implements EndpointHandler<RoomPeer> {
  constructor(private readonly options: VideoSignalingOptions) {}

  async open(peer: Peer<RoomPeer>, request: PeerRequest): Promise<Close | void> {
    const requestedPeerId = request.query.get('peer_id') ?? undefined;
    if (requestedPeerId !== undefined && !PEER_ID_PATTERN.test(requestedPeerId)) return close('badRequest', 'peer_id is malformed');
    const room = this.options.rooms.acquire(request.resource);
    try {
      // subscribed before reading the registration: an end or update after this read reaches the room
      await room.ready;
      const session = await this.options.sessions.get(request.resource);
      if (!session) return close('notFound', 'video session not found');
      if (!mayJoin(session, peer.user)) return close('forbidden', 'not allowed in this video session');
      if (!peer.isOpen) return;
      return await room.join(peer, session, requestedPeerId);
    } finally {
      room.release();
    }
  }

  message(peer: Peer<RoomPeer>, data: Buffer, isBinary: boolean): void {
    const member = peer.state;
    if (!member?.isCurrent(peer)) return;
    if (isBinary) {
      peer.sendText(encodeError('bad_json', 'video signaling takes JSON text frames'));
      return;
    }
    const decoded = decodeIncoming(data.toString('utf8'));
    if (!decoded.ok) {
      peer.sendText(encodeError(decoded.error.code, decoded.error.message));
      return;
    }
    const message = validateIncoming(videoClientSchemas, decoded.value);
    if (!message.ok) {
      peer.sendText(encodeError(message.error.code, message.error.message));
      return;
    }
    const { type, data: body } = message.value;
    switch (type) {
      case 'ping':
        peer.sendText(encodeEnvelope('pong', {}));
        return;
      case 'offer':
      case 'answer':
      case 'ice_candidate':
        member.room.relay(member, type, body);
        return;
    }
  }

  closed(peer: Peer<RoomPeer>, code: number): void {
    const member = peer.state;
    if (member?.isCurrent(peer)) member.room.disconnected(member, code);
  }
}
