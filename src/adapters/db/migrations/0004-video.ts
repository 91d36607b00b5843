import type { Kysely } from 'kysely';

/** Registered video sessions (SPEC §4, §8): they must survive a restart. */
export const up = async (db: Kysely<unknown>): Promise<void> => {
  await db.schema
    .createTable('video_sessions')
    .addColumn('session_id', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('host_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('participant_ids', 'text', (c) => c.notNull())
    .addColumn('allowed_roles', 'text', (c) => c.notNull())
    .addColumn('max_participants', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
};

export const down = async (db: Kysely<unknown>): Promise<void> => {
  await db.schema.dropTable('video_sessions').execute();
};
