import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { startChildServer } from '../helpers/child-server.js';
import { tempDir, TEST_API_KEY, TEST_SECRET } from '../helpers/server.js';
import { connectReady } from '../helpers/ws-client.js';

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: every client gets 1001, pending events are kept, the process exits 0 within 10 s`, async () => {
    const dir = tempDir();
    const server = await startChildServer({ DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'rt.db')}` });
    const base = `ws://127.0.0.1:${server.port}`;
    const clients = await Promise.all(
      (['admin', 'student', 'parent'] as const).map(async (role) =>
        connectReady(`${base}/ws/${role}/${await mintAccessToken({ secret: TEST_SECRET, sub: `sd-${role}`, role, ttlSeconds: 60 })}`),
      ),
    );
    const published = await fetch(`http://127.0.0.1:${server.port}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'system.alert', data: { before: 'shutdown' } }),
    });
    assert.equal(published.status, 202);
    const started = Date.now();
    server.process.kill(signal);
    const closes = await Promise.all(clients.map((c) => c.waitForClose(10_000)));
    for (const closed of closes) assert.deepEqual(closed, { code: 1001, reason: 'server shutting down' });
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
    assert.ok(Date.now() - started < 10_000);

    // the published event survived in the event log
    const { createDatabase } = await import('../../src/adapters/db/database.js');
    const database = createDatabase(`sqlite:${join(dir, 'rt.db')}`);
    const rows = await database.db.selectFrom('events').selectAll().where('type', '=', 'system.alert').execute();
    await database.close();
    assert.equal(rows.length, 1);
  });
}
