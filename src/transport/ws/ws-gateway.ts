import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AuthUser, TokenVerifier } from '../../core/auth.js';
import type { ConnectionRegistry } from '../../core/connection-registry.js';
import type { ConnectionLimits } from '../../core/limits.js';
import type { EndpointHandler, Peer } from '../../core/peer.js';
import type { Stats } from '../../core/stats.js';
import { close, type Close } from '../../protocol/close-codes.js';
import type { Endpoint } from '../../protocol/endpoints.js';
import { decodeIncoming, encodeError } from '../../protocol/envelope.js';
import { bearerToken, parseWsRoute, type WsRoute } from '../../protocol/ws-route.js';
import type { Logger } from '../../shared/logger.js';
import { Corker } from './corker.js';
import { Heartbeat } from './heartbeat.js';
import { TokenLifetime } from './token-lifetime.js';
import { WsPeer, type PeerContext, type PeerLimits } from './ws-peer.js';

/** Told when a connection has been accepted by its endpoint, and when it is gone (presence, metrics). */
export interface PeerLifecycle {
  opened(peer: Peer): void;
  closed(peer: Peer): void;
}

export interface WsGatewayOptions {
  readonly verifier: TokenVerifier;
  readonly registry: ConnectionRegistry;
  readonly handlers: Partial<Record<Endpoint, EndpointHandler>>;
  readonly lifecycle: readonly PeerLifecycle[];
  readonly stats: Stats;
  readonly logger: Logger;
  readonly allowedOrigins: readonly string[];
  readonly heartbeatIntervalMs: number;
  readonly limits: ConnectionLimits;
  readonly newConnectionId: () => string;
}

const PEER = Symbol('uhs.peer');
/** Token refresh is handled here for every endpoint, before the endpoint's own messages. */
const AUTH_REFRESH = Buffer.from('"auth.refresh"');
const AUTH_REFRESH_MAX_BYTES = 16 * 1024;
type TaggedSocket = WebSocket & { [PEER]?: WsPeer };

/**
 * Accepts WebSocket upgrades on the HTTP server's port: routes the path, checks origin and token, then hands the
 * connection to its endpoint's handler. Before the upgrade it fails with an HTTP status; after it, with a close code.
 */
export class WsGateway implements PeerContext {
  readonly corker = new Corker();
  private readonly jsonServer: WebSocketServer;
  private readonly yjsServer: WebSocketServer;
  private readonly heartbeat: Heartbeat;
  private readonly lifetime: TokenLifetime;
  private readonly peers = new Set<WsPeer>();
  private readonly jsonLimits: PeerLimits;
  private readonly yjsLimits: PeerLimits;
  private accepting = true;

  constructor(private readonly options: WsGatewayOptions) {
    const { limits } = options;
    const common = { noServer: true, perMessageDeflate: false, clientTracking: false } as const;
    this.jsonServer = new WebSocketServer({ ...common, maxPayload: limits.maxMessageBytes });
    this.yjsServer = new WebSocketServer({ ...common, maxPayload: limits.yjsMaxMessageBytes });
    const droppableBufferBytes = Math.max(64 * 1024, Math.floor(limits.sendBufferLimitBytes / 8));
    this.jsonLimits = {
      sendBufferLimitBytes: limits.sendBufferLimitBytes,
      droppableBufferBytes,
      ratePerSecond: limits.ratePerSecond,
      burst: limits.ratePerSecond * 2,
    };
    this.yjsLimits = { ...this.jsonLimits, ratePerSecond: limits.ratePerSecond * 10, burst: limits.ratePerSecond * 20 };
    this.heartbeat = new Heartbeat(options.heartbeatIntervalMs, () => this.peers);
    this.lifetime = new TokenLifetime(options.verifier);
  }

