/**
 * Soak benchmark: one uhs-realtime instance under a bounded mixed load — admins counting every event, role-channel
 * churn, a reconnect storm with `?since=`, HTTP-published events, Yjs editing, support chat and video signaling, all
 * at once — reporting memory growth, event-loop lag, errors and lost deliveries. See docs/benchmarks.md (Soak).
 *
 *   npm run bench:soak -- [options]      (node --import tsx bench/soak/run.ts)
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, resultsFile, runBenchMain, writeJson } from '../shared/bench-main.js';
import { IpcChild } from '../shared/ipc-child.js';
import { describeMachine, machineInfo } from '../shared/machine.js';
import { metricValue } from '../shared/prometheus-text.js';
import { readPeakRssBytes } from '../shared/proc-stats.js';
import { startUhsServer, type UhsServer } from '../shared/uhs-server.js';
import { classifyLag, deliveryFigures, describe, errorFigures, heapFit, memoryGrowth, type SoakFigures } from './analysis.js';
import { EventPublisher } from './event-publisher.js';
import { parseSoakOptions, USAGE, type SoakOptions } from './options.js';
import type { ChurnIn, ChurnOut, ChurnReport, ServerAccess, ServicesIn, ServicesOut, ServicesReport, StormResult, TrackerIn, TrackerOut, TrackerReport } from './protocol.js';
import { cpuAccount, cpuBetween, cpuSnapshot, HealthMonitor, MemorySampler, type Checkpoint, type CpuAccount, type HealthSample, type MemorySample } from './sampler.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CONNECT_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;
const FINAL_TIMEOUT_MS = 60_000;

type Tracker = IpcChild<TrackerIn, TrackerOut>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** 127.0.0.2 … 127.0.0.254 in turn: each load process binds its own source addresses. */
function sourceAddresses(): (n: number) => string[] {
  let next = 0;
  return (n) => Array.from({ length: n }, () => `127.0.0.${2 + (next++ % 253)}`);
}

async function startTrackers(options: SoakOptions, access: ServerAccess, addresses: (n: number) => string[]): Promise<{ trackers: Tracker[]; opened: number; failed: number }> {
  const subjects = Array.from({ length: options.adminUsers }, (_, i) => `admin-${i}`);
  const maxSeq = Math.ceil(options.eventRate * (options.durationS + options.stormTimeoutS + 60) * 1.2) + 100;
  const trackers = await Promise.all(
    Array.from({ length: options.trackerProcesses }, (_, p) => IpcChild.fork<TrackerIn, TrackerOut>(path.join(here, 'tracker-client.ts'), `tracker ${p}`)),
  );
  const results = await Promise.all(
    trackers.map((tracker, p) => {
      const share = Math.floor(options.admins / trackers.length) + (p < options.admins % trackers.length ? 1 : 0);
      const anchors = p === 0 ? options.adminUsers : 0;
      return tracker.request(
        { type: 'connect', access, subjects, count: share + anchors, anchors, localAddresses: addresses(2), concurrency: 32, maxSeq },
        'connected',
        CONNECT_TIMEOUT_MS,
      );
    }),
  );
  const opened = results.reduce((acc, r) => acc + r.opened, 0);
  const failed = results.reduce((acc, r) => acc + r.failed, 0);
  const firstError = results.find((r) => r.firstError !== null)?.firstError;
  log(`trackers: ${opened} admin connections in ${(Math.max(...results.map((r) => r.durationMs)) / 1000).toFixed(1)} s${failed > 0 ? `, ${failed} failed (${firstError})` : ''}`);
  return { trackers, opened, failed };
}

function mergeStorms(results: readonly StormResult[], durationMs: number): StormResult {
  const sum = (pick: (r: StormResult) => number): number => results.reduce((acc, r) => acc + pick(r), 0);
  const max = (pick: (r: StormResult) => number): number => Math.max(0, ...results.map(pick));
  return {
    type: 'storm-done',
    connections: sum((r) => r.connections),
    resumed: sum((r) => r.resumed),
    retries: sum((r) => r.retries),
    firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
    durationMs,
    // per-process quantiles: the highest of each is an upper bound of the whole
    resumeMs: { p50: max((r) => r.resumeMs.p50), p99: max((r) => r.resumeMs.p99), max: max((r) => r.resumeMs.max) },
    replayed: sum((r) => r.replayed),
    incomplete: sum((r) => r.incomplete),
  };
}

