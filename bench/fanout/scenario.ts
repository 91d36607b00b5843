/**
 * One server at one connection count: start it, measure idle memory, connect N clients, run the
 * fixed-rate phases and the max-rate phase, stop everything.
 */
import { readCpuSeconds, readMachineCpuSeconds, readPeakRssBytes, readRssBytes } from '../shared/proc-stats.js';
import { LoadFleet, type MergedReport } from './load-fleet.js';
import type { BenchOptions } from './options.js';
import { nowMs } from './protocol.js';
import { publishAtRate, publishPhase, type PublishResult } from './publisher.js';
import { ServerUnavailableError, startServer, type RunningServer, type ServerName } from './servers.js';
import type { LatencySummary } from './stats.js';

const READY_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 15_000;
const MAX_SOCKETS_PER_CLIENT_PROCESS = 8_000;
const STALL_MS = 2_000;
const QUIET_MS = 500;
const QUIET_MAX_MS = 30_000;
const LOAD_CLIENT_LIFETIME_MS = 20 * 60_000;
/** Events published before the measured phases so that every server's fan-out path is JIT-compiled. */
const WARMUP_EVENTS_PER_S = 2;
const WARMUP_MS = 1_500;

export interface PhaseResult {
  readonly name: string;
  /** Target publish rate; null for the max-rate phase. */
  readonly eventsPerSecond: number | null;
  readonly published: PublishResult & { readonly perSecond: number };
  readonly expected: number;
  readonly received: number;
  /** expected − received (negative would mean duplicates). */
  readonly lost: number;
  /** Events every connection received. */
  readonly completeEvents: number;
  /** received / (phase start → last delivery). */
  readonly deliveriesPerSecond: number;
  readonly windowS: number;
  readonly drainS: number;
  /** Phase start to report, over which CPU figures are taken. */
  readonly elapsedS: number;
  readonly latency: LatencySummary;
  readonly outOfOrder: number;
  readonly stray: number;
  readonly other: number;
  readonly serverCpuS: number;
  /** Server CPU-µs per delivery, which is also CPU-seconds per million deliveries. */
  readonly cpuUsPerDelivery: number | null;
  readonly loadClientCpuS: number;
  /** CPU of the orchestrator process, which publishes (and polls the load clients). */
  readonly publisherCpuS: number;
  /** Average busy CPUs of the whole machine during the phase (of os.availableParallelism()). */
  readonly machineBusyCpus: number;
  /** Interrupt + softirq CPU-seconds (loopback network stack work charged to no process). */
  readonly irqCpuS: number;
  /** Machine CPU-seconds used by other processes (or stolen by a hypervisor): interference. */
  readonly otherCpuS: number;
  readonly serverRssAfterBytes: number;
}

export interface ScenarioResult {
  readonly server: ServerName;
  readonly connections: number;
  /** Why the scenario did not run or stopped early, if so. */
  readonly skipped: string | null;
  readonly connect: {
    readonly opened: number;
    readonly failed: number;
    readonly firstError: string | null;
    readonly seconds: number;
    readonly perSecond: number;
  } | null;
  readonly memory: {
    /** Whether the GC before each reading worked (inspector reachable). */
    readonly gc: boolean;
    readonly baselineBytes: number;
    readonly idleBytes: number;
    /** (idle − baseline) / connections, both read after a full GC. */
    readonly perConnectionBytes: number;
    /** (idle before its GC − baseline) / connections: includes the garbage the handshakes left. */
    readonly perConnectionBeforeGcBytes: number;
    readonly peakBytes: number | null;
  } | null;
  readonly phases: readonly PhaseResult[];
  /** Connections the server closed during the run, by code and reason. */
  readonly closes: Readonly<Record<string, number>>;
}

