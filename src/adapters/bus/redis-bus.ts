import type { Bus, Topic, Unsubscribe } from '../../core/bus.js';
import { newInstanceId } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import { createRedisConnection, waitForReady, type Redis } from '../redis/redis-connection.js';

type Handler = (message: unknown) => void;

interface Channel {
  readonly topic: Topic<unknown>;
  readonly handlers: Set<Handler>;
  subscribed: Promise<void>;
}

export interface RedisBusOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly logger: Logger;
  /** How often the bus sends itself a canary through Redis. */
  readonly canaryIntervalMs?: number;
}

const INSTANCE_ID_BYTES = 8;

/**
 * The bus over Redis pub/sub. Local subscribers are served directly and synchronously (as by the memory bus),
 * so this instance keeps working while Redis is away; Redis carries each message once to the other instances,
 * which drop their own echoes by the instance id framed in front of every payload.
 *
 * Health is measured, not assumed: the bus publishes a canary to itself every `canaryIntervalMs`; it is healthy
 * while canaries come back (a connected but deaf subscriber is unhealthy).
 */
export class RedisBus implements Bus {
  readonly instanceId = newInstanceId();
  readonly reachesOtherInstances = true;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channels = new Map<string, Channel>();
  private readonly header = Buffer.from(this.instanceId.padEnd(INSTANCE_ID_BYTES, '_').slice(0, INSTANCE_ID_BYTES), 'latin1');
  private readonly canaryChannel: string;
  private readonly canaryIntervalMs: number;
  private canaryTimer: NodeJS.Timeout | undefined;
  private lastCanaryBack = 0;
  private closed = false;
  /** Why the bus is unhealthy, for /readyz and metrics; undefined while healthy. */
  unhealthyReason: string | undefined = 'starting';
  readonly stats = { published: 0, received: 0, publishFailures: 0 };
  private readonly reconnectListeners = new Set<() => void>();
  private firstCanary: (() => void) | undefined;

  constructor(private readonly options: RedisBusOptions) {
    this.publisher = createRedisConnection(options.url, `uhs-pub-${this.instanceId}`, options.logger);
    this.subscriber = createRedisConnection(options.url, `uhs-sub-${this.instanceId}`, options.logger);
    this.canaryIntervalMs = options.canaryIntervalMs ?? 2000;
    this.canaryChannel = `${options.keyPrefix}canary:${this.instanceId}`;
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel.toString('latin1'), message));
    let readyBefore = false;
    this.subscriber.on('ready', () => {
      // (re)subscribe everything, including channels first asked for while Redis was away
      const names = [this.canaryChannel, ...[...this.channels.keys()].map((t) => this.channelName(t))];
      this.subscriber.subscribe(...names).catch(() => undefined);
      if (readyBefore) for (const listener of this.reconnectListeners) listener();
      readyBefore = true;
    });
  }

  /** Connect and start the canary; resolves after `timeoutMs` at most even if Redis is not there yet. */
  async start(timeoutMs = 3000): Promise<void> {
    await Promise.all([waitForReady(this.publisher, timeoutMs), waitForReady(this.subscriber, timeoutMs)]);
    await this.subscribeChannel(this.canaryChannel);
    this.canaryTimer = setInterval(() => this.sendCanary(), this.canaryIntervalMs);
    this.canaryTimer.unref();
    const back = new Promise<void>((resolve) => (this.firstCanary = resolve));
    this.sendCanary();
    await Promise.race([back, new Promise((resolve) => setTimeout(resolve, Math.min(timeoutMs, 1000)))]);
  }

  channelName(topicName: string): string {
    return `${this.options.keyPrefix}${topicName}`;
  }

  async publish<M>(topic: Topic<M>, message: M): Promise<void> {
    const channel = this.channels.get(topic.name);
    if (channel) deliver(channel.handlers, message, this.options.logger, topic.name);
    if (this.publisher.status !== 'ready') return;
    try {
      await this.publisher.publish(this.channelName(topic.name), Buffer.concat([this.header, topic.codec.encode(message)]));
      this.stats.published++;
    } catch {
      // Redis went away mid-publish: other instances miss this message; features that cannot afford a gap heal it
      this.stats.publishFailures++;
    }
  }

  async subscribe<M>(topic: Topic<M>, handler: (message: M) => void): Promise<Unsubscribe> {
    const entry: Handler = (message) => handler(message as M);
    let channel = this.channels.get(topic.name);
    if (!channel) {
      const name = this.channelName(topic.name);
      channel = { topic: topic as Topic<unknown>, handlers: new Set(), subscribed: this.subscribeChannel(name) };
      this.channels.set(topic.name, channel);
    }
    channel.handlers.add(entry);
    await channel.subscribed;
    return () => {
      const current = this.channels.get(topic.name);
      if (!current) return;
      current.handlers.delete(entry);
      if (current.handlers.size === 0) {
        this.channels.delete(topic.name);
        if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(this.channelName(topic.name)).catch(() => undefined);
      }
    };
  }

  /** Called after the bus reconnected to Redis (messages may have been lost meanwhile). Returns an unsubscribe. */
  onReconnect(listener: () => void): Unsubscribe {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  isHealthy(): boolean {
    this.updateHealth();
    return this.unhealthyReason === undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.canaryTimer);
    this.channels.clear();
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }

  /** Subscribe now if connected; otherwise the 'ready' handler subscribes it on reconnect. */
  private async subscribeChannel(name: string): Promise<void> {
    if (this.subscriber.status !== 'ready') return;
    await this.subscriber.subscribe(name).catch(() => undefined);
  }

  private receive(channelName: string, raw: Buffer): void {
    if (channelName === this.canaryChannel) {
      this.lastCanaryBack = Date.now();
      this.updateHealth();
      this.firstCanary?.();
      this.firstCanary = undefined;
      return;
    }
    if (raw.length < INSTANCE_ID_BYTES || raw.subarray(0, INSTANCE_ID_BYTES).equals(this.header)) return;
    const topicName = channelName.slice(this.options.keyPrefix.length);
    const channel = this.channels.get(topicName);
    if (!channel) return;
    this.stats.received++;
    let message: unknown;
    try {
      message = channel.topic.codec.decode(raw.subarray(INSTANCE_ID_BYTES));
    } catch (error) {
      this.options.logger.warn({ err: error, topic: topicName }, 'undecodable bus message dropped');
      return;
    }
    deliver(channel.handlers, message, this.options.logger, topicName);
  }

  private sendCanary(): void {
    if (this.closed) return;
    this.updateHealth();
    if (this.publisher.status !== 'ready') return;
    this.publisher.publish(this.canaryChannel, String(Date.now())).catch(() => undefined);
  }

  private updateHealth(): void {
    if (this.publisher.status !== 'ready' || this.subscriber.status !== 'ready') this.unhealthyReason = 'redis_disconnected';
    else if (Date.now() - this.lastCanaryBack > this.canaryIntervalMs * 2.5) this.unhealthyReason = 'canary_lost';
    else this.unhealthyReason = undefined;
  }
}

function deliver(handlers: ReadonlySet<Handler>, message: unknown, logger: Logger, topic: string): void {
  for (const handler of handlers) {
    try {
      handler(message);
    } catch (error) {
      logger.error({ err: error, topic }, 'bus handler failed');
    }
  }
}

async function quit(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
