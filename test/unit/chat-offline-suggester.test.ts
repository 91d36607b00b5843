import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { completionsEndpoint } from '../../src/adapters/ai/openai-reply-suggester.js';
import { exchanges } from '../../src/features/chat/offline-reply-suggester.js';
import { templateReply, topicOf } from '../../src/features/chat/reply-templates.js';
import { TfIdfIndex, tokenize } from '../../src/features/chat/text-similarity.js';
import type { ChatMessage } from '../../src/features/chat/ticket-store.js';
import type { Role } from '../../src/protocol/roles.js';

let seq = 0;
const msg = (ticketId: string, senderRole: Role, content: string): ChatMessage => ({
  id: String(++seq).padStart(6, '0'),
  ticketId,
  senderId: `${senderRole}-1`,
  senderRole,
  content,
  isInternal: false,
  clientMsgId: null,
  createdAt: 0,
});

describe('offline suggester pieces', () => {
  test('tokenize: lower case, no stopwords, light stemming', () => {
    assert.deepEqual(tokenize("Hi! I can't log in: my passwords were reset, and the Classes are loading"), [
      'log',
      'password',
      'reset',
      'classe',
      'load',
    ]);
  });

  test('TF-IDF search ranks the closest document first and ignores unrelated ones', () => {
    const index = new TfIdfIndex([
      { text: 'certificate download pdf not working', value: 'cert' },
      { text: 'charged twice for subscription refund', value: 'billing' },
      { text: 'cannot hear teacher in live video class', value: 'audio' },
    ]);
    assert.equal(index.search('how do I download my certificate', 3)[0]?.value, 'cert');
    assert.equal(index.search('I want a refund, you charged me twice', 3)[0]?.value, 'billing');
    assert.deepEqual(index.search('the weather is lovely', 3), []);
    const partial = index.search('certificate weather lovely sunshine holidays', 1)[0];
    assert.ok(partial && partial.score < 0.5, 'words the corpus never saw dilute the match');
  });

  test('exchanges pair customer turns with the staff reply that followed, per ticket', () => {
    const pairs = exchanges([
      msg('a', 'student', 'q1'),
      msg('a', 'student', 'q1 more'),
      msg('a', 'staff', 'a1'),
      msg('a', 'staff', 'a1 follow-up'),
      msg('b', 'staff', 'greeting without a question'),
      msg('b', 'parent', 'q2'),
      msg('b', 'admin', 'a2'),
      msg('c', 'parent', 'unanswered'),
    ]);
    assert.deepEqual(pairs, [
      { text: 'q1\nq1 more', value: { ticketId: 'a', answer: 'a1' } },
      { text: 'q2', value: { ticketId: 'b', answer: 'a2' } },
    ]);
  });

  test('templates follow what the customer wrote and quote it', () => {
    const cases: Array<[string, string]> = [
      ['I forgot my password and cannot log in', 'account_access'],
      ['You charged my card twice, I want a refund', 'billing'],
      ["The teacher can't hear me, my microphone is on", 'live_class'],
      ['Can I get an extension for the assignment deadline?', 'coursework'],
      ['The page shows an error and is stuck loading', 'technical_problem'],
      ['Thanks, that solved it!', 'gratitude'],
      ['hello', 'greeting'],
      ['Question about the robotics club next term', 'general'],
    ];
    for (const [text, intent] of cases) assert.equal(templateReply({ text, subject: null, ongoing: false }).intent, intent, text);
    assert.match(templateReply({ text: 'Question about the robotics club next term', subject: null, ongoing: false }).reply, /robotics club/);
    assert.doesNotMatch(templateReply({ text: 'my quiz grade is wrong', subject: null, ongoing: true }).reply, /^Hi/);
    assert.equal(topicOf({ text: 'First sentence here. Second one.', subject: null, ongoing: false }), 'First sentence here');
    assert.equal(topicOf({ text: 'whatever', subject: 'Refund for March', ongoing: false }), 'Refund for March');
    assert.ok(topicOf({ text: 'word '.repeat(50), subject: null, ongoing: false }).length <= 81);
  });

  test('the provider URL may be a base URL or the full endpoint', () => {
    assert.equal(completionsEndpoint('https://api.example.com/v1'), 'https://api.example.com/v1/chat/completions');
    assert.equal(completionsEndpoint('https://api.example.com/v1/'), 'https://api.example.com/v1/chat/completions');
    assert.equal(completionsEndpoint('http://127.0.0.1:9/x/chat/completions'), 'http://127.0.0.1:9/x/chat/completions');
  });
});
