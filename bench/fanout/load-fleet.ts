/**
 * The orchestrator's side of the load clients: forks them, splits the connections among them,
 * drives phases over IPC and merges their reports.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopChild, track } from '../shared/child-processes.js';
import type { ChildMessage, ClientTarget, ParentMessage, PhaseReport } from './protocol.js';
import { Histogram } from './stats.js';

const LOAD_CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load-client.ts');
const COMMAND_TIMEOUT_MS = 30_000;

type MessageOf<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

interface Waiter {
  readonly type: ChildMessage['type'];
  readonly resolve: (message: ChildMessage) => void;
  readonly reject: (error: Error) => void;
}

/** One load-client process and what it last said. */
class Member {
  /** Phase being counted; progress about any other phase does not update `received`. */
  phase = -1;
  received = 0;
  total = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly child: ChildProcess,
    readonly index: number,
  ) {
    child.on('message', (message: ChildMessage) => this.onMessage(message));
    child.once('exit', (code, signal) => {
      const error = new Error(`load client ${index} exited (${code ?? signal})`);
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    });
  }

  private onMessage(message: ChildMessage): void {
    if (message.type === 'progress') {
      if (message.phase === this.phase) this.received = message.received;
      this.total = message.total;
      return;
    }
    if (message.type === 'fatal') {
      for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`load client ${this.index}: ${message.message}`));
      return;
    }
    const at = this.waiters.findIndex((waiter) => waiter.type === message.type);
    if (at >= 0) this.waiters.splice(at, 1)[0]?.resolve(message);
  }

  /** Registers for the next message of `type` (call before sending the command it answers). */
  next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<MessageOf<T>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load client ${this.index}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as MessageOf<T>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }
}

export interface FleetOptions {
  readonly processes: number;
  /** Each load client exits by itself after this long. */
  readonly maxLifetimeMs: number;
}

export interface ConnectPlan {
  readonly target: ClientTarget;
  readonly total: number;
  /** Handshakes in flight per process. */
  readonly concurrency: number;
  /** Per connection: first message (or Socket.IO connect) within this time. */
  readonly timeoutMs: number;
  /** Source addresses (127.0.0.0/8) for process p. */
  readonly addressesFor: (processIndex: number) => readonly string[];
}

export interface ConnectSummary {
  readonly opened: number;
  readonly failed: number;
  readonly firstError: string | null;
  /** Wall time from the connect command to the last process done, seen by the orchestrator. */
  readonly durationMs: number;
}

export interface MergedReport {
  readonly received: number;
  readonly latency: Histogram;
  readonly perEvent: readonly number[];
  readonly outOfOrder: number;
  readonly stray: number;
  readonly other: number;
  readonly closes: Readonly<Record<string, number>>;
  readonly open: number;
  readonly firstAt: number | null;
  readonly lastAt: number | null;
}

