import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { OpenAiReplySuggester } from './adapters/ai/openai-reply-suggester.js';
import { createJoseTokenVerifier } from './adapters/auth/jose-token-verifier.js';
import { MemoryBus } from './adapters/bus/memory-bus.js';
import { RedisBus } from './adapters/bus/redis-bus.js';
import { RedisPresence } from './adapters/presence/redis-presence.js';
import { LegacyBroadcastBridge } from './adapters/redis/legacy-broadcast-bridge.js';
import { RedisRoomMembership } from './adapters/redis/redis-room-membership.js';
import { createDatabase, type Database } from './adapters/db/database.js';
import { KyselyDocStore } from './adapters/db/stores/kysely-doc-store.js';
import { KyselyEventLog } from './adapters/db/stores/kysely-event-log.js';
import { KyselyVideoSessionStore } from './adapters/db/stores/kysely-video-session-store.js';
import { KyselyTicketStore } from './adapters/db/stores/kysely-ticket-store.js';
import { MemoryPresence } from './adapters/presence/memory-presence.js';
import { loadConfig, type Config } from './config/config.js';
import { resolveDevSecrets } from './config/dev-secrets.js';
import type { Bus } from './core/bus.js';
import { ClusterEvents } from './core/cluster-events.js';
import { ConnectionRegistry } from './core/connection-registry.js';
import { LoadMonitor } from './core/load-monitor.js';
import type { EndpointHandler } from './core/peer.js';
import { MetricsRegistry } from './core/metrics.js';
import type { PresenceTracker } from './core/presence.js';
import { Stats } from './core/stats.js';
import { UserDisconnector } from './core/user-disconnector.js';
import { CollabService } from './features/collab/collab-service.js';
import { allowAllDocuments, type DocumentAuthorizer } from './features/collab/doc-access.js';
import { httpDocAuthorizer } from './features/collab/http-doc-authorizer.js';
import { ChatFeature } from './features/chat/chat-feature.js';
import { OfflineReplySuggester } from './features/chat/offline-reply-suggester.js';
import type { ReplySuggester } from './features/chat/reply-suggester.js';
import { ConnectionManager } from './features/notifications/connection-manager.js';
import { EventDelivery } from './features/notifications/event-delivery.js';
import { EventReplay } from './features/notifications/event-replay.js';
import { HealthReporter } from './features/notifications/health-reporter.js';
import { PresenceAnnouncer } from './features/notifications/presence-announcer.js';
import { PublishService } from './features/notifications/publish-service.js';
import { RoleChannel } from './features/notifications/role-channel.js';
import { MemoryRoomMembership } from './features/signaling/memory-room-membership.js';
import type { RoomMembership } from './features/signaling/room-membership.js';
import { VideoRoomRegistry } from './features/signaling/video-room-registry.js';
import { VideoSessionService } from './features/signaling/video-session-service.js';
import { VideoSignaling } from './features/signaling/video-signaling.js';
import { close } from './protocol/close-codes.js';
import { SortableIdGenerator } from './shared/ids.js';
import { createLogger, type Logger } from './shared/logger.js';
import { createHttpApp } from './transport/http/http-app.js';
import { docRoutes } from './transport/http/doc-routes.js';
import { healthRoutes } from './transport/http/health-routes.js';
import { notificationRoutes } from './transport/http/notification-routes.js';
import { videoRoutes } from './transport/http/video-routes.js';
import { ticketRoutes } from './transport/http/ticket-routes.js';
import { WsGateway } from './transport/ws/ws-gateway.js';

export interface CreateServerOptions {
  /** Environment to read configuration from (default: process.env). Ignored when `config` is given. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly config?: Config;
  readonly logger?: Logger;
  /** Replace the fan-out bus (default: in-process). */
  readonly bus?: Bus;
  /** Who may open which collaborative document (default: `YJS_AUTH_URL` if set, else every authenticated user may edit). */
  readonly authorizeDocument?: DocumentAuthorizer;
}

