import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { errorCode, joinChat, putTicket, received, say } from '../helpers/chat.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Internal notes never reach the customer: every path is checked from the customer's side, each time with a
 * public message sent after the note as a marker (room delivery is ordered, so once the marker is there, the
 * note would have been too).
 */
describe('internal notes', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ RATE_LIMIT_PER_SECOND: '1000' });
  });

  async function ticketWithNote(ticketId: string) {
    await putTicket(server, ticketId, { requester_id: `cust-${ticketId}` });
    const customer = (await joinChat(server, ticketId, `cust-${ticketId}`, 'parent')).client;
    const staff = (await joinChat(server, ticketId, `staff-${ticketId}`, 'staff')).client;
    const admin = (await joinChat(server, ticketId, `admin-${ticketId}`, 'admin')).client;
    const question = await say(customer, 'Why was I charged twice?');
    const note = await say(staff, 'Customer was double-charged by the payment bug, refund approved', { is_internal: true, client_msg_id: 'note-1' });
    const answer = await say(staff, 'We are refunding the second charge.');
    await customer.waitFor((m) => m.type === 'chat_message' && m.data.id === answer.id);
    return { customer, staff, admin, question, note, answer };
  }

  test('live: staff and admin connections get the note, the customer does not', async () => {
    const { customer, admin, note, answer } = await ticketWithNote('live-1');
    assert.equal(note.is_internal, true);
    assert.deepEqual((await admin.waitFor((m) => m.type === 'chat_message' && m.data.id === note.id)).data, note);
    assert.ok(received(customer, 'chat_message').every((m) => m.is_internal === false && m.id !== note.id));
    assert.ok(received(customer, 'chat_message').some((m) => m.id === answer.id));
    assert.ok(!JSON.stringify(customer.messages).includes('double-charged'), 'no frame to the customer mentions the note');
  });

  test("history: the customer's chat_history leaves notes out; staff's includes them", async () => {
    const { question, note, answer } = await ticketWithNote('history-1');
    const { history: customerHistory } = await joinChat(server, 'history-1', 'cust-history-1', 'parent');
    assert.deepEqual(customerHistory.data.messages, [question, answer]);
    const { history: staffHistory } = await joinChat(server, 'history-1', 'staff-2', 'staff');
    assert.deepEqual(staffHistory.data.messages, [question, note, answer]);
  });

  test('history limit counts only what the customer may see', async () => {
    await putTicket(server, 'history-2', { requester_id: 'cust-h2' });
    const { client: customer } = await joinChat(server, 'history-2', 'cust-h2', 'student');
    const { client: staff } = await joinChat(server, 'history-2', 'staff-h2', 'staff');
    await say(customer, 'the only public message');
    for (let i = 0; i < 60; i++) staff.send({ type: 'chat_message', data: { content: `note ${i}`, is_internal: true } });
    await staff.waitForCount('chat_message', 61);
    const { history } = await joinChat(server, 'history-2', 'cust-h2', 'student');
    assert.deepEqual((history.data.messages as Array<{ content: string }>).map((m) => m.content), ['the only public message']);
    assert.equal(received(customer, 'chat_message').length, 1);
  });

  test('API: notes only with include_internal=true', async () => {
    const { question, note, answer } = await ticketWithNote('api-1');
    const list = async (query: string) => {
      const response = await server.api(`/api/v1/tickets/api-1/messages${query}`);
      assert.equal(response.status, 200);
      return ((await response.json()) as { messages: unknown[] }).messages;
    };
    assert.deepEqual(await list(''), [question, answer]);
    assert.deepEqual(await list('?include_internal=false'), [question, answer]);
    assert.deepEqual(await list('?include_internal=true'), [question, note, answer]);
    assert.equal((await server.api('/api/v1/tickets/api-1/messages?include_internal=yes')).status, 400);
  });

  test('a customer may not send a note: forbidden, nothing stored', async () => {
    await putTicket(server, 'send-1', { requester_id: 'cust-s' });
    const { client: customer } = await joinChat(server, 'send-1', 'cust-s', 'student');
    const { client: staff } = await joinChat(server, 'send-1', 'staff-s', 'staff');
    const from = customer.messages.length;
    customer.send({ type: 'chat_message', data: { content: 'pretend note', is_internal: true } });
    assert.equal(await errorCode(customer, from), 'forbidden');
    await say(customer, 'marker');
    await staff.waitFor((m) => m.data.content === 'marker');
    assert.ok(!JSON.stringify(staff.messages).includes('pretend note'));
    const all = (await (await server.api('/api/v1/tickets/send-1/messages?include_internal=true')).json()) as { messages: Array<{ content: string }> };
    assert.deepEqual(all.messages.map((m) => m.content), ['marker']);
  });

  test("read receipts: staff's position on a note is not relayed to the customer, and the customer cannot use a note's id", async () => {
    const { customer, staff, admin, note, answer } = await ticketWithNote('read-1');
    staff.send({ type: 'read_receipt', data: { last_read_message_id: note.id } });
    const toAdmin = await admin.waitFor((m) => m.type === 'read_receipt' && m.data.user_id === 'staff-read-1');
    assert.equal(toAdmin.data.last_read_message_id, note.id);
    staff.send({ type: 'read_receipt', data: { last_read_message_id: answer.id } });
    const later = await customer.waitFor((m) => m.type === 'read_receipt' && m.data.user_id === 'staff-read-1');
    assert.equal(later.data.last_read_message_id, answer.id, 'the first receipt the customer sees is the public one');
    assert.equal(received(customer, 'read_receipt').length, 1);

    const from = customer.messages.length;
    customer.send({ type: 'read_receipt', data: { last_read_message_id: note.id } });
    assert.equal(await errorCode(customer, from), 'invalid_message', 'a note id is as unknown to the customer as any other');

    // a receipt resting on a note is also left out of the customer's history
    await putTicket(server, 'read-2', { requester_id: 'cust-read-2' });
    const { client: staff2 } = await joinChat(server, 'read-2', 'staff-read-2', 'staff');
    const { client: admin2 } = await joinChat(server, 'read-2', 'admin-read-2', 'admin');
    await say(staff2, 'public');
    const note2 = await say(staff2, 'note', { is_internal: true });
    staff2.send({ type: 'read_receipt', data: { last_read_message_id: note2.id } });
    await admin2.waitForType('read_receipt');
    const staffView = (await joinChat(server, 'read-2', 'staff-other', 'staff')).history;
    assert.equal((staffView.data.read_receipts as unknown[]).length, 1);
    const customerView = (await joinChat(server, 'read-2', 'cust-read-2', 'student')).history;
    assert.deepEqual(customerView.data.read_receipts, []);
  });

  test('resending a note (same client_msg_id) answers only the sender, and only staff ever see it', async () => {
    const { customer, staff, admin, note } = await ticketWithNote('resend-1');
    const from = staff.messages.length;
    staff.send({ type: 'chat_message', data: { content: 'Customer was double-charged…', is_internal: true, client_msg_id: 'note-1' } });
    const again = await staff.waitFor((m) => m.type === 'chat_message', 5000, from);
    assert.deepEqual(again.data, note, 'the stored note comes back unchanged');
    const marker = await say(staff, 'marker');
    await admin.waitFor((m) => m.data.id === marker.id);
    assert.equal(admin.ofType('chat_message').filter((m) => m.data.id === note.id).length, 1, 'the room gets nothing new');
    await customer.waitFor((m) => m.data.id === marker.id);
    assert.ok(received(customer, 'chat_message').every((m) => m.id !== note.id));
  });

  test('AI suggestions are refused to customers', async () => {
    const { customer } = await ticketWithNote('ai-1');
    const from = customer.messages.length;
    customer.send({ type: 'ai_suggestion_request', data: {} });
    assert.equal(await errorCode(customer, from), 'forbidden');
  });
});
