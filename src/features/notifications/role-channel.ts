import type { EndpointHandler, Peer, PeerRequest } from '../../core/peer.js';
import { close, type Close } from '../../protocol/close-codes.js';
import { decodeIncoming, encodeEnvelope, encodeError, validateIncoming } from '../../protocol/envelope.js';
import { roleChannelSchemas } from '../../protocol/role-channel-messages.js';
import type { Logger } from '../../shared/logger.js';
import type { EventReplay, RoleChannelState } from './event-replay.js';

export interface RoleChannelOptions {
  readonly heartbeatIntervalMs: number;
  readonly replay: EventReplay;
  readonly logger: Logger;
}

/** `/ws/{role}`: the user's live event stream. Delivery itself is EventDelivery's job; this handles the socket. */
export class RoleChannel implements EndpointHandler<RoleChannelState> {
  constructor(private readonly options: RoleChannelOptions) {}

  open(peer: Peer<RoleChannelState>, request: PeerRequest): Close | void {
    if (request.resource !== peer.user.role) return close('forbidden', `role mismatch: token is for ${peer.user.role}`);
    peer.sendText(
      encodeEnvelope('connection.ready', {
        connection_id: peer.id,
        user_id: peer.user.userId,
        role: peer.user.role,
        server_time: new Date().toISOString(),
        heartbeat_interval_ms: this.options.heartbeatIntervalMs,
      }),
    );
    const since = request.query.get('since');
    if (since) this.resume(peer, since);
  }

  message(peer: Peer<RoleChannelState>, data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      peer.sendText(encodeError('bad_json', 'role channels take JSON text frames'));
      return;
    }
    const decoded = decodeIncoming(data.toString('utf8'));
    if (!decoded.ok) {
      peer.sendText(encodeError(decoded.error.code, decoded.error.message));
      return;
    }
    const message = validateIncoming(roleChannelSchemas, decoded.value);
    if (!message.ok) {
      peer.sendText(encodeError(message.error.code, message.error.message));
      return;
    }
    switch (message.value.type) {
      case 'ping':
        peer.sendText(encodeEnvelope('pong', {}));
        return;
      case 'resume':
        this.resume(peer, message.value.data.since);
        return;
    }
  }

  closed(): void {}

  private resume(peer: Peer<RoleChannelState>, since: string): void {
    this.options.replay.resume(peer, since).catch((error: unknown) => this.options.logger.error({ err: error }, 'resume failed'));
  }
}
