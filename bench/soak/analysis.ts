/**
 * From the soak's raw readings to its figures and its verdict against the targets: memory growth after warm-up
 * (per churned connection), event-loop lag per health interval, lost/duplicated deliveries by event id, errors.
 */
import { mergeCounts, type ChurnReport, type Counts, type ServicesReport, type StormResult, type TrackerReport } from './protocol.js';
import type { Checkpoint, HealthSample } from './sampler.js';

/** Lag target: p99 of every steady health interval at most this. */
const LAG_TARGET_MS = 50;
/** Heap growth per churned connection below this is read as "no per-connection leak" (a leaked socket costs KiBs). */
const FLAT_BYTES_PER_CHURN = 100;
/** Below this many churned connections, ±0.5 MiB of heap noise says nothing per connection. */
const MIN_CHURN_TO_JUDGE = 2_000;

export interface LagFigures {
  readonly intervals: number;
  readonly medianP99Ms: number | null;
  readonly maxP99Ms: number | null;
  readonly maxMs: number | null;
  /** Intervals whose p99 was above the target. */
  readonly over: number;
}

export interface MemoryGrowth {
  readonly from: string;
  readonly to: string;
  readonly seconds: number;
  readonly heapBytes: number | null;
  readonly rssBytes: number;
  readonly churned: number;
  readonly heapBytesPerChurned: number | null;
}

export interface DeliveryFigures {
  readonly events: number;
  readonly trackers: number;
  readonly expected: number;
  readonly lost: number;
  readonly connectionsMissing: number;
  readonly duplicates: number;
  readonly unexpected: number;
  readonly outOfOrder: number;
  /** Sequence numbers whose id at a tracker differs from the one the API answered. */
  readonly idMismatches: number;
  readonly presence: {
    /** Distinct user.online/offline events between the first and the final soak event. */
    readonly events: number;
    readonly expected: number;
    readonly missing: number;
    readonly extra: number;
    readonly perConnection: { readonly min: number; readonly max: number };
  };
}

/** Least-squares line through the post-GC heap readings after warm-up. */
export interface HeapFit {
  readonly points: number;
  /** Heap bytes per churned connection (slope against the churn count). */
  readonly bytesPerChurned: number | null;
  /** Heap bytes per minute (slope against time). */
  readonly bytesPerMinute: number | null;
}

export interface SoakFigures {
  readonly memory: {
    readonly checkpoints: readonly Checkpoint[];
    readonly fit: HeapFit;
    readonly afterWarmup: MemoryGrowth | null;
    readonly churnOnly: MemoryGrowth | null;
    /** Once every client has gone: what the heap kept compared with before the first connection, over every connection the run opened. */
    readonly afterAllLeft: {
      readonly heapBytes: number | null;
      readonly rssBytes: number;
      readonly retainedHeapBytes: number | null;
      readonly connections: number;
      readonly retainedPerConnection: number | null;
    } | null;
    readonly peakRssBytes: number | null;
  };
  readonly lag: { readonly steady: LagFigures; readonly storm: LagFigures; readonly excludedGc: number; readonly warmup: LagFigures };
  readonly deliveries: DeliveryFigures;
  readonly storm: StormResult | null;
  readonly errors: { readonly closes: Counts; readonly errorReplies: Counts; readonly publishFailures: number; readonly connectFailures: number };
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

function lagFigures(samples: readonly HealthSample[]): LagFigures {
  const p99s = samples.map((s) => s.lagP99Ms).filter(Number.isFinite);
  return {
    intervals: samples.length,
    medianP99Ms: median(p99s),
    maxP99Ms: p99s.length > 0 ? Math.max(...p99s) : null,
    maxMs: samples.length > 0 ? Math.max(...samples.map((s) => s.lagMaxMs).filter(Number.isFinite)) : null,
    over: p99s.filter((p) => p > LAG_TARGET_MS).length,
  };
}

/** Health intervals by what happened in them: warm-up, a forced GC of ours, the storm, or steady traffic. */
export function classifyLag(
  samples: readonly HealthSample[],
  options: { readonly intervalMs: number; readonly trafficFrom: number; readonly warmupUntil: number; readonly trafficUntil: number; readonly gcWindows: ReadonlyArray<readonly [number, number]>; readonly storm: readonly [number, number] | null },
): SoakFigures['lag'] {
  const steady: HealthSample[] = [];
  const storm: HealthSample[] = [];
  const warmup: HealthSample[] = [];
  let excludedGc = 0;
  let previous: number | null = null;
  for (const sample of samples) {
    const from = previous ?? sample.at - options.intervalMs;
    previous = sample.at;
    const overlaps = ([a, b]: readonly [number, number]): boolean => a <= sample.at && b >= from;
    if (sample.at <= options.trafficFrom || from >= options.trafficUntil) continue;
    if (options.gcWindows.some(overlaps)) excludedGc++;
    else if (options.storm && overlaps(options.storm)) storm.push(sample);
    else if (from < options.warmupUntil) warmup.push(sample);
    else steady.push(sample);
  }
  return { steady: lagFigures(steady), storm: lagFigures(storm), excludedGc, warmup: lagFigures(warmup) };
}

export function memoryGrowth(from: Checkpoint | undefined, to: Checkpoint | undefined): MemoryGrowth | null {
  if (!from || !to) return null;
  const heapBytes = from.heapUsedBytes !== null && to.heapUsedBytes !== null ? to.heapUsedBytes - from.heapUsedBytes : null;
  const churned = to.churned - from.churned;
  return {
    from: from.label,
    to: to.label,
    seconds: to.t - from.t,
    heapBytes,
    rssBytes: to.rssBytes - from.rssBytes,
    churned,
    heapBytesPerChurned: heapBytes !== null && churned > 0 ? heapBytes / churned : null,
  };
}

function slope(xs: readonly number[], ys: readonly number[]): number | null {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * ((ys[i] ?? 0) - my);
    sxx += (x - mx) ** 2;
  });
  return sxx === 0 ? null : sxy / sxx;
}

