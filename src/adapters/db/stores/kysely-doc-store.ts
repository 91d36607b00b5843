import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { STAFF_SESSION_PREFIX, type AppendedEntry, type DocStore, type LogEntry, type SnapshotWrite, type StoredDocument } from '../../../features/collab/doc-store.js';
import type { DatabaseSchema } from '../schema.js';

type Db = Kysely<DatabaseSchema> | Transaction<DatabaseSchema>;

// keeps each statement under SQLite's bound-parameter limit
const ROWS_PER_STATEMENT = 500;

/** Collaborative documents over SQLite or PostgreSQL (one query code for both). */
export class KyselyDocStore implements DocStore {
  /** The append statement for n rows, compiled once per n: appends are on the hot path of every keystroke. */
  private readonly appendSql = new Map<number, string>();

  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  load(docId: string): Promise<StoredDocument> {
    // one snapshot of both tables: a compaction committing in between cannot hide entries from us
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const snapshot = await readState(trx, docId);
        const rows = await trx.selectFrom('yjs_updates').select(['id', 'data']).where('doc_id', '=', docId).orderBy('id').execute();
        return {
          state: snapshot?.state,
          version: snapshot?.version ?? 0,
          updates: rows.map((row) => ({ id: Number(row.id), update: bytes(row.data) })),
        };
      });
  }

  async append(entries: readonly AppendedEntry[]): Promise<Array<{ docId: string; id: number }>> {
    if (entries.length === 0) return [];
    const now = Date.now();
    if (entries.length <= ROWS_PER_STATEMENT) {
      // one statement is atomic and durable on its own: no explicit transaction needed
      const parameters: unknown[] = [];
      for (const e of entries) parameters.push(e.docId, asBuffer(e.update), now);
      const result = await this.db.executeQuery<{ id: number; doc_id: string }>(CompiledQuery.raw(this.appendStatement(entries.length), parameters));
      return result.rows.map((row) => ({ docId: row.doc_id, id: Number(row.id) }));
    }
    const rows = entries.map((e) => ({ doc_id: e.docId, data: asBuffer(e.update), created_at: now }));
    return this.db.transaction().execute(async (trx) => {
      const ids: Array<{ docId: string; id: number }> = [];
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const inserted = await trx.insertInto('yjs_updates').values(rows.slice(i, i + ROWS_PER_STATEMENT)).returning(['id', 'doc_id']).execute();
        for (const row of inserted) ids.push({ docId: row.doc_id, id: Number(row.id) });
      }
      return ids;
    });
  }

  private appendStatement(rows: number): string {
    let statement = this.appendSql.get(rows);
    if (statement === undefined) {
      const values = Array.from({ length: rows }, () => ({ doc_id: '', data: Buffer.alloc(0), created_at: 0 }));
      statement = this.db.insertInto('yjs_updates').values(values).returning(['id', 'doc_id']).compile().sql;
      this.appendSql.set(rows, statement);
    }
    return statement;
  }

  async logIds(docId: string): Promise<number[]> {
    const rows = await this.db.selectFrom('yjs_updates').select('id').where('doc_id', '=', docId).orderBy('id').execute();
    return rows.map((row) => Number(row.id));
  }

  async logEntries(docId: string, ids: readonly number[]): Promise<LogEntry[]> {
    const entries: LogEntry[] = [];
    for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
      const rows = await this.db
        .selectFrom('yjs_updates')
        .select(['id', 'data'])
        .where('doc_id', '=', docId)
        .where('id', 'in', ids.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
      for (const row of rows) entries.push({ id: Number(row.id), update: bytes(row.data) });
    }
    return entries.sort((a, b) => a.id - b.id);
  }

  loadState(docId: string): Promise<{ state: Uint8Array; version: number } | undefined> {
    return readState(this.db, docId);
  }

  saveSnapshot(docId: string, write: SnapshotWrite): Promise<number | undefined> {
    const now = Date.now();
    const version = write.expectedVersion + 1;
    return this.db.transaction().execute(async (trx) => {
      let written: bigint;
      const staff = staffSessionId(docId);
      if (write.expectedVersion === 0) {
        const result =
          staff === undefined
            ? await trx.insertInto('yjs_documents').values({ doc_id: docId, state: asBuffer(write.state), updated_at: now, version }).onConflict((oc) => oc.column('doc_id').doNothing()).executeTakeFirst()
            : await trx.insertInto('staff_collab_sessions').values({ session_id: staff, yjs_state: asBuffer(write.state), updated_at: now, version }).onConflict((oc) => oc.column('session_id').doNothing()).executeTakeFirst();
        written = result.numInsertedOrUpdatedRows ?? 0n;
      } else {
        const result =
          staff === undefined
            ? await trx.updateTable('yjs_documents').set({ state: asBuffer(write.state), updated_at: now, version }).where('doc_id', '=', docId).where('version', '=', write.expectedVersion).executeTakeFirst()
            : await trx.updateTable('staff_collab_sessions').set({ yjs_state: asBuffer(write.state), updated_at: now, version }).where('session_id', '=', staff).where('version', '=', write.expectedVersion).executeTakeFirst();
        written = result.numUpdatedRows;
      }
      if (written === 0n) return undefined;
      for (let i = 0; i < write.mergedIds.length; i += ROWS_PER_STATEMENT) {
        await trx.deleteFrom('yjs_updates').where('doc_id', '=', docId).where('id', 'in', write.mergedIds.slice(i, i + ROWS_PER_STATEMENT)).execute();
      }
      return version;
    });
  }
}

async function readState(db: Db, docId: string): Promise<{ state: Uint8Array; version: number } | undefined> {
  const staff = staffSessionId(docId);
  const row =
    staff === undefined
      ? await db.selectFrom('yjs_documents').select(['state', 'version']).where('doc_id', '=', docId).executeTakeFirst()
      : await db.selectFrom('staff_collab_sessions').select(['yjs_state as state', 'version']).where('session_id', '=', staff).executeTakeFirst();
  return row ? { state: bytes(row.state), version: Number(row.version) } : undefined;
}

function staffSessionId(docId: string): string | undefined {
  return docId.startsWith(STAFF_SESSION_PREFIX) ? docId.slice(STAFF_SESSION_PREFIX.length) : undefined;
}

/** A plain Uint8Array view (drivers return Buffers). */
function bytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Drivers bind Buffers as blobs; a Buffer over the same memory (no copy). */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
