/**
 * The IPC messages between the orchestrator and its load-client processes, and the fields the
 * publisher puts in each event's `data` so that a client can time and count it.
 */
import type { HistogramSnapshot } from './stats.js';

/** Fields of a benchmark event's `data` (besides filler that gives it a realistic size). */
export interface BenchEventData {
  /** Phase the event belongs to; deliveries of another phase's events are counted apart. */
  readonly bench_phase: number;
  /** 0-based sequence number of the event within its phase. */
  readonly bench_seq: number;
  /** Publisher's clock (performance.timeOrigin + performance.now(), ms) just before the POST. */
  readonly sent_at: number;
}

/** How a load client reaches the server under test. */
export type ClientTarget =
  | {
      /** Plain WebSocket: uhs-realtime (`/ws/admin/<jwt>`) or the bare `ws` baseline. */
      readonly kind: 'ws';
      /** Connection i uses urls[i % urls.length] (one URL per distinct user). */
      readonly urls: readonly string[];
    }
  | {
      /** Socket.IO client, websocket transport only; `role` goes in the handshake `auth`. */
      readonly kind: 'socketio';
      readonly url: string;
      readonly role: string;
    };

export type ParentMessage =
  | {
      readonly type: 'connect';
      readonly target: ClientTarget;
      readonly count: number;
      /** Connection i binds to localAddresses[i % length] (all in 127.0.0.0/8). */
      readonly localAddresses: readonly string[];
      /** Handshakes in flight at once in this process. */
      readonly concurrency: number;
      readonly timeoutMs: number;
    }
  /** Start counting deliveries of `phase` (answered with `phase-started`); earlier counts are dropped. */
  | { readonly type: 'phase'; readonly phase: number }
  /** Ask for the report of the current phase. */
  | { readonly type: 'report' }
  | { readonly type: 'shutdown' };

export interface ConnectResult {
  readonly type: 'connected';
  readonly opened: number;
  readonly failed: number;
  readonly firstError: string | null;
  /** From the connect command to the last first-message, in this process. */
  readonly durationMs: number;
}

export interface PhaseReport {
  readonly type: 'report';
  readonly phase: number;
  /** Deliveries of this phase's events. */
  readonly received: number;
  readonly latency: HistogramSnapshot;
  /** Deliveries per event, indexed by bench_seq. */
  readonly perEvent: readonly number[];
  /** Deliveries whose envelope id was not above the previous one on the same connection (server reordered or duplicated). */
  readonly outOfOrder: number;
  /** Deliveries of other phases' events (late ones) while this phase was counted. */
  readonly stray: number;
  /** Other messages (server notices, presence, health) while this phase was counted. */
  readonly other: number;
  /** Connections lost since connect (not only in this phase), by close code and reason. */
  readonly closes: Readonly<Record<string, number>>;
  readonly open: number;
  /** Clock (performance.timeOrigin + now, ms) of this phase's first and last delivery. */
  readonly firstAt: number | null;
  readonly lastAt: number | null;
}

export type ChildMessage =
  | { readonly type: 'ready' }
  | ConnectResult
  | { readonly type: 'phase-started'; readonly phase: number }
  /** Sent every 200 ms: deliveries of the current phase, and messages of any kind since connect. */
  | { readonly type: 'progress'; readonly phase: number; readonly received: number; readonly total: number }
  | PhaseReport
  | { readonly type: 'fatal'; readonly message: string };

/** A clock shared by all processes on the machine, in ms with fractions. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
