/** Command-line options of the scale-out benchmark. */
import { parseArgs } from 'node:util';
import { positive, positiveInt, positiveList } from '../shared/cli-values.js';

export interface ScaleOptions {
  readonly connections: number;
  /** Seconds each publishing phase lasts. */
  readonly durationS: number;
  /** Fixed publish rates, events per second. */
  readonly rates: readonly number[];
  /** Load-client processes in all (half on each side). */
  readonly clientProcesses: number;
  readonly connectConcurrency: number;
  /** Concurrent publisher connections in the max-rate phase. */
  readonly publishers: number;
  /** The max-rate phase stops publishing once events × N reaches this. */
  readonly maxPhaseDeliveries: number;
  readonly drainS: number;
  readonly out: string | null;
  readonly quick: boolean;
}

export const USAGE = `usage: node --import tsx bench/scale/run.ts [options]
  --connections N           admin connections, the same in both set-ups (default 10000)
  --duration S              seconds per publishing phase (default 10)
  --rates LIST              fixed publish rates in events/s (default 1,3)
  --clients N               load-client processes, split over the two sides (default 4)
  --connect-concurrency N   handshakes in flight per load client (default 64)
  --publishers N            concurrent publishers in the max-rate phase (default 4)
  --max-deliveries N        cap of events × connections in the max-rate phase (default 3000000)
  --drain S                 longest wait for late deliveries after a phase (default 10)
  --out FILE                JSON results (default bench/results/scale-<timestamp>.json)
  --quick                   smoke run: 400 connections, 2 s phases
  -h, --help`;

/** Parses argv; returns null when help was asked for. */
export function parseScaleOptions(argv: readonly string[]): ScaleOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      connections: { type: 'string' },
      duration: { type: 'string' },
      rates: { type: 'string' },
      clients: { type: 'string' },
      'connect-concurrency': { type: 'string' },
      publishers: { type: 'string' },
      'max-deliveries': { type: 'string' },
      drain: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick;
  const pick = <T>(value: string | undefined, name: string, parse: (v: string, n: string) => T, fallback: T): T =>
    value === undefined ? fallback : parse(value, name);
  const clientProcesses = pick(values.clients, 'clients', positiveInt, 4);
  if (clientProcesses < 2) throw new Error('--clients: at least 2 (one per side)');
  return {
    connections: pick(values.connections, 'connections', positiveInt, quick ? 400 : 10_000),
    durationS: pick(values.duration, 'duration', positive, quick ? 2 : 10),
    rates: pick(values.rates, 'rates', positiveList, quick ? [5] : [1, 3]),
    clientProcesses,
    connectConcurrency: pick(values['connect-concurrency'], 'connect-concurrency', positiveInt, 64),
    publishers: pick(values.publishers, 'publishers', positiveInt, 4),
    maxPhaseDeliveries: pick(values['max-deliveries'], 'max-deliveries', positiveInt, quick ? 400_000 : 3_000_000),
    drainS: pick(values.drain, 'drain', positive, 10),
    out: values.out ?? null,
    quick,
  };
}
