/** IPC between the chat benchmark's orchestrator and its load-client processes. */
import type { HistogramSnapshot } from '../fanout/stats.js';

/** One ticket: its customer and its staff member, each with a token for the chat endpoint. */
export interface TicketPair {
  readonly ticketId: string;
  readonly customer: { readonly userId: string; readonly token: string };
  readonly staff: { readonly userId: string; readonly token: string };
}

export type PhaseSpec =
  /** Send `rate` messages per second in total (this process's share), spread over its connections. */
  | { readonly mode: 'fixed'; readonly name: string; readonly rate: number; readonly durationMs: number; readonly drainMs: number }
  /** Every connection keeps `window` messages unacknowledged (waiting for its own echo), as fast as the server goes. */
  | { readonly mode: 'max'; readonly name: string; readonly window: number; readonly durationMs: number; readonly drainMs: number };

export type ParentMessage =
  | { readonly type: 'connect'; readonly wsBase: string; readonly pairs: readonly TicketPair[]; readonly concurrency: number }
  | { readonly type: 'phase'; readonly phase: PhaseSpec }
  | { readonly type: 'exit' };

export interface PhaseReport {
  readonly name: string;
  readonly sent: number;
  /** Own echoes received: the server stored the message and delivered it. */
  readonly acked: number;
  /** Messages received by the other side of the ticket (latency samples). */
  readonly delivered: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Wall clock (Date.now) of the first send and of the last ack or delivery. */
  readonly firstSendAt: number;
  readonly lastEventAt: number;
  /** Sender → other connection, ms. */
  readonly latency: HistogramSnapshot;
  /** CPU seconds this load process used during the phase. */
  readonly clientCpuS: number;
}

export type ChildMessage =
  | { readonly type: 'connected'; readonly connections: number; readonly failures: number; readonly firstError: string | null }
  | { readonly type: 'phase-done'; readonly report: PhaseReport }
  | { readonly type: 'fatal'; readonly error: string };
