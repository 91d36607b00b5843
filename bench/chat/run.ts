/**
 * Support chat benchmark: N tickets × (1 customer + 1 staff connection) against a server child process, messages
 * at fixed aggregate rates and then at the maximum rate, on SQLite and on PostgreSQL. Reports stored-and-delivered
 * messages/s, sender → other-side latency and server CPU per 10,000 messages.
 *
 *   npm run bench:chat -- [options]      (node --import tsx bench/chat/run.ts)
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { Histogram, type LatencySummary } from '../fanout/stats.js';
import { log, resultsFile, runBenchMain, writeJson } from '../shared/bench-main.js';
import { track } from '../shared/child-processes.js';
import { describeMachine, machineInfo } from '../shared/machine.js';
import { readCpuSeconds } from '../shared/proc-stats.js';
import { parseOptions, USAGE, type ChatBenchOptions } from './options.js';
import { readRunQueueWaitSeconds } from './sched-stats.js';
import type { ChildMessage, ParentMessage, PhaseReport, PhaseSpec, TicketPair } from './protocol.js';
import { createPgDatabase, startChatServer, type ChatServer, type DialectName } from './server-process.js';

const RUN_DEADLINE_MS = 20 * 60_000;
const DRAIN_MS = 10_000;
const benchDir = path.dirname(fileURLToPath(import.meta.url));

interface PhaseResult {
  readonly dialect: DialectName;
  readonly phase: string;
  readonly offeredPerS: number | null;
  readonly sent: number;
  readonly acked: number;
  readonly stored: number;
  readonly delivered: number;
  readonly seconds: number;
  readonly storedPerS: number;
  readonly latency: LatencySummary;
  readonly serverCpuSPer10k: number;
  readonly serverCpuUtilization: number;
  /** Share of the phase the server was runnable but waiting for a CPU (other processes had them). */
  readonly serverRunQueueWait: number;
  readonly clientCpuUtilization: number;
  readonly errors: Readonly<Record<string, number>>;
}

class LoadClient {
  private readonly waiters: Array<(message: ChildMessage) => void> = [];
  readonly child: ChildProcess;

  constructor() {
    this.child = track(fork(path.join(benchDir, 'load-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.child.on('message', (message: ChildMessage) => {
      if (message.type === 'fatal') {
        log(`load client failed: ${message.error}`);
        process.exit(1);
      }
      this.waiters.shift()?.(message);
    });
  }

  request<T extends ChildMessage['type']>(message: ParentMessage, expect: T): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.waiters.push((reply) => (reply.type === expect ? resolve(reply as Extract<ChildMessage, { type: T }>) : reject(new Error(`expected ${expect}, got ${reply.type}`))));
      this.child.send(message);
    });
  }

  exit(): void {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies ParentMessage);
  }
}

