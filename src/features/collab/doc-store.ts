/** A document's persisted form: the compacted state plus the log entries written since. */
export interface StoredDocument {
  /** The compacted state (a Yjs update), if the document was ever compacted. */
  readonly state: Uint8Array | undefined;
  /** Compare-and-set token of the compacted state: 0 when there is none, changed by every `saveSnapshot`. */
  readonly version: number;
  /** Log entries not yet compacted, oldest first. */
  readonly updates: readonly LogEntry[];
}

export interface LogEntry {
  /** Unique and never reused; later appends get larger ids. */
  readonly id: number;
  readonly update: Uint8Array;
}

export interface AppendedEntry {
  readonly docId: string;
  readonly update: Uint8Array;
}

export interface SnapshotWrite {
  readonly state: Uint8Array;
  /** The version this state was built on; the write fails if another writer changed it since. */
  readonly expectedVersion: number;
  /** Exactly the log entries the state includes; they are removed with the write. */
  readonly mergedIds: readonly number[];
}

/**
 * Storage of collaborative documents (SPEC §6): an append-only update log per document, compacted into
 * `yjs_documents` (or `staff_collab_sessions` for `staff-session:{id}` documents).
 *
 * Contract:
 * - `append` is durable when it resolves (one transaction for the whole batch, any number of documents), so
 *   an update may be relayed to other peers once its append resolved. It returns the new entries' ids.
 * - `load` reads the state and the log as one consistent snapshot: nothing compacted in between is lost.
 * - `saveSnapshot` is atomic and compare-and-set: it writes only if the stored version is still
 *   `expectedVersion`, and then deletes exactly `mergedIds` (never an entry another instance appended later).
 *   It resolves with the new version, or `undefined` when it lost the race and wrote nothing.
 */
export interface DocStore {
  load(docId: string): Promise<StoredDocument>;
  append(entries: readonly AppendedEntry[]): Promise<Array<{ readonly docId: string; readonly id: number }>>;
  /** Ids of the document's log entries, ascending. */
  logIds(docId: string): Promise<number[]>;
  /** The entries among `ids` that still exist, ascending. */
  logEntries(docId: string, ids: readonly number[]): Promise<LogEntry[]>;
  /** The compacted state alone. */
  loadState(docId: string): Promise<{ readonly state: Uint8Array; readonly version: number } | undefined>;
  saveSnapshot(docId: string, write: SnapshotWrite): Promise<number | undefined>;
}

/** Documents whose id starts with this are staff collaboration sessions, stored under the rest of the id. */
export const STAFF_SESSION_PREFIX = 'staff-session:';
