import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { reusingStatements } from '../../src/adapters/db/statement-cache.js';

function database(): SQLite.Database {
  const db = new SQLite(':memory:');
  db.exec('create table t (id integer primary key, v text)');
  return db;
}

test('the same SQL is prepared once and its statement reused', () => {
  const raw = database();
  let prepared = 0;
  const counting = { close: () => raw.close(), prepare: (sql: string) => (prepared++, raw.prepare(sql)) };
  const db = reusingStatements(counting);
  const insert = db.prepare('insert into t (v) values (?) returning id');
  assert.equal(db.prepare('insert into t (v) values (?) returning id'), insert);
  assert.deepEqual(insert.all(['a']), [{ id: 1 }]);
  assert.deepEqual(db.prepare('insert into t (v) values (?) returning id').all(['b']), [{ id: 2 }]);
  assert.deepEqual(db.prepare('select v from t order by id').all([]), [{ v: 'a' }, { v: 'b' }]);
  assert.equal(prepared, 2);
  db.close();
});

test('the least recently used statement is dropped when the cache is full', () => {
  const raw = database();
  const db = reusingStatements(raw, 2);
  const a = db.prepare('select 1');
  const b = db.prepare('select 2');
  assert.equal(db.prepare('select 1'), a); // a is now the most recently used
  db.prepare('select 3'); // evicts b
  assert.equal(db.prepare('select 1'), a);
  assert.notEqual(db.prepare('select 2'), b);
  db.close();
});

test('a statement that failed can run again', () => {
  const db = reusingStatements(database());
  const insert = db.prepare('insert into t (id, v) values (?, ?)');
  insert.run([1, 'x']);
  assert.throws(() => db.prepare('insert into t (id, v) values (?, ?)').run([1, 'y']), /UNIQUE/);
  assert.equal(db.prepare('insert into t (id, v) values (?, ?)').run([2, 'z']).changes, 1);
  db.close();
});
