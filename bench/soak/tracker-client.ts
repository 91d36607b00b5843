/**
 * A tracker process of the soak: holds admin role-channel connections for the whole run and counts, per
 * connection and by event id, every event it receives, so that lost, duplicated and reordered deliveries show.
 * On `storm` it drops its connections at once (no close frame, as a network cut) and reconnects all of them
 * with `?since=<last id seen>`; the replay must fill the gap exactly. Started with `fork` by run.ts.
 */
import WebSocket from 'ws';
import { forEachConcurrently } from '../shared/concurrency.js';
import { childMain } from '../shared/ipc-child.js';
import { tokenCache } from './tokens.js';
import { bump, type Counts, type ServerAccess, type StormResult, type TrackerIn, type TrackerOut, type TrackerReport } from './protocol.js';

const MAX_LIFETIME_MS = 40 * 60_000;
const PROGRESS_MS = 1_000;
const READY_TIMEOUT_MS = 30_000;
const RECONNECT_DELAY_MS = 500;
const MAX_RECONNECTS = 20;

interface Conn {
  readonly index: number;
  readonly subject: string;
  readonly anchor: boolean;
  ws: WebSocket | null;
  ready: boolean;
  lastId: string;
  readonly counts: Uint8Array;
  /** Id of the first soak event: presence events after it are counted. */
  startId: string | null;
  final: boolean;
  presence: number;
  reconnects: number;
  /** Settles the open in progress on `connection.ready` (or `resume.done` when resuming). */
  pending: { readonly resuming: boolean; readonly resolve: () => void; readonly reject: (error: Error) => void } | null;
}

interface Envelope {
  readonly type?: unknown;
  readonly id?: unknown;
  readonly data?: Record<string, unknown>;
}

let access: ServerAccess | null = null;
const conns: Conn[] = [];
const idBySeq: Record<number, string> = {};
let idConflicts = 0;
const presence = new Map<string, number>();
const closes: Counts = {};
const errors: Counts = {};
let outOfOrder = 0;
let received = 0;
let healthEvents = 0;
let replayed = 0;
let incomplete = 0;
let shuttingDown = false;

const tokens = tokenCache(() => access?.secret ?? '');
const token = (subject: string): Promise<string> => tokens(subject, 'admin');

function onEvent(conn: Conn, message: Envelope, id: string): void {
  if (id <= conn.lastId) outOfOrder++;
  else conn.lastId = id;
  const data = message.data ?? {};
  const seq = data.soak_seq;
  if (typeof seq === 'number') {
    if (seq >= 0 && seq < conn.counts.length) conn.counts[seq] = Math.min(255, (conn.counts[seq] ?? 0) + 1);
    const known = idBySeq[seq];
    if (known === undefined) idBySeq[seq] = id;
    else if (known !== id) idConflicts++;
    if (seq === 0) conn.startId = id;
    if (data.soak_final === true) conn.final = true;
    return;
  }
  if (message.type === 'system.health.update') {
    healthEvents++;
    return;
  }
  if ((message.type === 'user.online' || message.type === 'user.offline') && conn.startId !== null && !conn.final && id > conn.startId) {
    presence.set(id, (presence.get(id) ?? 0) + 1);
    conn.presence++;
  }
}

function onMessage(conn: Conn, raw: WebSocket.RawData): void {
  received++;
  let message: Envelope;
  try {
    message = JSON.parse(raw.toString()) as Envelope;
  } catch {
    bump(errors, 'unparsable frame');
    return;
  }
  switch (message.type) {
    case 'connection.ready':
      conn.ready = true;
      if (conn.pending && !conn.pending.resuming) conn.pending.resolve();
      return;
    case 'resume.done':
      replayed += typeof message.data?.count === 'number' ? message.data.count : 0;
      if (message.data?.complete !== true) incomplete++;
      conn.pending?.resolve();
      return;
    case 'error':
      bump(errors, String(message.data?.code ?? 'unknown'));
      return;
    default:
      if (typeof message.id === 'string') onEvent(conn, message, message.id);
  }
}

/** Opens the connection's socket; resolves on `connection.ready`, or on `resume.done` when resuming from `since`. */
function openSocket(conn: Conn, localAddress: string, since: string | null, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  return token(conn.subject).then(
    (jwt) =>
      new Promise<void>((resolve, reject) => {
        const query = since ? `?since=${encodeURIComponent(since)}` : '';
        const ws = new WebSocket(`${access?.wsUrl ?? ''}/ws/admin/${jwt}${query}`, { localAddress, handshakeTimeout: timeoutMs, perMessageDeflate: false });
        conn.ws = ws;
        conn.ready = false;
        const timer = setTimeout(() => fail(new Error(since ? 'no resume.done in time' : 'no connection.ready in time')), timeoutMs);
        const settle = (): void => {
          clearTimeout(timer);
          conn.pending = null;
        };
        const fail = (error: Error): void => {
          settle();
          if (conn.ws === ws) conn.ws = null;
          ws.terminate();
          reject(error);
        };
        conn.pending = {
          resuming: since !== null,
          resolve: () => {
            settle();
            resolve();
          },
          reject: fail,
        };
        ws.on('message', (raw) => {
          if (conn.ws === ws) onMessage(conn, raw);
        });
        ws.on('error', (error) => {
          if (conn.ws === ws && conn.pending) conn.pending.reject(error);
        });
        ws.on('close', (code, reason) => {
          if (conn.ws !== ws) return; // an old socket we dropped on purpose
          if (conn.pending) {
            conn.pending.reject(new Error(`closed ${code} ${reason.toString()}`));
            return;
          }
          conn.ws = null;
          conn.ready = false;
          if (shuttingDown) return;
          bump(closes, `${code} ${reason.toString()}`.trim());
          scheduleReconnect(conn, localAddress);
        });
      }),
  );
}

