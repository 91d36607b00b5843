/**
 * What one load-client process knows about the deliveries of the current phase: how many, how
 * late, to which event, in what order per connection. Fed envelopes, no sockets.
 */
import type { BenchEventData, PhaseReport } from './protocol.js';
import { Histogram } from './stats.js';

/** Per-connection state the counter keeps to spot duplicates and reordering. */
export interface ConnectionCursor {
  phase: number;
  /** Server-assigned id of the last event (ids sort by publish time). */
  lastId: string;
}

export function newCursor(): ConnectionCursor {
  return { phase: -1, lastId: '' };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

interface BenchDelivery extends BenchEventData {
  readonly id: string;
}

/** The envelope's id and the bench fields of its `data`, or null for any other message. */
export function benchFields(envelope: unknown): BenchDelivery | null {
  if (!isRecord(envelope)) return null;
  const { data, id } = envelope;
  if (!isRecord(data)) return null;
  const { bench_phase, bench_seq, sent_at } = data;
  if (typeof bench_phase !== 'number' || typeof bench_seq !== 'number' || typeof sent_at !== 'number') return null;
  return { id: typeof id === 'string' ? id : '', bench_phase, bench_seq, sent_at };
}

export class DeliveryCounter {
  private phase = -1;
  private received = 0;
  private readonly latency = new Histogram();
  private perEvent: number[] = [];
  private outOfOrder = 0;
  private stray = 0;
  private other = 0;
  private firstAt: number | null = null;
  private lastAt: number | null = null;
  private readonly closes = new Map<string, number>();
  private total = 0;

  get currentPhase(): number {
    return this.phase;
  }

  get receivedInPhase(): number {
    return this.received;
  }

  /** Messages of any kind since the process started. */
  get totalMessages(): number {
    return this.total;
  }

  start(phase: number): void {
    this.phase = phase;
    this.received = 0;
    this.latency.reset();
    this.perEvent = [];
    this.outOfOrder = 0;
    this.stray = 0;
    this.other = 0;
    this.firstAt = null;
    this.lastAt = null;
  }

  /** One message received at `now` (ms, shared clock) on the connection owning `cursor`. */
  onMessage(envelope: unknown, cursor: ConnectionCursor, now: number): void {
    this.total += 1;
    if (this.phase < 0) return;
    const bench = benchFields(envelope);
    if (bench === null) {
      this.other += 1;
      return;
    }
    if (bench.bench_phase !== this.phase) {
      this.stray += 1;
      return;
    }
    if (cursor.phase !== this.phase) {
      cursor.phase = this.phase;
      cursor.lastId = '';
    }
    if (bench.id !== '') {
      if (bench.id <= cursor.lastId) this.outOfOrder += 1;
      else cursor.lastId = bench.id;
    }
    this.received += 1;
    this.perEvent[bench.bench_seq] = (this.perEvent[bench.bench_seq] ?? 0) + 1;
    this.latency.recordMs(now - bench.sent_at);
    this.firstAt ??= now;
    this.lastAt = now;
  }

  /** A connection closed by the server or the network (counted since connect, not per phase). */
  onClose(reason: string): void {
    this.closes.set(reason, (this.closes.get(reason) ?? 0) + 1);
  }

  report(open: number): PhaseReport {
    const perEvent = Array.from(this.perEvent, (n) => n ?? 0);
    return {
      type: 'report',
      phase: this.phase,
      received: this.received,
      latency: this.latency.snapshot(),
      perEvent,
      outOfOrder: this.outOfOrder,
      stray: this.stray,
      other: this.other,
      closes: Object.fromEntries(this.closes),
      open,
      firstAt: this.firstAt,
      lastAt: this.lastAt,
    };
  }
}
