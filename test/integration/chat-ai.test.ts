import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OpenAiReplySuggester } from '../../src/adapters/ai/openai-reply-suggester.js';
import { ChatStats } from '../../src/features/chat/chat-stats.js';
import type { ReplySuggester } from '../../src/features/chat/reply-suggester.js';
import { SuggestionService } from '../../src/features/chat/suggestion-service.js';
import type { ChatMessage, Ticket, TicketStore } from '../../src/features/chat/ticket-store.js';
import { errorCode, joinChat, putTicket, say } from '../helpers/chat.js';
import { serveLoopback } from '../helpers/loopback-http.js';
import { startServer, type TestServer } from '../helpers/server.js';

type Mode = 'ok' | 'error500' | 'hang' | 'garbage' | 'empty';

interface FakeProvider {
  readonly url: string;
  mode: Mode;
  readonly requests: Array<{ path: string; authorization: string | undefined; body: { model: string; messages: Array<{ role: string; content: string }> } }>;
}

/** A local OpenAI-compatible chat-completions server whose behaviour the test switches. */
async function fakeProvider(): Promise<FakeProvider> {
  const state: FakeProvider = { url: '', mode: 'ok', requests: [] };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.requests.push({ path: req.url ?? '', authorization: req.headers.authorization, body: JSON.parse(Buffer.concat(chunks).toString()) });
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      switch (state.mode) {
        case 'ok':
          return json(200, { id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: '  Please try rejoining the class.  ' }, finish_reason: 'stop' }] });
        case 'error500':
          return json(500, { error: { message: 'boom' } });
        case 'garbage':
          return res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": [');
        case 'empty':
          return json(200, { choices: [] });
        case 'hang':
          return; // never answered; the connection is destroyed after the file
      }
    });
  };
  return Object.assign(state, { url: `${await serveLoopback(handler)}/v1` });
}

