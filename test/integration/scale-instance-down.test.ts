import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Role } from '../../src/protocol/roles.js';
import { startCluster, type Cluster, type Instance } from '../helpers/cluster.js';
import { awarenessReaches } from '../helpers/cluster-waits.js';
import { synced, yClient } from '../helpers/collab-clients.js';
import { connect, type TestClient } from '../helpers/ws-client.js';

/** Heartbeats every 0.5 s: a silent instance is reaped after 1.5 s. */
const HEARTBEAT_SECONDS = 0.5;
/** What "bounded" means here: well under the 30 s after which y-protocols would drop a silent awareness state. */
const BOUND_MS = 10_000;

describe('an instance that dies without closing its sockets (INSTANCE_DOWN)', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(2, { PRESENCE_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) });
  });

  const joinChat = async (instance: Instance, ticketId: string, sub: string, role: Role): Promise<TestClient> => {
    const client = connect(`${instance.wsUrl}/ws/support-chat/${ticketId}/${await cluster.token(sub, role)}`);
    await client.waitForType('chat_history');
    return client;
  };
  const putTicket = async (ticketId: string, requester: string): Promise<void> => {
    const response = await cluster.instances[0]!.api(`/api/v1/tickets/${ticketId}`, { method: 'PUT', body: { requester_id: requester } });
    assert.ok(response.ok, `PUT ticket: HTTP ${response.status}`);
  };
  /** Freezes the instance (SIGSTOP) until `gone` resolves — its users were reaped elsewhere — then wakes it up. */
  const frozenUntil = async (instance: Instance, gone: () => Promise<unknown>): Promise<void> => {
    instance.process.kill('SIGSTOP');
    try {
      await gone();
    } finally {
      instance.process.kill('SIGCONT');
    }
  };
  const presenceOf = (client: TestClient, userId: string) =>
    client.messages.filter((m) => (m.type === 'user_joined' || m.type === 'user_left') && m.data.user_id === userId).map((m) => m.type);

  test('SIGKILL: chat users there only leave the rooms elsewhere (user_left), their typing ends; users also elsewhere stay', async () => {
    const victim = await cluster.add();
    const [stable] = cluster.instances as [Instance];
    await putTicket('down-1', 'cust-d');
    const customer = await joinChat(stable, 'down-1', 'cust-d', 'parent');
    const staff = await joinChat(victim, 'down-1', 'staff-d', 'staff');
    const adminHere = await joinChat(stable, 'down-1', 'admin-d', 'admin');
    await joinChat(victim, 'down-1', 'admin-d', 'admin');
    await customer.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'staff-d');
    await customer.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'admin-d');
    staff.send({ type: 'typing', data: { is_typing: true } });
    await customer.waitFor((m) => m.type === 'typing' && m.data.user_id === 'staff-d' && m.data.is_typing === true);

    const killedAt = Date.now();
    victim.process.kill('SIGKILL');
    await victim.exited;
    const left = await customer.waitFor((m) => m.type === 'user_left' && m.data.user_id === 'staff-d', BOUND_MS);
    assert.deepEqual(left.data, { user_id: 'staff-d', role: 'staff' });
    const typingOff = await customer.waitFor((m) => m.type === 'typing' && m.data.user_id === 'staff-d' && m.data.is_typing === false);
    assert.equal(typingOff.data.role, 'staff');
    assert.ok(Date.now() - killedAt < BOUND_MS);
    await adminHere.waitFor((m) => m.type === 'user_left' && m.data.user_id === 'staff-d');

    // the admin still has a connection on the stable instance: no user_left for them
    customer.send({ type: 'chat_message', data: { content: 'still there?', client_msg_id: 'probe' } });
    await adminHere.waitFor((m) => m.type === 'chat_message' && m.data.content === 'still there?');
    assert.deepEqual(presenceOf(customer, 'admin-d'), ['user_joined']);
    assert.deepEqual(presenceOf(customer, 'staff-d'), ['user_joined', 'user_left']);

    // a newcomer's history lists who is really there
    const late = await joinChat(stable, 'down-1', 'staff-late', 'staff');
    const listed = (late.ofType('chat_history')[0]!.data.participants as Array<{ user_id: string }>).map((p) => p.user_id).sort();
    assert.deepEqual(listed, ['admin-d', 'cust-d', 'staff-late']);
  });

  test('SIGKILL: awareness states of document peers there are removed on the other instances within the bound', async () => {
    const victim = await cluster.add();
    const [stable, other] = cluster.instances as [Instance, Instance];
    const watcher = yClient(stable.wsUrl, 'down-doc', await cluster.token('watcher', 'student'));
    const stayer = yClient(other.wsUrl, 'down-doc', await cluster.token('stayer', 'student'));
    const ghost = yClient(victim.wsUrl, 'down-doc', await cluster.token('ghost', 'student'));
    stayer.provider.awareness.setLocalStateField('user', { name: 'stayer' });
    ghost.provider.awareness.setLocalStateField('user', { name: 'ghost' });
    await Promise.all([synced(watcher), synced(stayer), synced(ghost)]);
    await awarenessReaches(watcher, ghost.doc.clientID, true);
    await awarenessReaches(watcher, stayer.doc.clientID, true);
    await awarenessReaches(stayer, ghost.doc.clientID, true);

    const killedAt = Date.now();
    victim.process.kill('SIGKILL');
    await victim.exited;
    ghost.destroy();
    await Promise.all([awarenessReaches(watcher, ghost.doc.clientID, false, BOUND_MS), awarenessReaches(stayer, ghost.doc.clientID, false, BOUND_MS)]);
    assert.ok(Date.now() - killedAt < BOUND_MS);
    assert.ok(watcher.provider.awareness.getStates().has(stayer.doc.clientID), 'peers of live instances keep their cursors');
  });

  test('an instance frozen past the reaping delay: its role-channel users go offline, and online again when it wakes up', async () => {
    const sleeper = await cluster.add();
    const [stable] = cluster.instances as [Instance];
    const admin = connect(`${stable.wsUrl}/ws/admin/${await cluster.token('admin-r', 'admin')}`);
    await admin.waitForType('connection.ready');
    const student = connect(`${sleeper.wsUrl}/ws/student/${await cluster.token('stud-r', 'student')}`);
    await student.waitForType('connection.ready');
    const edges = () => admin.messages.filter((m) => (m.type === 'user.online' || m.type === 'user.offline') && m.data.user_id === 'stud-r');
    await admin.waitFor((m) => m.type === 'user.online' && m.data.user_id === 'stud-r');

    await frozenUntil(sleeper, () => admin.waitFor((m) => m.type === 'user.offline' && m.data.user_id === 'stud-r', BOUND_MS));
    const from = admin.messages.length;
    const back = await admin.waitFor((m) => m.type === 'user.online' && m.data.user_id === 'stud-r', BOUND_MS, from);
    assert.deepEqual(back.data, { user_id: 'stud-r', role: 'student' });
    assert.deepEqual(edges().map((m) => m.type), ['user.online', 'user.offline', 'user.online']);
    const presence = await stable.api('/api/v1/presence/users/stud-r');
    assert.deepEqual(await presence.json(), { online: true, connections: 1 });
    assert.equal(student.closeCode, undefined);
    sleeper.process.kill('SIGTERM');
    await sleeper.exited;
  });

  test('an instance frozen past the reaping delay: its chat users leave, and are announced again when it wakes up', async () => {
    const sleeper = await cluster.add();
    const [stable] = cluster.instances as [Instance];
    await putTicket('down-2', 'cust-f');
    const customer = await joinChat(stable, 'down-2', 'cust-f', 'student');
    const staff = await joinChat(sleeper, 'down-2', 'staff-f', 'staff');
    await customer.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'staff-f');

    await frozenUntil(sleeper, () => customer.waitFor((m) => m.type === 'user_left' && m.data.user_id === 'staff-f', BOUND_MS));
    const from = customer.messages.length;
    const back = await customer.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'staff-f', BOUND_MS, from);
    assert.deepEqual(back.data, { user_id: 'staff-f', role: 'staff' });
    assert.deepEqual(presenceOf(customer, 'staff-f'), ['user_joined', 'user_left', 'user_joined']);

    // the woken instance serves its connection as before, across instances both ways
    staff.send({ type: 'chat_message', data: { content: 'awake', client_msg_id: 'w1' } });
    await customer.waitFor((m) => m.type === 'chat_message' && m.data.content === 'awake');
    customer.send({ type: 'chat_message', data: { content: 'welcome back', client_msg_id: 'w2' } });
    await staff.waitFor((m) => m.type === 'chat_message' && m.data.content === 'welcome back');
    assert.equal(staff.closeCode, undefined);
    assert.equal(staff.ofType('user_left').length, 0, 'the sleeper\'s own connections saw nobody leave');
    sleeper.process.kill('SIGTERM');
    await sleeper.exited;
  });
});
