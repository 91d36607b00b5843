import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { joinChat, putTicket, say } from '../helpers/chat.js';
import { startServer, type TestServer } from '../helpers/server.js';

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('ticket API', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ RATE_LIMIT_PER_SECOND: '1000' });
  });

  test('PUT registers (201) then updates (200) a ticket; omitted fields keep their value', async () => {
    const created = await server.api('/api/v1/tickets/api-t1', { method: 'PUT', body: { requester_id: 'u1', subject: 'Refund' } });
    assert.equal(created.status, 201);
    const body = (await created.json()) as Record<string, unknown>;
    assert.deepEqual({ ...body, created_at: undefined, updated_at: undefined }, {
      ticket_id: 'api-t1',
      requester_id: 'u1',
      status: 'open',
      subject: 'Refund',
      created_at: undefined,
      updated_at: undefined,
    });
    assert.match(String(body.created_at), ISO_MS);
    const updated = await server.api('/api/v1/tickets/api-t1', { method: 'PUT', body: { requester_id: 'u1', status: 'closed' } });
    assert.equal(updated.status, 200);
    const after = (await updated.json()) as Record<string, unknown>;
    assert.equal(after.status, 'closed');
    assert.equal(after.subject, 'Refund');
    assert.equal(after.created_at, body.created_at);
  });

  test('PUT refuses bad bodies, bad ids and a missing or wrong key', async () => {
    const put = (id: string, body: unknown, key?: string | null) => server.api(`/api/v1/tickets/${id}`, { method: 'PUT', body, ...(key !== undefined ? { key } : {}) });
    for (const body of [{}, { requester_id: '' }, { requester_id: 'u', status: 'archived' }, { requester_id: 'u', subject: 5 }]) {
      const response = await put('api-bad', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_body');
    }
    assert.equal((await put('bad%20id', { requester_id: 'u' })).status, 400);
    assert.equal((await put('x'.repeat(129), { requester_id: 'u' })).status, 400);
    assert.equal((await put('y'.repeat(128), { requester_id: 'u' })).status, 201, 'ids of 128 characters are fine');
    assert.equal((await server.api(`/api/v1/tickets/${'y'.repeat(128)}/messages`)).status, 200);
    assert.equal((await put('api-key', { requester_id: 'u' }, null)).status, 401);
    assert.equal((await put('api-key', { requester_id: 'u' }, 'wrong-key')).status, 401);
    assert.equal((await server.api('/api/v1/tickets/api-key/messages', { key: null })).status, 401);
  });

  test('GET messages: 404 for an unknown ticket; oldest first; pages with after/limit/has_more', async () => {
    assert.equal((await server.api('/api/v1/tickets/api-unknown/messages')).status, 404);
    await putTicket(server, 'api-page', { requester_id: 'u2' });
    const { client } = await joinChat(server, 'api-page', 'u2', 'student');
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await say(client, `m${i}`));
    const get = async (query: string) => (await (await server.api(`/api/v1/tickets/api-page/messages${query}`)).json()) as { ticket_id: string; messages: Array<Record<string, unknown>>; has_more: boolean };
    const all = await get('');
    assert.equal(all.ticket_id, 'api-page');
    assert.deepEqual(all.messages, sent);
    assert.equal(all.has_more, false);
    const first = await get('?limit=2');
    assert.deepEqual(first.messages.map((m) => m.content), ['m0', 'm1']);
    assert.equal(first.has_more, true);
    const next = await get(`?limit=2&after=${String(first.messages[1]!.id)}`);
    assert.deepEqual(next.messages.map((m) => m.content), ['m2', 'm3']);
    const last = await get(`?limit=2&after=${String(next.messages[1]!.id)}`);
    assert.deepEqual(last.messages.map((m) => m.content), ['m4']);
    assert.equal(last.has_more, false);
    assert.equal((await server.api('/api/v1/tickets/api-page/messages?limit=0')).status, 400);
  });
});