export function heapFit(checkpoints: readonly Checkpoint[]): HeapFit {
  const points = checkpoints.filter((c): c is Checkpoint & { heapUsedBytes: number } => c.heapUsedBytes !== null);
  const heaps = points.map((c) => c.heapUsedBytes);
  const perMinute = slope(points.map((c) => c.t / 60), heaps);
  return { points: points.length, bytesPerChurned: slope(points.map((c) => c.churned), heaps), bytesPerMinute: perMinute };
}

export function deliveryFigures(reports: readonly TrackerReport[], accepted: ReadonlyMap<number, string>): DeliveryFigures {
  const trackers = reports.reduce((acc, r) => acc + r.connections, 0);
  let idMismatches = 0;
  for (const report of reports) {
    for (const [seq, id] of Object.entries(report.idBySeq)) if (accepted.get(Number(seq)) !== id) idMismatches++;
    idMismatches += report.idConflicts;
  }
  const receptions = new Map<string, number>();
  for (const report of reports) for (const [id, n] of Object.entries(report.presence)) receptions.set(id, (receptions.get(id) ?? 0) + n);
  let missing = 0;
  let extra = 0;
  for (const n of receptions.values()) {
    if (n < trackers) missing += trackers - n;
    else extra += n - trackers;
  }
  const sum = (pick: (r: TrackerReport) => number): number => reports.reduce((acc, r) => acc + pick(r), 0);
  return {
    events: accepted.size,
    trackers,
    expected: accepted.size * trackers,
    lost: sum((r) => r.lost),
    connectionsMissing: sum((r) => r.connectionsMissing),
    duplicates: sum((r) => r.duplicates),
    unexpected: sum((r) => r.unexpected),
    outOfOrder: sum((r) => r.outOfOrder),
    idMismatches,
    presence: {
      events: receptions.size,
      expected: receptions.size * trackers,
      missing,
      extra,
      perConnection: {
        min: Math.min(...reports.map((r) => r.presencePerConnection.min)),
        max: Math.max(...reports.map((r) => r.presencePerConnection.max)),
      },
    },
  };
}

export function errorFigures(trackers: readonly TrackerReport[], churn: ChurnReport | null, services: ServicesReport | null, publishFailures: number, connectFailures: number): SoakFigures['errors'] {
  const closes: Counts = {};
  const errorReplies: Counts = {};
  for (const report of trackers) {
    mergeCounts(closes, Object.fromEntries(Object.entries(report.closes).map(([k, n]) => [`admin ${k}`, n])));
    mergeCounts(errorReplies, report.errors);
  }
  if (churn) {
    mergeCounts(closes, Object.fromEntries(Object.entries(churn.closes).map(([k, n]) => [`churn ${k}`, n])));
    mergeCounts(errorReplies, churn.errors);
  }
  if (services) {
    mergeCounts(closes, services.closes);
    mergeCounts(errorReplies, services.errors);
  }
  return { closes, errorReplies, publishFailures, connectFailures: connectFailures + (churn?.failed ?? 0) };
}