function merge(reports: readonly PhaseReport[]): MergedReport {
  const latency = new Histogram();
  const perEvent: number[] = [];
  const closes: Record<string, number> = {};
  let firstAt: number | null = null;
  let lastAt: number | null = null;
  for (const report of reports) {
    latency.merge(report.latency);
    report.perEvent.forEach((n, seq) => {
      perEvent[seq] = (perEvent[seq] ?? 0) + n;
    });
    for (const [reason, n] of Object.entries(report.closes)) closes[reason] = (closes[reason] ?? 0) + n;
    if (report.firstAt !== null) firstAt = firstAt === null ? report.firstAt : Math.min(firstAt, report.firstAt);
    if (report.lastAt !== null) lastAt = lastAt === null ? report.lastAt : Math.max(lastAt, report.lastAt);
  }
  const sum = (pick: (report: PhaseReport) => number): number => reports.reduce((acc, report) => acc + pick(report), 0);
  return {
    received: sum((r) => r.received),
    latency,
    perEvent: Array.from(perEvent, (n) => n ?? 0),
    outOfOrder: sum((r) => r.outOfOrder),
    stray: sum((r) => r.stray),
    other: sum((r) => r.other),
    closes,
    open: sum((r) => r.open),
    firstAt,
    lastAt,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class LoadFleet {
  private constructor(private readonly members: readonly Member[]) {}

  static async start(options: FleetOptions): Promise<LoadFleet> {
    const members = Array.from({ length: options.processes }, (_, index) => {
      const child = track(
        fork(LOAD_CLIENT, ['--max-lifetime-ms', String(options.maxLifetimeMs)], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      );
      return new Member(child, index);
    });
    await Promise.all(members.map((member) => member.next('ready', COMMAND_TIMEOUT_MS)));
    return new LoadFleet(members);
  }

  get pids(): number[] {
    return this.members.flatMap((member) => (member.child.pid === undefined ? [] : [member.child.pid]));
  }

  async connect(plan: ConnectPlan): Promise<ConnectSummary> {
    const processes = this.members.length;
    const perConnectionRounds = Math.ceil(plan.total / processes / Math.max(1, plan.concurrency));
    const timeoutMs = Math.min(600_000, plan.timeoutMs * (perConnectionRounds + 1));
    const started = performance.now();
    const results = await Promise.all(
      this.members.map((member, p) => {
        const count = Math.floor(plan.total / processes) + (p < plan.total % processes ? 1 : 0);
        const reply = member.next('connected', timeoutMs);
        member.send({
          type: 'connect',
          target: plan.target,
          count,
          localAddresses: plan.addressesFor(p),
          concurrency: plan.concurrency,
          timeoutMs: plan.timeoutMs,
        });
        return reply;
      }),
    );
    return {
      opened: results.reduce((acc, r) => acc + r.opened, 0),
      failed: results.reduce((acc, r) => acc + r.failed, 0),
      firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
      durationMs: performance.now() - started,
    };
  }

  /** Starts counting `phase` in every process; resolves once all of them do. */
  async startPhase(phase: number): Promise<void> {
    await Promise.all(
      this.members.map((member) => {
        const ack = member.next('phase-started', COMMAND_TIMEOUT_MS);
        member.phase = phase;
        member.received = 0;
        member.send({ type: 'phase', phase });
        return ack;
      }),
    );
  }

  /** Deliveries of the current phase, as of the last progress messages (≤ 200 ms old). */
  get received(): number {
    return this.members.reduce((acc, member) => acc + member.received, 0);
  }

  private get totalMessages(): number {
    return this.members.reduce((acc, member) => acc + member.total, 0);
  }

  /**
   * Waits until `expected` deliveries arrived, no message at all arrived for `stallMs`, or
   * `maxMs` passed. Resolves with the time waited.
   */
  async drain(options: { readonly expected: number; readonly stallMs: number; readonly maxMs: number }): Promise<number> {
    const started = performance.now();
    let lastTotal = this.totalMessages;
    let lastChange = started;
    for (;;) {
      const now = performance.now();
      if (this.received >= options.expected || now - started >= options.maxMs) break;
      const total = this.totalMessages;
      if (total !== lastTotal) {
        lastTotal = total;
        lastChange = now;
      } else if (now - lastChange >= options.stallMs) {
        break;
      }
      await sleep(50);
    }
    return performance.now() - started;
  }

  /** Waits until no message arrived for `quietMs` (the server finished sending), at most `maxMs`. */
  async waitQuiet(quietMs: number, maxMs: number): Promise<void> {
    await this.drain({ expected: Number.POSITIVE_INFINITY, stallMs: quietMs, maxMs });
  }

  async report(): Promise<MergedReport> {
    const reports = await Promise.all(
      this.members.map((member) => {
        const reply = member.next('report', COMMAND_TIMEOUT_MS);
        member.send({ type: 'report' });
        return reply;
      }),
    );
    return merge(reports);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (member) => {
        if (member.child.connected) member.send({ type: 'shutdown' });
        await stopChild(member.child, 5_000);
      }),
    );
  }
}
