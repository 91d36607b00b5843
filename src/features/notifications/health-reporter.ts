import type { ConnectionRegistry } from '../../core/connection-registry.js';
import type { LoadMonitor } from '../../core/load-monitor.js';
import type { Stats } from '../../core/stats.js';
import type { Logger } from '../../shared/logger.js';
import type { PublishService } from './publish-service.js';

/** Anything that holds rooms (documents, tickets, video sessions) reports how many are open. */
export type RoomCounter = () => Readonly<Record<string, number>>;

export interface HealthReporterOptions {
  readonly intervalMs: number;
  readonly instanceId: string;
  readonly registry: ConnectionRegistry;
  readonly stats: Stats;
  readonly load: LoadMonitor;
  readonly publisher: PublishService;
  readonly logger: Logger;
  readonly rooms: RoomCounter;
}

/** Sends `system.health.update` with this instance's own figures every HEALTH_INTERVAL_SECONDS. */
export class HealthReporter {
  private timer: NodeJS.Timeout | undefined;
  private lastAt = Date.now();
  private lastIn = 0;
  private lastOut = 0;

  constructor(private readonly options: HealthReporterOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.report(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  figures(): Record<string, unknown> {
    const { registry, stats, load, instanceId } = this.options;
    const now = Date.now();
    const seconds = Math.max((now - this.lastAt) / 1000, 0.001);
    const lag = load.lag();
    const memory = process.memoryUsage();
    const figures = {
      instance_id: instanceId,
      connections: { total: registry.size, by_role: registry.countsByRole(), by_endpoint: registry.countsByEndpoint() },
      rooms: this.options.rooms(),
      messages_in_per_second: round((stats.messagesIn - this.lastIn) / seconds),
      messages_out_per_second: round((stats.messagesOut - this.lastOut) / seconds),
      event_loop_lag_ms: { mean: round(lag.meanMs), p99: round(lag.p99Ms), max: round(lag.maxMs) },
      memory: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed },
      uptime_seconds: Math.round(process.uptime()),
    };
    load.reset();
    this.lastAt = now;
    this.lastIn = stats.messagesIn;
    this.lastOut = stats.messagesOut;
    return figures;
  }

  private async report(): Promise<void> {
    try {
      await this.options.publisher.publishEvent('system.health.update', this.figures(), {}, { keep: false });
    } catch (error) {
      this.options.logger.warn({ err: error }, 'health report failed');
    }
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
