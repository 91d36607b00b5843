/**
 * A compact latency histogram (HDR-style, log-linear buckets) in microseconds.
 *
 * Values below 128 µs are exact; above, each power of two is split into 64 buckets, so any
 * recorded value is known to within 1/64 (≈1.6 %). Histograms from several processes merge
 * by adding bucket counts, which is what the load clients send over IPC.
 */

const SUB_BITS = 6;
const SUB_COUNT = 1 << SUB_BITS; // 64 buckets per power of two
const LINEAR_LIMIT = SUB_COUNT * 2; // 0..127 µs kept exactly
const BUCKETS = SUB_COUNT * 34; // enough for 2^32 µs (≈ 71 minutes)

/** A histogram as it travels over IPC: sparse [bucket, count] pairs plus exact extremes. */
export interface HistogramSnapshot {
  readonly buckets: ReadonlyArray<readonly [number, number]>;
  readonly count: number;
  readonly sumUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number | null;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
}

function bucketOf(us: number): number {
  if (us < LINEAR_LIMIT) return us;
  const msb = 31 - Math.clz32(us);
  const shift = msb - SUB_BITS;
  return Math.min(BUCKETS - 1, SUB_COUNT * shift + (us >>> shift));
}

/** Upper edge (inclusive) of a bucket, in µs: percentiles are reported conservatively. */
function bucketHighUs(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = Math.floor(index / SUB_COUNT) - 1;
  const low = (index - SUB_COUNT * shift) * 2 ** shift;
  return low + 2 ** shift - 1;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  /** Records one value in milliseconds (fractions allowed); negatives (clock noise) count as 0. */
  recordMs(ms: number): void {
    const us = ms > 0 ? Math.min(0xffffffff, Math.round(ms * 1000)) : 0;
    this.counts[bucketOf(us)]! += 1;
    this.total += 1;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  get count(): number {
    return this.total;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }

  merge(snapshot: HistogramSnapshot): void {
    for (const [index, n] of snapshot.buckets) this.counts[index]! += n;
    this.total += snapshot.count;
    this.sum += snapshot.sumUs;
    if (snapshot.count > 0) {
      this.min = Math.min(this.min, snapshot.minUs);
      this.max = Math.max(this.max, snapshot.maxUs);
    }
  }

  snapshot(): HistogramSnapshot {
    const buckets: Array<readonly [number, number]> = [];
    this.counts.forEach((n, index) => {
      if (n > 0) buckets.push([index, n]);
    });
    return { buckets, count: this.total, sumUs: this.sum, minUs: this.total > 0 ? this.min : 0, maxUs: this.max };
  }

  /** The value at quantile q (0..1) in ms, or null when empty. */
  quantileMs(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return Math.min(bucketHighUs(index), this.max) / 1000;
    }
    return this.max / 1000;
  }

  summary(): LatencySummary {
    const empty = this.total === 0;
    return {
      count: this.total,
      meanMs: empty ? null : this.sum / this.total / 1000,
      p50Ms: this.quantileMs(0.5),
      p90Ms: this.quantileMs(0.9),
      p99Ms: this.quantileMs(0.99),
      p999Ms: this.quantileMs(0.999),
      maxMs: empty ? null : this.max / 1000,
    };
  }
}
