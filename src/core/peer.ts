import type { Close } from '../protocol/close-codes.js';
import type { Endpoint } from '../protocol/endpoints.js';
import type { AuthUser } from './auth.js';

export type { Endpoint };

/**
 * One open client connection as the features see it: the transport (ws) is an adapter behind this shape,
 * so features never touch sockets. `S` is the per-connection state owned by the endpoint's handler.
 */
export interface Peer<S = unknown> {
  readonly id: string;
  readonly endpoint: Endpoint;
  /** The authenticated user; replaced when the client refreshes its token. */
  readonly user: AuthUser;
  readonly isOpen: boolean;
  /** Bytes queued for this client and not yet written to the network. */
  readonly bufferedAmount: number;
  /** Handler-owned state; set in `open`. */
  state: S | undefined;
  /**
   * Queue a message. Messages that matter (events, chat) are never dropped: past the send-buffer limit the
   * connection is closed with 1013 instead. Droppable traffic (typing, awareness, presence) is skipped for a
   * client that is behind.
   */
  sendText(text: string | Buffer, options?: SendOptions): void;
  sendBinary(data: Uint8Array, options?: SendOptions): void;
  /** Resolves once the queued bytes have been handed to the network (or the connection closed): for bulk senders. */
  drained(): Promise<void>;
  close(close: Close): void;
}

export interface SendOptions {
  readonly droppable?: boolean;
}

/** What the router hands to an endpoint's handler once the connection is authenticated. */
export interface PeerRequest {
  /** Document, ticket or video session id; the role for role channels. */
  readonly resource: string;
  readonly query: URLSearchParams;
}

/**
 * One handler object per endpoint serves all its connections (no closures per connection).
 * `open` may refuse with a Close (e.g. 4404); messages that arrive while `open` runs are held and
 * handed over in order once it resolves.
 */
export interface EndpointHandler<S = unknown> {
  open(peer: Peer<S>, request: PeerRequest): Promise<Close | void> | Close | void;
  message(peer: Peer<S>, data: Buffer, isBinary: boolean): void;
  closed(peer: Peer<S>, code: number): void;
}
