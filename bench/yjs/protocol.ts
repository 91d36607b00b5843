/** Messages between the benchmark and its load processes (Node IPC). */

export type ServerKind = 'ours' | 'y-websocket' | 'hocuspocus';

export interface ClientTarget {
  readonly kind: ServerKind;
  /** ws://host:port — ours adds /ws/yjs and the token; y-websocket and Hocuspocus take it as is. */
  readonly base: string;
  /** JWT for ours. */
  readonly token?: string;
}

export interface DocAssignment {
  readonly docId: string;
  /** Peers of the document; the first one types, the others watch. */
  readonly peers: number;
  /** Index into the traces. */
  readonly trace: number;
}

export type LoadMode =
  /** Open loop: every writer types at this many keystrokes per second. */
  | { readonly kind: 'rate'; readonly perWriterPerS: number }
  /** Closed loop, as fast as the server relays: a writer stays at most `window` keystrokes ahead of its slowest peer. */
  | { readonly kind: 'max'; readonly window: number };

export type ToWorker =
  | { readonly type: 'setup'; readonly target: ClientTarget; readonly docs: readonly DocAssignment[]; readonly tracesDir: string | undefined }
  | { readonly type: 'run'; readonly mode: LoadMode; readonly durationMs: number; readonly drainMs: number }
  | { readonly type: 'stop' };

export interface DocResult {
  readonly docId: string;
  /** Hash of the text every replica ended with, or null when replicas differ. */
  readonly textHash: string | null;
  readonly converged: boolean;
}

export interface RunResult {
  readonly sent: number;
  /** Keystrokes received, summed over the watching peers. */
  readonly received: number;
  /** Writer-to-peer latencies, ms. */
  readonly latencies: readonly number[];
  /** First keystroke sent to last one received, ms. */
  readonly spanMs: number;
  readonly docs: readonly DocResult[];
  readonly disconnects: number;
}

export type FromWorker =
  | { readonly type: 'ready'; readonly connectMs: number }
  | { readonly type: 'result'; readonly result: RunResult }
  | { readonly type: 'error'; readonly message: string };
