import { PostgresAdapter, type Kysely } from 'kysely';

/** The few column types that differ between the dialects, for migrations. */
export interface ColumnTypes {
  readonly binary: 'blob' | 'bytea';
  readonly autoIncrement: 'integer' | 'bigserial';
}

export function columnTypes(db: Kysely<unknown>): ColumnTypes {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return postgres ? { binary: 'bytea', autoIncrement: 'bigserial' } : { binary: 'blob', autoIncrement: 'integer' };
}
