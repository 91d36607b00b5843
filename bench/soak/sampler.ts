/**
 * What the soak reads from the server over time: RSS (/proc) and V8 heap (inspector) every few seconds, forced-GC
 * checkpoints, and the server's own `system.health.update` reports (event-loop lag p99/max per health interval,
 * memory, connections) through one admin connection of its own.
 */
import WebSocket from 'ws';
import { readRunQueueWaitSeconds } from '../chat/sched-stats.js';
import { ownCpuSeconds, readCpuSecondsOrZero, readMachineCpuSeconds, readRssBytes } from '../shared/proc-stats.js';
import type { UhsServer } from '../shared/uhs-server.js';

export interface MemorySample {
  /** Seconds since traffic started. */
  readonly t: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number | null;
  /** CPU counters at that moment (cumulative): differences between samples give the load over time. */
  readonly cpu: CpuSnapshot;
}

export interface Checkpoint {
  readonly label: string;
  readonly t: number;
  /** Wall-clock window of the forced GC (its pause shows as event-loop lag: those intervals are left out). */
  readonly gcFrom: number;
  readonly gcTo: number;
  readonly gc: boolean;
  readonly rssBytes: number;
  readonly heapUsedBytes: number | null;
  /** Churned role-channel connections so far. */
  readonly churned: number;
}

export interface HealthSample {
  /** Server time of the report (end of its interval), epoch ms. */
  readonly at: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly lagMeanMs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly connections: number;
  readonly messagesOutPerS: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class MemorySampler {
  readonly samples: MemorySample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly server: UhsServer,
    private readonly t0: number,
    private readonly loadPids: readonly number[] = [],
  ) {}

  start(periodMs: number): void {
    this.timer = setInterval(() => void this.sample(), periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const rssBytes = readRssBytes(this.server.pid);
      const cpu = cpuSnapshot(this.server.pid, this.loadPids);
      const heap = await this.server.heapUsage();
      this.samples.push({ t: (cpu.at - this.t0) / 1000, rssBytes, heapUsedBytes: heap?.usedBytes ?? null, cpu });
    } catch {
      // the server exited: the run reports it
    } finally {
      this.busy = false;
    }
  }

  /** Full GC, then RSS and heap. */
  async checkpoint(label: string, churned: () => number): Promise<Checkpoint> {
    const gcFrom = Date.now();
    const gc = await this.server.collectGarbage();
    const gcTo = Date.now();
    await sleep(300);
    const heap = await this.server.heapUsage();
    return { label, t: (gcFrom - this.t0) / 1000, gcFrom, gcTo, gc, rssBytes: readRssBytes(this.server.pid), heapUsedBytes: heap?.usedBytes ?? null, churned: churned() };
  }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
}

/** One admin connection that keeps every `system.health.update`. */
export class HealthMonitor {
  readonly samples: HealthSample[] = [];
  private closedUnexpectedly: string | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => this.onMessage(raw.toString()));
    ws.on('close', (code, reason) => {
      this.closedUnexpectedly ??= `${code} ${reason.toString()}`;
    });
  }

  static async connect(server: UhsServer): Promise<HealthMonitor> {
    const ws = new WebSocket(`${server.wsUrl}/ws/admin/${await server.token('soak-monitor', 'admin')}`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`monitor closed ${code}`)));
    });
    return new HealthMonitor(ws);
  }

  /** How the monitor's connection ended, if the server closed it. */
  get closeReason(): string | null {
    return this.closedUnexpectedly;
  }

  private onMessage(text: string): void {
    if (!text.includes('"system.health.update"')) return;
    const message = JSON.parse(text) as { timestamp?: string; data?: Record<string, unknown> };
    const data = message.data ?? {};
    const lag = (data.event_loop_lag_ms ?? {}) as Record<string, unknown>;
    const memory = (data.memory ?? {}) as Record<string, unknown>;
    const connections = (data.connections ?? {}) as Record<string, unknown>;
    this.samples.push({
      at: Date.parse(message.timestamp ?? '') || Date.now(),
      lagP99Ms: num(lag.p99),
      lagMaxMs: num(lag.max),
      lagMeanMs: num(lag.mean),
      rssBytes: num(memory.rss_bytes),
      heapUsedBytes: num(memory.heap_used_bytes),
      connections: num(connections.total),
      messagesOutPerS: num(data.messages_out_per_second),
    });
  }

  close(): void {
    this.closedUnexpectedly ??= 'closed by the soak';
    this.ws.close(1000);
  }
}

/** CPU counters at one moment: the server's, the load processes', the machine's. */
export interface CpuSnapshot {
  readonly at: number;
  readonly serverCpuS: number;
  /** Time the server's threads were runnable but waiting for a CPU. */
  readonly serverWaitS: number;
  readonly loadCpuS: number;
  readonly machineBusyS: number;
  readonly machineIrqS: number;
}

export interface CpuAccount {
  readonly seconds: number;
  readonly serverCpus: number;
  /** Share of the wall time the server was kept waiting for a CPU (summed over its threads). */
  readonly serverWaitShare: number;
  readonly loadCpus: number;
  readonly irqCpus: number;
  /** CPUs taken by processes that are not this benchmark's (other engineers' tests): interference. */
  readonly otherCpus: number;
  readonly machineBusyCpus: number;
}


export function cpuSnapshot(serverPid: number, loadPids: readonly number[]): CpuSnapshot {
  const machine = readMachineCpuSeconds();
  return {
    at: Date.now(),
    serverCpuS: readCpuSecondsOrZero(serverPid),
    serverWaitS: readRunQueueWaitSeconds(serverPid),
    loadCpuS: loadPids.reduce((acc, pid) => acc + readCpuSecondsOrZero(pid), 0) + ownCpuSeconds(),
    machineBusyS: machine.busy,
    machineIrqS: machine.irq,
  };
}

/** CPU use between the first and the last memory sample taken within [from, to] (epoch ms). */
export function cpuBetween(samples: readonly MemorySample[], from: number, to: number): CpuAccount | null {
  const inside = samples.filter((sample) => sample.cpu.at >= from && sample.cpu.at <= to);
  const first = inside[0];
  const last = inside[inside.length - 1];
  return first && last && last !== first ? cpuAccount(first.cpu, last.cpu) : null;
}

export function cpuAccount(from: CpuSnapshot, to: CpuSnapshot): CpuAccount {
  const seconds = (to.at - from.at) / 1000;
  const server = to.serverCpuS - from.serverCpuS;
  const load = to.loadCpuS - from.loadCpuS;
  const irq = to.machineIrqS - from.machineIrqS;
  const busy = to.machineBusyS - from.machineBusyS;
  return {
    seconds,
    serverCpus: server / seconds,
    serverWaitShare: (to.serverWaitS - from.serverWaitS) / seconds,
    loadCpus: load / seconds,
    irqCpus: irq / seconds,
    otherCpus: Math.max(0, busy - irq - server - load) / seconds,
    machineBusyCpus: busy / seconds,
  };
}
