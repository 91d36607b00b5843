import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { freePort, startOwnPostgres } from '../helpers/own-postgres.js';
import { startServer } from '../helpers/server.js';
import { connectReady } from '../helpers/ws-client.js';

test('PostgreSQL restarted under load: publishes fail loudly while it is down, nothing acknowledged is lost, no server restart', async () => {
  const postgres = startOwnPostgres(await freePort());
  const s = await startServer({ DATABASE_URL: postgres.url, LOG_LEVEL: 'error' });
  const admin = await connectReady(`${s.wsUrl}/ws/admin/${await s.token('pg-admin', 'admin')}`);
  const acknowledged: string[] = [];
  let refused = 0;
  let running = true;
  let n = 0;
  const wrongStatus: number[] = [];
  const load = (async () => {
    while (running) {
      const response = await s.api('/api/v1/events', { body: { type: 'system.alert', data: { n: n++ } } }).catch(() => undefined);
      if (response?.status === 202) acknowledged.push(((await response.json()) as { id: string }).id);
      else {
        refused++;
        if (response && response.status < 500) wrongStatus.push(response.status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  })();
  const waitFor = async (cond: () => boolean) => {
    const deadline = Date.now() + 20_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    await waitFor(() => acknowledged.length >= 20);
    postgres.stop();
    await waitFor(() => refused >= 5);
    assert.equal((await s.api('/readyz', { key: null })).status, 503);
    postgres.start();
    const before = acknowledged.length;
    await waitFor(() => acknowledged.length >= before + 20);
  } finally {
    running = false;
    await load;
  }
  assert.deepEqual(wrongStatus, [], 'a failure is an error status, never a silent 202 or a 4xx');
  assert.equal((await s.api('/readyz', { key: null })).status, 200);

  // every acknowledged event is in the log and was delivered live
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  const rows = await client.query<{ id: string }>('SELECT id FROM events');
  await client.end();
  const stored = new Set(rows.rows.map((r) => r.id));
  for (const id of acknowledged) assert.ok(stored.has(id), `acknowledged event ${id} is stored`);
  await admin.waitFor((m) => m.id === acknowledged.at(-1));
  const delivered = new Set(admin.messages.map((m) => m.id));
  for (const id of acknowledged) assert.ok(delivered.has(id), `acknowledged event ${id} was delivered`);
});
