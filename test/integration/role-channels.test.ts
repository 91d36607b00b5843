import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect, connectReady, type TestClient } from '../helpers/ws-client.js';

describe('role channels', () => {
  let s: TestServer;
  const open = async (sub: string, role: Parameters<TestServer['token']>[1]): Promise<TestClient> =>
    connectReady(`${s.wsUrl}/ws/${role}/${await s.token(sub, role)}`);
  const publish = async (body: unknown): Promise<string> => {
    const response = await s.api('/api/v1/events', { body });
    assert.equal(response.status, 202, await response.clone().text());
    return ((await response.json()) as { id: string }).id;
  };

  before(async () => {
    s = await startServer({ HEALTH_INTERVAL_SECONDS: '0.2' });
  });

  test('connection.ready carries the connection, user, role, server time and heartbeat', async () => {
    const client = await open('ready-user', 'parent');
    const ready = client.messages[0]!;
    assert.equal(ready.type, 'connection.ready');
    assert.equal(ready.data.user_id, 'ready-user');
    assert.equal(ready.data.role, 'parent');
    assert.equal(typeof ready.data.connection_id, 'string');
    assert.equal(ready.data.heartbeat_interval_ms, 30000);
    assert.match(String(ready.data.server_time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(String(ready.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('ping gets pong; bad JSON and unknown types get errors and the connection stays open', async () => {
    const client = await open('pinger', 'student');
    client.send({ type: 'ping' });
    const pong = await client.waitForType('pong');
    assert.deepEqual(pong.data, {});
    client.send('{not json');
    assert.equal((await client.waitForType('error')).data.code, 'bad_json');
    client.send({ type: 'dance' });
    await client.waitFor((m) => m.type === 'error' && m.data.code === 'unknown_type');
    client.send('[1,2]');
    await client.waitForCount('error', 3);
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await client.waitForCount('error', 4);
    client.send({ type: 'ping' });
    await client.waitForCount('pong', 2);
    assert.equal(client.closeCode, undefined);
  });

  test('an event to a user reaches every tab of that user and nobody else', async () => {
    const tab1 = await open('multi', 'student');
    const tab2 = await open('multi', 'student');
    const other = await open('someone-else', 'student');
    const id = await publish({ type: 'student.quiz.results', data: { score: 9 }, target: { users: ['multi'] } });
    for (const tab of [tab1, tab2]) {
      const event = await tab.waitForType('student.quiz.results');
      assert.equal(event.id, id);
      assert.deepEqual(event.data, { score: 9 });
    }
    await other.waitFor(() => true); // connection.ready
    // a later event to everyone proves `other` is reading, so the first one really did not reach it
    await publish({ type: 'notification', data: { n: 1 }, target: { all: true } });
    await other.waitForType('notification');
    assert.equal(other.ofType('student.quiz.results').length, 0);
  });

  test('a system.alert aimed at a student user never reaches them (catalog allow-list)', async () => {
    const student = await open('victim', 'student');
    const admin = await open('admin-1', 'admin');
    await publish({ type: 'system.alert', data: { x: 1 }, target: { users: ['victim'], roles: ['student'] } });
    await publish({ type: 'system.alert', data: { x: 2 } });
    await admin.waitFor((m) => m.type === 'system.alert' && m.data.x === 2);
    await publish({ type: 'notification', data: {}, target: { users: ['victim'] } });
    await student.waitForType('notification');
    assert.equal(student.ofType('system.alert').length, 0);
  });

  test('student.quiz.results aimed at roles student+parent reaches only students', async () => {
    const student = await open('s-1', 'student');
    const parent = await open('p-1', 'parent');
    await publish({ type: 'student.quiz.results', data: { q: 1 }, target: { roles: ['student', 'parent'] } });
    await student.waitForType('student.quiz.results');
    await publish({ type: 'notification', data: {}, target: { roles: ['parent'] } });
    await parent.waitForType('notification');
    assert.equal(parent.ofType('student.quiz.results').length, 0);
  });

  test('default audiences, all, and no duplicates when a user is also addressed by role', async () => {
    const staff = await open('staff-1', 'staff');
    const admin = await open('admin-2', 'admin');
    const partner = await open('partner-1', 'partner');
    await publish({ type: 'ticket.created', data: {} }); // default: staff
    await staff.waitForType('ticket.created');
    await publish({ type: 'notification', data: { k: 'all' }, target: { all: true, users: ['staff-1'], roles: ['staff'] } });
    for (const c of [staff, admin, partner]) await c.waitFor((m) => m.type === 'notification' && m.data.k === 'all');
    await publish({ type: 'notification', data: { k: 'end' }, target: { all: true } });
    await staff.waitFor((m) => m.data.k === 'end');
    assert.equal(staff.messages.filter((m) => m.data.k === 'all').length, 1, 'exactly once');
    assert.equal(admin.ofType('ticket.created').length, 0);
  });

  test('user.online and user.offline on first and last connection only', async () => {
    const admin = await open('watcher', 'admin');
    const t1 = await open('flaky', 'instructor');
    await admin.waitFor((m) => m.type === 'user.online' && m.data.user_id === 'flaky');
    const t2 = await open('flaky', 'instructor');
    await t1.close();
    await t2.close();
    const offline = await admin.waitFor((m) => m.type === 'user.offline' && m.data.user_id === 'flaky');
    assert.deepEqual(offline.data, { user_id: 'flaky', role: 'instructor' });
    assert.equal(admin.messages.filter((m) => m.type === 'user.online' && m.data.user_id === 'flaky').length, 1);
    assert.equal(admin.messages.filter((m) => m.type === 'user.offline' && m.data.user_id === 'flaky').length, 1);
    assert.ok(typeof offline.id === 'string' && offline.id.length > 0);
  });

  test('system.health.update reaches admins and staff with the server figures, not others', async () => {
    const admin = await open('health-admin', 'admin');
    const staff = await open('health-staff', 'staff');
    const student = await open('health-student', 'student');
    const update = await admin.waitForType('system.health.update');
    await staff.waitForType('system.health.update');
    const data = update.data as { connections: { by_role: Record<string, number> }; event_loop_lag_ms: { p99: number }; memory: { rss_bytes: number } };
    assert.ok(data.connections.by_role.admin! >= 1);
    assert.equal(typeof data.event_loop_lag_ms.p99, 'number');
    assert.ok(data.memory.rss_bytes > 0);
    assert.ok('messages_in_per_second' in update.data && 'rooms' in update.data);
    await publish({ type: 'notification', data: {}, target: { users: ['health-student'] } });
    await student.waitForType('notification');
    assert.equal(student.ofType('system.health.update').length, 0);
  });

  test('event ids sort by publish time', async () => {
    const client = await open('sorter', 'partner');
    for (let i = 0; i < 20; i++) await publish({ type: 'partner.api_usage', data: { i }, target: { users: ['sorter'] } });
    const events = await client.waitForCount('partner.api_usage', 20);
    const ids = events.map((e) => e.id!);
    assert.deepEqual([...ids].sort(), ids);
    assert.deepEqual(events.map((e) => e.data.i), [...Array(20).keys()]);
  });
});

describe('heartbeat', () => {
  test('a peer that answers no pings is terminated and unregistered; a live one stays', async () => {
    const s = await startServer({ HEARTBEAT_INTERVAL_SECONDS: '0.2' });
    const admin = await connectReady(`${s.wsUrl}/ws/admin/${await s.token('hb-admin', 'admin')}`);
    // autoPong off: this client never answers pings, like a dead peer
    const silent = connect(`${s.wsUrl}/ws/student/${await s.token('hb-silent', 'student')}`, { autoPong: false } as WebSocket.ClientOptions);
    await silent.waitForType('connection.ready');
    await admin.waitFor((m) => m.type === 'user.online' && m.data.user_id === 'hb-silent');
    const closed = await silent.waitForClose(5000);
    assert.equal(closed.code, 1006, 'terminated without a close frame');
    await admin.waitFor((m) => m.type === 'user.offline' && m.data.user_id === 'hb-silent');
    const presence = (await (await s.api('/api/v1/presence/users/hb-silent')).json()) as { online: boolean };
    assert.equal(presence.online, false);
    assert.equal(admin.closeCode, undefined, 'the answering peer is still connected');
  });
});