describe('AI suggestions from an OpenAI-compatible provider', () => {
  let server: TestServer;
  let provider: FakeProvider;
  before(async () => {
    provider = await fakeProvider();
    server = await startServer({
      AI_SUGGESTION_URL: provider.url,
      AI_SUGGESTION_MODEL: 'test-model',
      AI_SUGGESTION_API_KEY: 'sk-test-key',
      AI_SUGGESTION_TIMEOUT_SECONDS: '0.5',
    });
  });

  async function conversation(ticketId: string) {
    await putTicket(server, ticketId, { requester_id: `cust-${ticketId}`, subject: 'No sound' });
    const { client: customer } = await joinChat(server, ticketId, `cust-${ticketId}`, 'student');
    const { client: staff } = await joinChat(server, ticketId, `staff-${ticketId}`, 'staff');
    const first = await say(customer, 'Hi, I cannot hear the teacher');
    await say(staff, 'internal: check relay', { is_internal: true });
    const reply = await say(staff, 'Which browser are you using?');
    const latest = await say(customer, 'Chrome, and my microphone works');
    return { customer, staff, first, reply, latest };
  }

  test('the provider gets the recent conversation (no internal notes) and the staff member gets its suggestion', async () => {
    const { staff, first, latest } = await conversation('ai-ok');
    provider.mode = 'ok';
    const before = provider.requests.length;
    staff.send({ type: 'ai_suggestion_request', data: {} });
    const suggestion = await staff.waitForType('ai_suggestion');
    assert.deepEqual(suggestion.data, { message_id: latest.id, suggestion: 'Please try rejoining the class.', provider: 'openai-compatible' });
    const request = provider.requests[before]!;
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(request.authorization, 'Bearer sk-test-key');
    assert.equal(request.body.model, 'test-model');
    assert.equal(request.body.messages[0]!.role, 'system');
    assert.match(request.body.messages[0]!.content, /No sound/);
    assert.deepEqual(request.body.messages.slice(1), [
      { role: 'user', content: 'Hi, I cannot hear the teacher' },
      { role: 'assistant', content: 'Which browser are you using?' },
      { role: 'user', content: 'Chrome, and my microphone works' },
    ]);

    staff.send({ type: 'ai_suggestion_request', data: { message_id: first.id } });
    const forFirst = await staff.waitFor((m) => m.type === 'ai_suggestion' && m.data.message_id === first.id);
    assert.equal(forFirst.data.provider, 'openai-compatible');
    assert.deepEqual(provider.requests.at(-1)!.body.messages.slice(1), [{ role: 'user', content: 'Hi, I cannot hear the teacher' }]);
  });

  for (const mode of ['error500', 'garbage', 'empty'] as const) {
    test(`a provider answering ${mode} gives ai_unavailable`, async () => {
      const { staff } = await conversation(`ai-${mode}`);
      provider.mode = mode;
      const from = staff.messages.length;
      staff.send({ type: 'ai_suggestion_request', data: {} });
      assert.equal(await errorCode(staff, from), 'ai_unavailable');
    });
  }

  test('a provider that never answers gives ai_unavailable after the timeout, not a hang', async () => {
    const { staff } = await conversation('ai-hang');
    provider.mode = 'hang';
    const from = staff.messages.length;
    const started = Date.now();
    staff.send({ type: 'ai_suggestion_request', data: {} });
    assert.equal(await errorCode(staff, from, 5000), 'ai_unavailable');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 400 && elapsed < 3000, `answered after ${elapsed} ms`);
    await say(staff, 'the connection still works');
  });

  test('a waiting suggestion does not hold up chat messages; a third concurrent request is rate_limited', async () => {
    const { staff, customer } = await conversation('ai-busy');
    provider.mode = 'hang';
    const from = staff.messages.length;
    staff.send({ type: 'ai_suggestion_request', data: {} });
    staff.send({ type: 'ai_suggestion_request', data: {} });
    staff.send({ type: 'ai_suggestion_request', data: {} });
    staff.send({ type: 'chat_message', data: { content: 'sent while the provider thinks', client_msg_id: 'busy-1' } });
    await staff.waitFor((m) => m.type === 'chat_message' && m.data.client_msg_id === 'busy-1', 5000, from);
    await customer.waitFor((m) => m.type === 'chat_message' && m.data.client_msg_id === 'busy-1');
    assert.equal(staff.messages.slice(from).filter((m) => m.type === 'error' && m.data.code === 'ai_unavailable').length, 0, 'the message came before the timeout');
    assert.equal(await errorCode(staff, from), 'rate_limited');
    await staff.waitForCount('error', 3, 5000);
    assert.deepEqual(staff.messages.slice(from).filter((m) => m.type === 'error').map((m) => m.data.code), ['rate_limited', 'ai_unavailable', 'ai_unavailable']);
  });

  test('nothing to answer: an unknown message or a ticket without customer messages → invalid_message', async () => {
    await putTicket(server, 'ai-nothing', { requester_id: 'c' });
    const { client: staff } = await joinChat(server, 'ai-nothing', 'staff-e', 'staff');
    let from = staff.messages.length;
    staff.send({ type: 'ai_suggestion_request', data: {} });
    assert.equal(await errorCode(staff, from), 'invalid_message');
    from = staff.messages.length;
    staff.send({ type: 'ai_suggestion_request', data: { message_id: 'nope' } });
    assert.equal(await errorCode(staff, from), 'invalid_message');
  });

  test('requests and failures are counted in /metrics', async () => {
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('uhs_chat_ai_requests_total'), 10);
    assert.equal(value('uhs_chat_ai_failures_total'), 6);
  });
});

