/** The human-readable tables (one per connection count) and the JSON results file. */
import type { MachineInfo } from '../shared/machine.js';
import type { BenchOptions } from './options.js';
import type { PhaseResult, ScenarioResult } from './scenario.js';
import type { ServerName } from './servers.js';

/** Average CPUs taken by other processes above which a phase is flagged. */
const INTERFERENCE_CPUS = 0.15;

interface Row {
  readonly label: string;
  readonly value: (result: ScenarioResult) => number | null;
  readonly digits: number;
  /** Whether ours/baseline means something for this row. */
  readonly ratio: boolean;
}

function phaseOf(result: ScenarioResult, name: string): PhaseResult | null {
  return result.phases.find((phase) => phase.name === name) ?? null;
}

function phaseRows(name: string, isMax: boolean): Row[] {
  const of =
    (pick: (phase: PhaseResult) => number | null) =>
    (result: ScenarioResult): number | null => {
      const phase = phaseOf(result, name);
      return phase === null ? null : pick(phase);
    };
  const title = isMax ? 'max rate' : `${name} events`;
  const rows: Row[] = [
    { label: `${title}: deliveries/s`, value: of((p) => p.deliveriesPerSecond), digits: 0, ratio: true },
  ];
  if (isMax) rows.push({ label: '  events accepted/s', value: of((p) => p.published.perSecond), digits: 1, ratio: true });
  rows.push(
    { label: '  latency p50 (ms)', value: of((p) => p.latency.p50Ms), digits: 1, ratio: true },
    { label: '  latency p99 (ms)', value: of((p) => p.latency.p99Ms), digits: 1, ratio: true },
    { label: '  latency max (ms)', value: of((p) => p.latency.maxMs), digits: 1, ratio: true },
    { label: '  lost deliveries', value: of((p) => p.lost), digits: 0, ratio: false },
    { label: '  server CPU-µs / delivery', value: of((p) => p.cpuUsPerDelivery), digits: 1, ratio: true },
  );
  return rows;
}

function rowsFor(results: readonly ScenarioResult[]): Row[] {
  const phaseNames: string[] = [];
  for (const result of results) {
    for (const phase of result.phases) if (!phaseNames.includes(phase.name)) phaseNames.push(phase.name);
  }
  return [
    { label: 'connect rate (conn/s)', value: (r) => r.connect?.perSecond ?? null, digits: 0, ratio: true },
    { label: 'connections failed', value: (r) => r.connect?.failed ?? null, digits: 0, ratio: false },
    { label: 'RSS before connections (MiB)', value: (r) => (r.memory ? r.memory.baselineBytes / 2 ** 20 : null), digits: 1, ratio: true },
    { label: 'RSS per idle connection (KiB)', value: (r) => (r.memory ? r.memory.perConnectionBytes / 1024 : null), digits: 2, ratio: true },
    {
      label: '  same, without GC (KiB)',
      value: (r) => (r.memory ? r.memory.perConnectionBeforeGcBytes / 1024 : null),
      digits: 2,
      ratio: true,
    },
    ...phaseNames.flatMap((name) => phaseRows(name, name === 'max')),
    { label: 'peak RSS (MiB)', value: (r) => (r.memory?.peakBytes != null ? r.memory.peakBytes / 2 ** 20 : null), digits: 0, ratio: true },
    {
      label: 'connections closed by server',
      value: (r) => (r.connect ? Object.values(r.closes).reduce((a, b) => a + b, 0) : null),
      digits: 0,
      ratio: false,
    },
  ];
}

function format(value: number | null, digits: number): string {
  if (value === null || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(ours: number | null, other: number | null): string {
  if (ours === null || other === null || other === 0 || !Number.isFinite(ours) || !Number.isFinite(other)) return '—';
  return `${(ours / other).toFixed(2)}×`;
}

/** One table for connection count `n`: a column per server, then ours/bare-ws and ours/socketio. */
export function formatTable(n: number, results: readonly ScenarioResult[], servers: readonly ServerName[]): string {
  const byServer = new Map(results.filter((r) => r.connections === n).map((r) => [r.server, r]));
  const columns = servers.filter((server) => byServer.has(server));
  const ours = byServer.get('ours');
  const ratioColumns = (['bare-ws', 'socketio'] as const).filter((other) => ours && byServer.has(other));
  const scenarioResults = columns.flatMap((server) => {
    const result = byServer.get(server);
    return result ? [result] : [];
  });
  const header = ['', ...columns, ...ratioColumns.map((other) => `ours/${other}`)];
  const body = rowsFor(scenarioResults).map((row) => {
    const cells = columns.map((server) => {
      const result = byServer.get(server);
      return result ? format(row.value(result), row.digits) : '—';
    });
    const ratios = ratioColumns.map((other) => {
      const theirs = byServer.get(other);
      return row.ratio && ours && theirs ? ratio(row.value(ours), row.value(theirs)) : '';
    });
    return [row.label, ...cells, ...ratios];
  });
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((line) => (line[i] ?? '').length)));
  const render = (line: readonly string[]): string =>
    line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const notes = scenarioResults.flatMap((r) => (r.skipped ? [`  ${r.server}: ${r.skipped}`] : []));
  const busy = scenarioResults.flatMap((r) =>
    r.phases
      .filter((phase) => phase.otherCpuS / phase.elapsedS > INTERFERENCE_CPUS)
      .map((phase) => `  ${r.server} ${phase.name}: ${(phase.otherCpuS / phase.elapsedS).toFixed(2)} CPUs used by other processes`),
  );
  return [
    `== ${n.toLocaleString('en-US')} connections ==`,
    render(header),
    ...body.map(render),
    ...(notes.length > 0 ? ['not measured:', ...notes] : []),
    ...(busy.length > 0 ? ['warning: the machine was shared during (figures may be low):', ...busy] : []),
  ].join('\n');
}

export interface ResultsFile {
  readonly benchmark: 'fanout';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly results: readonly ScenarioResult[];
}

