/**
 * One scenario: one server, D documents × K peers spread over load processes, a fixed-rate phase and a max-rate
 * phase. Measures applied keystrokes/s, writer→peer latency, server CPU per keystroke, server RSS per open document,
 * bytes persisted per keystroke (ours), and checks at the end of each phase that every replica converged (for ours,
 * the server's own copy too, through GET /api/v1/docs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Y from 'yjs';
import { stopChild, track } from '../shared/child-processes.js';
import { readCpuSeconds, readRssBytes } from '../shared/proc-stats.js';
import type { DocAssignment, FromWorker, LoadMode, RunResult, ServerKind, ToWorker } from './protocol.js';
import { startServer, type RunningServer } from './servers.js';

export interface ScenarioOptions {
  readonly docs: number;
  readonly peers: number;
  /** Aggregate keystrokes per second of the fixed-rate phase. */
  readonly rate: number;
  readonly durationMs: number;
  readonly drainMs: number;
  readonly maxWindow: number;
  readonly phases: ReadonlyArray<'rate' | 'max'>;
  readonly workers: number;
  readonly tracesDir: string | undefined;
  readonly traceCount: number;
  readonly serverCpu: string | undefined;
  readonly loadCpu: string | undefined;
  readonly oursDatabaseUrl: string | undefined;
  readonly log: (line: string) => void;
}

export interface PhaseResult {
  readonly phase: 'rate' | 'max';
  readonly offeredPerS: number | null;
  readonly sent: number;
  readonly received: number;
  readonly appliedPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuMsPerKeystroke: number;
  readonly bytesPersistedPerKeystroke: number | null;
  readonly convergedDocs: number;
  readonly serverCopiesChecked: number;
  readonly serverCopiesMatching: number;
  readonly disconnects: number;
}

export interface ScenarioResult {
  readonly server: ServerKind;
  readonly docs: number;
  readonly peers: number;
  readonly rssBaselineMiB: number;
  readonly rssPerDocKiB: number;
  readonly phases: readonly PhaseResult[];
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const workerScript = path.join(benchDir, 'load-worker.ts');

class Worker {
  private readonly waiting: Array<(message: FromWorker) => void> = [];
  constructor(readonly child: ChildProcess) {
    child.on('message', (message: FromWorker) => this.waiting.shift()?.(message));
  }
  request(message: ToWorker): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      this.waiting.push((reply) => (reply.type === 'error' ? reject(new Error(reply.message)) : resolve(reply)));
      this.child.send(message);
    });
  }
}