async function registerTickets(server: ChatServer, count: number): Promise<TicketPair[]> {
  const pairs: TicketPair[] = [];
  for (let i = 0; i < count; i++) {
    const ticketId = `bench-${i}`;
    const customer = `customer-${i}`;
    const staff = `staff-${i}`;
    pairs.push({
      ticketId,
      customer: { userId: customer, token: await mintAccessToken({ secret: server.secret, sub: customer, role: i % 2 === 0 ? 'student' : 'parent', ttlSeconds: 3600 }) },
      staff: { userId: staff, token: await mintAccessToken({ secret: server.secret, sub: staff, role: 'staff', ttlSeconds: 3600 }) },
    });
  }
  let next = 0;
  const worker = async () => {
    while (next < pairs.length) {
      const pair = pairs[next++]!;
      const response = await fetch(`${server.httpUrl}/api/v1/tickets/${pair.ticketId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ requester_id: pair.customer.userId, subject: `Benchmark ticket ${pair.ticketId}` }),
      });
      if (!response.ok) throw new Error(`PUT ticket: HTTP ${response.status}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return pairs;
}

async function runPhase(dialect: DialectName, server: ChatServer, clients: readonly LoadClient[], spec: (share: number) => PhaseSpec, offered: number | null): Promise<PhaseResult> {
  const storedBefore = await server.metric('uhs_chat_messages_stored_total');
  const cpuBefore = readCpuSeconds(server.pid);
  const waitBefore = readRunQueueWaitSeconds(server.pid);
  const specs = clients.map((_, i) => spec(i));
  const reports: PhaseReport[] = (await Promise.all(clients.map((client, i) => client.request({ type: 'phase', phase: specs[i]! }, 'phase-done')))).map((m) => m.report);
  const cpu = readCpuSeconds(server.pid) - cpuBefore;
  const wait = readRunQueueWaitSeconds(server.pid) - waitBefore;
  const stored = (await server.metric('uhs_chat_messages_stored_total')) - storedBefore;
  const latency = new Histogram();
  const errors: Record<string, number> = {};
  let sent = 0;
  let acked = 0;
  let delivered = 0;
  let clientCpu = 0;
  for (const r of reports) {
    latency.merge(r.latency);
    sent += r.sent;
    acked += r.acked;
    delivered += r.delivered;
    clientCpu += r.clientCpuS;
    for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  }
  const firstSend = Math.min(...reports.filter((r) => r.sent > 0).map((r) => r.firstSendAt));
  const lastEvent = Math.max(...reports.map((r) => r.lastEventAt));
  const seconds = Math.max(0.001, (lastEvent - firstSend) / 1000);
  const name = specs[0]!.name;
  return {
    dialect,
    phase: name,
    offeredPerS: offered,
    sent,
    acked,
    stored,
    delivered,
    seconds: round(seconds),
    storedPerS: Math.round(Math.min(acked, delivered) / seconds),
    latency: latency.summary(),
    serverCpuSPer10k: acked > 0 ? round((cpu / acked) * 10_000) : 0,
    serverCpuUtilization: round(cpu / seconds),
    serverRunQueueWait: round(wait / seconds),
    clientCpuUtilization: round(clientCpu / seconds),
    errors,
  };
}

async function runDialect(dialect: DialectName, options: ChatBenchOptions): Promise<PhaseResult[]> {
  let database: { url: string; drop: () => Promise<void> } | undefined;
  if (dialect === 'postgres') {
    try {
      database = await createPgDatabase(options.pgAdminUrl);
    } catch (error) {
      log(`postgres: skipped (${error instanceof Error ? error.message : String(error)})`);
      return [];
    }
  }
  const server = await startChatServer({ databaseUrl: database?.url, readyTimeoutMs: 30_000 });
  const clients = Array.from({ length: options.clients }, () => new LoadClient());
  try {
    log(`${dialect}: registering ${options.tickets} tickets`);
    const pairs = await registerTickets(server, options.tickets);
    log(`${dialect}: connecting ${pairs.length * 2} sockets`);
    const shares = clients.map((_, i) => pairs.filter((_, j) => j % clients.length === i));
    const connected = await Promise.all(clients.map((client, i) => client.request({ type: 'connect', wsBase: server.wsUrl, pairs: shares[i]!, concurrency: 32 }, 'connected')));
    const failures = connected.reduce((n, c) => n + c.failures, 0);
    if (failures > 0) throw new Error(`${failures} connections failed: ${connected.find((c) => c.firstError)?.firstError}`);
    const share = (rate: number) => rate / clients.length;
    const seconds = options.durationS * 1000;
    log(`${dialect}: warm-up`);
    await runPhase(dialect, server, clients, () => ({ mode: 'fixed', name: 'warm-up', rate: share(Math.min(500, options.rates[0] ?? 500)), durationMs: 2000, drainMs: DRAIN_MS }), null);
    const results: PhaseResult[] = [];
    for (const rate of options.rates) {
      log(`${dialect}: ${rate} messages/s for ${options.durationS} s`);
      results.push(await runPhase(dialect, server, clients, () => ({ mode: 'fixed', name: `fixed ${rate}/s`, rate: share(rate), durationMs: seconds, drainMs: DRAIN_MS }), rate));
    }
    if (options.max) {
      log(`${dialect}: maximum rate (window ${options.window} per connection) for ${options.durationS} s`);
      results.push(await runPhase(dialect, server, clients, () => ({ mode: 'max', name: `max (window ${options.window})`, window: options.window, durationMs: seconds, drainMs: DRAIN_MS }), null));
    }
    return results;
  } finally {
    for (const client of clients) client.exit();
    await server.stop();
    await database?.drop().catch((error: unknown) => log(`dropping the bench database failed: ${String(error)}`));
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function ms(value: number | null): string {
  return value === null ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(1);
}

function table(results: readonly PhaseResult[]): string {
  const lines = [
    '| database | phase | offered msg/s | stored+delivered msg/s | latency p50 ms | p99 ms | max ms | server CPU s per 10k msgs | server CPU (cores) | server waiting for a CPU | load clients CPU (cores) | errors |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    const errors = Object.entries(r.errors).map(([code, n]) => `${code}: ${n}`).join(', ') || 'none';
    const lost = r.sent - Math.min(r.acked, r.delivered);
    lines.push(
      `| ${r.dialect} | ${r.phase} | ${r.offeredPerS ?? 'max'} | ${r.storedPerS} | ${ms(r.latency.p50Ms)} | ${ms(r.latency.p99Ms)} | ${ms(r.latency.maxMs)} | ${r.serverCpuSPer10k} | ${r.serverCpuUtilization} | ${Math.round(r.serverRunQueueWait * 100)} % | ${r.clientCpuUtilization} | ${errors}${lost > 0 ? `; ${lost} not delivered` : ''}${r.stored !== r.acked ? `; stored ${r.stored} ≠ acked ${r.acked}` : ''} |`,
    );
  }
  return lines.join('\n');
}

async function main(options: ChatBenchOptions): Promise<void> {
  const startedAt = new Date();
  const machine = machineInfo();
  console.log(describeMachine(machine));
  const results: PhaseResult[] = [];
  for (const dialect of options.dialects) results.push(...(await runDialect(dialect, options)));
  console.log(`\n${options.tickets} tickets × (1 customer + 1 staff); ${options.clients} load-client processes\n`);
  console.log(table(results));
  const file = resultsFile('chat', startedAt, options.out);
  writeJson(file, { benchmark: 'chat', startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options, results });
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
}

runBenchMain({ argv: process.argv.slice(2), parse: parseOptions, usage: USAGE, deadlineMs: () => RUN_DEADLINE_MS, main });
