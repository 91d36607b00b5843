import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase, type Database } from '../../src/adapters/db/database.js';
import { MIGRATIONS } from '../../src/adapters/db/migrations/index.js';
import { KyselyEventLog } from '../../src/adapters/db/stores/kysely-event-log.js';
import type { StoredEvent } from '../../src/features/notifications/event-log.js';
import { SortableIdGenerator } from '../../src/shared/ids.js';
import { DIALECTS } from '../helpers/dialects.js';

for (const dialect of DIALECTS) {
  describe(`event log on ${dialect.name}`, () => {
    let database: Database;
    let log: KyselyEventLog;
    const ids = new SortableIdGenerator('test');
    const event = (type: string, createdAt = Date.now()): StoredEvent => ({
      id: ids.next(),
      type,
      frame: JSON.stringify({ type }),
      delivery: { roles: ['admin'], users: ['u1'] },
      createdAt,
    });

    before(async () => {
      database = createDatabase(await dialect.url());
      assert.deepEqual(await database.migrate(), Object.keys(MIGRATIONS).sort());
      assert.deepEqual(await database.migrate(), [], 'migrations are applied once');
      log = new KyselyEventLog(database.db);
    });
    after(() => database.close());

    test('appends and reads back after an id, oldest first, with the delivery intact', async () => {
      const events = [event('a'), event('b'), event('c')];
      await log.append(events);
      const after0 = await log.after(events[0]!.id, 10);
      assert.deepEqual(after0.map((e) => e.type), ['b', 'c']);
      assert.deepEqual(after0[0]!.delivery, { roles: ['admin'], users: ['u1'] });
      assert.equal(typeof after0[0]!.createdAt, 'number');
      assert.deepEqual((await log.after(events[0]!.id, 1)).map((e) => e.type), ['b']);
    });

    test('a large batch is written whole', async () => {
      const batch = Array.from({ length: 1200 }, (_, i) => event(`bulk-${i}`));
      await log.append(batch);
      const read = await log.after(batch[0]!.id, 5000);
      assert.equal(read.length, 1199);
    });

    test('prunes events older than a cutoff and reports the oldest kept', async () => {
      const old = event('old', Date.now() - 100 * 3600_000);
      await log.append([old]);
      const removed = await log.pruneBefore(Date.now() - 72 * 3600_000);
      assert.equal(removed, 1);
      const oldest = await log.oldestId();
      assert.ok(oldest && oldest !== old.id);
    });

    test('answers a ping', async () => {
      assert.equal(await database.ping(), true);
    });
  });
}
