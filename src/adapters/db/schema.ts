import type { Generated } from 'kysely';

/**
 * Tables, as Kysely sees them. Times are epoch milliseconds (bigint) in both SQLite and PostgreSQL; binary
 * columns are BLOB / BYTEA and come back as Buffer.
 */
export interface DatabaseSchema {
  events: EventsTable;
}

export interface EventsTable {
  id: string;
  type: string;
  frame: string;
  /** JSON of the event's Delivery (users, roles, all). */
  delivery: string;
  created_at: number;
}

export type AutoId = Generated<number>;
