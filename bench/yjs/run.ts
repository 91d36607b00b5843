/**
 * Collaborative-document benchmark: uhs-realtime (persistence on) against y-websocket 1.5.4's server and
 * @hocuspocus/server 4, with the same load of real clients replaying real typing. See docs/benchmarks.md.
 *
 *   npm run bench:yjs -- [options]      (node --import tsx bench/yjs/run.ts)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { log, resultsFile, runBenchMain, writeJson } from '../shared/bench-main.js';
import { describeMachine, machineInfo } from '../shared/machine.js';
import type { ServerKind } from './protocol.js';
import { runScenario, type ScenarioResult } from './scenario.js';
import { SERVER_KINDS } from './servers.js';
import { loadTraces } from './traces.js';

const USAGE = `usage: node --import tsx bench/yjs/run.ts [options]
  --traces DIR        editing traces (*.json.gz, josephg/editing-traces format); default ../shared/traces;
                      synthetic typing when absent
  --servers LIST      ours,y-websocket,hocuspocus (default: all)
  --scenarios LIST    DOCSxPEERS, e.g. 1x10,50x4,200x2 (default)
  --rate N            aggregate keystrokes/s of the fixed-rate phase (default 500)
  --duration S        seconds per phase (default 10)
  --drain S           longest wait for late keystrokes after a phase (default 15)
  --phases LIST       rate,max (default both)
  --window N          max-rate phase: keystrokes a writer may be ahead of its slowest peer (default 32)
  --workers N         load processes (default 2)
  --server-cpu LIST   taskset CPU list for the servers (default 0; "none" to not pin)
  --load-cpu LIST     taskset CPU list for the load processes (default: the other CPUs; "none")
  --ours-db URL       DATABASE_URL for ours (default: a SQLite file)
  --out FILE          JSON results (default bench/results/yjs-<timestamp>.json)
  -h, --help`;

/** Hard bound on the whole run; past it everything is killed. */
const RUN_DEADLINE_MS = 60 * 60_000;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

type YjsBenchOptions = Parameters<typeof run>[0];

/** Parses argv; returns null when help was asked for. */
function parseOptions(argv: readonly string[]): YjsBenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      traces: { type: 'string', default: path.resolve(repoRoot, '..', 'shared', 'traces') },
      servers: { type: 'string', default: SERVER_KINDS.join(',') },
      scenarios: { type: 'string', default: '1x10,50x4,200x2' },
      rate: { type: 'string', default: '500' },
      duration: { type: 'string', default: '10' },
      drain: { type: 'string', default: '15' },
      window: { type: 'string', default: '32' },
      phases: { type: 'string', default: 'rate,max' },
      workers: { type: 'string', default: '2' },
      'server-cpu': { type: 'string', default: '0' },
      'load-cpu': { type: 'string' },
      'ours-db': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const servers = values.servers.split(',').map((s) => s.trim()) as ServerKind[];
  for (const s of servers) if (!SERVER_KINDS.includes(s)) throw new Error(`unknown server ${s}`);
  const scenarios = values.scenarios.split(',').map((s) => {
    const match = /^(\d+)x(\d+)$/.exec(s.trim());
    if (!match || Number(match[2]) < 2) throw new Error(`bad scenario ${s} (DOCSxPEERS, at least 2 peers)`);
    return { docs: Number(match[1]), peers: Number(match[2]) };
  });
  const cpus = machineInfo().cpus;
  const serverCpu = values['server-cpu'] === 'none' ? undefined : values['server-cpu'];
  const loadCpu = values['load-cpu'] === 'none' ? undefined : (values['load-cpu'] ?? (serverCpu === '0' && cpus > 1 ? `1-${cpus - 1}` : undefined));
  const traces = loadTraces(values.traces, log);
  log(`traces: ${traces.map((t) => `${t.name} (${t.keystrokes.length} keystrokes)`).join(', ')}`);
  return {
    servers,
    scenarios,
    rate: Number(values.rate),
    durationMs: Number(values.duration) * 1000,
    drainMs: Number(values.drain) * 1000,
    maxWindow: Number(values.window),
    phases: parsePhases(values.phases),
    workers: Number(values.workers),
    tracesDir: traces[0]?.name === 'synthetic' ? undefined : values.traces,
    traceCount: traces.length,
    serverCpu,
    loadCpu,
    oursDatabaseUrl: values['ours-db'],
    out: values.out,
  };
}

async function run(o: {
  servers: ServerKind[];
  scenarios: Array<{ docs: number; peers: number }>;
  rate: number;
  durationMs: number;
  drainMs: number;
  maxWindow: number;
  phases: ReadonlyArray<'rate' | 'max'>;
  workers: number;
  tracesDir: string | undefined;
  traceCount: number;
  serverCpu: string | undefined;
  loadCpu: string | undefined;
  oursDatabaseUrl: string | undefined;
  out: string | undefined;
}): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo();
  console.log(describeMachine(machine));
  const results: ScenarioResult[] = [];
  for (const scenario of o.scenarios) {
    for (const server of o.servers) {
      log(`${server}: ${scenario.docs} documents × ${scenario.peers} peers`);
      results.push(await runScenario(server, { ...o, ...scenario, workers: Math.min(o.workers, scenario.docs), log }));
    }
  }
  console.log(`\n${formatTable(results)}`);
  const file = resultsFile('yjs', startedAt, o.out ?? null);
  const { out: _out, ...options } = o;
  writeJson(file, { benchmark: 'yjs', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options, results });
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

function parsePhases(list: string): Array<'rate' | 'max'> {
  const phases = list.split(',').map((p) => p.trim());
  for (const p of phases) if (p !== 'rate' && p !== 'max') throw new Error(`unknown phase ${p}`);
  return phases as Array<'rate' | 'max'>;
}

function formatTable(results: readonly ScenarioResult[]): string {
  const rows = [
    '| scenario | server | phase | keystrokes/s | p50 ms | p99 ms | CPU ms/keystroke | RSS KiB/doc | bytes persisted/keystroke | converged | server copies | disconnects |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|',
  ];
  for (const r of results) {
    for (const p of r.phases) {
      rows.push(
        `| ${r.docs}×${r.peers} | ${r.server} | ${p.phase === 'rate' ? `${p.offeredPerS}/s` : 'max'} | ${Math.round(p.appliedPerS)} | ${p.p50Ms.toFixed(1)} | ${p.p99Ms.toFixed(1)} | ${p.cpuMsPerKeystroke.toFixed(3)} | ${r.rssPerDocKiB.toFixed(0)} | ${p.bytesPersistedPerKeystroke === null ? '–' : p.bytesPersistedPerKeystroke.toFixed(0)} | ${p.convergedDocs}/${r.docs} | ${p.serverCopiesChecked ? `${p.serverCopiesMatching}/${p.serverCopiesChecked}` : '–'} | ${p.disconnects} |`,
      );
    }
  }
  return rows.join('\n');
}

runBenchMain({ argv: process.argv.slice(2), parse: parseOptions, usage: USAGE, deadlineMs: () => RUN_DEADLINE_MS, main: run });
