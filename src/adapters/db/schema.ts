import type { Generated } from 'kysely';

/**
 * Tables, as Kysely sees them. Times are epoch milliseconds (bigint) in both SQLite and PostgreSQL; binary
 * columns are BLOB / BYTEA and come back as Buffer.
 */
export interface DatabaseSchema {
  events: EventsTable;
  video_sessions: VideoSessionsTable;
  yjs_documents: YjsDocumentsTable;
  staff_collab_sessions: StaffCollabSessionsTable;
  yjs_updates: YjsUpdatesTable;
}

export interface EventsTable {
  id: string;
  type: string;
  frame: string;
  /** JSON of the event's Delivery (users, roles, all). */
  delivery: string;
  created_at: number;
}

export interface VideoSessionsTable {
  session_id: string;
  host_id: string;
  /** JSON array of user ids. */
  participant_ids: string;
  /** JSON array of roles. */
  allowed_roles: string;
  max_participants: number;
  created_at: number;
  updated_at: number;
}

/** Compacted state of a collaborative document (SPEC §6). `version` changes with every write (compare-and-set). */
export interface YjsDocumentsTable {
  doc_id: string;
  state: Uint8Array;
  updated_at: number;
  version: number;
}

/** Compacted state of a `staff-session:{session_id}` document (SPEC §6). */
export interface StaffCollabSessionsTable {
  session_id: string;
  yjs_state: Uint8Array;
  updated_at: number;
  version: number;
}

/** Append-only log of document updates, written before they are relayed; compacted into the two tables above. */
export interface YjsUpdatesTable {
  id: AutoId;
  doc_id: string;
  data: Uint8Array;
  created_at: number;
}

export type AutoId = Generated<number>;
