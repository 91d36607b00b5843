import type { EndpointHandler, PeerRequest } from '../../core/peer.js';
import { close, type Close } from '../../protocol/close-codes.js';
import { decodeYjsMessage, parseFraming } from '../../protocol/yjs-messages.js';
import type { Logger } from '../../shared/logger.js';
import type { CollabStats } from './collab-stats.js';
import { isDocumentAccess, type DocumentAccess, type DocumentAuthorizer } from './doc-access.js';
import type { CollabPeer, CollabPeerState } from './doc-room.js';
import type { DocRooms } from './doc-rooms.js';

export interface YjsEndpointOptions {
  readonly rooms: DocRooms;
  readonly authorize: DocumentAuthorizer;
  readonly stats: CollabStats;
  readonly logger: Logger;
}

/**
 * `/ws/yjs/{doc_id}` (SPEC §6): authorize → load the document (before the first message is answered; the
 * gateway holds messages meanwhile) → sync → exchange updates and awareness → leave.
 * Refusals use 4400/4403, which y-websocket clients take as final; malformed input closes only its sender.
 */
export class YjsEndpoint implements EndpointHandler<CollabPeerState> {
  constructor(private readonly options: YjsEndpointOptions) {}

  async open(peer: CollabPeer, { resource: docId, query }: PeerRequest): Promise<Close | void> {
    const framing = parseFraming(query.get('framing'));
    if (!framing) return close('badRequest', 'framing must be "flat" or "y-websocket"');
    const access = await this.access(peer, docId);
    if (access === 'none') return close('forbidden', 'no access to this document');
    const room = await this.options.rooms.acquire(docId);
    if (!peer.isOpen) {
      this.options.rooms.release(room);
      return;
    }
    peer.state = { room, framing, access, clientIds: new Set() };
    room.join(peer);
  }

  message(peer: CollabPeer, data: Buffer, isBinary: boolean): void {
    const state = peer.state;
    if (!state || !peer.isOpen) return;
    if (!isBinary) {
      this.refuse(peer, 'binary messages only');
      return;
    }
    const decoded = decodeYjsMessage(data, state.framing);
    if (!decoded.ok) {
      this.refuse(peer, decoded.error.reason);
      return;
    }
    try {
      state.room.receive(peer, decoded.value, data);
    } catch (error) {
      // well-formed but not applicable (e.g. a crafted update): Yjs may have stopped half-way, so the room is
      // dropped unsaved — everything relayed is in storage — and its other peers reconnect and resync
      this.options.logger.warn({ err: error, docId: state.room.docId, peer: peer.id }, 'document update could not be applied');
      this.refuse(peer, 'update could not be applied');
      this.options.rooms.discard(state.room);
    }
  }

  closed(peer: CollabPeer): void {
    const room = peer.state?.room;
    if (!room) return;
    this.options.rooms.left(room, room.leave(peer));
  }

  private refuse(peer: CollabPeer, reason: string): void {
    this.options.stats.malformedMessages++;
    peer.close(close('badRequest', reason));
  }

  private async access(peer: CollabPeer, docId: string): Promise<DocumentAccess> {
    try {
      const access: unknown = await this.options.authorize(peer.user, docId);
      return isDocumentAccess(access) ? access : 'none';
    } catch (error) {
      this.options.logger.warn({ err: error, docId }, 'document authorizer failed; refusing access');
      return 'none';
    }
  }
}
