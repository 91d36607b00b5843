import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { joinChat, putTicket, say } from '../helpers/chat.js';
import { arbitraryFrame, FUZZ_SEED } from '../helpers/fuzz.js';
import { startServer } from '../helpers/server.js';

const DOCUMENTED_ERRORS = new Set(['bad_json', 'unknown_type', 'invalid_message', 'forbidden', 'ticket_closed', 'rate_limited', 'ai_unavailable']);

test('support chat: random and mutated frames get documented errors; nothing internal leaks; the room keeps working', async () => {
  const s = await startServer({ RATE_LIMIT_PER_SECOND: '100000' });
  await putTicket(s, 'fuzz-ticket', { requester_id: 'customer' });
  const customer = await joinChat(s, 'fuzz-ticket', 'customer', 'parent');
  const staff = await joinChat(s, 'fuzz-ticket', 'agent', 'staff');
  const frames = arbitraryFrame(['chat_message', 'typing', 'read_receipt', 'ai_suggestion_request'], { content: 'hi', is_internal: true, is_typing: true, last_read_message_id: 'x' });
  let round = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 8 }), async (batch) => {
      for (const frame of batch) customer.client.ws.send(frame, { binary: Buffer.isBuffer(frame) });
      // a real message behind the batch proves the connection lives and its messages are handled in order
      const probe = `probe-${++round}`;
      customer.client.send({ type: 'chat_message', data: { content: probe, client_msg_id: probe } });
      await customer.client.waitFor((m) => m.type === 'chat_message' && m.data.client_msg_id === probe);
      for (const m of customer.client.messages) {
        if (m.type === 'error') assert.ok(DOCUMENTED_ERRORS.has(String(m.data.code)), `undocumented error ${JSON.stringify(m)}`);
        if (m.type === 'chat_message') assert.equal(m.data.is_internal, false, 'a customer never sees an internal note');
      }
    }),
    { numRuns: 100, seed: FUZZ_SEED },
  );
  assert.equal(customer.client.closeCode, undefined);
  // a staff internal note still reaches staff only
  await say(staff.client, 'internal after fuzz', { is_internal: true });
  await say(staff.client, 'public after fuzz');
  await customer.client.waitFor((m) => m.type === 'chat_message' && m.data.content === 'public after fuzz');
  assert.equal(customer.client.messages.filter((m) => m.data.content === 'internal after fuzz').length, 0);
  const history = (await (await s.api('/api/v1/tickets/fuzz-ticket/messages')).json()) as { messages: Array<{ is_internal: boolean }> };
  assert.ok(history.messages.every((m) => m.is_internal === false));
});
