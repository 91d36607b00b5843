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
  /** Resolves when local delivery can take more; a publish waits on it, so intake never outruns delivery. */
  readonly deliveryRelieved?: () => Promise<void>;
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
  /** Settles once the previous event has been handed to the bus (see `publish`). */
  private previous: Promise<void> = Promise.resolve();

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
    // Events reach the bus in id order: clients resume from the last id they saw, so an event that overtook one
    // with an earlier id (an ephemeral one is not written, a kept one may be in a later batch) would make a client
    // that drops in between miss that one for good.
    const previous = this.previous;
    let handedOver!: () => void;
    this.previous = new Promise<void>((resolve) => (handedOver = resolve));
    let publishing: Promise<void>;
    try {
      if (options.keep !== false) {
        await this.logWriter.add({ id, type, frame, delivery: request.delivery, createdAt: now.getTime() });
      }
      await previous;
      const message: EventMessage = { id, type, delivery: request.delivery, frame };
      // the bus delivers locally (and issues its Redis publish) synchronously: the next event may follow at once
      publishing = bus.publish(EVENTS_TOPIC, message);
    } finally {
      handedOver();
    }
    await publishing;
    stats.eventsPublished++;
    await this.options.deliveryRelieved?.();
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
