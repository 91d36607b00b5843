import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { errorCode } from '../helpers/chat.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { connect, type TestClient } from '../helpers/ws-client.js';
import type { Role } from '../../src/protocol/roles.js';

describe('support chat across server processes over Redis and PostgreSQL', () => {
  let cluster: Cluster;
  const join = async (i: number, ticketId: string, sub: string, role: Role): Promise<TestClient> => {
    const client = connect(`${cluster.instances[i]!.wsUrl}/ws/support-chat/${ticketId}/${await cluster.token(sub, role)}`);
    await client.waitForType('chat_history');
    return client;
  };
  const put = async (i: number, ticketId: string, body: Record<string, unknown>) => {
    const response = await cluster.instances[i]!.api(`/api/v1/tickets/${ticketId}`, { method: 'PUT', body });
    assert.ok(response.ok, `PUT: HTTP ${response.status}`);
  };

  before(async () => {
    cluster = await startCluster(2);
  });

  test('presence, messages stored once, internal notes, typing, receipts and ticket updates cross processes', async () => {
    await put(0, 'scale-1', { requester_id: 'cust-s' });
    const customer = await join(0, 'scale-1', 'cust-s', 'parent');
    const admin = await join(0, 'scale-1', 'admin-s', 'admin');
    const staff = await join(1, 'scale-1', 'staff-s', 'staff');
    assert.deepEqual((await customer.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'staff-s')).data, { user_id: 'staff-s', role: 'staff' });

    customer.send({ type: 'chat_message', data: { content: 'hello from process 0', client_msg_id: 'a' } });
    const onStaff = await staff.waitForType('chat_message');
    assert.equal(onStaff.data.content, 'hello from process 0');
    staff.send({ type: 'chat_message', data: { content: 'note from process 1', is_internal: true } });
    staff.send({ type: 'chat_message', data: { content: 'answer from process 1', client_msg_id: 'b' } });
    await admin.waitFor((m) => m.data.content === 'note from process 1');
    const answer = await customer.waitFor((m) => m.data.content === 'answer from process 1');
    assert.ok(!customer.messages.some((m) => m.data.content === 'note from process 1'), 'the note never reached the customer');

    const listed = (await (await cluster.instances[1]!.api('/api/v1/tickets/scale-1/messages?include_internal=true')).json()) as { messages: Array<{ content: string }> };
    assert.deepEqual(listed.messages.map((m) => m.content), ['hello from process 0', 'note from process 1', 'answer from process 1'], 'each message stored once');

    staff.send({ type: 'typing', data: { is_typing: true } });
    assert.equal((await customer.waitForType('typing')).data.user_id, 'staff-s');

    // the update is published by process 1; the read receipt after it, on the same topic, arrives after it
    await put(1, 'scale-1', { requester_id: 'cust-s', status: 'closed' });
    staff.send({ type: 'read_receipt', data: { last_read_message_id: answer.data.id } });
    await customer.waitFor((m) => m.type === 'read_receipt' && m.data.user_id === 'staff-s');
    const from = customer.messages.length;
    customer.send({ type: 'chat_message', data: { content: 'too late' } });
    assert.equal(await errorCode(customer, from), 'ticket_closed');

    await staff.close();
    assert.deepEqual((await customer.waitFor((m) => m.type === 'user_left')).data, { user_id: 'staff-s', role: 'staff' });
  });

  test('a room opening on a second process learns who is already there', async () => {
    await put(0, 'scale-2', { requester_id: 'cust-t' });
    await join(0, 'scale-2', 'cust-t', 'student');
    const staff = await join(1, 'scale-2', 'staff-t', 'staff');
    const listed = (history: TestClient) => (history.ofType('chat_history')[0]!.data.participants as Array<{ user_id: string }>).map((p) => p.user_id);
    // over Redis the answer may come after the history: then it arrives as user_joined
    const known = new Set(listed(staff));
    if (!known.has('cust-t')) await staff.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'cust-t');
    assert.ok(listed(staff).includes('staff-t'));
  });
});
