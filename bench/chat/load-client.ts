/**
 * A load-client process of the chat benchmark: holds the customer and staff connections of its share of the
 * tickets, sends chat messages as told, and measures sender → other-side latency (both ends of a ticket are in
 * this process, so one clock times both). Started with `fork`; exits when the orchestrator goes away.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { Histogram } from '../fanout/stats.js';
import type { ChildMessage, ParentMessage, PhaseReport, PhaseSpec, TicketPair } from './protocol.js';

const MAX_LIFETIME_MS = 30 * 60_000;
const TICK_MS = 5;

interface Conn {
  readonly ws: WebSocket;
  readonly userId: string;
  readonly index: number;
  inFlight: number;
  seq: number;
}

const conns: Conn[] = [];
let phase: { spec: PhaseSpec; sending: boolean; report: MutableReport; latency: Histogram } | undefined;

interface MutableReport {
  sent: number;
  acked: number;
  delivered: number;
  errors: Record<string, number>;
  firstSendAt: number;
  lastEventAt: number;
}

function send(message: ChildMessage): void {
  process.send?.(message);
}

function sendChat(conn: Conn): void {
  if (!phase || conn.ws.readyState !== WebSocket.OPEN) return;
  const now = performance.now();
  conn.seq++;
  conn.inFlight++;
  // content carries the send time; the other side subtracts it from its receive time
  conn.ws.send(`{"type":"chat_message","data":{"content":"t ${now.toFixed(3)}","client_msg_id":"${conn.index}-${conn.seq}"}}`);
  const report = phase.report;
  if (report.sent === 0) report.firstSendAt = Date.now();
  report.sent++;
}

function onMessage(conn: Conn, raw: WebSocket.RawData): void {
  const received = performance.now();
  const message = JSON.parse(raw.toString()) as { type: string; data: { sender_id?: string; content?: string; code?: string } };
  if (!phase) return;
  const report = phase.report;
  if (message.type === 'chat_message') {
    report.lastEventAt = Date.now();
    if (message.data.sender_id === conn.userId) {
      report.acked++;
      conn.inFlight--;
      if (phase.spec.mode === 'max' && phase.sending) sendChat(conn);
    } else {
      report.delivered++;
      const sentAt = Number(message.data.content?.slice(2));
      if (Number.isFinite(sentAt)) phase.latency.recordMs(received - sentAt);
    }
  } else if (message.type === 'error') {
    const code = message.data.code ?? 'unknown';
    report.errors[code] = (report.errors[code] ?? 0) + 1;
  }
}

function connectOne(url: string, userId: string, index: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 15_000 });
    const conn: Conn = { ws, userId, index, inFlight: 0, seq: 0 };
    const timer = setTimeout(() => reject(new Error('no chat_history within 15 s')), 15_000);
    ws.once('message', (raw) => {
      clearTimeout(timer);
      const first = JSON.parse(raw.toString()) as { type: string };
      if (first.type !== 'chat_history') return reject(new Error(`first message was ${first.type}`));
      ws.on('message', (data) => onMessage(conn, data));
      resolve(conn);
    });
    ws.once('close', (code, reason) => reject(new Error(`closed ${code} ${reason.toString()}`)));
    ws.once('error', (error) => reject(error));
  });
}

async function connectAll(wsBase: string, pairs: readonly TicketPair[], concurrency: number): Promise<void> {
  const jobs: Array<{ url: string; userId: string }> = [];
  for (const pair of pairs) {
    jobs.push({ url: `${wsBase}/ws/support-chat/${pair.ticketId}/${pair.customer.token}`, userId: pair.customer.userId });
    jobs.push({ url: `${wsBase}/ws/support-chat/${pair.ticketId}/${pair.staff.token}`, userId: pair.staff.userId });
  }
  let next = 0;
  let failures = 0;
  let firstError: string | null = null;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i]!;
      try {
        conns.push(await connectOne(job.url, job.userId, i));
      } catch (error) {
        failures++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  send({ type: 'connected', connections: conns.length, failures, firstError });
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function runPhase(spec: PhaseSpec): Promise<void> {
  const report: MutableReport = { sent: 0, acked: 0, delivered: 0, errors: {}, firstSendAt: 0, lastEventAt: 0 };
  phase = { spec, sending: true, report, latency: new Histogram() };
  const cpuStart = cpuSeconds();
  const start = performance.now();
  if (spec.mode === 'max') {
    for (let w = 0; w < spec.window; w++) for (const conn of conns) sendChat(conn);
    await delay(spec.durationMs);
  } else {
    let next = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - start;
        const due = Math.floor((Math.min(elapsed, spec.durationMs) * spec.rate) / 1000) - report.sent;
        // round robin over connections: customer and staff of each ticket take turns
        for (let i = 0; i < due && conns.length > 0; i++) sendChat(conns[next++ % conns.length]!);
        if (elapsed >= spec.durationMs) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
  }
  phase.sending = false;
  const drainUntil = performance.now() + spec.drainMs;
  while ((report.acked < report.sent || report.delivered < report.sent) && performance.now() < drainUntil) await delay(20);
  const done: PhaseReport = {
    name: spec.name,
    ...report,
    latency: phase.latency.snapshot(),
    clientCpuS: cpuSeconds() - cpuStart,
  };
  phase = undefined;
  for (const conn of conns) conn.inFlight = 0;
  send({ type: 'phase-done', report: done });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

process.on('message', (message: ParentMessage) => {
  const fail = (error: unknown) => send({ type: 'fatal', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  switch (message.type) {
    case 'connect':
      connectAll(message.wsBase, message.pairs, message.concurrency).catch(fail);
      return;
    case 'phase':
      runPhase(message.phase).catch(fail);
      return;
    case 'exit':
      for (const conn of conns) conn.ws.terminate();
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref();
