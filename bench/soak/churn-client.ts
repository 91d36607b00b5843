/**
 * The churn process of the soak: role-channel connections of all six roles opening and closing continuously.
 * Most use a small pool of subjects per role, each kept online by an anchor connection, so that a churned
 * connection costs the server a connection and not a presence broadcast to every admin; a few (`freshPerS`) are
 * users of their own, whose connect and close are `user.online` / `user.offline` events. A churner lives a random
 * time, may ping, and closes cleanly (1000) or drops (no close frame). Started with `fork` by run.ts.
 */
import WebSocket from 'ws';
import { ROLES, type Role } from '../../src/protocol/roles.js';
import { childMain } from '../shared/ipc-child.js';
import { tokenCache } from './tokens.js';
import { bump, type ChurnIn, type ChurnOut, type ChurnPlan, type ChurnReport, type Counts, type ServerAccess } from './protocol.js';

const MAX_LIFETIME_MS = 40 * 60_000;
const READY_TIMEOUT_MS = 15_000;
const PROGRESS_MS = 1_000;
/** Bound on churners alive at once, whatever the rate and lifetimes. */
const MAX_LIVE = 3_000;
/** Share of churners that close without a close frame. */
const ABRUPT_SHARE = 0.2;
const PING_SHARE = 0.5;

let access: ServerAccess | null = null;
let plan: ChurnPlan | null = null;
const anchors: WebSocket[] = [];
let anchorsOpen = 0;
const live = new Set<WebSocket>();
let running = false;
let opened = 0;
let churned = 0;
let fresh = 0;
let failed = 0;
let firstError: string | null = null;
const closes: Counts = {};
const errors: Counts = {};
let pingsSent = 0;
let pongs = 0;
let closedClean = 0;
let closedAbrupt = 0;
let timers: NodeJS.Timeout[] = [];

const token = tokenCache(() => access?.secret ?? '');

function localAddress(): string {
  const addresses = plan?.localAddresses ?? [];
  return addresses[opened % Math.max(1, addresses.length)] ?? '127.0.0.1';
}

/** Opens one role-channel socket; resolves with it on `connection.ready`. `onServerClose` hears closes we did not make. */
async function open(subject: string, role: Role, onServerClose: (code: number, reason: string) => void): Promise<WebSocket> {
  const jwt = await token(subject, role);
  opened++;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${access?.wsUrl ?? ''}/ws/${role}/${jwt}`, { localAddress: localAddress(), handshakeTimeout: READY_TIMEOUT_MS, perMessageDeflate: false });
    let ready = false;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('no connection.ready in time'));
    }, READY_TIMEOUT_MS);
    ws.on('message', (raw) => {
      let message: { type?: unknown; data?: { code?: unknown } };
      try {
        message = JSON.parse(raw.toString()) as typeof message;
      } catch {
        bump(errors, 'unparsable frame');
        return;
      }
      if (message.type === 'connection.ready' && !ready) {
        ready = true;
        clearTimeout(timer);
        resolve(ws);
      } else if (message.type === 'pong') {
        pongs++;
      } else if (message.type === 'error') {
        bump(errors, String(message.data?.code ?? 'unknown'));
      }
    });
    ws.on('error', (error) => {
      if (ready) return;
      clearTimeout(timer);
      reject(error);
    });
    ws.on('close', (code, reason) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`closed ${code} ${reason.toString()}`));
        return;
      }
      if (!(ws as WebSocket & { closedByUs?: boolean }).closedByUs) onServerClose(code, reason.toString());
    });
  });
}

function closeByUs(ws: WebSocket, abrupt: boolean): void {
  (ws as WebSocket & { closedByUs?: boolean }).closedByUs = true;
  if (abrupt) {
    ws.terminate();
    closedAbrupt++;
  } else {
    ws.close(1000, 'bye');
    closedClean++;
  }
}

function recordFailure(error: unknown): void {
  failed++;
  firstError ??= error instanceof Error ? error.message : String(error);
}

/** One churner: open, maybe ping, live a random time, close. */
async function churnOne(subject: string, role: Role, isFresh: boolean): Promise<void> {
  if (!plan || live.size >= MAX_LIVE) return;
  let ws: WebSocket;
  try {
    ws = await open(subject, role, (code, reason) => {
      bump(closes, `${code} ${reason}`.trim());
      live.delete(ws);
    });
  } catch (error) {
    recordFailure(error);
    return;
  }
  live.add(ws);
  churned++;
  if (isFresh) fresh++;
  if (Math.random() < PING_SHARE) {
    ws.send('{"type":"ping"}');
    pingsSent++;
  }
  const lifetime = plan.minLifetimeMs + Math.random() * (plan.maxLifetimeMs - plan.minLifetimeMs);
  setTimeout(() => {
    if (!live.delete(ws)) return;
    closeByUs(ws, Math.random() < ABRUPT_SHARE);
  }, lifetime);
}

async function start(message: Extract<ChurnIn, { type: 'start' }>): Promise<number> {
  access = message.access;
  plan = message.plan;
  const subjects: Array<{ subject: string; role: Role }> = [];
  for (const role of ROLES) for (let k = 0; k < plan.subjectsPerRole; k++) subjects.push({ subject: `churn-${role}-${k}`, role });
  await Promise.all(
    subjects.map(async ({ subject, role }) => {
      const ws = await open(subject, role, (code, reason) => {
        bump(closes, `anchor ${code} ${reason}`.trim());
        anchorsOpen--;
      });
      anchors.push(ws);
      anchorsOpen++;
    }),
  );
  running = true;
  let n = 0;
  const every = (perS: number, tick: () => void): void => {
    if (perS > 0) timers.push(setInterval(tick, 1000 / perS));
  };
  every(plan.ratePerS, () => {
    const pick = subjects[n++ % subjects.length];
    if (pick) void churnOne(pick.subject, pick.role, false);
  });
  let freshN = 0;
  every(plan.freshPerS, () => {
    const role = ROLES[freshN % ROLES.length] ?? 'student';
    void churnOne(`fresh-${process.pid}-${freshN++}`, role, true);
  });
  return anchors.length;
}

async function stop(): Promise<void> {
  running = false;
  for (const timer of timers) clearInterval(timer);
  timers = [];
  for (const ws of [...live]) {
    live.delete(ws);
    closeByUs(ws, false);
  }
  // let the close handshakes go out before the orchestrator reads presence
  await new Promise((resolve) => setTimeout(resolve, 500));
}

function report(): ChurnReport {
  return { type: 'report', anchors: anchors.length, anchorsOpen, churned, fresh, failed, firstError, closes, errors, pingsSent, pongs, closedClean, closedAbrupt };
}

const reply = childMain<ChurnIn, ChurnOut>({
  maxLifetimeMs: MAX_LIFETIME_MS,
  onExit: () => {
    for (const ws of [...anchors, ...live]) ws.terminate();
  },
  async handle(message, send) {
    switch (message.type) {
      case 'start':
        send({ type: 'started', anchors: await start(message) });
        return;
      case 'stop':
        await stop();
        send({ type: 'stopped', churned });
        return;
      case 'report':
        send(report());
        return;
      case 'shutdown':
        for (const ws of [...anchors, ...live]) ws.terminate();
        process.exit(0);
    }
  },
});

setInterval(() => {
  if (running || live.size > 0) reply({ type: 'progress', churned, live: live.size });
}, PROGRESS_MS).unref();
