/** Command-line options of the soak benchmark. */
import { parseArgs } from 'node:util';
import { nonNegative, positive, positiveInt, range } from '../shared/cli-values.js';

export interface SoakOptions {
  /** Seconds of traffic, warm-up included. */
  readonly durationS: number;
  readonly warmupS: number;
  /** Admin connections that stay for the whole run and take part in the reconnect storm. */
  readonly admins: number;
  /** Distinct subjects the admins share (each also held by one anchor connection that does not storm). */
  readonly adminUsers: number;
  readonly trackerProcesses: number;
  /** When the storm starts, as a fraction of the time after warm-up. */
  readonly stormAt: number;
  readonly stormTimeoutS: number;
  /** Events per second published with POST /api/v1/events to all admins. */
  readonly eventRate: number;
  readonly churnRate: number;
  readonly freshRate: number;
  readonly churnLifetimeMs: readonly [number, number];
  readonly churnSubjectsPerRole: number;
  readonly docs: number;
  readonly peersPerDoc: number;
  readonly editRate: number;
  readonly tickets: number;
  readonly chatRate: number;
  readonly videoSessions: number;
  readonly peersPerSession: number;
  readonly signalRate: number;
  readonly healthIntervalS: number;
  /** Memory sampling period. */
  readonly sampleS: number;
  /** Forced-GC memory checkpoints after warm-up, this far apart. */
  readonly checkpointEveryS: number;
  readonly out: string | null;
  readonly quick: boolean;
}

export const USAGE = `usage: node --import tsx bench/soak/run.ts [options]
  --duration S            seconds of traffic, warm-up included (default 180)
  --warmup S              warm-up before the first memory checkpoint (default 30)
  --admins N              admin connections that count every event and take part in the storm (default 10000)
  --admin-users N         subjects they share, each also held by a non-storming anchor (default 20)
  --trackers N            tracker processes holding them (default 4; at most 5,000 connections each)
  --storm-at F            storm at this fraction of the time after warm-up (default 0.5)
  --storm-timeout S       longest the storm may take to resume everyone (default 90)
  --event-rate N          events/s published to all admins via the HTTP API (default 2)
  --churn-rate N          role-channel connections opened and closed per second (default 40)
  --fresh-rate N          of which users of their own, per second (presence events to all admins; default 0.5)
  --churn-lifetime A-B    churned connection lifetime range in ms (default 200-4000)
  --churn-subjects N      anchored churn subjects per role (default 5)
  --docs N --doc-peers N --edit-rate N          Yjs documents, y-websocket peers each, edits/s (default 4, 3, 20)
  --tickets N --chat-rate N                     support tickets (customer + staff), messages/s (default 20, 10)
  --video-sessions N --video-peers N --signal-rate N   sessions, peers each, offer/answer exchanges/s (default 5, 4, 10)
  --health-interval S     HEALTH_INTERVAL_SECONDS of the server: lag and memory reports (default 5)
  --sample S              memory sampling period (default 2)
  --checkpoint-every S    forced-GC heap checkpoints after warm-up, this far apart (default 30)
  --out FILE              JSON results (default bench/results/soak-<timestamp>.json)
  --quick                 smoke run, about 25 s: 300 admins, 12 s of traffic, storm included
  -h, --help`;

/** Parses argv; returns null when help was asked for. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions | null {
  const names = ['duration', 'warmup', 'admins', 'admin-users', 'trackers', 'storm-at', 'storm-timeout', 'event-rate', 'churn-rate', 'fresh-rate', 'churn-lifetime', 'churn-subjects', 'docs', 'doc-peers', 'edit-rate', 'tickets', 'chat-rate', 'video-sessions', 'video-peers', 'signal-rate', 'health-interval', 'sample', 'checkpoint-every', 'out'] as const;
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick === true;
  const get = <T>(name: (typeof names)[number], parse: (v: string, n: string) => T, full: T, smoke: T): T => {
    const raw = (values as Record<string, unknown>)[name];
    return typeof raw === 'string' ? parse(raw, name) : quick ? smoke : full;
  };
  const options: SoakOptions = {
    durationS: get('duration', positive, 180, 12),
    warmupS: get('warmup', positive, 30, 3),
    admins: get('admins', positiveInt, 10_000, 300),
    adminUsers: get('admin-users', positiveInt, 20, 5),
    trackerProcesses: get('trackers', positiveInt, 4, 2),
    stormAt: get('storm-at', positive, 0.5, 0.4),
    stormTimeoutS: get('storm-timeout', positive, 90, 8),
    eventRate: get('event-rate', positive, 2, 5),
    churnRate: get('churn-rate', nonNegative, 40, 20),
    freshRate: get('fresh-rate', nonNegative, 0.5, 1),
    churnLifetimeMs: get('churn-lifetime', range, [200, 4000] as [number, number], [200, 2000] as [number, number]),
    churnSubjectsPerRole: get('churn-subjects', positiveInt, 5, 2),
    docs: get('docs', positiveInt, 4, 2),
    peersPerDoc: get('doc-peers', positiveInt, 3, 2),
    editRate: get('edit-rate', nonNegative, 20, 20),
    tickets: get('tickets', positiveInt, 20, 4),
    chatRate: get('chat-rate', nonNegative, 10, 10),
    videoSessions: get('video-sessions', positiveInt, 5, 2),
    peersPerSession: get('video-peers', positiveInt, 4, 3),
    signalRate: get('signal-rate', nonNegative, 10, 10),
    healthIntervalS: get('health-interval', positive, 5, 2),
    sampleS: get('sample', positive, 2, 1),
    checkpointEveryS: get('checkpoint-every', positive, 30, 60),
    out: typeof (values as Record<string, unknown>).out === 'string' ? String((values as Record<string, unknown>).out) : null,
    quick,
  };
  if (options.warmupS >= options.durationS) throw new Error('--warmup must be shorter than --duration');
  if (options.stormAt >= 1) throw new Error('--storm-at must be below 1');
  if (options.peersPerSession < 2) throw new Error('--video-peers: at least 2');
  if (options.admins / options.trackerProcesses > 5_000) throw new Error('--trackers: at most 5,000 admin connections per process (open-files limit 20,000)');
  return options;
}
