import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { MIGRATIONS } from './migrations/index.js';
import type { DatabaseSchema } from './schema.js';
import { reusingStatements } from './statement-cache.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DialectName;
  /** Bring the schema up to date; returns the names of the migrations that ran. */
  migrate(): Promise<string[]>;
  /** True when a trivial query answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const INT8_OID = 20;

/** The one place the dialect is chosen: `sqlite:PATH`, `sqlite::memory:` or `postgres://…`. */
export function createDatabase(url: string): Database {
  if (url.startsWith('sqlite:')) return wrap(new Kysely<DatabaseSchema>({ dialect: sqliteDialect(url.slice('sqlite:'.length)) }), 'sqlite');
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      // bigint columns hold epoch milliseconds and sequence numbers, all within 2^53
      types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
    });
    // A connection that dies (database restart) errors its queries; the client's own 'error' event must not
    // crash the process, whether the client is idle in the pool or checked out in a transaction.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    return wrap(new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }
  throw new Error(`unsupported DATABASE_URL scheme: ${url.split(':')[0]}`);
}

function sqliteDialect(path: string): SqliteDialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  // WAL + NORMAL: a committed transaction survives a process crash (kill -9); FULL would add power-loss safety
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  return new SqliteDialect({ database: reusingStatements(database) });
}

const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };

function wrap(db: Kysely<DatabaseSchema>, dialect: DialectName): Database {
  return {
    db,
    dialect,
    async migrate() {
      const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error(String(error));
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
