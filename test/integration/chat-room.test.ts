import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { chatUrl, errorCode, joinChat, putTicket, received, say } from '../helpers/chat.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect } from '../helpers/ws-client.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('support chat over real sockets (SQLite)', () => {
  let server: TestServer;
  before(async () => {
    // the rate limit has its own suite below; here tests send bursts
    server = await startServer({ RATE_LIMIT_PER_SECOND: '1000' });
  });

  describe('joining', () => {
    test('an unknown ticket is refused with 4404', async () => {
      const client = connect(await chatUrl(server, 'no-such-ticket', 'staff-1', 'staff'));
      assert.equal((await client.waitForClose()).code, 4404);
    });

    test('staff and admin join any ticket; others only their own (4403)', async () => {
      await putTicket(server, 'join-1', { requester_id: 'parent-1' });
      for (const [sub, role] of [['staff-1', 'staff'], ['admin-1', 'admin'], ['parent-1', 'parent']] as const) {
        const { history } = await joinChat(server, 'join-1', sub, role);
        assert.deepEqual(history.data.messages, []);
      }
      for (const [sub, role] of [['student-2', 'student'], ['instructor-1', 'instructor'], ['partner-1', 'partner']] as const) {
        const client = connect(await chatUrl(server, 'join-1', sub, role));
        assert.equal((await client.waitForClose()).code, 4403, `${role} ${sub}`);
      }
    });

    test('a bad token is refused with 4401 and a malformed ticket id with 4400', async () => {
      await putTicket(server, 'join-2', { requester_id: 'c' });
      const bad = connect(`${server.wsUrl}/ws/support-chat/join-2/not-a-token`);
      assert.equal((await bad.waitForClose()).code, 4401);
      const malformed = connect(`${server.wsUrl}/ws/support-chat/bad%20id/${await server.token('c', 'student')}`);
      assert.equal((await malformed.waitForClose()).code, 4400);
    });

    test('the token may come as ?token= or an Authorization header', async () => {
      await putTicket(server, 'join-3', { requester_id: 'c3' });
      const token = await server.token('c3', 'student');
      const byQuery = connect(`${server.wsUrl}/ws/support-chat/join-3?token=${token}`);
      await byQuery.waitForType('chat_history');
      const byHeader = connect(`${server.wsUrl}/ws/support-chat/join-3`, { headers: { authorization: `Bearer ${token}` } });
      await byHeader.waitForType('chat_history');
    });

    test('chat_history holds the last 50 messages, oldest first, and who is there', async () => {
      await putTicket(server, 'hist-1', { requester_id: 'cust-h' });
      const { client: customer } = await joinChat(server, 'hist-1', 'cust-h', 'student');
      for (let i = 0; i < 55; i++) customer.send({ type: 'chat_message', data: { content: `message ${i}` } });
      await customer.waitForCount('chat_message', 55);
      const { history } = await joinChat(server, 'hist-1', 'staff-h', 'staff');
      const messages = history.data.messages as Array<Record<string, unknown>>;
      assert.equal(messages.length, 50);
      assert.deepEqual(messages.map((m) => m.content), Array.from({ length: 50 }, (_, i) => `message ${i + 5}`));
      assert.deepEqual(history.data.participants, [
        { user_id: 'cust-h', role: 'student' },
        { user_id: 'staff-h', role: 'staff' },
      ]);
    });
  });

  describe('messages', () => {
    test('a message reaches the room and the sender, with server id and time, trimmed', async () => {
      await putTicket(server, 'msg-1', { requester_id: 'cust-m' });
      const { client: customer } = await joinChat(server, 'msg-1', 'cust-m', 'student');
      const { client: staff } = await joinChat(server, 'msg-1', 'staff-m', 'staff');
      const { client: customerTab2 } = await joinChat(server, 'msg-1', 'cust-m', 'student');
      const sent = await say(customer, '  Hello, I cannot log in  ', { client_msg_id: 'c-1' });
      assert.match(String(sent.id), /^[0-9a-z]{13}/);
      assert.match(String(sent.created_at), ISO_MS);
      assert.deepEqual({ ...sent, id: undefined, created_at: undefined }, {
        id: undefined,
        created_at: undefined,
        ticket_id: 'msg-1',
        sender_id: 'cust-m',
        sender_role: 'student',
        content: 'Hello, I cannot log in',
        is_internal: false,
        client_msg_id: 'c-1',
      });
      assert.deepEqual((await staff.waitForType('chat_message')).data, sent);
      assert.deepEqual((await customerTab2.waitForType('chat_message')).data, sent, "the sender's other tab gets it too");
      const reply = await say(staff, 'Let me check that for you.');
      assert.deepEqual((await customer.waitFor((m) => m.type === 'chat_message' && m.data.id === reply.id)).data, reply);
    });

    test("one connection's messages are handled and delivered in order", async () => {
      await putTicket(server, 'order-1', { requester_id: 'cust-o' });
      const { client: customer } = await joinChat(server, 'order-1', 'cust-o', 'student');
      const { client: staff } = await joinChat(server, 'order-1', 'staff-o', 'staff');
      const n = 40;
      for (let i = 0; i < n; i++) {
        customer.send({ type: 'chat_message', data: { content: `#${i}` } });
        if (i % 10 === 0) customer.send({ type: 'typing', data: { is_typing: true } });
      }
      customer.send({ type: 'ping' });
      const got = await staff.waitForCount('chat_message', n);
      assert.deepEqual(got.map((m) => m.data.content), Array.from({ length: n }, (_, i) => `#${i}`));
      const ids = got.map((m) => String(m.data.id));
      assert.deepEqual([...ids].sort(), ids, 'ids sort in arrival order');
      await customer.waitForType('pong');
      const lastEcho = customer.messages.findLastIndex((m) => m.type === 'chat_message');
      assert.ok(customer.messages.findIndex((m) => m.type === 'pong') > lastEcho, 'the ping is answered after every earlier message is stored');
    });

    test('content limits: 1-4000 characters after trimming, counted in code points', async () => {
      await putTicket(server, 'limits-1', { requester_id: 'cust-l' });
      const { client } = await joinChat(server, 'limits-1', 'cust-l', 'student');
      for (const content of ['', '   \n\t ', 'x'.repeat(4001), 42]) {
        const from = client.messages.length;
        client.send({ type: 'chat_message', data: { content } });
        assert.equal(await errorCode(client, from), 'invalid_message', JSON.stringify(content).slice(0, 20));
      }
      const emoji = await say(client, '😀'.repeat(4000));
      assert.equal([...String(emoji.content)].length, 4000);
      assert.equal(String((await say(client, `  ${'y'.repeat(4000)}  `)).content).length, 4000);
    });

    test('bad JSON, unknown types and binary frames get an error and the connection stays', async () => {
      await putTicket(server, 'bad-1', { requester_id: 'cust-b' });
      const { client } = await joinChat(server, 'bad-1', 'cust-b', 'student');
      let from = client.messages.length;
      client.send('{not json');
      assert.equal(await errorCode(client, from), 'bad_json');
      from = client.messages.length;
      client.send({ type: 'launch_rocket', data: {} });
      assert.equal(await errorCode(client, from), 'unknown_type');
      from = client.messages.length;
      client.ws.send(Buffer.from([1, 2, 3]));
      assert.equal(await errorCode(client, from), 'bad_json');
      from = client.messages.length;
      client.send({ type: 'typing', data: { is_typing: 'yes' } });
      assert.equal(await errorCode(client, from), 'invalid_message');
      from = client.messages.length;
      client.send({ type: 'read_receipt', data: {} });
      assert.equal(await errorCode(client, from), 'invalid_message');
      await say(client, 'still here');
    });
  });

  describe('presence and typing', () => {
    test("user_joined / user_left on a user's first and last connection only", async () => {
      await putTicket(server, 'pres-1', { requester_id: 'cust-p' });
      const { client: customer } = await joinChat(server, 'pres-1', 'cust-p', 'student');
      const { client: tab1 } = await joinChat(server, 'pres-1', 'staff-p', 'staff');
      assert.deepEqual((await customer.waitForType('user_joined')).data, { user_id: 'staff-p', role: 'staff' });
      const { client: tab2, history } = await joinChat(server, 'pres-1', 'staff-p', 'staff');
      assert.deepEqual(history.data.participants, [
        { user_id: 'cust-p', role: 'student' },
        { user_id: 'staff-p', role: 'staff' },
      ]);
      await tab1.close();
      await say(tab2, 'marker 1');
      await customer.waitFor((m) => m.data.content === 'marker 1');
      assert.equal(customer.ofType('user_joined').length, 1, 'a second tab is not a new join');
      assert.equal(customer.ofType('user_left').length, 0, 'closing one of two tabs is not a leave');
      await tab2.close();
      assert.deepEqual((await customer.waitForType('user_left')).data, { user_id: 'staff-p', role: 'staff' });
      assert.equal(tab1.ofType('user_joined').length, 0, 'nobody is told about their own join');
    });

    test('typing is relayed to the others, ends on a message, and ends on disconnect', async () => {
      await putTicket(server, 'typing-1', { requester_id: 'cust-t' });
      const { client: customer } = await joinChat(server, 'typing-1', 'cust-t', 'student');
      const { client: staff } = await joinChat(server, 'typing-1', 'staff-t', 'staff');
      staff.send({ type: 'typing', data: { is_typing: true } });
      assert.deepEqual((await customer.waitForType('typing')).data, { user_id: 'staff-t', role: 'staff', is_typing: true });
      await say(staff, 'done typing');
      const stopped = await customer.waitFor((m) => m.type === 'typing' && m.data.is_typing === false);
      assert.equal(stopped.data.user_id, 'staff-t');
      assert.equal(received(staff, 'typing').length, 0, 'the typist does not hear itself');

      customer.send({ type: 'typing', data: { is_typing: true } });
      await staff.waitFor((m) => m.type === 'typing' && m.data.user_id === 'cust-t' && m.data.is_typing === true);
      customer.ws.terminate();
      const ended = await staff.waitFor((m) => m.type === 'typing' && m.data.user_id === 'cust-t' && m.data.is_typing === false);
      assert.equal(ended.data.role, 'student');
    });

    test('a typing indicator expires on the server after 6 seconds without refresh', async () => {
      await putTicket(server, 'typing-2', { requester_id: 'cust-t2' });
      const { client: customer } = await joinChat(server, 'typing-2', 'cust-t2', 'student');
      const { client: staff } = await joinChat(server, 'typing-2', 'staff-t2', 'staff');
      customer.send({ type: 'typing', data: { is_typing: true } });
      await staff.waitFor((m) => m.type === 'typing' && m.data.is_typing === true);
      const started = Date.now();
      await staff.waitFor((m) => m.type === 'typing' && m.data.is_typing === false, 12_000);
      const elapsed = Date.now() - started;
      // 6 s on the server, seen from here less the relay latency of the start; room for a busy machine above
      assert.ok(elapsed >= 5500 && elapsed <= 10_000, `expired after ${elapsed} ms`);
    });
  });

  describe('read receipts', () => {
    test('stored per user, relayed to the others, never moving backwards', async () => {
      await putTicket(server, 'read-1', { requester_id: 'cust-r' });
      const { client: customer } = await joinChat(server, 'read-1', 'cust-r', 'student');
      const { client: staff } = await joinChat(server, 'read-1', 'staff-r', 'staff');
      const first = await say(staff, 'first');
      const second = await say(staff, 'second');
      customer.send({ type: 'read_receipt', data: { last_read_message_id: second.id } });
      const receipt = await staff.waitForType('read_receipt');
      assert.equal(receipt.data.user_id, 'cust-r');
      assert.equal(receipt.data.last_read_message_id, second.id);
      assert.match(String(receipt.data.read_at), ISO_MS);

      customer.send({ type: 'read_receipt', data: { last_read_message_id: first.id } });
      customer.send({ type: 'read_receipt', data: { last_read_message_id: second.id } });
      await say(customer, 'marker');
      await staff.waitFor((m) => m.data.content === 'marker');
      assert.equal(staff.ofType('read_receipt').length, 1, 'an older or equal position is not relayed');

      let from = customer.messages.length;
      customer.send({ type: 'read_receipt', data: { last_read_message_id: 'not-a-message' } });
      assert.equal(await errorCode(customer, from), 'invalid_message');

      const { history } = await joinChat(server, 'read-1', 'staff-r2', 'staff');
      assert.deepEqual(history.data.read_receipts, [receipt.data]);
      assert.equal(received(customer, 'read_receipt').length, 0, 'the reader is not told about its own receipt');
    });
  });

  describe('closed tickets', () => {
    test('a closed ticket can be read and joined but not posted to; reopening allows posting again', async () => {
      await putTicket(server, 'closed-1', { requester_id: 'cust-c' });
      const { client: customer } = await joinChat(server, 'closed-1', 'cust-c', 'student');
      const before = await say(customer, 'before closing');
      const closedTicket = await putTicket(server, 'closed-1', { requester_id: 'cust-c', status: 'closed' });
      assert.equal(closedTicket.status, 'closed');
      let from = customer.messages.length;
      customer.send({ type: 'chat_message', data: { content: 'after closing' } });
      assert.equal(await errorCode(customer, from), 'ticket_closed');

      const { client: staff, history } = await joinChat(server, 'closed-1', 'staff-c', 'staff');
      assert.deepEqual((history.data.messages as unknown[]).length, 1);
      from = staff.messages.length;
      staff.send({ type: 'chat_message', data: { content: 'staff neither', is_internal: true } });
      assert.equal(await errorCode(staff, from), 'ticket_closed');
      const { history: late } = await joinChat(server, 'closed-1', 'cust-c', 'student');
      assert.deepEqual(late.data.messages, [before]);

      await putTicket(server, 'closed-1', { requester_id: 'cust-c', status: 'open' });
      await say(customer, 'reopened');
    });

    test('a customer who is no longer the requester is let go with 4403', async () => {
      await putTicket(server, 'moved-1', { requester_id: 'cust-x' });
      const { client: customer } = await joinChat(server, 'moved-1', 'cust-x', 'student');
      const { client: staff } = await joinChat(server, 'moved-1', 'staff-x', 'staff');
      await putTicket(server, 'moved-1', { requester_id: 'cust-y' });
      assert.equal((await customer.waitForClose()).code, 4403);
      await say(staff, 'staff stays');
    });
  });

  describe('metrics', () => {
    test('open rooms, stored messages, internal notes and AI requests are exported', async () => {
      await putTicket(server, 'metrics-1', { requester_id: 'cust-mm' });
      const { client: staff } = await joinChat(server, 'metrics-1', 'staff-mm', 'staff');
      await say(staff, 'note', { is_internal: true });
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.ok(value('uhs_chat_rooms_open') >= 1);
      assert.ok(value('uhs_chat_messages_stored_total') >= 1);
      assert.ok(value('uhs_chat_internal_notes_total') >= 1);
      assert.ok(Number.isFinite(value('uhs_chat_ai_requests_total')));
      assert.ok(Number.isFinite(value('uhs_chat_ai_failures_total')));
    });
  });
});

describe('support chat limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ RATE_LIMIT_PER_SECOND: '2', MAX_MESSAGE_BYTES: '2048' });
  });

  test('past the per-connection rate: rate_limited, and the connection stays', async () => {
    await putTicket(server, 'rate-1', { requester_id: 'cust-rl' });
    const { client } = await joinChat(server, 'rate-1', 'cust-rl', 'student');
    const from = client.messages.length;
    for (let i = 0; i < 6; i++) client.send({ type: 'typing', data: { is_typing: i % 2 === 0 } });
    assert.equal(await errorCode(client, from), 'rate_limited');
    assert.equal(client.closeCode, undefined);
  });

  test('a frame over MAX_MESSAGE_BYTES closes with 1009', async () => {
    await putTicket(server, 'big-1', { requester_id: 'cust-big' });
    const { client } = await joinChat(server, 'big-1', 'cust-big', 'student');
    client.send({ type: 'chat_message', data: { content: 'z'.repeat(3000) } });
    assert.equal((await client.waitForClose()).code, 1009);
  });
});
