import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase, type Database } from '../../src/adapters/db/database.js';
import { KyselyDocStore } from '../../src/adapters/db/stores/kysely-doc-store.js';
import { DIALECTS } from '../helpers/dialects.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

for (const dialect of DIALECTS) {
  describe(`document store on ${dialect.name}`, () => {
    let database: Database;
    let store: KyselyDocStore;

    before(async () => {
      database = createDatabase(await dialect.url());
      assert.ok((await database.migrate()).includes('0002-collab'));
      store = new KyselyDocStore(database.db);
    });
    after(() => database.close());

    test('an unknown document loads empty', async () => {
      assert.deepEqual(await store.load('nothing'), { state: undefined, version: 0, updates: [] });
      assert.equal(await store.loadState('nothing'), undefined);
    });

    test('appends of several documents in one batch come back per document, in order, with increasing ids', async () => {
      const rows = await store.append([
        { docId: 'a', update: bytes(1) },
        { docId: 'b', update: bytes(2) },
        { docId: 'a', update: bytes(3, 4) },
      ]);
      assert.equal(rows.length, 3);
      assert.equal(new Set(rows.map((r) => r.id)).size, 3);
      const a = await store.load('a');
      assert.deepEqual(a.updates.map((e) => [...e.update]), [[1], [3, 4]]);
      assert.ok(a.updates[0]!.id < a.updates[1]!.id);
      assert.deepEqual(await store.logIds('a'), a.updates.map((e) => e.id));
      assert.deepEqual((await store.logEntries('a', [a.updates[1]!.id, 999_999])).map((e) => [...e.update]), [[3, 4]]);
      assert.ok(a.updates[0]!.update instanceof Uint8Array);
    });

    test('a snapshot write is compare-and-set and deletes exactly the merged entries', async () => {
      const [first, second] = await store.append([
        { docId: 'c', update: bytes(1) },
        { docId: 'c', update: bytes(2) },
      ]);
      const v1 = await store.saveSnapshot('c', { state: bytes(9), expectedVersion: 0, mergedIds: [first!.id] });
      assert.equal(v1, 1);
      const loaded = await store.load('c');
      assert.deepEqual([...loaded.state!], [9]);
      assert.equal(loaded.version, 1);
      assert.deepEqual(loaded.updates.map((e) => e.id), [second!.id], 'an entry not merged stays');

      // a writer that read version 0 lost the race: nothing is written, nothing deleted
      assert.equal(await store.saveSnapshot('c', { state: bytes(7), expectedVersion: 0, mergedIds: [second!.id] }), undefined);
      assert.equal(await store.saveSnapshot('c', { state: bytes(7), expectedVersion: 5, mergedIds: [second!.id] }), undefined);
      assert.deepEqual(await store.logIds('c'), [second!.id]);
      assert.deepEqual([...(await store.loadState('c'))!.state], [9]);

      assert.equal(await store.saveSnapshot('c', { state: bytes(8), expectedVersion: 1, mergedIds: [second!.id] }), 2);
      assert.deepEqual(await store.logIds('c'), []);
    });

    test('log ids are never reused, even after the newest entries were deleted', async () => {
      const [row] = await store.append([{ docId: 'd', update: bytes(1) }]);
      await store.saveSnapshot('d', { state: bytes(1), expectedVersion: 0, mergedIds: [row!.id] });
      const [next] = await store.append([{ docId: 'd', update: bytes(2) }]);
      assert.ok(next!.id > row!.id);
    });

    test('staff-session documents are kept in staff_collab_sessions under their session id', async () => {
      assert.equal(await store.saveSnapshot('staff-session:77', { state: bytes(5, 5), expectedVersion: 0, mergedIds: [] }), 1);
      const row = await database.db.selectFrom('staff_collab_sessions').selectAll().where('session_id', '=', '77').executeTakeFirstOrThrow();
      assert.deepEqual([...row.yjs_state], [5, 5]);
      assert.equal(typeof row.updated_at, 'number');
      assert.equal(await database.db.selectFrom('yjs_documents').select('doc_id').where('doc_id', 'like', 'staff%').executeTakeFirst(), undefined);
      assert.deepEqual([...(await store.load('staff-session:77')).state!], [5, 5]);
      assert.equal(await store.saveSnapshot('staff-session:77', { state: bytes(6), expectedVersion: 1, mergedIds: [] }), 2);
    });

    test('a large batch is written whole', async () => {
      const entries = Array.from({ length: 1200 }, (_, i) => ({ docId: 'e', update: bytes(i % 256) }));
      assert.equal((await store.append(entries)).length, 1200);
      assert.equal((await store.logIds('e')).length, 1200);
    });
  });
}