describe('AI suggestions offline (no AI_SUGGESTION_URL)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });

  async function ask(ticketId: string, question: string, subject?: string) {
    await putTicket(server, ticketId, { requester_id: `cust-${ticketId}`, ...(subject ? { subject } : {}) });
    const { client: customer } = await joinChat(server, ticketId, `cust-${ticketId}`, 'parent');
    const { client: staff } = await joinChat(server, ticketId, `staff-${ticketId}`, 'staff');
    const message = await say(customer, question);
    staff.send({ type: 'ai_suggestion_request', data: {} });
    const reply = await staff.waitFor((m) => m.type === 'ai_suggestion' || m.type === 'error');
    assert.equal(reply.type, 'ai_suggestion', JSON.stringify(reply));
    assert.equal(reply.data.message_id, message.id);
    assert.equal(reply.data.provider, 'offline');
    return String(reply.data.suggestion);
  }

  test("answers with the staff reply that resolved the most similar question in a closed ticket", async () => {
    const answer = 'Certificates are issued within 24 hours of finishing the final module; you can download the PDF from My Courses > Certificates.';
    for (const [id, question, reply] of [
      ['old-1', 'Where can I download my course certificate PDF? The download button does nothing.', answer],
      ['old-2', 'My child cannot hear the teacher in the live video class.', 'Please check the browser microphone and speaker permissions and rejoin.'],
      ['old-3', 'I was charged twice for the monthly subscription.', 'I have refunded the duplicate charge; it will show in 3-5 days.'],
    ] as const) {
      await putTicket(server, id, { requester_id: `cust-${id}` });
      const { client: customer } = await joinChat(server, id, `cust-${id}`, 'parent');
      const { client: staff } = await joinChat(server, id, `staff-${id}`, 'staff');
      await say(customer, question);
      await say(staff, 'internal: escalate to tier 2', { is_internal: true });
      await say(staff, reply);
      await putTicket(server, id, { requester_id: `cust-${id}`, status: 'closed' });
    }
    assert.equal(await ask('new-1', 'Hello, how do I download the certificate for my course? I need the PDF'), answer);
  });

  test('without a similar resolved ticket, a template chosen by what the customer wrote', async () => {
    const password = await ask('new-2', 'I forgot my password and now I am locked out of my account');
    assert.match(password, /password/i);
    assert.doesNotMatch(password, /escalate/);
    const general = await ask('new-3', 'Question about the robotics club for next term');
    assert.match(general, /robotics club/);
    assert.notEqual(password, general);
  });
});

/** Full garbage collections while `work` runs: timers that only weak references keep alive would be lost. */
async function underGcPressure<T>(work: Promise<T>): Promise<T> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const timer = setInterval(gc, 5);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

describe('AI timeouts survive garbage collection (nodejs/node#57736)', () => {
  const ticket: Ticket = { ticketId: 't', requesterId: 'c', status: 'open', subject: null, createdAt: 0, updatedAt: 0 };
  const question: ChatMessage = { id: '001', ticketId: 't', senderId: 'c', senderRole: 'student', content: 'help', isInternal: false, clientMsgId: null, createdAt: 0 };

  test('the provider adapter gives up on a silent provider at its timeout', { timeout: 10_000 }, async () => {
    const provider = await fakeProvider();
    provider.mode = 'hang';
    const suggester = new OpenAiReplySuggester({ url: provider.url, model: 'm', apiKey: undefined, timeoutMs: 200 });
    const started = Date.now();
    await assert.rejects(underGcPressure(suggester.suggest({ ticket, conversation: [question], target: question }, new AbortController().signal)), /timed out/);
    assert.ok(Date.now() - started < 3000);
  });

  test('the service answers unavailable when a suggester never settles', { timeout: 10_000 }, async () => {
    const never: ReplySuggester = { provider: 'never', suggest: () => new Promise<string>(() => undefined) };
    const store = { recentMessages: async () => [question], getMessage: async () => question } as unknown as TicketStore;
    const service = new SuggestionService({ store, suggester: never, stats: new ChatStats(), timeoutMs: 200 });
    const outcome = await underGcPressure(service.suggest(ticket, undefined));
    assert.equal(outcome.kind, 'unavailable');
  });
});
