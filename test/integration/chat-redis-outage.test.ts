import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Role } from '../../src/protocol/roles.js';
import { startCluster, type Instance } from '../helpers/cluster.js';
import { isReady, until } from '../helpers/cluster-waits.js';
import { startOwnRedis } from '../helpers/redis.js';
import { connect, type TestClient } from '../helpers/ws-client.js';

test('support chat through a Redis outage: messages are served locally, then healed across processes, once each; presence too', async () => {
  const redis = await startOwnRedis();
  const cluster = await startCluster(2, { REDIS_URL: redis.url, REDIS_CANARY_INTERVAL_SECONDS: '0.3' });
  const [one, two] = cluster.instances as [Instance, Instance];
  const join = async (instance: Instance, sub: string, role: Role): Promise<TestClient> => {
    const client = connect(`${instance.wsUrl}/ws/support-chat/outage-1/${await cluster.token(sub, role)}`);
    await client.waitForType('chat_history');
    return client;
  };
  const say = (client: TestClient, content: string, extra: Record<string, unknown> = {}): void =>
    client.send({ type: 'chat_message', data: { content, client_msg_id: content, ...extra } });
  const got = (client: TestClient, content: string, timeoutMs = 15_000) =>
    client.waitFor((m) => m.type === 'chat_message' && m.data.content === content, timeoutMs);
  const count = (client: TestClient, content: string): number =>
    client.messages.filter((m) => m.type === 'chat_message' && m.data.content === content).length;

  assert.ok((await one.api('/api/v1/tickets/outage-1', { method: 'PUT', body: { requester_id: 'cust-o' } })).ok);
  const customer = await join(one, 'cust-o', 'parent');
  const staff = await join(two, 'staff-o', 'staff');
  const leaver = await join(two, 'staff-leaver', 'staff');
  await customer.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'staff-leaver');
  say(customer, 'before');
  await got(staff, 'before');
  staff.send({ type: 'typing', data: { is_typing: true } });
  await customer.waitFor((m) => m.type === 'typing' && m.data.user_id === 'staff-o' && m.data.is_typing === true);

  await redis.stop();
  await until(async () => !(await isReady(one)) && !(await isReady(two)), 'both processes to see Redis gone');
  const admin = await join(one, 'admin-o', 'admin');
  say(customer, 'during, from the customer');
  say(staff, 'during, from staff');
  say(staff, 'during, an internal note', { is_internal: true });
  // stored, and delivered to the connections of the same process
  await got(customer, 'during, from the customer');
  await got(admin, 'during, from the customer');
  await got(staff, 'during, an internal note');
  // a tab opened now finds in its history what the other process stored: it must not get it twice
  const customerTab = await join(one, 'cust-o', 'parent');
  const tabHistory = (customerTab.ofType('chat_history')[0]!.data.messages as Array<{ content: string }>).map((m) => m.content);
  assert.deepEqual(tabHistory, ['before', 'during, from the customer', 'during, from staff'].sort((x, y) => tabHistory.indexOf(x) - tabHistory.indexOf(y)));
  await leaver.close();
  // the end of the indicator cannot cross now
  staff.send({ type: 'typing', data: { is_typing: false } });

  await redis.start();
  // no new message after the restart: each side catches up on what the other stored
  await got(staff, 'during, from the customer');
  await got(customer, 'during, from staff');
  await got(admin, 'during, from staff');
  await got(admin, 'during, an internal note');
  assert.deepEqual((await customer.waitFor((m) => m.type === 'user_left', 15_000)).data, { user_id: 'staff-leaver', role: 'staff' });
  await customer.waitFor((m) => m.type === 'typing' && m.data.user_id === 'staff-o' && m.data.is_typing === false, 15_000);
  assert.deepEqual((await staff.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'admin-o', 15_000)).data, { user_id: 'admin-o', role: 'admin' });

  // live traffic crosses again; then everything arrived exactly once, and the note never reached the customer
  say(staff, 'after');
  await got(customer, 'after');
  say(customer, 'after, from the customer');
  await got(staff, 'after, from the customer');
  await until(async () => (await isReady(one)) && (await isReady(two)), 'both processes ready again');
  for (const content of ['before', 'during, from the customer', 'during, from staff', 'after']) {
    assert.equal(count(customer, content), 1, `customer got "${content}" once`);
    assert.equal(count(staff, content), 1, `staff got "${content}" once`);
  }
  assert.equal(count(customerTab, 'during, from staff'), 0, 'it was in the tab\'s history, not sent again');
  assert.equal(count(customerTab, 'after'), 1);
  assert.equal(count(admin, 'during, from the customer'), 1);
  assert.equal(count(admin, 'during, from staff'), 1);
  assert.equal(count(admin, 'during, an internal note'), 1);
  assert.equal(count(customer, 'during, an internal note'), 0);
  assert.equal(count(customerTab, 'during, an internal note'), 0);
  assert.deepEqual(
    // (the customer, already there, may come as user_joined after the history: the other process's answer)
    staff.messages.filter((m) => (m.type === 'user_joined' || m.type === 'user_left') && m.data.user_id !== 'cust-o').map((m) => `${m.type} ${m.data.user_id}`),
    ['user_joined staff-leaver', 'user_left staff-leaver', 'user_joined admin-o'],
    'staff saw exactly the presence changes that happened',
  );
  assert.deepEqual(
    customer.messages.filter((m) => m.type === 'user_joined' || m.type === 'user_left').map((m) => `${m.type} ${m.data.user_id}`),
    ['user_joined staff-o', 'user_joined staff-leaver', 'user_joined admin-o', 'user_left staff-leaver'],
    'the customer too',
  );

  const listed = (await (await two.api('/api/v1/tickets/outage-1/messages?include_internal=true')).json()) as { messages: Array<{ content: string }> };
  assert.deepEqual(
    listed.messages.map((m) => m.content).sort(),
    ['before', 'during, from the customer', 'during, from staff', 'during, an internal note', 'after', 'after, from the customer'].sort(),
    'each message stored once',
  );
});
