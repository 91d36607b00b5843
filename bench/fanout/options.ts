/** Command-line options of the fan-out benchmark. */
import { parseArgs } from 'node:util';
import { SERVER_NAMES, type ServerName } from './servers.js';

export interface BenchOptions {
  readonly servers: readonly ServerName[];
  readonly connections: readonly number[];
  /** Seconds each publishing phase lasts. */
  readonly durationS: number;
  /** Fixed publish rates, events per second. */
  readonly rates: readonly number[];
  /** Fixed-rate phases offering more deliveries per second than this are skipped (the max phase covers overload). */
  readonly maxOfferedPerS: number;
  /** Load-client processes (at least enough for ≤ 8,000 sockets each). */
  readonly clientProcesses: number;
  /** Handshakes in flight per load-client process. */
  readonly connectConcurrency: number;
  /** Distinct user ids (`sub`) the connections of ours are spread over. */
  readonly users: number;
  /** Concurrent publisher connections in the max-rate phase. */
  readonly publishers: number;
  /** The max-rate phase stops publishing once events × N reaches this. */
  readonly maxPhaseDeliveries: number;
  /** Longest wait for outstanding deliveries after publishing stops, seconds. */
  readonly drainS: number;
  readonly out: string | null;
  readonly quick: boolean;
}

export const USAGE = `usage: node --import tsx bench/fanout/run.ts [options]
  --servers LIST            ours,bare-ws,socketio (default: all three)
  --connections LIST        connection counts, e.g. 1000,10000 (default)
  --duration S              seconds per publishing phase (default 5)
  --rates LIST              fixed publish rates in events/s (default 1,5,20)
  --max-offered N           skip fixed rates above N deliveries/s (default 100000)
  --clients N               load-client processes (default 4)
  --connect-concurrency N   handshakes in flight per load client (default 64)
  --users N                 distinct JWT subjects for ours (default 1; see README)
  --publishers N            concurrent publishers in the max-rate phase (default 4)
  --max-deliveries N        cap of events × connections in the max-rate phase (default 3000000)
  --drain S                 longest wait for late deliveries after a phase (default 10)
  --out FILE                JSON results (default bench/results/fanout-<timestamp>.json)
  --quick                   smoke run: 200 connections, 2 s phases, rates 1,20
  -h, --help`;

function list(value: string, name: string): string[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) throw new Error(`--${name} needs at least one value`);
  return items;
}

function positive(value: string, name: string): number {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: not a positive number: ${value}`);
  return n;
}

function positiveInt(value: string, name: string): number {
  const n = positive(value, name);
  if (!Number.isInteger(n)) throw new Error(`--${name}: not an integer: ${value}`);
  return n;
}

function serverName(value: string): ServerName {
  const found = SERVER_NAMES.find((name) => name === value);
  if (!found) throw new Error(`--servers: unknown server ${value} (known: ${SERVER_NAMES.join(', ')})`);
  return found;
}

/** Parses argv; returns null when help was asked for. */
export function parseOptions(argv: readonly string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      servers: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      rates: { type: 'string' },
      'max-offered': { type: 'string' },
      clients: { type: 'string' },
      'connect-concurrency': { type: 'string' },
      users: { type: 'string' },
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
  return {
    servers: pick(values.servers, 'servers', (v, n) => [...new Set(list(v, n).map(serverName))], [...SERVER_NAMES]),
    connections: pick(values.connections, 'connections', (v, n) => list(v, n).map((item) => positiveInt(item, n)), quick ? [200] : [1000, 10_000]),
    durationS: pick(values.duration, 'duration', positive, quick ? 2 : 5),
    rates: pick(values.rates, 'rates', (v, n) => list(v, n).map((item) => positive(item, n)), quick ? [1, 20] : [1, 5, 20]),
    maxOfferedPerS: pick(values['max-offered'], 'max-offered', positive, 100_000),
    clientProcesses: pick(values.clients, 'clients', positiveInt, 4),
    connectConcurrency: pick(values['connect-concurrency'], 'connect-concurrency', positiveInt, 64),
    users: pick(values.users, 'users', positiveInt, 1),
    publishers: pick(values.publishers, 'publishers', positiveInt, 4),
    maxPhaseDeliveries: pick(values['max-deliveries'], 'max-deliveries', positiveInt, 3_000_000),
    drainS: pick(values.drain, 'drain', positive, 10),
    out: values.out ?? null,
    quick,
  };
}
