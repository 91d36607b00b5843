import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Event-loop lag of this process, sampled continuously; read and reset per reporting period. */
export class LoadMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  start(): void {
    this.histogram.enable();
  }

  stop(): void {
    this.histogram.disable();
  }

  /** Lag figures in milliseconds since the last reset. */
  lag(): { readonly meanMs: number; readonly p99Ms: number; readonly maxMs: number } {
    const h = this.histogram;
    if (h.count === 0) return { meanMs: 0, p99Ms: 0, maxMs: 0 };
    return { meanMs: h.mean / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
  }

  reset(): void {
    this.histogram.reset();
  }
}
