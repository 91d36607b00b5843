/**
 * One publishing phase of the scale-out benchmark over one set-up: both sides count the same events, the
 * publisher posts to instance #1 (at a fixed rate, or as fast as it answers), and the figures are taken from both
 * sides, every server process, the Redis process and the machine.
 */
import type { LoadFleet, MergedReport } from '../fanout/load-fleet.js';
import { nowMs } from '../fanout/protocol.js';
import { publishPhase, type PublishResult } from '../fanout/publisher.js';
import { Histogram, type LatencySummary } from '../fanout/stats.js';
import { metricValue } from '../shared/prometheus-text.js';
import { ownCpuSeconds, readCpuSecondsOrZero, readMachineCpuSeconds } from '../shared/proc-stats.js';
import { commandCalls, type PrivateRedis } from '../shared/redis-server.js';
import type { Deployment } from './deployment.js';
import type { ScaleOptions } from './options.js';

const STALL_MS = 2_000;
const QUIET_MS = 500;
const QUIET_MAX_MS = 30_000;

export interface Side {
  readonly fleet: LoadFleet;
  readonly connected: number;
}

export interface PhaseSpec {
  readonly name: string;
  /** null: the max-rate phase. */
  readonly eventsPerSecond: number | null;
}

/** Background Redis traffic (canaries, presence heartbeats), measured while nothing is published. */
export interface RedisBackground {
  readonly commandsPerSecond: number;
  readonly publishesPerSecond: number;
}

export interface SideFigures {
  readonly connected: number;
  readonly received: number;
  readonly lost: number;
  readonly latency: LatencySummary;
  readonly outOfOrder: number;
}

export interface ScalePhaseResult {
  readonly name: string;
  readonly eventsPerSecond: number | null;
  readonly published: PublishResult & { readonly perSecond: number };
  readonly expected: number;
  readonly received: number;
  readonly lost: number;
  /** received / (phase start → last delivery on either side). */
  readonly deliveriesPerSecond: number;
  readonly latency: LatencySummary;
  /** Side A: on the instance the events are posted to; side B: on the other instance (if two). */
  readonly sides: readonly [SideFigures, SideFigures];
  readonly elapsedS: number;
  readonly serverCpuS: readonly number[];
  /** Sum over the server processes, per delivery. */
  readonly serverCpuUsPerDelivery: number | null;
  readonly redisCpuS: number;
  readonly redisCpuUsPerEvent: number | null;
  readonly loadClientCpuS: number;
  /** Load clients' CPU per delivery (what the load generator pays for what the servers deliver). */
  readonly loadClientCpuUsPerDelivery: number | null;
  readonly publisherCpuS: number;
  readonly machineBusyCpus: number;
  readonly irqCpuS: number;
  readonly otherCpuS: number;
  readonly redis: {
    readonly commands: number;
    readonly publishes: number;
    /** (PUBLISH calls − background) / events accepted: 1 when an event is one Redis message. */
    readonly publishesPerEvent: number | null;
    readonly commandsPerEvent: number | null;
  };
  /** uhs_bus_messages_total deltas per instance. */
  readonly bus: ReadonlyArray<{ readonly published: number; readonly received: number; readonly publishFailures: number }>;
  readonly closes: Readonly<Record<string, number>>;
}

export interface PhaseContext {
  readonly deployment: Deployment;
  readonly redis: PrivateRedis;
  readonly sides: readonly [Side, Side];
  readonly options: ScaleOptions;
  readonly background: RedisBackground;
}

const cpuOf = readCpuSecondsOrZero;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function busCounters(deployment: Deployment): Promise<Array<{ published: number; received: number; publishFailures: number }>> {
  return Promise.all(
    deployment.instances.map(async (instance) => {
      const samples = await instance.metrics();
      return {
        published: metricValue(samples, 'uhs_bus_messages_total', { direction: 'published' }),
        received: metricValue(samples, 'uhs_bus_messages_total', { direction: 'received' }),
        publishFailures: metricValue(samples, 'uhs_bus_messages_total', { direction: 'publish_failures' }),
      };
    }),
  );
}

/** Commands and PUBLISH calls per second in Redis while nothing is published (over `ms`). */
export async function measureRedisBackground(redis: PrivateRedis, ms: number): Promise<RedisBackground> {
  const before = await redis.info('all');
  const started = nowMs();
  await sleep(ms);
  const after = await redis.info('all');
  const seconds = (nowMs() - started) / 1000;
  return {
    commandsPerSecond: (Number(after.total_commands_processed) - Number(before.total_commands_processed)) / seconds,
    publishesPerSecond: (commandCalls(after, 'publish') - commandCalls(before, 'publish')) / seconds,
  };
}

function sideFigures(report: MergedReport, side: Side, accepted: number): SideFigures {
  const expected = accepted * side.connected;
  return { connected: side.connected, received: report.received, lost: expected - report.received, latency: report.latency.summary(), outOfOrder: report.outOfOrder };
}