/** TcpExtListenOverflows / TcpExtListenDrops of the machine (/proc/net/netstat). */
function listenQueueCounters(): { overflows: number; drops: number } {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const header = lines.find((line) => line.startsWith('TcpExt:'))?.split(/\s+/) ?? [];
    const values = lines.filter((line) => line.startsWith('TcpExt:'))[1]?.split(/\s+/) ?? [];
    const field = (name: string): number => Number(values[header.indexOf(name)] ?? Number.NaN);
    return { overflows: field('ListenOverflows'), drops: field('ListenDrops') };
  } catch {
    return { overflows: Number.NaN, drops: Number.NaN };
  }
}

interface LagWindow {
  readonly name: string;
  readonly lag: ReturnType<typeof lagOf>;
  readonly cpu: CpuAccount | null;
}

function lagOf(samples: readonly HealthSample[]): { intervals: number; maxP99Ms: number | null; medianP99Ms: number | null; meanMs: number | null } {
  const p99 = samples.map((s) => s.lagP99Ms).sort((a, b) => a - b);
  return {
    intervals: samples.length,
    maxP99Ms: p99.length > 0 ? (p99[p99.length - 1] ?? null) : null,
    medianP99Ms: p99.length > 0 ? (p99[Math.floor(p99.length / 2)] ?? null) : null,
    meanMs: samples.length > 0 ? samples.reduce((acc, s) => acc + s.lagMeanMs, 0) / samples.length : null,
  };
}

/** Lag and CPU before and after the storm (warm-up and storm excluded), to tell the server's doing from starvation. */
function lagWindows(
  health: readonly HealthSample[],
  memory: readonly MemorySample[],
  o: { t0: number; warmupUntil: number; trafficUntil: number; storm: readonly [number, number] | null; healthIntervalMs: number },
): LagWindow[] {
  const ranges: Array<[string, number, number]> = o.storm
    ? [
        ['before the storm', o.warmupUntil, o.storm[0]],
        ['after the storm', o.storm[1], o.trafficUntil],
      ]
    : [['after warm-up', o.warmupUntil, o.trafficUntil]];
  return ranges.map(([name, from, to]) => ({
    name,
    lag: lagOf(health.filter((s) => s.at - o.healthIntervalMs >= from && s.at <= to)),
    cpu: cpuBetween(memory, from, to),
  }));
}

