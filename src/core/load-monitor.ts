import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

/** Event-loop lag of this process, sampled continuously; read and reset per reporting period. */
export class LoadMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

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
    // the histogram records the time between two sampling ticks, so an idle loop reads ~RESOLUTION_MS: the lag is what is above it
    const lagMs = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    return { meanMs: lagMs(h.mean), p99Ms: lagMs(h.percentile(99)), maxMs: lagMs(h.max) };
  }

  reset(): void {
    this.histogram.reset();
  }
}