export interface RealtimeServer {
  readonly config: Config;
  readonly logger: Logger;
  /** Library API: send to users, roles, everyone (the seed's ConnectionManager). */
  readonly connections: ConnectionManager;
  readonly publisher: PublishService;
  readonly http: FastifyInstance;
  /** Start listening on PORT/HOST; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }>;
  /** Graceful shutdown (SPEC §9): stop accepting, persist, close clients with 1001, close storage. Idempotent. */
  close(): Promise<void>;
}

const SHUTDOWN_CLOSE_WAIT_MS = 3000;
const EVENT_PRUNE_INTERVAL_MS = 10 * 60_000;

/** Compose the whole server from configuration. Does not listen until `listen()`; never handles signals. */
export async function createServer(options: CreateServerOptions = {}): Promise<RealtimeServer> {
  const { config } = options.config ? { config: options.config } : resolveDevSecrets(loadConfig(options.env ?? process.env));
  const logger = options.logger ?? createLogger({ level: config.logLevel });

  const database: Database = createDatabase(config.databaseUrl);
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }

  const redisUrl = config.redis.url;
  const redisBus = !options.bus && redisUrl ? new RedisBus({ url: redisUrl, keyPrefix: config.redis.keyPrefix, logger, canaryIntervalMs: config.redis.canaryIntervalMs }) : undefined;
  const bus: Bus = options.bus ?? redisBus ?? new MemoryBus(logger);
  await redisBus?.start();
  // instance down (from the presence reaper) and resync (Redis back, or this instance found itself reaped)
  const cluster = new ClusterEvents({ bus, logger });
  await cluster.start();
  redisBus?.onReconnect(() => cluster.resync('bus_reconnected'));
  // bound once the announcer exists (it needs the publisher, which needs presence)
  let announce: PresenceAnnouncer['announce'] = () => undefined;
  const redisPresence = redisUrl
    ? new RedisPresence({
        url: redisUrl,
        keyPrefix: config.redis.keyPrefix,
        instanceId: bus.instanceId,
        logger,
        heartbeatMs: config.redis.presenceHeartbeatMs,
        onReapedOffline: (users) => announce('user.offline', users),
        onInstanceReaped: (instanceId) => void cluster.announceDown(instanceId).catch(() => undefined),
        onReapedWhileAlive: (back) => {
          announce('user.online', back);
          cluster.resync('reaped_while_alive');
        },
      })
    : undefined;
  const presence: PresenceTracker = redisPresence ?? new MemoryPresence();
  redisPresence?.start();
  const stats = new Stats();
  const registry = new ConnectionRegistry();
  const load = new LoadMonitor();
  const ids = new SortableIdGenerator(bus.instanceId);
  const eventLog = new KyselyEventLog(database.db);
  const verifier = await createJoseTokenVerifier({
    secret: config.jwt.secret,
    publicKeyPem: config.jwt.publicKeyPem,
    jwksUrl: config.jwt.jwksUrl,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
  });

  const delivery = new EventDelivery(registry, stats);
  const publisher = new PublishService({ bus, eventLog, ids, stats, deliveryRelieved: () => delivery.whenRelieved() });
  const disconnector = new UserDisconnector(bus, registry);
  const announcer = new PresenceAnnouncer(presence, publisher, logger);
  const connections = new ConnectionManager(publisher, presence, disconnector);
  announce = (edge, users) => announcer.announce(edge, users);
  const legacyBridge = redisUrl
    ? new LegacyBroadcastBridge({ url: redisUrl, keyPrefix: config.redis.keyPrefix, instanceId: bus.instanceId, publisher, logger })
    : undefined;
  await delivery.start(bus);
  await disconnector.start();

  const videoSessionStore = new KyselyVideoSessionStore(database.db);
  // a crashed instance's video peers are reaped like its presence, but not before their rejoin grace is over
  const videoReapAfterMs = Math.max(config.redis.presenceHeartbeatMs * 3, config.video.rejoinGraceMs);
  const videoMembership: RoomMembership = redisUrl
    ? new RedisRoomMembership({
        url: redisUrl,
        keyPrefix: config.redis.keyPrefix,
        instanceId: bus.instanceId,
        logger,
        heartbeatMs: config.redis.presenceHeartbeatMs,
        reapAfterMs: videoReapAfterMs,
        rejoinGraceMs: config.video.rejoinGraceMs,
      })
    : new MemoryRoomMembership(bus.instanceId);
  const videoSessions = new VideoSessionService({
    store: videoSessionStore,
    bus,
    membership: videoMembership,
    defaultMaxParticipants: config.video.maxParticipants,
  });
  const videoRooms = new VideoRoomRegistry({
    bus,
    membership: videoMembership,
    rejoinGraceMs: config.video.rejoinGraceMs,
    reconcileIntervalMs: redisUrl ? config.redis.presenceHeartbeatMs : undefined,
    orphanMs: videoReapAfterMs * 2,
    logger,
  });
  await videoRooms.start();
  redisBus?.onReconnect(() => void videoRooms.reconcileAll());
  const videoSignaling = new VideoSignaling({ rooms: videoRooms, sessions: videoSessionStore });
  const metrics = new MetricsRegistry({ defaultMetrics: true });
  const collab = new CollabService({
    store: new KyselyDocStore(database.db),
    bus,
    logger,
    authorize: options.authorizeDocument ?? (config.yjsAuthUrl ? httpDocAuthorizer({ url: config.yjsAuthUrl, logger }) : allowAllDocuments),
    saveIntervalMs: config.saveIntervalMs,
    metrics,
    cluster,
  });
  const ticketStore = new KyselyTicketStore(database.db);
  const suggester: ReplySuggester = config.ai.url
    ? new OpenAiReplySuggester({ url: config.ai.url, model: config.ai.model, apiKey: config.ai.apiKey, timeoutMs: config.ai.timeoutMs })
    : new OfflineReplySuggester({ store: ticketStore });
  const chat = new ChatFeature({ bus, store: ticketStore, suggester, ids, logger, suggestionTimeoutMs: config.ai.timeoutMs, cluster });

  let connectionSeq = 0;
  const gateway = new WsGateway({
    verifier,
    registry,
    handlers: {
      role: new RoleChannel({
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        replay: new EventReplay({
          eventLog,
          retentionMs: config.eventRetentionMs,
          logger,
          highWaterBytes: Math.min(256 * 1024, Math.floor(config.limits.sendBufferLimitBytes / 4)),
        }),
        logger,
      }) as EndpointHandler,
      video: videoSignaling,
      yjs: collab.endpoint,
      chat: chat.handler,
    },
    lifecycle: [announcer],
    stats,
    logger,
    allowedOrigins: config.allowedOrigins,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    limits: config.limits,
    newConnectionId: () => `${bus.instanceId}-${(++connectionSeq).toString(36)}`,
  });

  registerServerMetrics(metrics, { stats, registry, load });
  metrics.gauge('uhs_bus_healthy', 'Whether the bus reaches other instances (Redis canary comes back)', () => (bus.isHealthy() ? 1 : 0));
  if (redisBus) {
    metrics.gauge('uhs_bus_unhealthy', 'Why the bus is unhealthy (1 for the current reason)', () => ({ [redisBus.unhealthyReason ?? 'none']: 1 }), 'reason');
    metrics.counter('uhs_bus_messages_total', 'Messages carried by Redis', () => ({ published: redisBus.stats.published, received: redisBus.stats.received, publish_failures: redisBus.stats.publishFailures }), 'direction');
  }
  metrics.gauge('uhs_video_rooms', 'Video sessions with peers on this instance', () => videoRooms.size);
  metrics.gauge('uhs_video_peers', 'Video peers held on this instance (rejoin grace included)', () => videoRooms.peerCount());
  chat.registerMetrics(metrics);
  const health = new HealthReporter({
    intervalMs: config.healthIntervalMs,
    instanceId: bus.instanceId,
    registry,
    stats,
    load,
    publisher,
    logger,
    rooms: () => ({ documents: collab.openDocuments, chat: chat.rooms.size, video: videoRooms.size }),
  });

  if (!config.publishApiKey) throw new Error('PUBLISH_API_KEY is not set');
  const http = await createHttpApp({
    logger,
    bodyLimitBytes: 1024 * 1024,
    plugins: [
      healthRoutes({ metrics, readiness: { database: () => database.ping(), bus: () => bus.isHealthy() } }),
      notificationRoutes({ apiKey: config.publishApiKey, publisher, presence, disconnector }),
      videoRoutes({
        apiKey: config.publishApiKey,
        sessions: videoSessions,
        verifier,
        iceServers: config.video,
        allowedOrigins: config.allowedOrigins,
      }),
      docRoutes({ apiKey: config.publishApiKey, collab }),
      ticketRoutes({ apiKey: config.publishApiKey, tickets: chat.tickets }),
    ],
  });
  gateway.attach(http.server);

  const pruner = setInterval(() => {
    eventLog.pruneBefore(Date.now() - config.eventRetentionMs).catch((error: unknown) => logger.warn({ err: error }, 'event prune failed'));
  }, EVENT_PRUNE_INTERVAL_MS);
  pruner.unref();

  let closing: Promise<void> | undefined;
  const doClose = async (): Promise<void> => {
    clearInterval(pruner);
    health.stop();
    load.stop();
    gateway.stopAccepting();
    await publisher.drain().catch((error: unknown) => logger.error({ err: error }, 'flushing events failed'));
    // video peers keep their places for a rejoin on another instance instead of leaving with their sockets
    videoRooms.handOff();
    await gateway.closeAll(close('goingAway', 'server shutting down'), SHUTDOWN_CLOSE_WAIT_MS);
    await videoRooms.closeAll();
    await videoMembership.close();
    await collab.close().catch((error: unknown) => logger.error({ err: error }, 'saving documents failed'));
    await chat.close().catch((error: unknown) => logger.error({ err: error }, 'storing pending chat messages failed'));
    await announcer.settle();
    await http.close();
    delivery.stop();
    disconnector.stop();
    await publisher.drain().catch(() => undefined);
    await legacyBridge?.close();
    await presence.close();
    cluster.stop();
    await bus.close();
    await database.close();
  };

  return {
    config,
    logger,
    connections,
    publisher,
    http,
    async listen() {
      // a reconnect storm opens thousands of connections at once: Node's default backlog of 511 drops SYNs
      await http.listen({ port: config.port, host: config.host, backlog: 4096 });
      load.start();
      health.start();
      collab.start();
      const address = http.server.address() as AddressInfo;
      return { host: address.address, port: address.port };
    },
    close: () => (closing ??= doClose()),
  };
}