function spawnWorker(cpu: string | undefined): Worker {
  const node = [process.execPath, '--import', 'tsx', workerScript];
  const [command, ...args] = cpu !== undefined ? ['taskset', '-c', cpu, ...node] : node;
  return new Worker(track(spawn(command!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

async function persistedBytes(server: RunningServer): Promise<number | null> {
  if (!server.http) return null;
  const text = await (await fetch(`${server.http.base}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^uhs_yjs_bytes_persisted_total\{[^}]*\} (\d+(?:\.\d+)?(?:e\+\d+)?)$/gm)) total += Number(match[1]);
  return total;
}

/** For ours: the server's own copy of each document, compared with what the replicas converged to. */
async function checkServerCopies(server: RunningServer, results: RunResult[]): Promise<{ checked: number; matching: number }> {
  if (!server.http) return { checked: 0, matching: 0 };
  let checked = 0;
  let matching = 0;
  for (const doc of results.flatMap((r) => r.docs).slice(0, 100)) {
    const response = await fetch(`${server.http.base}/api/v1/docs/${doc.docId}`, { headers: { authorization: `Bearer ${server.http.apiKey}` } });
    const copy = new Y.Doc();
    Y.applyUpdate(copy, new Uint8Array(await response.arrayBuffer()));
    const paragraph = copy.getXmlFragment('default').get(0);
    const text = paragraph instanceof Y.XmlElement ? (paragraph.get(0)?.toString() ?? '') : '';
    checked++;
    if (doc.textHash === createHash('sha256').update(text).digest('hex')) matching++;
  }
  return { checked, matching };
}

export async function runScenario(kind: ServerKind, options: ScenarioOptions): Promise<ScenarioResult> {
  const { log } = options;
  const server = await startServer(kind, { cpu: options.serverCpu, oursDatabaseUrl: options.oursDatabaseUrl });
  const workers: Worker[] = [];
  try {
    await server.collectGarbage();
    const rssBaseline = readRssBytes(server.pid);
    const tag = randomBytes(3).toString('hex');
    const assignments: DocAssignment[][] = Array.from({ length: options.workers }, () => []);
    for (let i = 0; i < options.docs; i++) {
      assignments[i % options.workers]!.push({ docId: `bench-${tag}-${i}`, peers: options.peers, trace: i % options.traceCount });
    }
    for (let i = 0; i < options.workers; i++) workers.push(spawnWorker(options.loadCpu));
    const connectStart = performance.now();
    await Promise.all(workers.map((w, i) => w.request({ type: 'setup', target: server.target, docs: assignments[i]!, tracesDir: options.tracesDir })));
    log(`  ${kind}: ${options.docs}×${options.peers} connected and synced in ${Math.round(performance.now() - connectStart)} ms`);
    await server.collectGarbage();
    const rssOpen = readRssBytes(server.pid);

    const phases: PhaseResult[] = [];
    const allModes: Array<{ phase: 'rate' | 'max'; mode: LoadMode }> = [
      { phase: 'rate', mode: { kind: 'rate', perWriterPerS: options.rate / options.docs } },
      { phase: 'max', mode: { kind: 'max', window: options.maxWindow } },
    ];
    const modes = allModes.filter(({ phase }) => options.phases.includes(phase));
    for (const { phase, mode } of modes) {
      const cpu0 = readCpuSeconds(server.pid);
      const bytes0 = await persistedBytes(server);
      const replies = await Promise.all(workers.map((w) => w.request({ type: 'run', mode, durationMs: options.durationMs, drainMs: options.drainMs })));
      const cpu1 = readCpuSeconds(server.pid);
      const results = replies.map((r) => (r.type === 'result' ? r.result : undefined)).filter((r): r is RunResult => r !== undefined);
      const bytes1 = await persistedBytes(server);
      const sent = results.reduce((s, r) => s + r.sent, 0);
      const received = results.reduce((s, r) => s + r.received, 0);
      const spanMs = Math.max(...results.map((r) => r.spanMs));
      const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
      const copies = await checkServerCopies(server, results);
      const result: PhaseResult = {
        phase,
        offeredPerS: phase === 'rate' ? options.rate : null,
        sent,
        received,
        appliedPerS: sent / (spanMs / 1000),
        p50Ms: percentile(latencies, 0.5),
        p99Ms: percentile(latencies, 0.99),
        maxMs: latencies.at(-1) ?? NaN,
        cpuMsPerKeystroke: ((cpu1 - cpu0) * 1000) / Math.max(1, sent),
        bytesPersistedPerKeystroke: bytes0 === null || bytes1 === null ? null : (bytes1 - bytes0) / Math.max(1, sent),
        convergedDocs: results.flatMap((r) => r.docs).filter((d) => d.converged).length,
        serverCopiesChecked: copies.checked,
        serverCopiesMatching: copies.matching,
        disconnects: results.reduce((s, r) => s + r.disconnects, 0),
      };
      log(`  ${kind} ${phase}: ${Math.round(result.appliedPerS)} keystrokes/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ${result.cpuMsPerKeystroke.toFixed(3)} ms CPU/keystroke, converged ${result.convergedDocs}/${options.docs}`);
      phases.push(result);
    }
    return {
      server: kind,
      docs: options.docs,
      peers: options.peers,
      rssBaselineMiB: rssBaseline / 2 ** 20,
      rssPerDocKiB: (rssOpen - rssBaseline) / options.docs / 1024,
      phases,
    };
  } finally {
    await Promise.all(
      workers.map(async (w) => {
        w.child.send({ type: 'stop' } satisfies ToWorker);
        await stopChild(w.child, 3000);
      }),
    );
    await server.stop();
  }
}