function windowLine(w: LagWindow): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toFixed(0)} ms`);
  const cpu = w.cpu
    ? `server ${w.cpu.serverCpus.toFixed(2)} cores, waiting for a CPU ${(w.cpu.serverWaitShare * 100).toFixed(0)} %, load ${w.cpu.loadCpus.toFixed(2)}, other processes ${w.cpu.otherCpus.toFixed(2)}, machine ${w.cpu.machineBusyCpus.toFixed(2)}`
    : 'no CPU samples';
  return `${w.name}: lag p99 median ${ms(w.lag.medianP99Ms)}, max ${ms(w.lag.maxP99Ms)}, mean ${ms(w.lag.meanMs)} over ${w.lag.intervals} intervals; ${cpu}`;
}

function cpuLine(name: string, a: CpuAccount): string {
  return (
    `CPU during the ${name} (${a.seconds.toFixed(0)} s): server ${a.serverCpus.toFixed(2)} cores (runnable but not running ${(a.serverWaitShare * 100).toFixed(0)} % of the time), ` +
    `load processes ${a.loadCpus.toFixed(2)}, softirq ${a.irqCpus.toFixed(2)}, other processes ${a.otherCpus.toFixed(2)} (interference); machine ${a.machineBusyCpus.toFixed(2)} of ${availableParallelism()} busy`
  );
}

interface Progress {
  churned: number;
  finalSeen: number[];
  open: number[];
}

async function soak(options: SoakOptions, server: UhsServer): Promise<Record<string, unknown>> {
  const access: ServerAccess = { wsUrl: server.wsUrl, httpUrl: server.httpUrl, secret: server.shared.secret, apiKey: server.shared.apiKey };
  const addresses = sourceAddresses();
  const checkpoints: Checkpoint[] = [];
  const progress: Progress = { churned: 0, finalSeen: [], open: [] };
  const churnedSoFar = (): number => progress.churned;
  let sampler = new MemorySampler(server, Date.now());
  checkpoints.push(await sampler.checkpoint('before connections', churnedSoFar));
  const monitor = await HealthMonitor.connect(server);

  const children: Array<{ stop(): Promise<void> }> = [];
  let trackers: Tracker[] = [];
  try {
    const started = await startTrackers(options, access, addresses);
    trackers = started.trackers;
    children.push(...trackers);
    trackers.forEach((tracker, p) =>
      tracker.on('progress', (message) => {
        progress.finalSeen[p] = message.finalSeen;
        progress.open[p] = message.open;
      }),
    );
    const churn = await IpcChild.fork<ChurnIn, ChurnOut>(path.join(here, 'churn-client.ts'), 'churn');
    children.push(churn);
    churn.on('progress', (message) => (progress.churned = message.churned));
    const services = await IpcChild.fork<ServicesIn, ServicesOut>(path.join(here, 'services-client.ts'), 'services');
    children.push(services);
    const [serviceAddress = '127.0.0.1'] = addresses(1);
    const setUp = await services.request(
      {
        type: 'setup',
        access,
        plan: {
          docs: options.docs,
          peersPerDoc: options.peersPerDoc,
          editsPerS: options.editRate,
          tickets: options.tickets,
          chatPerS: options.chatRate,
          videoSessions: options.videoSessions,
          peersPerSession: options.peersPerSession,
          signalsPerS: options.signalRate,
          localAddress: serviceAddress,
        },
      },
      'set-up',
      COMMAND_TIMEOUT_MS,
    );
    log(`services: ${setUp.connections} Yjs, chat and video connections`);

    // traffic starts: everything that counts is published from here on
    const loadPids = [...trackers, churn, services].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
    const cpuAt = (): ReturnType<typeof cpuSnapshot> => cpuSnapshot(server.pid, loadPids);
    const cpuStart = cpuAt();
    const t0 = Date.now();
    sampler = new MemorySampler(server, t0, loadPids);
    const publisher = new EventPublisher(server);
    publisher.start(options.eventRate);
    const churnStarted = await churn.request(
      {
        type: 'start',
        access,
        plan: {
          ratePerS: options.churnRate,
          freshPerS: options.freshRate,
          minLifetimeMs: options.churnLifetimeMs[0],
          maxLifetimeMs: options.churnLifetimeMs[1],
          subjectsPerRole: options.churnSubjectsPerRole,
          localAddresses: addresses(2),
        },
      },
      'started',
      COMMAND_TIMEOUT_MS,
    );
    await services.request({ type: 'start' }, 'started', COMMAND_TIMEOUT_MS);
    sampler.start(options.sampleS * 1000);
    log(`traffic: ${options.eventRate} events/s to every admin, churn ${options.churnRate}/s (${churnStarted.anchors} anchors), Yjs/chat/video running`);

    // Open documents grow with their CRDT history for as long as they are edited: before each checkpoint every
    // document being edited is replaced by a fresh one (the old ones are saved and unloaded), so that all
    // checkpoints hold the same, fresh documents and what remains is what the server kept by mistake.
    const checkpoint = async (label: string): Promise<void> => {
      await services.request({ type: 'rotate' }, 'rotated', COMMAND_TIMEOUT_MS);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && metricValue(await server.metrics(), 'uhs_yjs_documents_open') > options.docs) await sleep(100);
      checkpoints.push(await sampler.checkpoint(label, churnedSoFar));
    };
    const rebase = (c: Checkpoint): Checkpoint => ({ ...c, t: (c.gcFrom - t0) / 1000 });
    checkpoints[0] = rebase(checkpoints[0]!);
    const warmupUntil = t0 + options.warmupS * 1000;
    const trafficEnd = t0 + options.durationS * 1000;
    await sleep(warmupUntil - Date.now());
    await checkpoint('after warm-up');
    log(`warm-up done: ${progress.churned} churned so far`);

    // a forced GC pauses the server: the storm starts one health interval after the checkpoint before it, so
    // that no lag report covers both; periodic checkpoints keep away from the storm for the same reason
    const stormAt = warmupUntil + options.stormAt * (options.durationS - options.warmupS) * 1000;
    const settleMs = (options.healthIntervalS + 1) * 1000;
    const plan: Array<{ at: number; what: 'checkpoint' | 'storm' }> = [
      { at: stormAt - settleMs, what: 'checkpoint' },
      { at: stormAt, what: 'storm' },
    ];
    for (let at = warmupUntil + options.checkpointEveryS * 1000; at < trafficEnd - settleMs; at += options.checkpointEveryS * 1000) {
      if (at > stormAt - 2 * settleMs && at < stormAt + 30_000) continue;
      plan.push({ at, what: 'checkpoint' });
    }
    plan.sort((a, b) => a.at - b.at);
    const cpu: { traffic?: CpuAccount; storm?: CpuAccount } = {};
    let storm: StormResult | null = null;
    let listenQueue: { overflows: number; drops: number } | null = null;
    let stormWindow: readonly [number, number] | null = null;
    for (const step of plan) {
      await sleep(step.at - Date.now());
      if (step.what === 'checkpoint') {
        await checkpoint(step.at === stormAt - settleMs ? 'before the storm' : `t+${Math.round((Date.now() - t0) / 1000)} s`);
        continue;
      }
      log(`storm: dropping ${options.admins} admin connections at once`);
      const stormFrom = Date.now();
      const cpuStormFrom = cpuAt();
      const listen0 = listenQueueCounters();
      const storms = await Promise.all(
        trackers.map((tracker) => tracker.request({ type: 'storm', localAddresses: addresses(2), timeoutMs: options.stormTimeoutS * 1000 }, 'storm-done', options.stormTimeoutS * 1000 + COMMAND_TIMEOUT_MS)),
      );
      stormWindow = [stormFrom, Date.now()];
      cpu.storm = cpuAccount(cpuStormFrom, cpuAt());
      const listen1 = listenQueueCounters();
      listenQueue = { overflows: listen1.overflows - listen0.overflows, drops: listen1.drops - listen0.drops };
      storm = mergeStorms(storms, Math.max(...storms.map((s) => s.durationMs)));
      log(`storm: ${storm.resumed}/${storm.connections} resumed in ${(storm.durationMs / 1000).toFixed(1)} s, ${storm.replayed} events replayed, ${storm.retries} retries`);
    }

    await sleep(t0 + options.durationS * 1000 - Date.now());
    await checkpoint('end of traffic');
    const trafficUntil = Date.now();
    cpu.traffic = cpuAccount(cpuStart, cpuAt());
    await churn.request({ type: 'stop' }, 'stopped', COMMAND_TIMEOUT_MS);
    await services.request({ type: 'stop', settleMs: 15_000 }, 'stopped', COMMAND_TIMEOUT_MS);
    await publisher.stop();
    sampler.stop();
    await sleep(1_500); // presence of the last churners settles before the final event
    await publisher.publishFinal();
    const expectedFinal = started.opened;
    const finalDeadline = Date.now() + FINAL_TIMEOUT_MS;
    while (progress.finalSeen.reduce((a, b) => a + (b ?? 0), 0) < expectedFinal && Date.now() < finalDeadline) await sleep(200);
    log(`final event seen by ${progress.finalSeen.reduce((a, b) => a + (b ?? 0), 0)}/${expectedFinal} admins`);

    const accepted = [...publisher.accepted.keys()];
    const trackerReports: TrackerReport[] = await Promise.all(trackers.map((tracker) => tracker.request({ type: 'report', accepted }, 'report', COMMAND_TIMEOUT_MS)));
    const churnReport: ChurnReport = await churn.request({ type: 'report' }, 'report', COMMAND_TIMEOUT_MS);
    const servicesReport: ServicesReport = await services.request({ type: 'report' }, 'report', COMMAND_TIMEOUT_MS);

    for (const child of children.splice(0)) await child.stop();
    monitor.close();
    await sleep(3_000); // documents unload, rooms close
    checkpoints.push(await sampler.checkpoint('after every client left', churnedSoFar));
    const peakRssBytes = readPeakRssBytes(server.pid);

    const before = checkpoints.find((c) => c.label === 'after warm-up');
    const figures: SoakFigures = {
      memory: {
        checkpoints,
        fit: heapFit(checkpoints.slice(checkpoints.indexOf(before!), checkpoints.findIndex((c) => c.label === 'end of traffic') + 1)),
        afterWarmup: memoryGrowth(before, checkpoints.find((c) => c.label === 'end of traffic')),
        churnOnly: memoryGrowth(before, checkpoints.find((c) => c.label === 'before the storm')),
        afterAllLeft: (() => {
          const first = checkpoints[0];
          const last = checkpoints[checkpoints.length - 1];
          if (!first || !last) return null;
          const connections =
            started.opened +
            (storm?.resumed ?? 0) +
            trackerReports.reduce((acc, r) => acc + r.reconnects, 0) +
            churnReport.churned +
            churnReport.anchors +
            setUp.connections +
            servicesReport.yjs.rotated * options.peersPerDoc +
            1;
          const retained = first.heapUsedBytes !== null && last.heapUsedBytes !== null ? last.heapUsedBytes - first.heapUsedBytes : null;
          return { heapBytes: last.heapUsedBytes, rssBytes: last.rssBytes, retainedHeapBytes: retained, connections, retainedPerConnection: retained === null ? null : retained / connections };
        })(),
        peakRssBytes,
      },
      lag: classifyLag(monitor.samples, {
        intervalMs: options.healthIntervalS * 1000,
        trafficFrom: t0,
        warmupUntil,
        trafficUntil,
        gcWindows: checkpoints.map((c) => [c.gcFrom, c.gcTo + 300] as const),
        storm: stormWindow,
      }),
      deliveries: deliveryFigures(trackerReports, publisher.accepted),
      storm,
      errors: errorFigures(trackerReports, churnReport, servicesReport, publisher.failed, started.failed),
    };
    const { summary, verdict } = describe(figures, churnReport, servicesReport);
    for (const [name, account] of Object.entries(cpu)) summary.push(cpuLine(name, account));
    if (listenQueue) summary.push(`during the storm the machine's listen queues overflowed ${listenQueue.overflows} times (${listenQueue.drops} SYNs dropped; clients retry after 1, 3, 7, 15, 31 s)`);
    const windows = lagWindows(monitor.samples, sampler.samples, { t0, warmupUntil, trafficUntil, storm: stormWindow, healthIntervalMs: options.healthIntervalS * 1000 });
    summary.push(...windows.map(windowLine));
    console.log(`\n${summary.join('\n')}\n\n${verdict.join('\n')}`);
    if (monitor.closeReason && monitor.closeReason !== 'closed by the soak') console.log(`monitor connection closed by the server: ${monitor.closeReason}`);
    return {
      figures,
      verdict,
      cpu,
      listenQueue,
      windows,
      trackers: trackerReports.map(({ idBySeq: _ids, presence: _presence, ...rest }) => rest),
      churn: churnReport,
      services: servicesReport,
      memorySamples: sampler.samples,
      healthSamples: monitor.samples,
      publisher: { published: publisher.published, accepted: publisher.accepted.size, failed: publisher.failed, firstError: publisher.firstError },
    };
  } finally {
    for (const child of children) await child.stop();
    monitor.close();
  }
}

async function main(options: SoakOptions): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo();
  console.log(describeMachine(machine));
  const server = await startUhsServer({
    inspect: true,
    label: 'soak server',
    env: {
      HEALTH_INTERVAL_SECONDS: String(options.healthIntervalS),
      HEARTBEAT_INTERVAL_SECONDS: '30',
      MAX_CONNECTIONS_PER_USER: '100000',
      RATE_LIMIT_PER_SECOND: '1000',
    },
  });
  log(`server pid ${server.pid} on ${server.httpUrl}`);
  let results: Record<string, unknown>;
  try {
    results = await soak(options, server);
    if (server.exited) throw new Error(`server exited during the soak:\n${server.output()}`);
  } finally {
    await server.stop();
  }
  const file = resultsFile(options.quick ? 'soak-quick' : 'soak', startedAt, options.out);
  writeJson(file, { benchmark: 'soak', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options, ...results });
  console.log(`\nresults: ${file}`);
}

runBenchMain({
  argv: process.argv.slice(2),
  parse: parseSoakOptions,
  usage: USAGE,
  deadlineMs: (options) => (options.durationS + options.stormTimeoutS) * 1000 + 8 * 60_000,
  main,
});
