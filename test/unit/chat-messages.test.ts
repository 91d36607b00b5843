import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chatClientSchemas } from '../../src/protocol/chat-messages.js';
import { parseMessageListQuery, parseTicketRequest } from '../../src/protocol/chat-ticket-request.js';
import { decodeIncoming, validateIncoming } from '../../src/protocol/envelope.js';

function parse(raw: unknown) {
  const decoded = decodeIncoming(typeof raw === 'string' ? raw : JSON.stringify(raw));
  if (!decoded.ok) return decoded;
  return validateIncoming(chatClientSchemas, decoded.value);
}

describe('support chat client messages', () => {
  test('chat_message: trimmed content, defaults for is_internal and client_msg_id', () => {
    const result = parse({ type: 'chat_message', data: { content: '  hi  ' } });
    assert.ok(result.ok);
    assert.deepEqual(result.value, { type: 'chat_message', data: { content: 'hi', is_internal: false } });
    const full = parse({ type: 'chat_message', data: { content: 'x', is_internal: true, client_msg_id: 'k' } });
    assert.ok(full.ok);
    assert.deepEqual(full.value.data, { content: 'x', is_internal: true, client_msg_id: 'k' });
  });

  test('chat_message: 1-4000 characters after trimming, counted in code points', () => {
    const accepted = ['a', 'a'.repeat(4000), ` ${'a'.repeat(4000)} `, '😀'.repeat(4000), 'é'.repeat(4000)];
    for (const content of accepted) assert.ok(parse({ type: 'chat_message', data: { content } }).ok, `${content.length} units`);
    const refused = ['', '  \n ', 'a'.repeat(4001), '😀'.repeat(4001)];
    for (const content of refused) {
      const result = parse({ type: 'chat_message', data: { content } });
      assert.ok(!result.ok && result.error.code === 'invalid_message', `${content.length} units`);
    }
  });

  test('invalid fields, unknown types and bad JSON map to their error codes', () => {
    const cases: Array<[unknown, string]> = [
      ['{', 'bad_json'],
      ['[1]', 'bad_json'],
      [{ type: 'nope' }, 'unknown_type'],
      [{ type: 'chat_message', data: { content: 'x', is_internal: 'yes' } }, 'invalid_message'],
      [{ type: 'chat_message', data: { content: 'x', client_msg_id: 'k'.repeat(129) } }, 'invalid_message'],
      [{ type: 'typing', data: {} }, 'invalid_message'],
      [{ type: 'read_receipt', data: { last_read_message_id: '' } }, 'invalid_message'],
      [{ type: 'ai_suggestion_request', data: { message_id: 5 } }, 'invalid_message'],
    ];
    for (const [raw, code] of cases) {
      const result = parse(raw);
      assert.ok(!result.ok, JSON.stringify(raw));
      assert.equal(result.error.code, code, JSON.stringify(raw));
    }
    assert.ok(parse({ type: 'ai_suggestion_request' }).ok, 'data may be left out');
    assert.ok(parse({ type: 'ping' }).ok);
  });

  test('ticket registration and message listing requests', () => {
    assert.deepEqual(parseTicketRequest({ requester_id: 'u1' }), { ok: true, value: { requesterId: 'u1' } });
    assert.deepEqual(parseTicketRequest({ requester_id: 'u1', status: 'closed', subject: null }), {
      ok: true,
      value: { requesterId: 'u1', status: 'closed', subject: null },
    });
    for (const body of [{}, { requester_id: '' }, { requester_id: 'u', status: 'pending' }, { requester_id: 5 }, null, 'x']) {
      const result = parseTicketRequest(body);
      assert.ok(!result.ok && result.error.code === 'invalid_body', JSON.stringify(body));
    }
    assert.deepEqual(parseMessageListQuery({}), { ok: true, value: { includeInternal: false, limit: 1000 } });
    assert.deepEqual(parseMessageListQuery({ include_internal: 'true', limit: '5', after: 'abc' }), {
      ok: true,
      value: { includeInternal: true, afterId: 'abc', limit: 5 },
    });
    for (const query of [{ include_internal: '1' }, { limit: '0' }, { limit: '1001' }, { limit: 'x' }]) {
      assert.ok(!parseMessageListQuery(query).ok, JSON.stringify(query));
    }
  });
});