function registerServerMetrics(
  metrics: MetricsRegistry,
  { stats, registry, load }: { stats: Stats; registry: ConnectionRegistry; load: LoadMonitor },
): void {
  metrics.gauge('uhs_connections', 'Open role-channel connections by role', () => registry.countsByRole(), 'role');
  metrics.gauge('uhs_connections_by_endpoint', 'Open WebSocket connections by endpoint', () => registry.countsByEndpoint(), 'endpoint');
  metrics.counter('uhs_messages_in_total', 'Messages received from clients', () => stats.messagesIn);
  metrics.counter('uhs_messages_out_total', 'Messages sent to clients', () => stats.messagesOut);
  metrics.counter('uhs_events_published_total', 'Events published', () => stats.eventsPublished);
  metrics.counter('uhs_event_deliveries_total', 'Event deliveries to connections', () => stats.deliveries);
  metrics.counter('uhs_send_errors_total', 'Sends that failed or were refused (slow consumers)', () => stats.sendErrors + stats.slowConsumerCloses);
  metrics.counter('uhs_dropped_droppable_total', 'Droppable messages (typing, awareness, presence) skipped for slow clients', () => stats.droppedDroppable);
  metrics.counter('uhs_rate_limited_total', 'Client messages refused by the rate limit', () => stats.rateLimited);
  metrics.counter('uhs_auth_failures_total', 'WebSocket connections refused for their token', () => stats.authFailures);
  metrics.gauge('uhs_event_loop_lag_seconds', 'Event-loop lag since the last health report (p99)', () => load.lag().p99Ms / 1000);
}