export interface ScenarioContext {
  readonly options: BenchOptions;
  /** A fresh 127.0.0.0/8 source address (spreads ephemeral ports and TIME_WAIT). */
  readonly nextSourceAddress: () => string;
  readonly log: (line: string) => void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sumCpu(pids: readonly number[]): number {
  return pids.reduce((acc, pid) => {
    try {
      return acc + readCpuSeconds(pid);
    } catch {
      return acc; // exited
    }
  }, 0);
}

function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** RSS as it is, then after a full GC. */
async function settledRss(server: RunningServer): Promise<{ beforeGc: number; bytes: number; gc: boolean }> {
  const beforeGc = readRssBytes(server.pid);
  const gc = await server.collectGarbage();
  await sleep(300);
  return { beforeGc, bytes: readRssBytes(server.pid), gc };
}

interface PhaseSpec {
  readonly name: string;
  readonly eventsPerSecond: number | null;
}

async function runPhase(
  spec: PhaseSpec,
  phase: number,
  server: RunningServer,
  fleet: LoadFleet,
  connected: number,
  ctx: ScenarioContext,
): Promise<{ result: PhaseResult; report: MergedReport }> {
  const { options } = ctx;
  await fleet.waitQuiet(QUIET_MS, QUIET_MAX_MS);
  await fleet.startPhase(phase);
  const serverCpu0 = readCpuSeconds(server.pid);
  const clientCpu0 = sumCpu(fleet.pids);
  const publisherCpu0 = ownCpuSeconds();
  const machine0 = readMachineCpuSeconds();
  const started = nowMs();
  const published = await publishPhase(server.publish, phase, spec.eventsPerSecond, options, connected);
  const expected = published.accepted * connected;
  const drainMs = await fleet.drain({ expected, stallMs: STALL_MS, maxMs: options.drainS * 1000 });
  await sleep(250); // one more progress/report round for deliveries that raced the drain check
  const report = await fleet.report();
  const serverCpuS = readCpuSeconds(server.pid) - serverCpu0;
  const loadClientCpuS = sumCpu(fleet.pids) - clientCpu0;
  const publisherCpuS = ownCpuSeconds() - publisherCpu0;
  const machine1 = readMachineCpuSeconds();
  const machineBusyS = machine1.busy - machine0.busy;
  const irqCpuS = machine1.irq - machine0.irq;
  const elapsedS = (nowMs() - started) / 1000;
  const windowMs = Math.max(1, (report.lastAt ?? started) - started);
  const result: PhaseResult = {
    name: spec.name,
    eventsPerSecond: spec.eventsPerSecond,
    published: { ...published, perSecond: published.accepted / (published.durationMs / 1000) },
    expected,
    received: report.received,
    lost: expected - report.received,
    completeEvents: report.perEvent.filter((n) => n >= connected).length,
    deliveriesPerSecond: report.received / (windowMs / 1000),
    windowS: windowMs / 1000,
    drainS: drainMs / 1000,
    elapsedS,
    latency: report.latency.summary(),
    outOfOrder: report.outOfOrder,
    stray: report.stray,
    other: report.other,
    serverCpuS,
    cpuUsPerDelivery: report.received > 0 ? (serverCpuS * 1e6) / report.received : null,
    loadClientCpuS,
    publisherCpuS,
    machineBusyCpus: machineBusyS / elapsedS,
    irqCpuS,
    otherCpuS: Math.max(0, machineBusyS - irqCpuS - serverCpuS - loadClientCpuS - publisherCpuS),
    serverRssAfterBytes: readRssBytes(server.pid),
  };
  return { result, report };
}

function phaseLine(server: ServerName, n: number, r: PhaseResult): string {
  const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(1));
  return (
    `${server} N=${n} ${r.name}: ${r.published.accepted} events (${r.published.perSecond.toFixed(1)}/s), ` +
    `${r.received}/${r.expected} delivered, ${Math.round(r.deliveriesPerSecond)}/s, ` +
    `p50 ${ms(r.latency.p50Ms)} p99 ${ms(r.latency.p99Ms)} max ${ms(r.latency.maxMs)} ms, ` +
    `server ${r.serverCpuS.toFixed(2)} CPU-s (${r.cpuUsPerDelivery?.toFixed(1) ?? '-'} µs/delivery), ` +
    `clients ${r.loadClientCpuS.toFixed(2)} CPU-s, irq ${r.irqCpuS.toFixed(2)} CPU-s, machine ${r.machineBusyCpus.toFixed(2)} CPUs busy` +
    (r.otherCpuS > 0.5 ? ` (${r.otherCpuS.toFixed(1)} CPU-s by other processes)` : '')
  );
}

type ConnectFigures = NonNullable<ScenarioResult['connect']>;
type MemoryFigures = NonNullable<ScenarioResult['memory']>;

