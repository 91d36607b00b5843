import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { AuthUser } from '../../core/auth.js';
import type { Endpoint, Peer, SendOptions } from '../../core/peer.js';
import type { Stats } from '../../core/stats.js';
import type { Close } from '../../protocol/close-codes.js';
import type { Corker } from './corker.js';

const OPEN = 1;
const TEXT = { binary: false } as const;
const BINARY = { binary: true } as const;

/** Limits shared by every peer of one endpoint. */
export interface PeerLimits {
  readonly sendBufferLimitBytes: number;
  /** Droppable traffic is skipped once this much is unread. */
  readonly droppableBufferBytes: number;
  readonly ratePerSecond: number;
  readonly burst: number;
}

/** Shared by all peers of one server: no closures or timers per connection. */
export interface PeerContext {
  readonly corker: Corker;
  readonly stats: Stats;
  /** Called when a peer exceeds its send buffer with traffic that may not be dropped. */
  onSlowConsumer(peer: WsPeer): void;
  received(peer: WsPeer, data: Buffer, isBinary: boolean): void;
  closed(peer: WsPeer, code: number): void;
}

/** A `ws` connection adapted to the transport-free `Peer` shape, with its own send-side defenses. */
export class WsPeer<S = unknown> implements Peer<S> {
  state: S | undefined = undefined;
  /** Heartbeat: the socket's byte count at the previous sweep (-1: not swept yet). */
  bytesReadAtLastSweep = -1;
  /** Token expiry: the second under which this peer is filed, and whether `auth.expiring` went out. */
  expiryBucket: number | undefined = undefined;
  expiryWarned = false;
  /** opening: the handler's `open` runs and inbound messages wait in `pending`; open: registered; closed: gone. */
  phase: 'opening' | 'open' | 'closed' = 'opening';
  pending: Array<{ data: Buffer; isBinary: boolean }> | undefined = undefined;
  private corkedIn = 0;
  private tokens: number;
  private lastRefill = Date.now();
  private violations = 0;

  constructor(
    readonly id: string,
    readonly endpoint: Endpoint,
    public user: AuthUser,
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    readonly limits: PeerLimits,
    readonly context: PeerContext,
  ) {
    this.tokens = limits.burst;
  }

  get isOpen(): boolean {
    return this.ws.readyState === OPEN;
  }

  /** Bytes received on the socket so far (any frame: messages, pongs, closes). */
  get bytesRead(): number {
    return (this.socket as Duplex & { bytesRead?: number }).bytesRead ?? 0;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  sendText(text: string | Buffer, options?: SendOptions): void {
    this.send(text, false, options);
  }

  sendBinary(data: Uint8Array, options?: SendOptions): void {
    this.send(data, true, options);
  }

  drained(): Promise<void> {
    if (this.ws.readyState !== OPEN || this.ws.bufferedAmount === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** The code of a close this server started (the client's socket may report 1006 when it does not answer). */
  serverCloseCode: number | undefined = undefined;

  close(close: Close): void {
    if (this.ws.readyState > OPEN) return;
    this.serverCloseCode ??= close.code;
    this.ws.close(close.code, close.reason);
  }

  /** Drop the connection without a closing handshake (dead peer, or one that will never read its close frame). */
  terminate(): void {
    this.ws.terminate();
  }

  /**
   * Take one message from the rate budget (token bucket: `ratePerSecond`, bursts of `burst`).
   * Returns 'ok', 'limited' (answer with rate_limited), or 'abusive' (close: the client ignores the answers).
   */
  takeRateToken(now: number): 'ok' | 'limited' | 'abusive' {
    const { ratePerSecond, burst } = this.limits;
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * ratePerSecond);
    this.lastRefill = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.violations = 0;
      return 'ok';
    }
    this.violations++;
    return this.violations > burst ? 'abusive' : 'limited';
  }

  private send(data: string | Uint8Array, binary: boolean, options: SendOptions | undefined): void {
    if (this.ws.readyState !== OPEN) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.limits.droppableBufferBytes && options?.droppable) {
      this.context.stats.droppedDroppable++;
      return;
    }
    if (buffered > this.limits.sendBufferLimitBytes) {
      this.context.onSlowConsumer(this);
      return;
    }
    this.corkedIn = this.context.corker.cork(this.socket, this.corkedIn);
    this.ws.send(data, binary ? BINARY : TEXT);
    this.context.stats.messagesOut++;
  }
}
