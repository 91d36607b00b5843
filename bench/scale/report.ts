/** The scale-out table, the verdict against the targets, and the JSON results. */
import type { MachineInfo } from '../shared/machine.js';
import type { ScalePhaseResult } from './phase.js';
import type { SetupName } from './deployment.js';

/** Average CPUs taken by other processes above which a phase is flagged. */
const INTERFERENCE_CPUS = 0.15;
const TARGET_SPEEDUP = 1.6;
const TARGET_P99_RATIO = 1.5;

export interface SetupResult {
  readonly setup: SetupName;
  readonly connections: number;
  readonly connect: { readonly opened: number; readonly failed: number; readonly firstError: string | null; readonly seconds: number };
  readonly phases: readonly ScalePhaseResult[];
}

function fmt(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

interface Row {
  readonly label: string;
  readonly value: (phase: ScalePhaseResult) => number | null;
  readonly digits: number;
}

const ROWS: readonly Row[] = [
  { label: 'deliveries/s', value: (p) => p.deliveriesPerSecond, digits: 0 },
  { label: '  events accepted/s', value: (p) => p.published.perSecond, digits: 1 },
  { label: '  lost deliveries', value: (p) => p.lost, digits: 0 },
  { label: '  latency p50 (ms), all', value: (p) => p.latency.p50Ms, digits: 1 },
  { label: '  latency p99 (ms), all', value: (p) => p.latency.p99Ms, digits: 1 },
  { label: '  p99 (ms), side A (publish instance)', value: (p) => p.sides[0].latency.p99Ms, digits: 1 },
  { label: '  p99 (ms), side B (other instance)', value: (p) => p.sides[1].latency.p99Ms, digits: 1 },
  { label: '  server CPU-µs / delivery (sum)', value: (p) => p.serverCpuUsPerDelivery, digits: 2 },
  { label: '  server CPUs busy (sum)', value: (p) => p.serverCpuS.reduce((a, b) => a + b, 0) / p.elapsedS, digits: 2 },
  { label: '  Redis CPU-µs / event', value: (p) => p.redisCpuUsPerEvent, digits: 1 },
  { label: '  Redis CPUs busy', value: (p) => p.redisCpuS / p.elapsedS, digits: 4 },
  { label: '  Redis PUBLISH / event', value: (p) => p.redis.publishesPerEvent, digits: 2 },
  { label: '  bus messages published / event', value: (p) => (p.published.accepted > 0 ? p.bus.reduce((a, b) => a + b.published, 0) / p.published.accepted : null), digits: 2 },
  { label: '  load clients CPU-µs / delivery', value: (p) => p.loadClientCpuUsPerDelivery, digits: 2 },
  { label: '  load clients CPUs busy', value: (p) => p.loadClientCpuS / p.elapsedS, digits: 2 },
  { label: '  machine CPUs busy', value: (p) => p.machineBusyCpus, digits: 2 },
  { label: '  other processes CPUs', value: (p) => p.otherCpuS / p.elapsedS, digits: 2 },
];

export function formatTable(results: readonly SetupResult[]): string {
  const names = [...new Set(results.flatMap((r) => r.phases.map((p) => p.name)))];
  const header = ['', ...results.map((r) => r.setup)];
  if (results.length === 2) header.push('two/one');
  const lines = [header];
  for (const name of names) {
    lines.push([name === 'max' ? 'max rate' : `${name} events`]);
    for (const row of ROWS) {
      const values = results.map((r) => {
        const phase = r.phases.find((p) => p.name === name);
        return phase ? row.value(phase) : null;
      });
      const line = [row.label, ...values.map((v) => fmt(v, row.digits))];
      if (values.length === 2) {
        const [a, b] = values;
        line.push(a !== null && b !== null && a !== undefined && b !== undefined && a !== 0 ? `${(b / a).toFixed(2)}×` : '');
      }
      lines.push(line);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((line) => (line[i] ?? '').length)));
  return lines.map((line) => line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/** Plain-language lines on the targets, including whether the load generator or the machine was the limit. */
export function verdict(results: readonly SetupResult[], machine: MachineInfo): string[] {
  const one = results.find((r) => r.setup === 'one instance');
  const two = results.find((r) => r.setup === 'two instances');
  const lines: string[] = [];
  const maxOne = one?.phases.find((p) => p.name === 'max');
  const maxTwo = two?.phases.find((p) => p.name === 'max');
  if (maxOne && maxTwo) {
    const speedup = maxTwo.deliveriesPerSecond / maxOne.deliveriesPerSecond;
    const saturated = maxTwo.machineBusyCpus >= 0.9 * machine.cpus;
    const serverCpus = maxTwo.serverCpuS.map((s) => s / maxTwo.elapsedS);
    const clientCpus = maxTwo.loadClientCpuS / maxTwo.elapsedS;
    lines.push(
      `max rate: two instances deliver ${speedup.toFixed(2)}× what one delivers (target ≥ ${TARGET_SPEEDUP}×): ` +
        `${speedup >= TARGET_SPEEDUP ? 'met' : 'not met'}.`,
      `  machine ${maxTwo.machineBusyCpus.toFixed(2)} of ${machine.cpus} CPUs busy (${saturated ? 'saturated' : 'not saturated'}); ` +
        `servers ${serverCpus.map((c) => c.toFixed(2)).join(' + ')} CPUs, load clients ${clientCpus.toFixed(2)} CPUs, ` +
        `Redis ${(maxTwo.redisCpuS / maxTwo.elapsedS).toFixed(3)}, other processes ${(maxTwo.otherCpuS / maxTwo.elapsedS).toFixed(2)}.`,
      saturated
        ? `  The load generator shares the machine: it needs ${fmt(maxTwo.loadClientCpuUsPerDelivery, 1)} CPU-µs per delivery against ` +
            `the servers' ${fmt(maxTwo.serverCpuUsPerDelivery, 1)}, so the figure is bounded by the machine, not by the instances.`
        : '  The machine had CPU left: the limit is in the servers or the publisher.',
    );
  }
  for (const phase of two?.phases ?? []) {
    if (phase.name === 'max') continue;
    const base = one?.phases.find((p) => p.name === phase.name)?.latency.p99Ms ?? null;
    const cross = phase.sides[1].latency.p99Ms;
    if (base === null || cross === null) continue;
    const ratio = cross / base;
    lines.push(
      `${phase.name}: cross-instance p99 ${cross.toFixed(1)} ms vs single-instance p99 ${base.toFixed(1)} ms = ${ratio.toFixed(2)}× ` +
        `(target ≤ ${TARGET_P99_RATIO}×): ${ratio <= TARGET_P99_RATIO ? 'met' : 'not met'}.`,
    );
  }
  for (const result of results) {
    for (const phase of result.phases) {
      const accepted = phase.published.accepted;
      const busPublished = phase.bus.reduce((acc, bus) => acc + bus.published, 0);
      if (busPublished !== accepted) lines.push(`${result.setup} ${phase.name}: ${busPublished} bus messages to Redis for ${accepted} events (expected one each).`);
      const per = phase.redis.publishesPerEvent;
      // PUBLISH calls minus the background estimate (canaries every 2 s per instance): a few either way is timing
      if (per !== null && Math.abs(per - 1) * accepted > Math.max(3, 0.05 * accepted)) {
        lines.push(`${result.setup} ${phase.name}: ${per.toFixed(2)} Redis PUBLISH per event (expected 1).`);
      }
      if (phase.lost !== 0) lines.push(`${result.setup} ${phase.name}: ${phase.lost} deliveries lost.`);
      const other = phase.otherCpuS / phase.elapsedS;
      if (other > INTERFERENCE_CPUS) lines.push(`${result.setup} ${phase.name}: other processes took ${other.toFixed(2)} CPUs on average (interference).`);
    }
  }
  return lines;
}