async function connectClients(fleet: LoadFleet, server: RunningServer, n: number, ctx: ScenarioContext): Promise<ConnectFigures> {
  const addresses = fleet.pids.map(() => ctx.nextSourceAddress());
  const summary = await fleet.connect({
    target: await server.clientTarget(ctx.options.users),
    total: n,
    concurrency: ctx.options.connectConcurrency,
    timeoutMs: CONNECT_TIMEOUT_MS,
    addressesFor: (p) => [addresses[p] ?? '127.0.0.1'],
  });
  const connect = { ...summary, seconds: summary.durationMs / 1000, perSecond: summary.opened / (summary.durationMs / 1000) };
  ctx.log(
    `${server.name} N=${n}: ${connect.opened} connected in ${connect.seconds.toFixed(2)} s (${Math.round(connect.perSecond)}/s)` +
      (connect.failed > 0 ? `, ${connect.failed} failed: ${connect.firstError ?? '?'}` : ''),
  );
  return connect;
}

function memoryFigures(
  baseline: Awaited<ReturnType<typeof settledRss>>,
  idle: Awaited<ReturnType<typeof settledRss>>,
  connected: number,
): MemoryFigures {
  return {
    gc: baseline.gc && idle.gc,
    baselineBytes: baseline.bytes,
    idleBytes: idle.bytes,
    perConnectionBytes: (idle.bytes - baseline.bytes) / connected,
    perConnectionBeforeGcBytes: (idle.beforeGc - baseline.bytes) / connected,
    peakBytes: null,
  };
}

/** The fixed rates that stay within --max-offered at this connection count, then the max-rate phase. */
function phasePlan(options: BenchOptions, connected: number, skip: (rate: number) => void): PhaseSpec[] {
  const specs: PhaseSpec[] = [];
  for (const rate of options.rates) {
    if (rate * connected > options.maxOfferedPerS) skip(rate);
    else specs.push({ name: `${rate}/s`, eventsPerSecond: rate });
  }
  specs.push({ name: 'max', eventsPerSecond: null });
  return specs;
}

export async function runScenario(name: ServerName, n: number, ctx: ScenarioContext): Promise<ScenarioResult> {
  const { options, log } = ctx;
  const empty = { server: name, connections: n, connect: null, memory: null, phases: [], closes: {} };
  let server: RunningServer;
  try {
    server = await startServer(name, { readyTimeoutMs: READY_TIMEOUT_MS });
  } catch (error) {
    if (!(error instanceof ServerUnavailableError)) throw error;
    log(`skipping ${name}: ${error.message}`);
    return { ...empty, skipped: error.message.split('\n')[0] ?? error.message };
  }
  let fleet: LoadFleet | null = null;
  try {
    await sleep(500);
    const baseline = await settledRss(server);
    const processes = Math.max(options.clientProcesses, Math.ceil(n / MAX_SOCKETS_PER_CLIENT_PROCESS));
    fleet = await LoadFleet.start({ processes, maxLifetimeMs: LOAD_CLIENT_LIFETIME_MS });
    const connect = await connectClients(fleet, server, n, ctx);
    if (connect.opened === 0) return { ...empty, skipped: `no connection opened: ${connect.firstError ?? '?'}`, connect };

    await fleet.waitQuiet(1_000, QUIET_MAX_MS);
    const memory = memoryFigures(baseline, await settledRss(server), connect.opened);
    const kib = (bytes: number): string => (bytes / 1024).toFixed(2);
    log(
      `${name} N=${n}: RSS ${(memory.baselineBytes / 2 ** 20).toFixed(1)} → ${(memory.idleBytes / 2 ** 20).toFixed(1)} MiB, ` +
        `${kib(memory.perConnectionBytes)} KiB/connection (${kib(memory.perConnectionBeforeGcBytes)} before GC)`,
    );
    // Not counted by the load clients (no phase started yet).
    await publishAtRate(server.publish, { phase: -1, eventsPerSecond: WARMUP_EVENTS_PER_S, durationMs: WARMUP_MS });

    const specs = phasePlan(options, connect.opened, (rate) =>
      log(`${name} N=${n}: skipping ${rate} events/s (${rate * connect.opened} deliveries/s > --max-offered ${options.maxOfferedPerS})`),
    );
    const phases: PhaseResult[] = [];
    let closes: Readonly<Record<string, number>> = {};
    for (const [phase, spec] of specs.entries()) {
      const { result, report } = await runPhase(spec, phase, server, fleet, connect.opened, ctx);
      phases.push(result);
      closes = report.closes;
      log(phaseLine(name, n, result));
    }
    return { ...empty, skipped: null, connect, memory: { ...memory, peakBytes: readPeakRssBytes(server.pid) }, phases, closes };
  } finally {
    await server.stop();
    await fleet?.stop();
  }
}
