/**
 * Scale-out benchmark: the fan-out load (N admins, one published event to all of them) through one uhs-realtime
 * instance and through two, both behind a Redis of the benchmark's own, in one run. See docs/benchmarks.md
 * (Scale-out).
 *
 *   npm run bench:scale -- [options]      (node --import tsx bench/scale/run.ts)
 */
import { LoadFleet } from '../fanout/load-fleet.js';
import { publishAtRate } from '../fanout/publisher.js';
import { log, resultsFile, runBenchMain, writeJson } from '../shared/bench-main.js';
import { describeMachine, machineInfo } from '../shared/machine.js';
import { startPrivateRedis, type PrivateRedis } from '../shared/redis-server.js';
import { startDeployment, type SetupName } from './deployment.js';
import { parseScaleOptions, USAGE, type ScaleOptions } from './options.js';
import { measureRedisBackground, runScalePhase, type PhaseSpec, type ScalePhaseResult, type Side } from './phase.js';
import { formatTable, verdict, type SetupResult } from './report.js';

const SETUPS: readonly SetupName[] = ['one instance', 'two instances'];
const MAX_SOCKETS_PER_CLIENT_PROCESS = 8_000;
const CONNECT_TIMEOUT_MS = 15_000;
const LOAD_CLIENT_LIFETIME_MS = 20 * 60_000;
const BACKGROUND_MS = 3_000;

/** 127.0.0.2 … 127.0.0.254 in turn, one per load process and set-up, so that no source address runs out of ports. */
function sourceAddresses(): () => string {
  let next = 0;
  return () => `127.0.0.${2 + (next++ % 253)}`;
}

function phasePlan(options: ScaleOptions): PhaseSpec[] {
  return [...options.rates.map((rate) => ({ name: `${rate}/s`, eventsPerSecond: rate })), { name: 'max', eventsPerSecond: null }];
}

function phaseLine(setup: SetupName, p: ScalePhaseResult): string {
  const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(1));
  return (
    `${setup} ${p.name}: ${p.published.accepted} events (${p.published.perSecond.toFixed(1)}/s), ${p.received}/${p.expected} delivered, ` +
    `${Math.round(p.deliveriesPerSecond)}/s, p99 A ${ms(p.sides[0].latency.p99Ms)} B ${ms(p.sides[1].latency.p99Ms)} ms, ` +
    `servers ${p.serverCpuS.map((s) => s.toFixed(2)).join('+')} CPU-s (${p.serverCpuUsPerDelivery?.toFixed(1) ?? '-'} µs/delivery), ` +
    `redis ${p.redisCpuS.toFixed(2)} CPU-s, ${p.redis.publishesPerEvent?.toFixed(2) ?? '-'} PUBLISH/event, ` +
    `clients ${p.loadClientCpuS.toFixed(2)} CPU-s, machine ${p.machineBusyCpus.toFixed(2)} CPUs busy, other ${(p.otherCpuS / p.elapsedS).toFixed(2)} CPUs`
  );
}

async function runSetup(setup: SetupName, redis: PrivateRedis, options: ScaleOptions, nextAddress: () => string): Promise<SetupResult> {
  log(`${setup}: starting`);
  const deployment = await startDeployment(setup, redis);
  const fleets: LoadFleet[] = [];
  try {
    const counts = [Math.ceil(options.connections / 2), Math.floor(options.connections / 2)] as const;
    for (const count of counts) {
      const processes = Math.max(Math.ceil(options.clientProcesses / 2), Math.ceil(count / MAX_SOCKETS_PER_CLIENT_PROCESS));
      fleets.push(await LoadFleet.start({ processes, maxLifetimeMs: LOAD_CLIENT_LIFETIME_MS }));
    }
    const started = performance.now();
    const connects = await Promise.all(
      fleets.map(async (fleet, side) => {
        const addresses = fleet.pids.map(() => nextAddress());
        return fleet.connect({
          target: await deployment.target(deployment.sideInstance[side === 0 ? 0 : 1]),
          total: counts[side === 0 ? 0 : 1],
          concurrency: options.connectConcurrency,
          timeoutMs: CONNECT_TIMEOUT_MS,
          addressesFor: (p) => [addresses[p] ?? '127.0.0.1'],
        });
      }),
    );
    const connect = {
      opened: connects.reduce((acc, c) => acc + c.opened, 0),
      failed: connects.reduce((acc, c) => acc + c.failed, 0),
      firstError: connects.find((c) => c.firstError !== null)?.firstError ?? null,
      seconds: (performance.now() - started) / 1000,
    };
    log(`${setup}: ${connect.opened} connected in ${connect.seconds.toFixed(1)} s${connect.failed > 0 ? `, ${connect.failed} failed: ${connect.firstError}` : ''}`);
    if (connect.opened === 0) throw new Error(`${setup}: no connection opened: ${connect.firstError ?? '?'}`);
    const sides = fleets.map((fleet, i) => ({ fleet, connected: connects[i]?.opened ?? 0 })) as [Side, Side];
    // JIT warm-up of every path, not counted (no phase started yet)
    await publishAtRate(deployment.publish, { phase: -1, eventsPerSecond: 2, durationMs: 1_500 });
    const background = await measureRedisBackground(redis, BACKGROUND_MS);
    const phases: ScalePhaseResult[] = [];
    for (const [phase, spec] of phasePlan(options).entries()) {
      const result = await runScalePhase(spec, phase, { deployment, redis, sides, options, background });
      phases.push(result);
      log(phaseLine(setup, result));
      for (const instance of deployment.instances) if (instance.exited) throw new Error(`${instance.label} exited:\n${instance.output()}`);
    }
    return { setup, connections: connect.opened, connect, phases };
  } finally {
    await Promise.all(fleets.map((fleet) => fleet.stop()));
    await deployment.stop();
  }
}

async function main(options: ScaleOptions): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo();
  console.log(describeMachine(machine));
  const redis = await startPrivateRedis();
  const redisVersion = (await redis.info()).redis_version ?? '?';
  log(`own redis-server ${redisVersion} on ${redis.url} (pid ${redis.pid})`);
  const nextAddress = sourceAddresses();
  const results: SetupResult[] = [];
  try {
    for (const setup of SETUPS) results.push(await runSetup(setup, redis, options, nextAddress));
  } finally {
    await redis.stop();
  }
  console.log(`\nN = ${options.connections} admins, all on user u0; events posted to instance #1\n`);
  console.log(formatTable(results));
  const lines = verdict(results, machine);
  console.log(`\n${lines.join('\n')}`);
  const file = resultsFile('scale', startedAt, options.out);
  writeJson(file, { benchmark: 'scale', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, redisVersion, options, results, verdict: lines });
  console.log(`\nresults: ${file}`);
}

runBenchMain({
  argv: process.argv.slice(2),
  parse: parseScaleOptions,
  usage: USAGE,
  deadlineMs: () => 20 * 60_000,
  main,
});
