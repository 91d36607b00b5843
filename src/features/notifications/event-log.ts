import type { Delivery } from '../../protocol/delivery.js';

/** A published event as kept for missed-event recovery. */
export interface StoredEvent {
  readonly id: string;
  readonly type: string;
  /** The serialized envelope exactly as delivered live. */
  readonly frame: string;
  readonly delivery: Delivery;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/**
 * Published events, kept for `EVENT_RETENTION_HOURS`. Ids sort by publish time.
 * `append` is durable when it resolves.
 */
export interface EventLog {
  append(events: readonly StoredEvent[]): Promise<void>;
  /** Events with an id greater than `afterId`, oldest first, at most `limit`. */
  after(afterId: string, limit: number): Promise<StoredEvent[]>;
  /** The id of the oldest event still kept, if any. */
  oldestId(): Promise<string | undefined>;
  /** Remove events created before `cutoff` (epoch ms); returns how many. */
  pruneBefore(cutoff: number): Promise<number>;
}
