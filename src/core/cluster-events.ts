import type { Logger } from '../shared/logger.js';
import { topic, type Bus, type Unsubscribe } from './bus.js';

export interface InstanceDownMessage {
  readonly instanceId: string;
}

/** Published once per dead instance, by the instance that reaped it (the reaping is atomic in the presence store). */
export const INSTANCE_DOWN_TOPIC = topic<InstanceDownMessage>('cluster:instance-down');

export type ResyncReason = 'bus_reconnected' | 'reaped_while_alive';

export interface ClusterEventsOptions {
  readonly bus: Bus;
  readonly logger: Logger;
  /** While a resync waits for the bus to deliver again, how often it looks (default 250 ms). */
  readonly retryMs?: number;
}

/**
 * Two cluster-wide signals, for features that hold state contributed by other instances:
 *
 * - **instance down**: another instance stopped heartbeating and was reaped; whatever it contributed (chat
 *   presence, awareness states) is gone. Published once on the bus by the reaper, heard by every instance
 *   (itself included). At most once like every bus message: features keep their own timeouts as a fallback.
 * - **resync**: this instance may have missed bus messages (Redis reconnected) or was taken for dead while it was
 *   alive (frozen past the reaping delay; the others dropped what it contributed). Fired on this instance only,
 *   once the bus delivers again (so what features publish in answer reaches the others). Features re-announce
 *   what they hold and reconcile with storage and with the other instances. An instance that hears of its own
 *   death on the bus resyncs too.
 */
export class ClusterEvents {
  private readonly downListeners = new Set<(instanceId: string) => void>();
  private readonly resyncListeners = new Set<(reason: ResyncReason) => void>();
  private unsubscribe: Unsubscribe | undefined;
  private pending: ResyncReason | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: ClusterEventsOptions) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.options.bus.subscribe(INSTANCE_DOWN_TOPIC, ({ instanceId }) => {
      if (instanceId === this.options.bus.instanceId) this.resync('reaped_while_alive');
      else this.emit(this.downListeners, instanceId, 'instance down listener failed');
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
  }

  /** Tell every instance that `instanceId` is dead (call once, from the instance that reaped it). */
  announceDown(instanceId: string): Promise<void> {
    this.options.logger.warn({ instance: instanceId }, 'instance down: dropping its presence and awareness');
    return this.options.bus.publish(INSTANCE_DOWN_TOPIC, { instanceId });
  }

  /** Ask the features to resync, as soon as the bus is healthy. Requests made while one waits are merged. */
  resync(reason: ResyncReason): void {
    if (this.stopped) return;
    const waiting = this.pending !== undefined;
    this.pending = reason;
    if (!waiting) this.fireWhenHealthy();
  }

  onInstanceDown(listener: (instanceId: string) => void): Unsubscribe {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  onResync(listener: (reason: ResyncReason) => void): Unsubscribe {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  private fireWhenHealthy(): void {
    if (this.stopped) return;
    if (!this.options.bus.isHealthy()) {
      this.timer = setTimeout(() => this.fireWhenHealthy(), this.options.retryMs ?? 250);
      this.timer.unref();
      return;
    }
    const reason = this.pending!;
    this.pending = undefined;
    this.options.logger.info({ reason }, 'resynchronising with the other instances');
    this.emit(this.resyncListeners, reason, 'resync listener failed');
  }

  private emit<T>(listeners: ReadonlySet<(value: T) => void>, value: T, failure: string): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        this.options.logger.error({ err: error }, failure);
      }
    }
  }
}
