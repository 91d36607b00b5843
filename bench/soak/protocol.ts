/**
 * IPC between the soak orchestrator and its load processes (admin trackers, role-channel churn, and the Yjs /
 * chat / video traffic), and the fields the publisher puts into each event's `data`.
 */

/** What every load process needs to reach the server and mint its own tokens. */
export interface ServerAccess {
  readonly wsUrl: string;
  readonly httpUrl: string;
  readonly secret: string;
  readonly apiKey: string;
}

/** Fields of a soak event's `data`. */
export interface SoakEventData {
  /** 0-based publish sequence number. */
  readonly soak_seq: number;
  /** Set on the last event, published after churn stopped: trackers stop counting presence events there. */
  readonly soak_final?: true;
}

export type Counts = Record<string, number>;

export function bump(counts: Counts, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export function mergeCounts(into: Counts, from: Readonly<Counts>): Counts {
  for (const [key, n] of Object.entries(from)) bump(into, key, n);
  return into;
}

// ---- admin trackers -------------------------------------------------------------------------------------------

export type TrackerIn =
  | {
      readonly type: 'connect';
      readonly access: ServerAccess;
      /** Connection i is user subjects[i % subjects.length]. */
      readonly subjects: readonly string[];
      readonly count: number;
      /** The first `anchors` connections never take part in the storm (they keep the subjects online). */
      readonly anchors: number;
      readonly localAddresses: readonly string[];
      readonly concurrency: number;
      /** Highest sequence number that may be published (sizes the per-connection counters). */
      readonly maxSeq: number;
    }
  /** Drop every non-anchor connection at once (no close frame) and reconnect all of them with `?since=`. */
  | { readonly type: 'storm'; readonly localAddresses: readonly string[]; readonly timeoutMs: number }
  | { readonly type: 'report'; readonly accepted: readonly number[] }
  | { readonly type: 'shutdown' };

export interface StormResult {
  readonly type: 'storm-done';
  readonly connections: number;
  /** Back with `resume.done` received. */
  readonly resumed: number;
  /** Handshakes that failed or timed out and were tried again. */
  readonly retries: number;
  readonly firstError: string | null;
  /** From the drop to the last `resume.done`. */
  readonly durationMs: number;
  /** Time from the drop to each connection's `resume.done`, ms: p50/p99/max. */
  readonly resumeMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly replayed: number;
  /** `resume.done` with `complete: false`. */
  readonly incomplete: number;
}

export interface TrackerReport {
  readonly type: 'report';
  readonly connections: number;
  readonly open: number;
  /** Accepted events a connection never received, summed over connections. */
  readonly lost: number;
  /** Connections that missed at least one accepted event. */
  readonly connectionsMissing: number;
  /** Extra copies of an event on one connection. */
  readonly duplicates: number;
  /** Deliveries of sequence numbers the publisher did not see accepted. */
  readonly unexpected: number;
  /** An id that did not sort after the connection's previous one. */
  readonly outOfOrder: number;
  /** The id each sequence number arrived with (first seen), to check against the publisher's. */
  readonly idBySeq: Readonly<Record<number, string>>;
  /** Same sequence number seen with two ids. */
  readonly idConflicts: number;
  /** Presence events (published between the first and the final soak event): id → deliveries in this process. */
  readonly presence: Readonly<Record<string, number>>;
  /** Per connection, how many such presence events it received: min and max. */
  readonly presencePerConnection: { readonly min: number; readonly max: number };
  /** Closes the trackers did not ask for, by "code reason". */
  readonly closes: Counts;
  /** `error` replies by code. */
  readonly errors: Counts;
  /** Reconnects after an unexpected close (outside the storm). */
  readonly reconnects: number;
  readonly healthEvents: number;
}

export type TrackerOut =
  | { readonly type: 'ready' }
  | { readonly type: 'connected'; readonly opened: number; readonly failed: number; readonly firstError: string | null; readonly durationMs: number }
  | StormResult
  | { readonly type: 'progress'; readonly open: number; readonly finalSeen: number; readonly received: number }
  | TrackerReport;

// ---- role-channel churn ---------------------------------------------------------------------------------------

export interface ChurnPlan {
  /** Role-channel connections opened per second on anchored subjects. */
  readonly ratePerS: number;
  /** Connections per second by users of their own (their first connect and last close are presence events). */
  readonly freshPerS: number;
  readonly minLifetimeMs: number;
  readonly maxLifetimeMs: number;
  /** Subjects per role, each held online by an anchor connection. */
  readonly subjectsPerRole: number;
  readonly localAddresses: readonly string[];
}

export type ChurnIn =
  | { readonly type: 'start'; readonly access: ServerAccess; readonly plan: ChurnPlan }
  /** Stop opening; close the live churners; answer `stopped`. */
  | { readonly type: 'stop' }
  | { readonly type: 'report' }
  | { readonly type: 'shutdown' };

export interface ChurnReport {
  readonly type: 'report';
  readonly anchors: number;
  readonly anchorsOpen: number;
  /** Churn connections that got `connection.ready`. */
  readonly churned: number;
  readonly fresh: number;
  /** Handshakes that failed, or no `connection.ready` in time. */
  readonly failed: number;
  readonly firstError: string | null;
  /** Server-side closes before the client closed, by "code reason" (anchors included). */
  readonly closes: Counts;
  readonly errors: Counts;
  readonly pingsSent: number;
  readonly pongs: number;
  /** Closed by the client: cleanly (1000) and abruptly (no close frame). */
  readonly closedClean: number;
  readonly closedAbrupt: number;
}

export type ChurnOut =
  | { readonly type: 'ready' }
  | { readonly type: 'started'; readonly anchors: number }
  | { readonly type: 'progress'; readonly churned: number; readonly live: number }
  | { readonly type: 'stopped'; readonly churned: number }
  | ChurnReport;

// ---- Yjs, chat and video traffic ----------------------------------------------------------------------------

export interface ServicesPlan {
  readonly docs: number;
  readonly peersPerDoc: number;
  /** Edits per second over all documents. */
  readonly editsPerS: number;
  readonly tickets: number;
  /** Chat messages per second over all tickets. */
  readonly chatPerS: number;
  readonly videoSessions: number;
  readonly peersPerSession: number;
  /** Offer/answer exchanges per second over all sessions. */
  readonly signalsPerS: number;
  readonly localAddress: string;
}

export type ServicesIn =
  | { readonly type: 'setup'; readonly access: ServerAccess; readonly plan: ServicesPlan }
  | { readonly type: 'start' }
  /** Replace every document being edited by a fresh one and leave the old ones (answered with `rotated`). */
  | { readonly type: 'rotate' }
  /** Stop sending; wait (bounded) for what is in flight and for the documents to converge; answer `stopped`. */
  | { readonly type: 'stop'; readonly settleMs: number }
  | { readonly type: 'report' }
  | { readonly type: 'shutdown' };

export interface ServicesReport {
  readonly type: 'report';
  readonly yjs: {
    /** Documents open at the end (one per slot). */
    readonly docs: number;
    readonly peers: number;
    readonly edits: number;
    /** Open documents whose replicas hold the same text at the end. */
    readonly converged: number;
    /** Open documents whose server copy (GET /api/v1/docs/{id}) holds that text. */
    readonly serverCopiesMatching: number;
    /** Encoded size of those server copies. */
    readonly stateBytes: number;
    /** Documents left by `rotate`, whose replicas agreed when left, and whose stored copy still holds their text. */
    readonly rotated: number;
    readonly rotatedConverged: number;
    readonly rotatedKept: number;
    readonly disconnects: number;
  };
  readonly chat: {
    readonly tickets: number;
    readonly sent: number;
    /** Echoed back to the sender (stored). */
    readonly acked: number;
    /** Received by the other side. */
    readonly delivered: number;
    readonly latencyP99Ms: number | null;
  };
  readonly video: {
    readonly sessions: number;
    readonly peers: number;
    readonly offers: number;
    readonly offersReceived: number;
    readonly answersReceived: number;
    readonly latencyP99Ms: number | null;
  };
  readonly closes: Counts;
  readonly errors: Counts;
}

export type ServicesOut =
  | { readonly type: 'ready' }
  | { readonly type: 'set-up'; readonly connections: number }
  | { readonly type: 'started' }
  | { readonly type: 'rotated' }
  | { readonly type: 'stopped' }
  | ServicesReport;
