import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { joinChat, putTicket, received, say } from '../helpers/chat.js';
import { onCleanup } from '../helpers/cleanup.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('support chat on PostgreSQL', () => {
  let server: TestServer;
  let db: pg.Client;
  before(async () => {
    const url = await createTestDatabase();
    server = await startServer({ DATABASE_URL: url, RATE_LIMIT_PER_SECOND: '5000' });
    db = new pg.Client({ connectionString: url });
    await db.connect();
    onCleanup(() => db.end());
  });

  test('every message is committed before any connection receives it', async () => {
    await putTicket(server, 'pg-stored', { requester_id: 'cust-pg' });
    const { client: customer } = await joinChat(server, 'pg-stored', 'cust-pg', 'student');
    const { client: staff } = await joinChat(server, 'pg-stored', 'staff-pg', 'staff');
    // asked on another connection the moment each frame arrives: a message delivered before its commit is not seen
    const lookups: Array<Promise<string | undefined>> = [];
    const check = (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as { type: string; data: { id: string } };
      if (message.type !== 'chat_message') return;
      const id = message.data.id;
      lookups.push(db.query('select 1 from staff_ticket_messages where id = $1', [id]).then((r) => (r.rowCount === 1 ? undefined : id)));
    };
    staff.ws.on('message', check);
    const n = 150;
    for (let i = 0; i < n; i++) {
      customer.send({ type: 'chat_message', data: { content: `c${i}` } });
      staff.send({ type: 'chat_message', data: { content: `s${i}` } });
    }
    await staff.waitForCount('chat_message', 2 * n);
    const missing = (await Promise.all(lookups)).filter((id) => id !== undefined);
    assert.equal(lookups.length, 2 * n);
    assert.deepEqual(missing, []);
    await customer.waitForCount('chat_message', 2 * n);
  });

  test('join, talk, internal notes, resends and the API on PostgreSQL', async () => {
    await putTicket(server, 'pg-flow', { requester_id: 'cust-f', subject: 'Video class has no sound' });
    const { client: customer } = await joinChat(server, 'pg-flow', 'cust-f', 'parent');
    const { client: staff } = await joinChat(server, 'pg-flow', 'staff-f', 'staff');
    const question = await say(customer, 'No sound in the class', { client_msg_id: 'x1' });
    const note = await say(staff, 'Known issue with the audio relay', { is_internal: true });
    const answer = await say(staff, 'Please rejoin the class; we fixed the audio.');
    await customer.waitFor((m) => m.data.id === answer.id);
    assert.ok(received(customer, 'chat_message').every((m) => m.id !== note.id));

    const from = customer.messages.length;
    customer.send({ type: 'chat_message', data: { content: 'No sound in the class', client_msg_id: 'x1' } });
    assert.deepEqual((await customer.waitFor((m) => m.type === 'chat_message', 5000, from)).data, question);

    customer.send({ type: 'read_receipt', data: { last_read_message_id: answer.id } });
    assert.equal((await staff.waitForType('read_receipt')).data.last_read_message_id, answer.id);

    const { history } = await joinChat(server, 'pg-flow', 'cust-f', 'parent');
    assert.deepEqual(history.data.messages, [question, answer]);
    const list = async (query: string) => ((await (await server.api(`/api/v1/tickets/pg-flow/messages${query}`)).json()) as { messages: unknown[] }).messages;
    assert.deepEqual(await list(''), [question, answer]);
    assert.deepEqual(await list('?include_internal=true'), [question, note, answer]);
    const count = await db.query("select count(*)::int as n from staff_ticket_messages where ticket_id = 'pg-flow'");
    assert.equal(count.rows[0].n, 3);
  });
});
