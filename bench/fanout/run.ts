/**
 * Fan-out benchmark: uhs-realtime against a bare `ws` broadcaster and a Socket.IO server, at
 * each connection count, in one run. See bench/fanout/README.md.
 *
 *   npm run bench:fanout -- [options]      (node --import tsx bench/fanout/run.ts)
 */
import path from 'node:path';
import { log, resultsFile, runBenchMain, writeJson } from '../shared/bench-main.js';
import { describeMachine, machineInfo } from '../shared/machine.js';
import { parseOptions, USAGE, type BenchOptions } from './options.js';
import { formatTable, type ResultsFile } from './report.js';
import { runScenario, type ScenarioResult } from './scenario.js';

/** Hard bound on the whole run; past it everything is killed. */
const RUN_DEADLINE_MS = 30 * 60_000;

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
  const file = resultsFile('fanout', startedAt, options.out);
  const contents: ResultsFile = { benchmark: 'fanout', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options, results };
  writeJson(file, contents);
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

runBenchMain({ argv: process.argv.slice(2), parse: parseOptions, usage: USAGE, deadlineMs: () => RUN_DEADLINE_MS, main });
