import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { joinChat, putTicket, received, say } from '../helpers/chat.js';
import { onCleanup } from '../helpers/cleanup.js';
import { startServer, type TestServer } from '../helpers/server.js';

function openDatabase(server: TestServer): SQLite.Database {
  const db = new SQLite(join(server.dataDir, 'realtime.db'), { readonly: true, fileMustExist: true });
  onCleanup(() => db.close());
  return db;
}

describe('durability', () => {
  let server: TestServer;
  let db: SQLite.Database;
  before(async () => {
    server = await startServer({ RATE_LIMIT_PER_SECOND: '5000' });
    db = openDatabase(server);
  });

  test('every message is in staff_ticket_messages before any connection receives it', async () => {
    await putTicket(server, 'stored-1', { requester_id: 'cust-d' });
    const { client: customer } = await joinChat(server, 'stored-1', 'cust-d', 'student');
    const { client: staff } = await joinChat(server, 'stored-1', 'staff-d', 'staff');
    const lookup = db.prepare('select content, is_internal from staff_ticket_messages where id = ?');
    const missing: string[] = [];
    let checked = 0;
    // checked synchronously, on another database connection, the moment each frame arrives
    const check = (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as { type: string; data: { id: string } };
      if (message.type !== 'chat_message') return;
      checked++;
      if (!lookup.get(message.data.id)) missing.push(message.data.id);
    };
    customer.ws.on('message', check);
    staff.ws.on('message', check);
    const n = 200;
    for (let i = 0; i < n; i++) {
      customer.send({ type: 'chat_message', data: { content: `c${i}` } });
      staff.send({ type: 'chat_message', data: { content: `s${i}`, is_internal: i % 3 === 0 } });
    }
    await staff.waitForCount('chat_message', 2 * n);
    await customer.waitForCount('chat_message', n + n - Math.ceil(n / 3));
    assert.equal(checked, 2 * n + 2 * n - Math.ceil(n / 3));
    assert.deepEqual(missing, []);
  });

  test('a resend with the same client_msg_id is stored once and answered with the stored message', async () => {
    await putTicket(server, 'idem-1', { requester_id: 'cust-i' });
    const { client: customer } = await joinChat(server, 'idem-1', 'cust-i', 'student');
    const { client: staff } = await joinChat(server, 'idem-1', 'staff-i', 'staff');
    const original = await say(customer, 'my question', { client_msg_id: 'q-1' });
    const from = customer.messages.length;
    customer.send({ type: 'chat_message', data: { content: 'my question (edited on retry)', client_msg_id: 'q-1' } });
    const again = await customer.waitFor((m) => m.type === 'chat_message', 5000, from);
    assert.deepEqual(again.data, original);
    const marker = await say(customer, 'marker');
    await staff.waitFor((m) => m.data.id === marker.id);
    assert.deepEqual(received(staff, 'chat_message').map((m) => m.content), ['my question', 'marker'], 'the room got nothing new');

    // the same key from another sender is another message
    const staffMessage = await say(staff, 'staff reply', { client_msg_id: 'q-1' });
    assert.notEqual(staffMessage.id, original.id);
    const rows = db.prepare("select count(*) as n from staff_ticket_messages where ticket_id = 'idem-1'").get() as { n: number };
    assert.equal(rows.n, 3);
  });

  test('two tabs resending the same client_msg_id at once store one message', async () => {
    await putTicket(server, 'idem-2', { requester_id: 'cust-j' });
    const { client: tab1 } = await joinChat(server, 'idem-2', 'cust-j', 'student');
    const { client: tab2 } = await joinChat(server, 'idem-2', 'cust-j', 'student');
    const { client: staff } = await joinChat(server, 'idem-2', 'staff-j', 'staff');
    tab1.send({ type: 'chat_message', data: { content: 'hello', client_msg_id: 'same' } });
    tab2.send({ type: 'chat_message', data: { content: 'hello', client_msg_id: 'same' } });
    const echoes = await Promise.all([tab1, tab2].map((tab) => tab.waitFor((m) => m.type === 'chat_message' && m.data.client_msg_id === 'same')));
    assert.equal(echoes[0]!.data.id, echoes[1]!.data.id);
    const marker = await say(tab1, 'marker');
    await staff.waitFor((m) => m.data.id === marker.id);
    assert.equal(staff.ofType('chat_message').length, 2);
    const rows = db.prepare("select count(*) as n from staff_ticket_messages where ticket_id = 'idem-2'").get() as { n: number };
    assert.equal(rows.n, 2);
  });
});

describe('shutdown', () => {
  test('every message received before the shutdown is stored, none twice', async () => {
    const server = await startServer({ RATE_LIMIT_PER_SECOND: '5000' });
    await putTicket(server, 'shutdown-1', { requester_id: 'cust-z' });
    const { client } = await joinChat(server, 'shutdown-1', 'cust-z', 'student');
    const n = 500;
    for (let i = 0; i < n; i++) client.send({ type: 'chat_message', data: { content: `m${i}`, client_msg_id: `k${i}` } });
    await client.waitForType('chat_message');
    // the client sent everything before it can answer the server's close frame, so the server receives all of it
    await server.close();
    assert.equal(client.closeCode, 1001);
    const db = openDatabase(server);
    const contents = (db.prepare("select content from staff_ticket_messages where ticket_id = 'shutdown-1' order by id").all() as Array<{ content: string }>).map((r) => r.content);
    assert.deepEqual(contents, Array.from({ length: n }, (_, i) => `m${i}`));
  });
});