const mib = (bytes: number | null): string => (bytes === null ? '-' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const signedMib = (bytes: number | null): string => (bytes === null ? '-' : `${bytes >= 0 ? '+' : ''}${(bytes / 2 ** 20).toFixed(2)} MiB`);
const ms = (value: number | null): string => (value === null ? '-' : `${value.toFixed(1)} ms`);

function countsLine(counts: Counts): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ×${n}`).join(', ');
}

/** The human-readable summary and the verdict lines. */
export function describe(figures: SoakFigures, churn: ChurnReport | null, services: ServicesReport | null): { summary: string[]; verdict: string[] } {
  const { memory, lag, deliveries, storm, errors } = figures;
  const summary: string[] = [];
  for (const c of memory.checkpoints) {
    summary.push(`checkpoint ${c.label.padEnd(22)} t=${c.t.toFixed(0).padStart(4)} s  heap ${mib(c.heapUsedBytes)}  RSS ${mib(c.rssBytes)}  churned ${c.churned}${c.gc ? '' : ' (no GC)'}`);
  }
  for (const growth of [memory.churnOnly, memory.afterWarmup]) {
    if (!growth) continue;
    summary.push(
      `growth ${growth.from} → ${growth.to} (${growth.seconds.toFixed(0)} s, ${growth.churned} churned connections): heap ${signedMib(growth.heapBytes)}, ` +
        `RSS ${signedMib(growth.rssBytes)}, heap per churned connection ${growth.heapBytesPerChurned === null ? '-' : `${growth.heapBytesPerChurned.toFixed(1)} B`}`,
    );
  }
  if (memory.fit.points > 2) {
    const { bytesPerChurned, bytesPerMinute } = memory.fit;
    summary.push(`heap trend over ${memory.fit.points} post-GC checkpoints: ${bytesPerChurned === null ? '-' : `${bytesPerChurned.toFixed(1)} B per churned connection`}, ${bytesPerMinute === null ? '-' : `${signedMib(bytesPerMinute)}/min`}`);
  }
  if (memory.afterAllLeft) {
    const left = memory.afterAllLeft;
    summary.push(
      `after every client left: heap ${mib(left.heapBytes)} (${signedMib(left.retainedHeapBytes)} against before the first connection, over ${left.connections} connections opened: ` +
        `${left.retainedPerConnection === null ? '-' : `${left.retainedPerConnection.toFixed(1)} B each`}), RSS ${mib(left.rssBytes)}; peak RSS ${mib(memory.peakRssBytes)}`,
    );
  }
  summary.push(
    `event-loop lag p99 per health interval — steady: median ${ms(lag.steady.medianP99Ms)}, max ${ms(lag.steady.maxP99Ms)} (${lag.steady.over}/${lag.steady.intervals} over ${LAG_TARGET_MS} ms), ` +
      `max single delay ${ms(lag.steady.maxMs)}; storm: max p99 ${ms(lag.storm.maxP99Ms)} over ${lag.storm.intervals} interval(s); warm-up: max p99 ${ms(lag.warmup.maxP99Ms)}; ${lag.excludedGc} interval(s) with our forced GC left out`,
  );
  summary.push(
    `deliveries: ${deliveries.events} events × ${deliveries.trackers} admins = ${deliveries.expected}; lost ${deliveries.lost} (on ${deliveries.connectionsMissing} connections), ` +
      `duplicates ${deliveries.duplicates}, unexpected ${deliveries.unexpected}, out of order ${deliveries.outOfOrder}, id mismatches ${deliveries.idMismatches}`,
    `presence events: ${deliveries.presence.events} × ${deliveries.trackers} admins; missing ${deliveries.presence.missing}, extra ${deliveries.presence.extra}; per connection ${deliveries.presence.perConnection.min}–${deliveries.presence.perConnection.max}`,
  );
  if (storm) {
    summary.push(
      `storm: ${storm.connections} admins dropped at once, ${storm.resumed} resumed with since in ${(storm.durationMs / 1000).toFixed(1)} s ` +
        `(to resume.done p50 ${(storm.resumeMs.p50 / 1000).toFixed(2)} s, p99 ${(storm.resumeMs.p99 / 1000).toFixed(2)} s), ${storm.retries} handshake retries` +
        `${storm.firstError ? ` (first: ${storm.firstError})` : ''}, ${storm.replayed} events replayed, ${storm.incomplete} incomplete`,
    );
  }
  if (churn) {
    summary.push(
      `churn: ${churn.churned} connections (${churn.fresh} fresh users), ${churn.failed} failed${churn.firstError ? ` (${churn.firstError})` : ''}, ` +
        `${churn.closedClean} closed cleanly, ${churn.closedAbrupt} dropped, pings ${churn.pingsSent} → pongs ${churn.pongs}, anchors ${churn.anchorsOpen}/${churn.anchors} still open`,
    );
  }
  if (services) {
    const { yjs, chat, video } = services;
    summary.push(
      `yjs: ${yjs.edits} edits, ${yjs.docs} docs × ${yjs.peers / Math.max(1, yjs.docs)} peers open (converged ${yjs.converged}, server copies ${yjs.serverCopiesMatching}, ${(yjs.stateBytes / 1024).toFixed(0)} KiB encoded); ` +
        `${yjs.rotated} rotated out (converged ${yjs.rotatedConverged}, stored copy intact ${yjs.rotatedKept}); ${yjs.disconnects} disconnects`,
      `chat: ${chat.sent} messages on ${chat.tickets} tickets, echoed ${chat.acked}, delivered ${chat.delivered}, p99 ${ms(chat.latencyP99Ms)}`,
      `video: ${video.offers} offers in ${video.sessions} sessions (${video.peers} peers), received ${video.offersReceived}, answered ${video.answersReceived}, round trip p99 ${ms(video.latencyP99Ms)}`,
    );
  }
  summary.push(
    `unexpected closes: ${countsLine(errors.closes)}`,
    `error replies: ${countsLine(errors.errorReplies)}; publish failures ${errors.publishFailures}; connect failures ${errors.connectFailures}`,
  );

  const verdict: string[] = [];
  const growth = memory.afterWarmup;
  const retained = memory.afterAllLeft?.retainedPerConnection ?? null;
  if (retained !== null) {
    verdict.push(
      `memory kept once every client left: ≤ ${retained.toFixed(1)} B per connection opened (${memory.afterAllLeft?.connections ?? 0}; an upper bound: one-time JIT code and ` +
        `caches are in it, a --quick run shows their size): ${retained < FLAT_BYTES_PER_CHURN ? 'met' : `not shown below ${FLAT_BYTES_PER_CHURN} B by this run alone`}`,
    );
  }
  if (growth?.heapBytesPerChurned !== null && growth?.heapBytesPerChurned !== undefined) {
    const trend = memory.fit.points > 2 ? memory.fit.bytesPerChurned : growth.heapBytesPerChurned;
    const judged = growth.churned >= MIN_CHURN_TO_JUDGE;
    const flat = trend !== null && trend < FLAT_BYTES_PER_CHURN;
    verdict.push(
      `memory after warm-up, under load: heap ${signedMib(growth.heapBytes)} over ${growth.churned} churned connections = ${growth.heapBytesPerChurned.toFixed(1)} B each` +
        `${memory.fit.points > 2 && trend !== null ? ` (trend ${trend.toFixed(1)} B)` : ''} (flat if < ${FLAT_BYTES_PER_CHURN} B; with thousands of admins, ` +
        `frames in flight at the forced GC make this ±1 KiB): ` +
        `${judged ? (flat ? 'met' : 'NOT met') : `not judged (fewer than ${MIN_CHURN_TO_JUDGE} churned connections: heap noise dominates)`}`,
    );
  } else {
    verdict.push('memory after warm-up: not measured (no heap readings or no churn)');
  }
  const lost = deliveries.lost + deliveries.duplicates + deliveries.presence.missing + deliveries.presence.extra + deliveries.idMismatches + deliveries.unexpected;
  verdict.push(`lost deliveries: ${deliveries.lost} lost, ${deliveries.duplicates} duplicated; presence ${deliveries.presence.missing} missing, ${deliveries.presence.extra} extra: ${lost === 0 ? 'met' : 'NOT met'}`);
  const steadyMax = lag.steady.maxP99Ms;
  verdict.push(
    `event-loop lag p99 ≤ ${LAG_TARGET_MS} ms: steady ${steadyMax === null ? '-' : `max ${steadyMax.toFixed(1)} ms`} → ${steadyMax !== null && steadyMax <= LAG_TARGET_MS ? 'met' : 'NOT met'}; ` +
      (lag.storm.maxP99Ms === null
        ? 'no health interval fell in the storm'
        : `during the storm max ${ms(lag.storm.maxP99Ms)} → ${lag.storm.maxP99Ms <= LAG_TARGET_MS ? 'met' : 'NOT met'}`),
  );
  const closeCount = Object.values(errors.closes).reduce((a, b) => a + b, 0);
  const errorCount = Object.values(errors.errorReplies).reduce((a, b) => a + b, 0);
  verdict.push(`errors: ${closeCount} unexpected closes, ${errorCount} error replies, ${errors.publishFailures} publish failures, ${errors.connectFailures} connect failures`);
  return { summary, verdict };
}
