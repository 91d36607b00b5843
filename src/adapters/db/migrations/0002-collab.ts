import type { Kysely } from 'kysely';
import { columnTypes } from '../column-types.js';

export const up = async (db: Kysely<unknown>): Promise<void> => {
  const types = columnTypes(db);
  await db.schema
    .createTable('yjs_documents')
    .addColumn('doc_id', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('state', types.binary, (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('staff_collab_sessions')
    .addColumn('session_id', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('yjs_state', types.binary, (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // ids are never reused (SQLite AUTOINCREMENT, PostgreSQL sequence): compaction deletes exactly the ids it merged
  await db.schema
    .createTable('yjs_updates')
    .addColumn('id', types.autoIncrement, (c) => (types.autoIncrement === 'integer' ? c.primaryKey().autoIncrement() : c.primaryKey()))
    .addColumn('doc_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('data', types.binary, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('yjs_updates_doc_id').on('yjs_updates').columns(['doc_id', 'id']).execute();
};

export const down = async (db: Kysely<unknown>): Promise<void> => {
  await db.schema.dropTable('yjs_updates').execute();
  await db.schema.dropTable('staff_collab_sessions').execute();
  await db.schema.dropTable('yjs_documents').execute();
};
