import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { rawRedis } from '../helpers/redis.js';
import { connectReady, type TestClient } from '../helpers/ws-client.js';

describe('many instances over Redis act as one server', () => {
  let cluster: Cluster;
  const open = async (i: number, sub: string, role: Parameters<Cluster['token']>[1]): Promise<TestClient> =>
    connectReady(`${cluster.instances[i]!.wsUrl}/ws/${role}/${await cluster.token(sub, role)}`);

  before(async () => {
    cluster = await startCluster(3, { PRESENCE_HEARTBEAT_SECONDS: '0.5' });
  });

  test('events to users, roles and everyone reach every instance exactly once, allow-list included', async () => {
    const s0 = await open(0, 'x-student', 'student');
    const s1 = await open(1, 'x-student', 'student');
    const s2 = await open(2, 'y-student', 'student');
    const a2 = await open(2, 'x-admin', 'admin');
    const p1 = await open(1, 'x-parent', 'parent');
    const publish = async (i: number, body: unknown) => assert.equal((await cluster.instances[i]!.publish(body)).status, 202);

    await publish(0, { type: 'student.quiz.results', data: { k: 'user' }, target: { users: ['x-student'] } });
    await publish(1, { type: 'student.quiz.results', data: { k: 'roles' }, target: { roles: ['student', 'parent'] } });
    await publish(2, { type: 'system.alert', data: { k: 'alert' }, target: { users: ['x-student'], all: true } });
    await publish(0, { type: 'notification', data: { k: 'all' }, target: { all: true } });

    for (const c of [s0, s1, s2, a2, p1]) await c.waitFor((m) => m.data.k === 'all');
    const keys = (c: TestClient) => c.messages.filter((m) => m.id).map((m) => m.data.k).sort();
    assert.deepEqual(keys(s0), ['all', 'roles', 'user']);
    assert.deepEqual(keys(s1), ['all', 'roles', 'user']);
    assert.deepEqual(keys(s2), ['all', 'roles']);
    assert.deepEqual(keys(p1).filter((k) => k !== undefined), ['all']);
    assert.ok(keys(a2).includes('alert'));
    assert.equal(a2.messages.filter((m) => m.data.k === 'alert').length, 1);
  });

  test("the seed's ws:admin:broadcast channel works with a plain Redis PUBLISH", async () => {
    const admin0 = await open(0, 'legacy-admin', 'admin');
    const staff1 = await open(1, 'legacy-staff', 'staff');
    const student2 = await open(2, 'legacy-student', 'student');
    const redis = rawRedis();
    const send = (message: unknown) => redis.publish('ws:admin:broadcast', JSON.stringify(message));
    await send({ type: 'content.flagged', data: { k: 'default' } });
    await send({ type: 'notification', data: { k: 'to-user' }, _target_user: 'legacy-student' });
    await send({ type: 'staff.team_chat', data: { k: 'to-role' }, _target_role: 'staff' });
    await send({ type: 'system.alert', data: { k: 'forbidden' }, _target_user: 'legacy-student' });
    await send({ type: 'notification', data: { k: 'everyone' } });
    await send('not json at all');
    await send({ type: 'made.up.type', data: {} });
    for (const c of [admin0, staff1, student2]) await c.waitFor((m) => m.data.k === 'everyone');
    await admin0.waitFor((m) => m.data.k === 'default');
    await staff1.waitFor((m) => m.data.k === 'default');
    await staff1.waitFor((m) => m.data.k === 'to-role');
    await student2.waitFor((m) => m.data.k === 'to-user');
    assert.equal(student2.messages.filter((m) => m.data.k === 'forbidden').length, 0);
    assert.equal(admin0.messages.filter((m) => m.data.k === 'default').length, 1, 'claimed by one instance, delivered once');
    assert.equal(student2.messages.filter((m) => m.data.k === 'everyone').length, 1);
  });

  test('presence: online once, offline once, totals across instances', async () => {
    const watcher = await open(0, 'presence-watcher', 'admin');
    const t1 = await open(1, 'roamer', 'instructor');
    await watcher.waitFor((m) => m.type === 'user.online' && m.data.user_id === 'roamer');
    const t2 = await open(2, 'roamer', 'instructor');
    const summary = (await (await cluster.instances[0]!.api('/api/v1/presence/users/roamer')).json()) as { connections: number };
    assert.equal(summary.connections, 2);
    const all = (await (await cluster.instances[2]!.api('/api/v1/presence')).json()) as { by_role: Record<string, number> };
    assert.ok(all.by_role.instructor! >= 1);
    await t1.close();
    await t2.close();
    await watcher.waitFor((m) => m.type === 'user.offline' && m.data.user_id === 'roamer');
    assert.equal(watcher.messages.filter((m) => m.type === 'user.online' && m.data.user_id === 'roamer').length, 1);
    assert.equal(watcher.messages.filter((m) => m.type === 'user.offline' && m.data.user_id === 'roamer').length, 1);
    assert.deepEqual(await (await cluster.instances[1]!.api('/api/v1/presence/users/roamer')).json(), { online: false, connections: 0 });
  });

  test('disconnect through one instance closes the user everywhere with 4410', async () => {
    const a = await open(0, 'kicked', 'student');
    const b = await open(2, 'kicked', 'student');
    assert.equal((await cluster.instances[1]!.api('/api/v1/users/kicked/disconnect', { method: 'POST', body: {} })).status, 202);
    assert.equal((await a.waitForClose()).code, 4410);
    assert.equal((await b.waitForClose()).code, 4410);
  });

  test('a crashed instance leaves presence within a bounded time, and its users go offline once', async () => {
    const doomed = await cluster.add();
    const watcher = await open(0, 'crash-watcher', 'admin');
    await connectReady(`${doomed.wsUrl}/ws/parent/${await cluster.token('stranded', 'parent')}`);
    await watcher.waitFor((m) => m.type === 'user.online' && m.data.user_id === 'stranded');
    doomed.process.kill('SIGKILL');
    await doomed.exited;
    const offline = await watcher.waitFor((m) => m.type === 'user.offline' && m.data.user_id === 'stranded', 10_000);
    assert.equal(offline.data.role, 'parent');
    assert.deepEqual(await (await cluster.instances[0]!.api('/api/v1/presence/users/stranded')).json(), { online: false, connections: 0 });
  });
});
