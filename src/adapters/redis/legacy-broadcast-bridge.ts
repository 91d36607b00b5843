import { createHash } from 'node:crypto';
import type { PublishService } from '../../features/notifications/publish-service.js';
import { LEGACY_BROADCAST_CHANNEL, parseLegacyBroadcast } from '../../protocol/legacy-broadcast.js';
import type { Logger } from '../../shared/logger.js';
import { createRedisConnection, type Redis } from './redis-connection.js';

export interface LegacyBroadcastBridgeOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly publisher: PublishService;
  readonly logger: Logger;
}

const DEDUPE_MS = 10_000;

/**
 * Listens on the seed's `ws:admin:broadcast` channel. Every instance hears every message, so one of them claims it
 * (SET NX on its hash) and publishes it through the publish service like an HTTP event; the bus then reaches every
 * instance once. Identical payloads within 10 s count as one (a seed message has no id of its own).
 */
export class LegacyBroadcastBridge {
  private readonly subscriber: Redis;
  private readonly claims: Redis;

  constructor(private readonly options: LegacyBroadcastBridgeOptions) {
    this.subscriber = createRedisConnection(options.url, `uhs-legacy-sub-${options.instanceId}`, options.logger);
    this.claims = createRedisConnection(options.url, `uhs-legacy-claim-${options.instanceId}`, options.logger);
    this.subscriber.on('ready', () => void this.subscriber.subscribe(LEGACY_BROADCAST_CHANNEL).catch(() => undefined));
    this.subscriber.on('message', (_channel: string, message: string) => void this.handle(message));
  }

  private async handle(raw: string): Promise<void> {
    const parsed = parseLegacyBroadcast(raw);
    if (!parsed.ok) {
      this.options.logger.warn({ code: parsed.error.code, detail: parsed.error.message }, 'ignored a malformed message on ws:admin:broadcast');
      return;
    }
    const key = `${this.options.keyPrefix}legacy:${createHash('sha256').update(raw).digest('base64url')}`;
    try {
      const claimed = await this.claims.set(key, this.options.instanceId, 'PX', DEDUPE_MS, 'NX');
      if (claimed !== 'OK') return;
      await this.options.publisher.publish(parsed.value);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not relay a ws:admin:broadcast message');
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber.quit(), this.claims.quit()]);
  }
}
