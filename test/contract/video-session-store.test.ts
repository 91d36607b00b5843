import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase, type Database } from '../../src/adapters/db/database.js';
import { KyselyVideoSessionStore } from '../../src/adapters/db/stores/kysely-video-session-store.js';
import type { VideoSessionRegistration } from '../../src/features/signaling/video-session.js';
import { DIALECTS } from '../helpers/dialects.js';

for (const dialect of DIALECTS) {
  describe(`video session store on ${dialect.name}`, () => {
    let url: string;
    let database: Database;
    let store: KyselyVideoSessionStore;
    const registration = (sessionId: string, overrides: Partial<VideoSessionRegistration> = {}): VideoSessionRegistration => ({
      sessionId,
      hostId: 'teacher-1',
      participantIds: ['kid-1', 'kid-2'],
      allowedRoles: ['staff'],
      maxParticipants: 12,
      ...overrides,
    });

    before(async () => {
      url = await dialect.url();
      database = createDatabase(url);
      const ran = await database.migrate();
      assert.ok(ran.includes('0004-video'));
      store = new KyselyVideoSessionStore(database.db);
    });
    after(() => database.close());

    test('registers, reads back every field, and reports creation', async () => {
      const { session, created } = await store.put(registration('class-1'), 1_000);
      assert.equal(created, true);
      const expected = { ...registration('class-1'), createdAt: 1_000, updatedAt: 1_000 };
      assert.deepEqual(session, expected);
      assert.deepEqual(await store.get('class-1'), expected);
      assert.equal(await store.get('class-unknown'), undefined);
    });

    test('a second put replaces the registration and keeps created_at', async () => {
      await store.put(registration('class-2'), 1_000);
      const { session, created } = await store.put(registration('class-2', { hostId: 'teacher-2', participantIds: [], allowedRoles: [], maxParticipants: 3 }), 2_000);
      assert.equal(created, false);
      assert.deepEqual(session, { sessionId: 'class-2', hostId: 'teacher-2', participantIds: [], allowedRoles: [], maxParticipants: 3, createdAt: 1_000, updatedAt: 2_000 });
      assert.deepEqual(await store.get('class-2'), session);
    });

    test('concurrent first registrations of one id both succeed, one of them as the creation', async () => {
      const results = await Promise.all([store.put(registration('class-race'), 5), store.put(registration('class-race', { hostId: 'h2' }), 6)]);
      assert.ok(results.some((r) => r.created));
      assert.ok(await store.get('class-race'));
    });

    test('delete removes it once', async () => {
      await store.put(registration('class-3'), 1);
      assert.equal(await store.delete('class-3'), true);
      assert.equal(await store.delete('class-3'), false);
      assert.equal(await store.get('class-3'), undefined);
    });

    test('registrations survive reopening the database', async () => {
      await store.put(registration('class-kept', { participantIds: ['ü-user', 'a"b'] }), 7);
      const reopened = createDatabase(url);
      try {
        const session = await new KyselyVideoSessionStore(reopened.db).get('class-kept');
        assert.deepEqual(session?.participantIds, ['ü-user', 'a"b']);
      } finally {
        await reopened.close();
      }
    });
  });
}
