import type { Bus } from '../../core/bus.js';
import type { Stats } from '../../core/stats.js';
import { catalogEntry } from '../../protocol/catalog.js';
import type { Delivery } from '../../protocol/delivery.js';
import type { PublishRequest } from '../../protocol/publish-request.js';
import { Batcher } from '../../shared/batcher.js';
import type { SortableIdGenerator } from '../../shared/ids.js';
import type { EventLog, StoredEvent } from './event-log.js';
import { EVENTS_TOPIC, type EventMessage } from './events-topic.js';

export interface PublishServiceOptions {
  readonly bus: Bus;
  readonly eventLog: EventLog;
  readonly ids: SortableIdGenerator;
  readonly stats: Stats;
}

export interface PublishOptions {
  /** Ephemeral events (health figures) are delivered live but not kept for recovery. */
  readonly keep?: boolean;
}

/**
 * The one way events enter the system (HTTP API, Redis legacy channel, library API, the server itself):
 * give the event an id, serialize it once, keep it for recovery, then publish it on the bus.
 */
export class PublishService {
  private readonly logWriter: Batcher<StoredEvent>;

  constructor(private readonly options: PublishServiceOptions) {
    this.logWriter = new Batcher((events) => options.eventLog.append(events));
  }

  /** Publish a validated request; resolves with the event id once it is kept and handed to the bus. */
  async publish(request: PublishRequest, options: PublishOptions = {}): Promise<string> {
    const { ids, bus, stats } = this.options;
    const id = ids.next();
    const now = new Date();
    const type = request.entry.type;
    const frame = JSON.stringify({ type, data: request.data, timestamp: now.toISOString(), id });
    if (options.keep !== false) {
      await this.logWriter.add({ id, type, frame, delivery: request.delivery, createdAt: now.getTime() });
    }
    const message: EventMessage = { id, type, delivery: request.delivery, frame };
    await bus.publish(EVENTS_TOPIC, message);
    stats.eventsPublished++;
    return id;
  }

  /** Publish an event of a catalog type the server itself emits. */
  publishEvent(type: string, data: Record<string, unknown>, delivery: Delivery = {}, options?: PublishOptions): Promise<string> {
    const entry = catalogEntry(type);
    if (!entry) throw new Error(`event type ${type} is not in the catalog`);
    return this.publish({ entry, data, delivery }, options);
  }

  /** Wait for pending log writes (shutdown). */
  drain(): Promise<void> {
    return this.logWriter.drain();
  }
}