export async function runScalePhase(spec: PhaseSpec, phase: number, ctx: PhaseContext): Promise<ScalePhaseResult> {
  const { deployment, redis, sides, options } = ctx;
  const fleets = sides.map((side) => side.fleet);
  const serverPids = deployment.instances.map((instance) => instance.pid);
  const clientPids = fleets.flatMap((fleet) => fleet.pids);
  const connected = sides.reduce((acc, side) => acc + side.connected, 0);
  await Promise.all(fleets.map((fleet) => fleet.waitQuiet(QUIET_MS, QUIET_MAX_MS)));
  await Promise.all(fleets.map((fleet) => fleet.startPhase(phase)));
  const [bus0, info0] = await Promise.all([busCounters(deployment), redis.info('all')]);
  const server0 = serverPids.map(cpuOf);
  const redis0 = cpuOf(redis.pid);
  const client0 = clientPids.reduce((acc, pid) => acc + cpuOf(pid), 0);
  const own0 = ownCpuSeconds();
  const machine0 = readMachineCpuSeconds();
  const started = nowMs();
  const published = await publishPhase(deployment.publish, phase, spec.eventsPerSecond, options, connected);
  await Promise.all(
    sides.map((side) => side.fleet.drain({ expected: published.accepted * side.connected, stallMs: STALL_MS, maxMs: options.drainS * 1000 })),
  );
  await sleep(250); // one more progress/report round for deliveries that raced the drain check
  const reports = await Promise.all(fleets.map((fleet) => fleet.report()));
  const serverCpuS = serverPids.map((pid, i) => cpuOf(pid) - (server0[i] ?? 0));
  const redisProcCpuS = cpuOf(redis.pid) - redis0;
  const loadClientCpuS = clientPids.reduce((acc, pid) => acc + cpuOf(pid), 0) - client0;
  const publisherCpuS = ownCpuSeconds() - own0;
  const machine1 = readMachineCpuSeconds();
  const elapsedS = (nowMs() - started) / 1000;
  const [bus1, info1] = await Promise.all([busCounters(deployment), redis.info('all')]);
  // Redis's own account (µs resolution) rather than /proc's 10 ms ticks; /proc is the fallback
  const redisCpu = (info: Readonly<Record<string, string>>): number => Number(info.used_cpu_user) + Number(info.used_cpu_sys);
  const redisInfoCpuS = redisCpu(info1) - redisCpu(info0);
  const redisCpuS = Number.isFinite(redisInfoCpuS) ? redisInfoCpuS : redisProcCpuS;

  const [reportA, reportB] = reports as [MergedReport, MergedReport];
  const [sideA, sideB] = sides;
  const received = reportA.received + reportB.received;
  const expected = published.accepted * connected;
  const lastAt = Math.max(reportA.lastAt ?? started, reportB.lastAt ?? started);
  const latency = new Histogram();
  latency.merge(reportA.latency.snapshot());
  latency.merge(reportB.latency.snapshot());
  const serverTotal = serverCpuS.reduce((acc, s) => acc + s, 0);
  const machineBusyS = machine1.busy - machine0.busy;
  const irqCpuS = machine1.irq - machine0.irq;
  const commands = Number(info1.total_commands_processed) - Number(info0.total_commands_processed);
  const publishes = commandCalls(info1, 'publish') - commandCalls(info0, 'publish');
  const accepted = published.accepted;
  const closes: Record<string, number> = {};
  for (const report of reports) for (const [reason, n] of Object.entries(report.closes)) closes[reason] = (closes[reason] ?? 0) + n;
  return {
    name: spec.name,
    eventsPerSecond: spec.eventsPerSecond,
    published: { ...published, perSecond: accepted / (published.durationMs / 1000) },
    expected,
    received,
    lost: expected - received,
    deliveriesPerSecond: received / (Math.max(1, lastAt - started) / 1000),
    latency: latency.summary(),
    sides: [sideFigures(reportA, sideA, accepted), sideFigures(reportB, sideB, accepted)],
    elapsedS,
    serverCpuS,
    serverCpuUsPerDelivery: received > 0 ? (serverTotal * 1e6) / received : null,
    redisCpuS,
    redisCpuUsPerEvent: accepted > 0 ? (redisCpuS * 1e6) / accepted : null,
    loadClientCpuS,
    loadClientCpuUsPerDelivery: received > 0 ? (loadClientCpuS * 1e6) / received : null,
    publisherCpuS,
    machineBusyCpus: machineBusyS / elapsedS,
    irqCpuS,
    otherCpuS: Math.max(0, machineBusyS - irqCpuS - serverTotal - redisCpuS - loadClientCpuS - publisherCpuS),
    redis: {
      commands,
      publishes,
      publishesPerEvent: accepted > 0 ? (publishes - ctx.background.publishesPerSecond * elapsedS) / accepted : null,
      commandsPerEvent: accepted > 0 ? (commands - ctx.background.commandsPerSecond * elapsedS) / accepted : null,
    },
    bus: bus1.map((after, i) => {
      const before = bus0[i] ?? after;
      return {
        published: after.published - before.published,
        received: after.received - before.received,
        publishFailures: after.publishFailures - before.publishFailures,
      };
    }),
    closes,
  };
}