  get stats(): Stats {
    return this.options.stats;
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // shared listener: a closure here would keep this scope, and with it the request, alive per connection
      socket.on('error', destroySocket);
      this.handleUpgrade(req, socket, head).catch((error: unknown) => this.upgradeFailed(error, socket));
    });
    this.heartbeat.start();
    this.lifetime.start();
  }

  private upgradeFailed(error: unknown, socket: Duplex): void {
    this.options.logger.error({ err: error }, 'upgrade failed');
    socket.destroy();
  }

  /** Stop taking new connections (shutdown); upgrades get HTTP 503. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Close every connection with `reason` and wait (at most `timeoutMs`) for them to go, then cut the rest. */
  async closeAll(reason: Close, timeoutMs: number): Promise<void> {
    this.heartbeat.stop();
    this.lifetime.stop();
    const closing = [...this.peers].map((peer) => {
      const gone = new Promise<void>((resolve) => peer.ws.once('close', () => resolve()));
      peer.close(reason);
      return gone;
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closing), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const peer of this.peers) peer.terminate();
    this.jsonServer.close();
    this.yjsServer.close();
  }

  sweepHeartbeat(): void {
    this.heartbeat.sweep();
  }

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!this.accepting) return rejectHandshake(socket, 503, 'Service Unavailable');
    const parsed = parseWsRoute(req.url ?? '/');
    if (parsed.kind === 'not-found' || !this.options.handlers[parsed.kind === 'route' ? parsed.route.endpoint : parsed.endpoint]) {
      return rejectHandshake(socket, 404, 'Not Found');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && this.options.allowedOrigins.length > 0 && !this.options.allowedOrigins.includes(origin)) {
      return rejectHandshake(socket, 403, 'Forbidden');
    }
    if (parsed.kind === 'bad-request') {
      const ws = await this.upgrade(parsed.endpoint, req, socket, head);
      ws.close(4400, parsed.reason);
      return;
    }
    const { route } = parsed;
    const token = route.token ?? bearerToken(req.headers.authorization);
    const verified = token ? await this.options.verifier.verify(token) : undefined;
    const ws = await this.upgrade(route.endpoint, req, socket, head);
    if (!verified || !verified.ok) {
      this.options.stats.authFailures++;
      const reason = verified && !verified.ok ? verified.error.reason : 'token missing';
      ws.close(4401, reason);
      return;
    }
    this.accept(ws, socket, route, verified.value);
  }

  private upgrade(endpoint: Endpoint, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<WebSocket> {
    const server = endpoint === 'yjs' ? this.yjsServer : this.jsonServer;
    return new Promise((resolve) => server.handleUpgrade(req, socket, head, resolve));
  }

  private accept(ws: WebSocket, socket: Duplex, route: WsRoute, user: AuthUser): void {
    const { registry, limits } = this.options;
    if (registry.connectionsOf(user.userId).size >= limits.maxConnectionsPerUser) {
      const refusal = close('tooMany', 'too many connections for this user');
      ws.close(route.endpoint === 'yjs' ? 1013 : refusal.code, refusal.reason);
      return;
    }
    const handler = this.options.handlers[route.endpoint] as EndpointHandler;
    const peerLimits = route.endpoint === 'yjs' ? this.yjsLimits : this.jsonLimits;
    const peer = new WsPeer(this.options.newConnectionId(), route.endpoint, user, ws, socket, peerLimits, this);
    (ws as TaggedSocket)[PEER] = peer;
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
    this.peers.add(peer);

    let refusal: Close | void;
    try {
      refusal = handler.open(peer, { resource: route.resource, query: route.query }) as Close | void;
    } catch (error) {
      this.refuseAfterError(peer, error);
      return;
    }
    if (isPromise(refusal)) {
      (refusal as Promise<Close | void>).then(
        (result) => this.opened(peer, result),
        (error: unknown) => this.refuseAfterError(peer, error),
      );
    } else {
      this.opened(peer, refusal);
    }
  }

  private refuseAfterError(peer: WsPeer, error: unknown): void {
    this.options.logger.error({ err: error, endpoint: peer.endpoint }, 'endpoint open failed');
    this.opened(peer, close('internalError'));
  }

  private opened(peer: WsPeer, refusal: Close | void): void {
    if (peer.phase === 'closed') return;
    if (refusal) {
      peer.close(refusal);
      return;
    }
    peer.phase = 'open';
    this.lifetime.track(peer);
    this.options.registry.add(peer);
    for (const listener of this.options.lifecycle) listener.opened(peer);
    const pending = peer.pending;
    peer.pending = undefined;
    if (pending) for (const { data, isBinary } of pending) this.dispatch(peer, data, isBinary);
  }

  received(peer: WsPeer, data: Buffer, isBinary: boolean): void {
    this.options.stats.messagesIn++;
    const verdict = peer.takeRateToken(Date.now());
    if (verdict !== 'ok') {
      this.options.stats.rateLimited++;
      if (peer.endpoint === 'yjs') {
        // dropping a document update would make replicas diverge; the client reconnects and resyncs instead
        peer.close({ code: 1013, reason: 'rate limited' });
      } else if (verdict === 'abusive') {
        peer.close(close('tooMany', 'rate limit exceeded'));
      } else {
        peer.sendText(encodeError('rate_limited'));
      }
      return;
    }
    if (peer.phase === 'opening') {
      (peer.pending ??= []).push({ data, isBinary });
      return;
    }
    this.dispatch(peer, data, isBinary);
  }

  private dispatch(peer: WsPeer, data: Buffer, isBinary: boolean): void {
    if (peer.phase !== 'open') return;
    if (!isBinary && data.length <= AUTH_REFRESH_MAX_BYTES && data.includes(AUTH_REFRESH)) {
      const decoded = decodeIncoming(data.toString('utf8'));
      if (decoded.ok && decoded.value.type === 'auth.refresh') {
        const token = (decoded.value.data as { token?: unknown } | undefined)?.token;
        this.lifetime.refresh(peer, token).catch((error: unknown) => this.options.logger.error({ err: error }, 'token refresh failed'));
        return;
      }
    }
    try {
      this.options.handlers[peer.endpoint]?.message(peer, data, isBinary);
    } catch (error) {
      this.options.logger.error({ err: error, endpoint: peer.endpoint }, 'message handler failed');
      peer.close(close('internalError'));
    }
  }

  closed(peer: WsPeer, code: number): void {
    const wasOpen = peer.phase === 'open';
    peer.phase = 'closed';
    this.peers.delete(peer);
    this.lifetime.untrack(peer);
    if (!wasOpen) return;
    this.options.registry.remove(peer);
    try {
      // handlers tell a clean leave (a code) from a dropped socket (1006); a close the server started is clean
      this.options.handlers[peer.endpoint]?.closed(peer, peer.serverCloseCode ?? code);
    } catch (error) {
      this.options.logger.error({ err: error, endpoint: peer.endpoint }, 'close handler failed');
    }
    for (const listener of this.options.lifecycle) listener.closed(peer);
  }

  onSlowConsumer(peer: WsPeer): void {
    this.options.stats.slowConsumerCloses++;
    peer.close(close('tryAgainLater', 'slow consumer'));
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

function onMessage(this: TaggedSocket, data: RawData, isBinary: boolean): void {
  const peer = this[PEER];
  if (peer) peer.context.received(peer, data as Buffer, isBinary);
}

function onClose(this: TaggedSocket, code: number): void {
  const peer = this[PEER];
  if (peer) peer.context.closed(peer, code);
}

function onError(this: TaggedSocket, error: Error & { code?: string }): void {
  // ws closes the connection itself (1009 for an oversized message, 1002 for a protocol error); 'close' follows
  const peer = this[PEER];
  if (peer) peer.serverCloseCode ??= error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 1009 : 1002;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function';
}

function rejectHandshake(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}
