import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * A SQLite database whose prepared statements are reused. Kysely's SQLite driver prepares every query anew;
 * parsing and planning the statement cost about as much as running a one-row insert, and the document journal
 * runs the same few statements hundreds of times a second. Least recently used statements are dropped first.
 */
export function reusingStatements(database: SqliteDatabase, capacity = 256): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
      } else {
        statements.delete(sql);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
