/**
 * The process side of a benchmark's orchestrator: option errors and --help, a hard deadline, signals, and no
 * child left behind on any exit path. Also where results go (bench/results/, not committed) and the log line.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllChildren } from './child-processes.js';

const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** A progress line on stderr with the wall-clock time. */
export function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** bench/results/<name>-<time>.json, unless `out` is given. */
export function resultsFile(name: string, startedAt: Date, out: string | null): string {
  const stamp = startedAt.toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  return out ?? path.join(resultsDir, `${name}-${stamp}.json`);
}

export function writeJson(file: string, contents: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(contents, null, 2)}\n`);
}

export interface BenchMainOptions<O> {
  readonly argv: readonly string[];
  /** Parses argv; null means --help. */
  readonly parse: (argv: readonly string[]) => O | null;
  readonly usage: string;
  /** Past it everything is killed and the process exits 1. */
  readonly deadlineMs: (options: O) => number;
  readonly main: (options: O) => Promise<void>;
}

/** Runs `main` and exits: 0 when it resolves, 1 when it throws or overruns, 2 on bad options, 130 on a signal. */
export function runBenchMain<O>(spec: BenchMainOptions<O>): void {
  let options: O | null;
  try {
    options = spec.parse(spec.argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${spec.usage}`);
    process.exit(2);
  }
  if (options === null) {
    console.log(spec.usage);
    process.exit(0);
  }
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      log(`${signal}: stopping`);
      process.exit(130);
    });
  }
  const deadlineMs = spec.deadlineMs(options);
  const deadline = setTimeout(() => {
    log(`run exceeded ${Math.round(deadlineMs / 60_000)} minutes: stopping`);
    process.exit(1);
  }, deadlineMs);
  deadline.unref();
  spec.main(options).then(
    () => process.exit(0),
    (error: unknown) => {
      log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
