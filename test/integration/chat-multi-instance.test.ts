import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { MemoryBus } from '../../src/adapters/bus/memory-bus.js';
import type { Bus, Topic, Unsubscribe } from '../../src/core/bus.js';
import type { Role } from '../../src/protocol/roles.js';
import { createLogger } from '../../src/shared/logger.js';
import { createServer } from '../../src/server.js';
import { errorCode } from '../helpers/chat.js';
import { onCleanup } from '../helpers/cleanup.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { TEST_API_KEY, TEST_SECRET, tempDir } from '../helpers/server.js';
import { connect, type TestClient } from '../helpers/ws-client.js';

/** One in-process bus shared by two servers, each seeing it under its own instance id (as with Redis). */
class InstanceBus implements Bus {
  readonly reachesOtherInstances = true;
  constructor(readonly instanceId: string, private readonly shared: MemoryBus) {}
  publish<M>(topic: Topic<M>, message: M): Promise<void> {
    return this.shared.publish(topic, message);
  }
  subscribe<M>(topic: Topic<M>, handler: (message: M) => void): Promise<Unsubscribe> {
    return this.shared.subscribe(topic, handler);
  }
  isHealthy(): boolean {
    return true;
  }
  async close(): Promise<void> {}
}

async function instance(name: string, shared: MemoryBus, databaseUrl: string) {
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir(), JWT_SECRET: TEST_SECRET, PUBLISH_API_KEY: TEST_API_KEY, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' };
  const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const server = await createServer({ env, logger, bus: new InstanceBus(name, shared) });
  const { port } = await server.listen();
  onCleanup(() => server.close());
  return {
    http: `http://127.0.0.1:${port}`,
    join: async (ticketId: string, sub: string, role: Role): Promise<TestClient> => {
      const token = await mintAccessToken({ secret: TEST_SECRET, sub, role, ttlSeconds: 600 });
      const client = connect(`ws://127.0.0.1:${port}/ws/support-chat/${ticketId}/${token}`);
      await client.waitForType('chat_history');
      return client;
    },
    put: async (ticketId: string, body: Record<string, unknown>) => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/tickets/${ticketId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.ok(response.ok);
    },
  };
}

describe('support chat across two instances sharing a bus and a PostgreSQL database', () => {
  let a: Awaited<ReturnType<typeof instance>>;
  let b: Awaited<ReturnType<typeof instance>>;
  let db: pg.Client;
  before(async () => {
    const url = await createTestDatabase();
    const shared = new MemoryBus();
    a = await instance('instance-a', shared, url);
    b = await instance('instance-b', shared, url);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    onCleanup(() => db.end());
  });

  test('presence, messages (stored once), internal notes, typing and ticket updates cross instances', async () => {
    await a.put('multi-1', { requester_id: 'cust-m' });
    const customer = await a.join('multi-1', 'cust-m', 'student');
    const admin = await a.join('multi-1', 'admin-m', 'admin');
    const staff = await b.join('multi-1', 'staff-m', 'staff');
    const staffHistory = staff.ofType('chat_history')[0]!;
    assert.deepEqual(
      (staffHistory.data.participants as Array<{ user_id: string }>).map((p) => p.user_id).sort(),
      ['admin-m', 'cust-m', 'staff-m'],
      'a room opening on B learns who is on A',
    );
    assert.deepEqual((await customer.waitFor((m) => m.type === 'user_joined' && m.data.user_id === 'staff-m')).data, { user_id: 'staff-m', role: 'staff' });

    customer.send({ type: 'chat_message', data: { content: 'hello from A', client_msg_id: 'h1' } });
    const onB = await staff.waitForType('chat_message');
    assert.equal(onB.data.content, 'hello from A');
    assert.deepEqual((await customer.waitForType('chat_message')).data, onB.data);

    staff.send({ type: 'chat_message', data: { content: 'note from B', is_internal: true } });
    staff.send({ type: 'chat_message', data: { content: 'answer from B' } });
    await admin.waitFor((m) => m.data.content === 'note from B');
    await customer.waitFor((m) => m.data.content === 'answer from B');
    assert.ok(!customer.messages.some((m) => m.data.content === 'note from B'));

    const rows = await db.query("select content from staff_ticket_messages where ticket_id = 'multi-1' order by id");
    assert.deepEqual(rows.rows.map((r: { content: string }) => r.content), ['hello from A', 'note from B', 'answer from B'], 'each message stored once');

    staff.send({ type: 'typing', data: { is_typing: true } });
    assert.equal((await customer.waitForType('typing')).data.user_id, 'staff-m');

    await b.put('multi-1', { requester_id: 'cust-m', status: 'closed' });
    // the update reached A's room before B answered the API call (the bus delivers before publish resolves)
    const from = customer.messages.length;
    customer.send({ type: 'chat_message', data: { content: 'too late' } });
    assert.equal(await errorCode(customer, from), 'ticket_closed');

    await staff.close();
    const left = await customer.waitFor((m) => m.type === 'user_left');
    assert.deepEqual(left.data, { user_id: 'staff-m', role: 'staff' });
    assert.ok(customer.messages.some((m) => m.type === 'typing' && m.data.is_typing === false), 'typing ended with the connection');
  });

  test('a user connected to both instances joins once and leaves once', async () => {
    await a.put('multi-2', { requester_id: 'cust-n' });
    const customer = await a.join('multi-2', 'cust-n', 'student');
    const staffOnA = await a.join('multi-2', 'staff-n', 'staff');
    const staffOnB = await b.join('multi-2', 'staff-n', 'staff');
    await staffOnA.close();
    staffOnB.send({ type: 'chat_message', data: { content: 'marker' } });
    await customer.waitFor((m) => m.data.content === 'marker');
    assert.equal(customer.ofType('user_joined').length, 1);
    assert.equal(customer.ofType('user_left').length, 0);
    await staffOnB.close();
    await customer.waitForType('user_left');
  });
});
