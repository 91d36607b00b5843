import type { Generated } from 'kysely';

/**
 * Tables, as Kysely sees them. Times are epoch milliseconds (bigint) in both SQLite and PostgreSQL; binary
 * columns are BLOB / BYTEA and come back as Buffer.
 */
export interface DatabaseSchema {
  events: EventsTable;
  video_sessions: VideoSessionsTable;
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

export type AutoId = Generated<number>;
