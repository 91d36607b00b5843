/** Command-line options of the support chat benchmark. */
import { parseArgs } from 'node:util';
import type { DialectName } from './server-process.js';

export interface ChatBenchOptions {
  readonly dialects: readonly DialectName[];
  readonly tickets: number;
  /** Aggregate rates of the fixed-rate phases, messages per second. */
  readonly rates: readonly number[];
  /** Seconds each measured phase lasts. */
  readonly durationS: number;
  /** Unacknowledged messages per connection in the max-rate phase. */
  readonly window: number;
  /** Run the max-rate phase (default true). */
  readonly max: boolean;
  readonly clients: number;
  readonly pgAdminUrl: string;
  readonly out: string | null;
}

export const USAGE = `usage: npm run bench:chat -- [options]
  --dialects LIST   sqlite,postgres (default both; postgres is skipped if it cannot be reached)
  --tickets N       tickets, each with one customer and one staff connection (default 500)
  --rates LIST      fixed aggregate rates in messages/s (default 2000)
  --duration S      seconds per measured phase (default 10)
  --window N        messages in flight per connection in the max-rate phase (default 2)
  --no-max          skip the max-rate phase
  --clients N       load-client processes (default 2)
  --pg URL          PostgreSQL admin URL for creating the bench database (default $TEST_PG_URL or postgres://root@127.0.0.1:5432/test)
  --out FILE        JSON results (default bench/results/chat-<timestamp>.json)
  --quick           smoke run: 50 tickets, 2 s phases, rate 500
  -h, --help`;

function positive(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: not a positive number: ${value}`);
  return n;
}

export function parseOptions(argv: readonly string[]): ChatBenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      dialects: { type: 'string' },
      tickets: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      window: { type: 'string' },
      'no-max': { type: 'boolean', default: false },
      clients: { type: 'string' },
      pg: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick;
  const dialects = (values.dialects ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  for (const d of dialects) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--dialects: unknown ${d}`);
  return {
    dialects: dialects as DialectName[],
    tickets: Math.round(values.tickets ? positive(values.tickets, 'tickets') : quick ? 50 : 500),
    rates: values.rates ? values.rates.split(',').map((r) => positive(r, 'rates')) : quick ? [500] : [2000],
    durationS: values.duration ? positive(values.duration, 'duration') : quick ? 2 : 10,
    window: Math.round(values.window ? positive(values.window, 'window') : 2),
    max: !values['no-max'],
    clients: Math.round(values.clients ? positive(values.clients, 'clients') : 2),
    pgAdminUrl: values.pg ?? process.env.TEST_PG_URL ?? 'postgres://root@127.0.0.1:5432/test',
    out: values.out ?? null,
  };
}
