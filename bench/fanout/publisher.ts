/**
 * Publishes benchmark events over HTTP keep-alive connections: at a fixed rate (open loop: a
 * slow server does not slow the schedule down, so queueing shows up as latency), or as fast as
 * the server accepts them (closed loop per publisher connection).
 *
 * Each event's `data` carries `bench_phase`, `bench_seq` and `sent_at`, taken just before the
 * request is issued, plus filler that gives it the size of a real `admin.metrics.update`.
 */
import http from 'node:http';
import { nowMs, type BenchEventData } from './protocol.js';

export interface PublishEndpoint {
  /** e.g. http://127.0.0.1:8000/api/v1/events */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PublishResult {
  /** Requests issued. */
  readonly sent: number;
  /** Answered 2xx: these are the events clients must receive. */
  readonly accepted: number;
  readonly failed: number;
  readonly firstError: string | null;
  /** From the first request to the last answer. */
  readonly durationMs: number;
}

const EVENT_TYPE = 'admin.metrics.update';
const REQUEST_TIMEOUT_MS = 30_000;

function eventBody(bench: BenchEventData): string {
  return JSON.stringify({
    type: EVENT_TYPE,
    data: {
      ...bench,
      active_users: 1843 + (bench.bench_seq % 97),
      active_sessions: 2310,
      requests_per_minute: 9200,
      error_rate: 0.0021,
      p95_response_ms: 182.5,
      window: '1m',
    },
    target: { roles: ['admin'] },
  });
}

class Tally {
  sent = 0;
  accepted = 0;
  failed = 0;
  firstError: string | null = null;
  private readonly started = nowMs();

  fail(message: string): void {
    this.failed += 1;
    this.firstError ??= message;
  }

  result(): PublishResult {
    const { sent, accepted, failed, firstError } = this;
    return { sent, accepted, failed, firstError, durationMs: nowMs() - this.started };
  }
}

/** One POST; resolves whether or not the server accepted it (the tally records which). */
function post(endpoint: PublishEndpoint, agent: http.Agent, body: string, tally: Tally): Promise<void> {
  tally.sent += 1;
  return new Promise((resolve) => {
    const request = http.request(
      endpoint.url,
      {
        method: 'POST',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: { ...endpoint.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const ok = response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          if (ok) tally.accepted += 1;
          else tally.fail(`HTTP ${response.statusCode ?? '?'}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`);
          resolve();
        });
        response.on('error', (error) => {
          tally.fail(error.message);
          resolve();
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error('publish timed out')));
    request.on('error', (error) => {
      tally.fail(error.message);
      resolve();
    });
    request.end(body);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export interface RateOptions {
  readonly phase: number;
  readonly eventsPerSecond: number;
  readonly durationMs: number;
}

/** Publishes `eventsPerSecond × duration` events on schedule, whatever the server's pace. */
export async function publishAtRate(endpoint: PublishEndpoint, options: RateOptions): Promise<PublishResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const tally = new Tally();
  const total = Math.max(1, Math.round((options.eventsPerSecond * options.durationMs) / 1000));
  const intervalMs = 1000 / options.eventsPerSecond;
  const start = nowMs();
  const inFlight: Array<Promise<void>> = [];
  try {
    for (let seq = 0; seq < total; seq++) {
      await sleep(start + seq * intervalMs - nowMs());
      const body = eventBody({ bench_phase: options.phase, bench_seq: seq, sent_at: nowMs() });
      inFlight.push(post(endpoint, agent, body, tally));
    }
    await Promise.all(inFlight);
  } finally {
    agent.destroy();
  }
  return tally.result();
}

export interface MaxOptions {
  readonly phase: number;
  readonly durationMs: number;
  /** Concurrent publisher loops, each on its own keep-alive connection. */
  readonly concurrency: number;
  /** Stop earlier once this many events were issued (bounds the deliveries a phase can owe). */
  readonly maxEvents: number;
}

/** Each loop posts the next event as soon as the previous one is answered, until time is up. */
export async function publishAtMaxRate(endpoint: PublishEndpoint, options: MaxOptions): Promise<PublishResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const tally = new Tally();
  const deadline = nowMs() + options.durationMs;
  let nextSeq = 0;
  const loop = async (): Promise<void> => {
    while (nowMs() < deadline && nextSeq < options.maxEvents) {
      const seq = nextSeq++;
      await post(endpoint, agent, eventBody({ bench_phase: options.phase, bench_seq: seq, sent_at: nowMs() }), tally);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, loop));
  } finally {
    agent.destroy();
  }
  return tally.result();
}

/** The options of a fan-out run that shape its publishing (bench:fanout and bench:scale share them). */
export interface PublishingOptions {
  readonly durationS: number;
  /** Max-rate phase: concurrent publisher loops. */
  readonly publishers: number;
  /** Max-rate phase: cap of events × connections. */
  readonly maxPhaseDeliveries: number;
}

/**
 * One phase's publishing: on schedule at `eventsPerSecond`, or (null) as fast as answered up to the delivery cap
 * for `connections` receivers.
 */
export function publishPhase(endpoint: PublishEndpoint, phase: number, eventsPerSecond: number | null, options: PublishingOptions, connections: number): Promise<PublishResult> {
  const durationMs = options.durationS * 1000;
  return eventsPerSecond === null
    ? publishAtMaxRate(endpoint, { phase, durationMs, concurrency: options.publishers, maxEvents: Math.max(1, Math.floor(options.maxPhaseDeliveries / connections)) })
    : publishAtRate(endpoint, { phase, eventsPerSecond, durationMs });
}
