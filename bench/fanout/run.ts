/**
 * Fan-out benchmark: uhs-realtime against a bare `ws` broadcaster and a Socket.IO server, at
 * each connection count, in one run. See bench/fanout/README.md.
 *
 *   npm run bench:fanout -- [options]      (node --import tsx bench/fanout/run.ts)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllChildren } from '../shared/child-processes.js';
import { describeMachine, machineInfo } from '../shared/machine.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { formatTable, writeResults } from './report.js';
import { runScenario, type ScenarioResult } from './scenario.js';

/** Hard bound on the whole run; past it everything is killed. */
const RUN_DEADLINE_MS = 30 * 60_000;

const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Cycles through 127.0.0.2 … 127.0.0.254 so that no source address runs out of ports. */
function sourceAddresses(): () => string {
  let next = 0;
  return () => {
    const address = `127.0.0.${2 + (next % 253)}`;
    next += 1;
    return address;
  };
}

async function main(options: BenchOptions): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo();
  console.log(describeMachine(machine));
  const nextSourceAddress = sourceAddresses();
  const results: ScenarioResult[] = [];
  for (const n of options.connections) {
    for (const server of options.servers) {
      log(`${server}: ${n} connections`);
      results.push(await runScenario(server, n, { options, nextSourceAddress, log }));
    }
    console.log(`\n${formatTable(n, results, options.servers)}`);
  }
  const stamp = startedAt.toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const file = options.out ?? path.join(resultsDir, `fanout-${stamp}.json`);
  writeResults(file, { benchmark: 'fanout', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options, results });
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

let options: BenchOptions | null;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  process.exit(2);
}
if (options === null) {
  console.log(USAGE);
  process.exit(0);
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    process.exit(130);
  });
}
const deadline = setTimeout(() => {
  log(`run exceeded ${RUN_DEADLINE_MS / 60_000} minutes: stopping`);
  process.exit(1);
}, RUN_DEADLINE_MS);
deadline.unref();

main(options).then(
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
