import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDatabase, type Database } from '../../src/adapters/db/database.js';
import { KyselyTicketStore } from '../../src/adapters/db/stores/kysely-ticket-store.js';
import type { ChatMessage } from '../../src/features/chat/ticket-store.js';
import type { Role } from '../../src/protocol/roles.js';
import { SortableIdGenerator } from '../../src/shared/ids.js';
import { DIALECTS } from '../helpers/dialects.js';

for (const dialect of DIALECTS) {
  describe(`ticket store on ${dialect.name}`, () => {
    let database: Database;
    let store: KyselyTicketStore;
    const ids = new SortableIdGenerator('test');
    const message = (ticketId: string, senderId: string, senderRole: Role, content: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
      id: ids.next(),
      ticketId,
      senderId,
      senderRole,
      content,
      isInternal: false,
      clientMsgId: null,
      createdAt: Date.now(),
      ...extra,
    });

    before(async () => {
      database = createDatabase(await dialect.url());
      assert.ok((await database.migrate()).includes('0003-chat'));
      store = new KyselyTicketStore(database.db);
    });
    after(() => database.close());

    test('registers a ticket, then updates only the fields given', async () => {
      const first = await store.upsertTicket({ ticketId: 't-1', requesterId: 'cust-1', subject: 'Login', now: 1000 });
      assert.equal(first.created, true);
      assert.deepEqual(first.ticket, { ticketId: 't-1', requesterId: 'cust-1', status: 'open', subject: 'Login', createdAt: 1000, updatedAt: 1000 });
      const second = await store.upsertTicket({ ticketId: 't-1', requesterId: 'cust-1', status: 'closed', now: 2000 });
      assert.equal(second.created, false);
      assert.deepEqual(second.ticket, { ticketId: 't-1', requesterId: 'cust-1', status: 'closed', subject: 'Login', createdAt: 1000, updatedAt: 2000 });
      assert.deepEqual(await store.getTicket('t-1'), second.ticket);
      assert.equal(await store.getTicket('nope'), undefined);
    });

    test('concurrent first registrations of one ticket make one row', async () => {
      const results = await Promise.all([1, 2, 3].map((n) => store.upsertTicket({ ticketId: 't-race', requesterId: `c${n}`, now: 5000 + n })));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.ok(await store.getTicket('t-race'));
    });

    test('appends messages in one batch and reads them back in order, with every field intact', async () => {
      await store.upsertTicket({ ticketId: 't-2', requesterId: 'cust-2', now: 1 });
      const batch = [
        message('t-2', 'cust-2', 'student', 'hello', { clientMsgId: 'c-1' }),
        message('t-2', 'staff-1', 'staff', 'note', { isInternal: true }),
        message('t-2', 'staff-1', 'staff', 'hi there'),
      ];
      const results = await store.appendMessages(batch);
      assert.deepEqual(results.map((r) => r.duplicate), [false, false, false]);
      assert.deepEqual(await store.recentMessages('t-2', { includeInternal: true, limit: 50 }), batch);
      assert.deepEqual((await store.recentMessages('t-2', { includeInternal: false, limit: 50 })).map((m) => m.content), ['hello', 'hi there']);
      assert.deepEqual((await store.recentMessages('t-2', { includeInternal: true, limit: 2 })).map((m) => m.content), ['note', 'hi there']);
      assert.deepEqual(await store.getMessage('t-2', batch[1]!.id), batch[1]);
      assert.equal(await store.getMessage('t-1', batch[1]!.id), undefined, 'a message is found only in its own ticket');
    });

    test('a repeated client_msg_id from the same sender is stored once, also within one batch', async () => {
      await store.upsertTicket({ ticketId: 't-3', requesterId: 'cust-3', now: 1 });
      const original = message('t-3', 'cust-3', 'student', 'once', { clientMsgId: 'dup' });
      await store.appendMessages([original]);
      const again = await store.appendMessages([
        message('t-3', 'cust-3', 'student', 'once (resent)', { clientMsgId: 'dup' }),
        message('t-3', 'staff-9', 'staff', 'same key, other sender', { clientMsgId: 'dup' }),
        message('t-3', 'cust-3', 'student', 'twin-a', { clientMsgId: 'twin' }),
        message('t-3', 'cust-3', 'student', 'twin-b', { clientMsgId: 'twin' }),
      ]);
      assert.deepEqual(again.map((r) => r.duplicate), [true, false, false, true]);
      assert.deepEqual(again[0]!.message, original);
      assert.equal(again[3]!.message.content, 'twin-a');
      const all = await store.listMessages('t-3', { includeInternal: true, limit: 100 });
      assert.deepEqual(all.map((m) => m.content), ['once', 'same key, other sender', 'twin-a']);
    });

    test('a large batch is written whole', async () => {
      await store.upsertTicket({ ticketId: 't-bulk', requesterId: 'c', now: 1 });
      const batch = Array.from({ length: 1000 }, (_, i) => message('t-bulk', 'c', 'parent', `m${i}`, { clientMsgId: `k${i}` }));
      const results = await store.appendMessages(batch);
      assert.equal(results.filter((r) => !r.duplicate).length, 1000);
      const page = await store.listMessages('t-bulk', { includeInternal: false, limit: 10, afterId: batch[989]!.id });
      assert.deepEqual(page.map((m) => m.content), batch.slice(990).map((m) => m.content));
    });

    test('a failed batch stores nothing', async () => {
      const good = message('t-2', 'cust-2', 'student', 'will roll back');
      await assert.rejects(store.appendMessages([good, message('no-such-ticket', 'x', 'student', 'orphan')]));
      assert.equal(await store.getMessage('t-2', good.id), undefined);
    });

    test('read receipts move forward only, and customers cannot mark internal notes', async () => {
      await store.upsertTicket({ ticketId: 't-4', requesterId: 'cust-4', now: 1 });
      const [m1, note, m2] = [
        message('t-4', 'cust-4', 'student', 'one'),
        message('t-4', 'staff-1', 'staff', 'secret', { isInternal: true }),
        message('t-4', 'staff-1', 'staff', 'two'),
      ];
      await store.appendMessages([m1!, note!, m2!]);
      const first = await store.markRead({ ticketId: 't-4', userId: 'cust-4', lastReadMessageId: m2!.id, readAt: 10, includeInternal: false });
      assert.equal(first.kind, 'advanced');
      const back = await store.markRead({ ticketId: 't-4', userId: 'cust-4', lastReadMessageId: m1!.id, readAt: 20, includeInternal: false });
      assert.deepEqual(back, { kind: 'unchanged', receipt: { ticketId: 't-4', userId: 'cust-4', lastReadMessageId: m2!.id, readAt: 10 } });
      const same = await store.markRead({ ticketId: 't-4', userId: 'cust-4', lastReadMessageId: m2!.id, readAt: 30, includeInternal: false });
      assert.equal(same.kind, 'unchanged');
      assert.deepEqual(await store.markRead({ ticketId: 't-4', userId: 'cust-4', lastReadMessageId: note!.id, readAt: 40, includeInternal: false }), { kind: 'unknown_message' });
      assert.deepEqual(await store.markRead({ ticketId: 't-4', userId: 'cust-4', lastReadMessageId: 'nope', readAt: 40, includeInternal: false }), { kind: 'unknown_message' });
      assert.deepEqual(await store.markRead({ ticketId: 't-2', userId: 'cust-4', lastReadMessageId: m1!.id, readAt: 40, includeInternal: false }), { kind: 'unknown_message' });
      const staff = await store.markRead({ ticketId: 't-4', userId: 'staff-1', lastReadMessageId: note!.id, readAt: 50, includeInternal: true });
      assert.deepEqual(staff, { kind: 'advanced', receipt: { ticketId: 't-4', userId: 'staff-1', lastReadMessageId: note!.id, readAt: 50 }, messageIsInternal: true });
      assert.deepEqual((await store.readReceipts('t-4', { includeInternal: true })).map((r) => [r.userId, r.lastReadMessageId]), [
        ['cust-4', m2!.id],
        ['staff-1', note!.id],
      ]);
      assert.deepEqual((await store.readReceipts('t-4', { includeInternal: false })).map((r) => r.userId), ['cust-4'], 'a position on an internal note is staff-only');
    });

    test('resolved conversations: non-internal messages of closed tickets only, grouped by ticket in order', async () => {
      await store.upsertTicket({ ticketId: 'r-a', requesterId: 'x', now: 1 });
      await store.upsertTicket({ ticketId: 'r-b', requesterId: 'y', now: 1 });
      await store.appendMessages([
        message('r-a', 'x', 'student', 'a-q'),
        message('r-b', 'y', 'parent', 'b-q'),
        message('r-a', 's', 'staff', 'a-note', { isInternal: true }),
        message('r-a', 's', 'staff', 'a-answer'),
        message('r-b', 's', 'admin', 'b-answer'),
      ]);
      assert.deepEqual(await store.resolvedConversations(100).then((m) => m.filter((x) => x.ticketId.startsWith('r-'))), []);
      await store.upsertTicket({ ticketId: 'r-a', requesterId: 'x', status: 'closed', now: 2 });
      await store.upsertTicket({ ticketId: 'r-b', requesterId: 'y', status: 'closed', now: 2 });
      const corpus = (await store.resolvedConversations(1000)).filter((x) => x.ticketId.startsWith('r-'));
      assert.deepEqual(corpus.map((m) => m.content), ['a-q', 'a-answer', 'b-q', 'b-answer']);
    });
  });
}