/** After a close nobody asked for, come back with `since` as a real client would. */
function scheduleReconnect(conn: Conn, localAddress: string): void {
  if (conn.reconnects >= MAX_RECONNECTS) return;
  conn.reconnects++;
  setTimeout(() => {
    if (shuttingDown || conn.ws !== null) return;
    openSocket(conn, localAddress, conn.lastId || null).catch((error: unknown) => {
      bump(closes, `reconnect failed: ${error instanceof Error ? error.message : String(error)}`);
      scheduleReconnect(conn, localAddress);
    });
  }, RECONNECT_DELAY_MS);
}

async function connectAll(message: Extract<TrackerIn, { type: 'connect' }>): Promise<TrackerOut> {
  access = message.access;
  const started = performance.now();
  let failed = 0;
  let firstError: string | null = null;
  await forEachConcurrently(message.count, message.concurrency, async (index) => {
    const conn: Conn = {
      index,
      subject: message.subjects[index % message.subjects.length] ?? 'admin-0',
      anchor: index < message.anchors,
      ws: null,
      ready: false,
      lastId: '',
      counts: new Uint8Array(message.maxSeq + 1),
      startId: null,
      final: false,
      presence: 0,
      reconnects: 0,
      pending: null,
    };
    try {
      await openSocket(conn, message.localAddresses[index % message.localAddresses.length] ?? '127.0.0.1', null);
      conns.push(conn);
    } catch (error) {
      failed++;
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  });
  return { type: 'connected', opened: conns.length, failed, firstError, durationMs: performance.now() - started };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function storm(message: Extract<TrackerIn, { type: 'storm' }>): Promise<StormResult> {
  const targets = conns.filter((conn) => !conn.anchor);
  const replayedBefore = replayed;
  const incompleteBefore = incomplete;
  const started = performance.now();
  const deadline = started + message.timeoutMs;
  for (const conn of targets) {
    const ws = conn.ws;
    conn.ws = null;
    conn.ready = false;
    ws?.terminate();
  }
  let retries = 0;
  let firstError: string | null = null;
  const resumeMs: number[] = [];
  await Promise.all(
    targets.map(async (conn, i) => {
      const localAddress = message.localAddresses[i % message.localAddresses.length] ?? '127.0.0.1';
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0) return;
        try {
          await openSocket(conn, localAddress, conn.lastId || null, Math.min(left, READY_TIMEOUT_MS));
          resumeMs.push(performance.now() - started);
          return;
        } catch (error) {
          retries++;
          firstError ??= error instanceof Error ? error.message : String(error);
          await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 750));
        }
      }
    }),
  );
  resumeMs.sort((a, b) => a - b);
  return {
    type: 'storm-done',
    connections: targets.length,
    resumed: resumeMs.length,
    retries,
    firstError,
    durationMs: (resumeMs[resumeMs.length - 1] ?? performance.now() - started),
    resumeMs: { p50: quantile(resumeMs, 0.5), p99: quantile(resumeMs, 0.99), max: resumeMs[resumeMs.length - 1] ?? 0 },
    replayed: replayed - replayedBefore,
    incomplete: incomplete - incompleteBefore,
  };
}

function report(accepted: readonly number[]): TrackerReport {
  const acceptedSet = new Set(accepted);
  let lost = 0;
  let connectionsMissing = 0;
  let duplicates = 0;
  let unexpected = 0;
  let minPresence = Number.POSITIVE_INFINITY;
  let maxPresence = 0;
  for (const conn of conns) {
    let missing = 0;
    for (const seq of accepted) {
      const n = conn.counts[seq] ?? 0;
      if (n === 0) missing++;
      else duplicates += n - 1;
    }
    conn.counts.forEach((n, seq) => {
      if (n > 0 && !acceptedSet.has(seq)) unexpected += n;
    });
    lost += missing;
    if (missing > 0) connectionsMissing++;
    minPresence = Math.min(minPresence, conn.presence);
    maxPresence = Math.max(maxPresence, conn.presence);
  }
  return {
    type: 'report',
    connections: conns.length,
    open: conns.filter((conn) => conn.ready).length,
    lost,
    connectionsMissing,
    duplicates,
    unexpected,
    outOfOrder,
    idBySeq,
    idConflicts,
    presence: Object.fromEntries(presence),
    presencePerConnection: { min: conns.length === 0 ? 0 : minPresence, max: maxPresence },
    closes,
    errors,
    reconnects: conns.reduce((acc, conn) => acc + conn.reconnects, 0),
    healthEvents,
  };
}

function closeAll(): void {
  shuttingDown = true;
  for (const conn of conns) conn.ws?.terminate();
}

const reply = childMain<TrackerIn, TrackerOut>({
  maxLifetimeMs: MAX_LIFETIME_MS,
  onExit: closeAll,
  async handle(message, send) {
    switch (message.type) {
      case 'connect':
        send(await connectAll(message));
        return;
      case 'storm':
        send(await storm(message));
        return;
      case 'report':
        send(report(message.accepted));
        return;
      case 'shutdown':
        closeAll();
        process.exit(0);
    }
  },
});

setInterval(() => {
  reply({
    type: 'progress',
    open: conns.reduce((acc, conn) => acc + (conn.ready ? 1 : 0), 0),
    finalSeen: conns.reduce((acc, conn) => acc + (conn.final ? 1 : 0), 0),
    received,
  });
}, PROGRESS_MS).unref();
