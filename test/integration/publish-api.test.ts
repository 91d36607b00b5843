import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, PG_ADMIN_URL } from '../helpers/postgres.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { connectReady } from '../helpers/ws-client.js';

describe('service HTTP API', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });

  test('POST /api/v1/events answers 202 with a sortable id', async () => {
    const response = await s.api('/api/v1/events', { body: { type: 'system.alert', data: { level: 'high' } } });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { id: string };
    assert.match(body.id, /^[0-9a-z]{13}[0-9a-f]{8}$/);
  });

  const invalid: Array<[string, unknown, string]> = [
    ['unknown type', { type: 'made.up', data: {} }, 'unknown_event_type'],
    ['missing required target', { type: 'student.quiz.results', data: {} }, 'target_required'],
    ['bad target role', { type: 'notification', data: {}, target: { roles: ['janitor'] } }, 'invalid_target'],
    ['target with unknown key', { type: 'notification', data: {}, target: { group: 'x' } }, 'invalid_target'],
    ['empty target', { type: 'notification', data: {}, target: {} }, 'invalid_target'],
    ['target not an object', { type: 'notification', data: {}, target: 'all' }, 'invalid_target'],
    ['users not strings', { type: 'notification', data: {}, target: { users: [1] } }, 'invalid_target'],
    ['no type', { data: {} }, 'invalid_body'],
    ['data not an object', { type: 'system.alert', data: 'x' }, 'invalid_body'],
  ];
  for (const [name, body, code] of invalid) {
    test(`400 ${code} for ${name}`, async () => {
      const response = await s.api('/api/v1/events', { body });
      assert.equal(response.status, 400);
      const json = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(json.error.code, code);
      assert.ok(json.error.message.length > 0);
    });
  }

  test('400 for malformed JSON, 413 for a body over the limit', async () => {
    const bad = await s.api('/api/v1/events', { body: '{"type":' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_body');
    const big = await s.api('/api/v1/events', { body: { type: 'system.alert', data: { blob: 'x'.repeat(2 * 1024 * 1024) } } });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'payload_too_large');
  });

  test('401 without the key or with a wrong one, on every service route', async () => {
    for (const key of [null, 'wrong', 'test-api-key-012345678']) {
      for (const [path, method] of [['/api/v1/events', 'POST'], ['/api/v1/presence', 'GET'], ['/api/v1/presence/users/x', 'GET'], ['/api/v1/users/x/disconnect', 'POST']] as const) {
        const response = await s.api(path, { method, key, ...(method === 'POST' ? { body: { type: 'system.alert' } } : {}) });
        assert.equal(response.status, 401, `${method} ${path} with ${String(key)}`);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'unauthorized');
      }
    }
  });

  test('presence counts users, connections and users by role', async () => {
    await connectReady(`${s.wsUrl}/ws/parent/${await s.token('pres-p', 'parent')}`);
    await connectReady(`${s.wsUrl}/ws/parent/${await s.token('pres-p', 'parent')}`);
    await connectReady(`${s.wsUrl}/ws/staff/${await s.token('pres-s', 'staff')}`);
    const summary = (await (await s.api('/api/v1/presence')).json()) as { users: number; connections: number; by_role: Record<string, number> };
    assert.ok(summary.users >= 2 && summary.connections >= 3);
    assert.equal(summary.by_role.parent, 1);
    assert.equal(summary.by_role.staff, 1);
    assert.deepEqual(await (await s.api('/api/v1/presence/users/pres-p')).json(), { online: true, connections: 2 });
    assert.deepEqual(await (await s.api('/api/v1/presence/users/nobody')).json(), { online: false, connections: 0 });
  });

  test('disconnect closes every connection of the user with 4410, and only theirs', async () => {
    const a = await connectReady(`${s.wsUrl}/ws/student/${await s.token('banned', 'student')}`);
    const b = await connectReady(`${s.wsUrl}/ws/student/${await s.token('banned', 'student')}`);
    const bystander = await connectReady(`${s.wsUrl}/ws/student/${await s.token('bystander', 'student')}`);
    const response = await s.api('/api/v1/users/banned/disconnect', { method: 'POST', body: {} });
    assert.equal(response.status, 202);
    assert.equal((await a.waitForClose()).code, 4410);
    assert.equal((await b.waitForClose()).code, 4410);
    bystander.send({ type: 'ping' });
    await bystander.waitForType('pong');
  });

  test('healthz, readyz and metrics need no key', async () => {
    assert.equal((await s.api('/healthz', { key: null })).status, 200);
    const ready = await s.api('/readyz', { key: null });
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'up', bus: 'up' } });
    const admin = await connectReady(`${s.wsUrl}/ws/admin/${await s.token('metrics-admin', 'admin')}`);
    await s.api('/api/v1/events', { body: { type: 'admin.summary.daily', data: {} } });
    await admin.waitForType('admin.summary.daily');
    const metrics = await (await s.api('/metrics', { key: null })).text();
    for (const name of ['uhs_connections{role="admin"}', 'uhs_messages_in_total', 'uhs_messages_out_total', 'uhs_events_published_total', 'uhs_event_deliveries_total', 'uhs_send_errors_total', 'uhs_event_loop_lag_seconds']) {
      assert.ok(metrics.includes(name), `metrics expose ${name}`);
    }
    const deliveries = Number(/^uhs_event_deliveries_total (\d+)/m.exec(metrics)?.[1]);
    assert.ok(deliveries >= 1);
  });
});

describe('readiness', () => {
  test('/readyz answers 503 naming the database when PostgreSQL stops answering, 200 again when it is back', async () => {
    const url = await createTestDatabase();
    const s = await startServer({ DATABASE_URL: url });
    assert.equal((await s.api('/readyz', { key: null })).status, 200);
    const name = new URL(url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    // refuse new connections to the run's database and cut the ones the server holds
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    const down = await s.api('/readyz', { key: null });
    assert.equal(down.status, 503);
    assert.deepEqual(((await down.json()) as { checks: Record<string, string> }).checks.database, 'down');
    assert.equal((await s.api('/healthz', { key: null })).status, 200, 'the process itself is still alive');
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await admin.end();
    assert.equal((await s.api('/readyz', { key: null })).status, 200);
  });
});
