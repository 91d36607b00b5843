import type { Kysely, Selectable } from 'kysely';
import type {
  AppendResult,
  ChatMessage,
  MarkReadResult,
  MessageQuery,
  ReadReceipt,
  Ticket,
  TicketInput,
  TicketStatus,
  TicketStore,
} from '../../../features/chat/ticket-store.js';
import { isRole } from '../../../protocol/roles.js';
import type { DatabaseSchema, StaffTicketMessagesTable, StaffTicketReadReceiptsTable, StaffTicketsTable } from '../schema.js';

/** Rows per INSERT statement: 8 bound parameters each stays far below SQLite's limit. */
const INSERT_CHUNK = 400;

/** Tickets, chat messages and read receipts over SQLite or PostgreSQL (one query code for both). */
export class KyselyTicketStore implements TicketStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async upsertTicket(input: TicketInput): Promise<{ ticket: Ticket; created: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('staff_tickets').selectAll().where('ticket_id', '=', input.ticketId).executeTakeFirst();
      if (!existing) {
        const row: Selectable<StaffTicketsTable> = {
          ticket_id: input.ticketId,
          requester_id: input.requesterId,
          status: input.status ?? 'open',
          subject: input.subject ?? null,
          created_at: input.now,
          updated_at: input.now,
        };
        // a concurrent first registration of the same ticket is answered as an update of it
        const inserted = await trx.insertInto('staff_tickets').values(row).onConflict((oc) => oc.column('ticket_id').doNothing()).executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { ticket: toTicket(row), created: true };
      }
      const patch = {
        requester_id: input.requesterId,
        ...(input.status !== undefined ? { status: input.status } : {}),
        ...(input.subject !== undefined ? { subject: input.subject } : {}),
        updated_at: input.now,
      };
      await trx.updateTable('staff_tickets').set(patch).where('ticket_id', '=', input.ticketId).execute();
      const row = await trx.selectFrom('staff_tickets').selectAll().where('ticket_id', '=', input.ticketId).executeTakeFirstOrThrow();
      return { ticket: toTicket(row), created: false };
    });
  }

  async getTicket(ticketId: string): Promise<Ticket | undefined> {
    const row = await this.db.selectFrom('staff_tickets').selectAll().where('ticket_id', '=', ticketId).executeTakeFirst();
    return row ? toTicket(row) : undefined;
  }

  async appendMessages(messages: readonly ChatMessage[]): Promise<AppendResult[]> {
    if (messages.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const inserted = new Set<string>();
      for (let i = 0; i < messages.length; i += INSERT_CHUNK) {
        const rows = messages.slice(i, i + INSERT_CHUNK).map(toRow);
        // a resend (same ticket, sender and client_msg_id) hits the partial unique index and is skipped
        const returned = await trx.insertInto('staff_ticket_messages').values(rows).onConflict((oc) => oc.doNothing()).returning('id').execute();
        for (const { id } of returned) inserted.add(id);
      }
      const results: AppendResult[] = [];
      for (const message of messages) {
        if (inserted.has(message.id)) {
          results.push({ message, duplicate: false });
          continue;
        }
        if (message.clientMsgId === null) throw new Error(`message ${message.id} was not stored`);
        const stored = await trx
          .selectFrom('staff_ticket_messages')
          .selectAll()
          .where('ticket_id', '=', message.ticketId)
          .where('sender_id', '=', message.senderId)
          .where('client_msg_id', '=', message.clientMsgId)
          .executeTakeFirstOrThrow();
        results.push({ message: toMessage(stored), duplicate: true });
      }
      return results;
    });
  }

  async recentMessages(ticketId: string, options: { includeInternal: boolean; limit: number }): Promise<ChatMessage[]> {
    let query = this.db.selectFrom('staff_ticket_messages').selectAll().where('ticket_id', '=', ticketId);
    if (!options.includeInternal) query = query.where('is_internal', '=', 0);
    const rows = await query.orderBy('id', 'desc').limit(options.limit).execute();
    return rows.reverse().map(toMessage);
  }

  async listMessages(ticketId: string, q: MessageQuery): Promise<ChatMessage[]> {
    let query = this.db.selectFrom('staff_ticket_messages').selectAll().where('ticket_id', '=', ticketId);
    if (!q.includeInternal) query = query.where('is_internal', '=', 0);
    if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
    const rows = await query.orderBy('id', 'asc').limit(q.limit).execute();
    return rows.map(toMessage);
  }

  async getMessage(ticketId: string, messageId: string): Promise<ChatMessage | undefined> {
    const row = await this.db
      .selectFrom('staff_ticket_messages')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .where('id', '=', messageId)
      .executeTakeFirst();
    return row ? toMessage(row) : undefined;
  }

  async markRead(input: ReadReceipt & { includeInternal: boolean }): Promise<MarkReadResult> {
    return this.db.transaction().execute(async (trx) => {
      const message = await trx
        .selectFrom('staff_ticket_messages')
        .select(['id', 'is_internal'])
        .where('ticket_id', '=', input.ticketId)
        .where('id', '=', input.lastReadMessageId)
        .executeTakeFirst();
      if (!message || (message.is_internal !== 0 && !input.includeInternal)) return { kind: 'unknown_message' };
      const row: Selectable<StaffTicketReadReceiptsTable> = {
        ticket_id: input.ticketId,
        user_id: input.userId,
        last_read_message_id: input.lastReadMessageId,
        read_at: input.readAt,
      };
      const written = await trx
        .insertInto('staff_ticket_read_receipts')
        .values(row)
        .onConflict((oc) =>
          oc
            .columns(['ticket_id', 'user_id'])
            .doUpdateSet({
              last_read_message_id: (eb) => eb.ref('excluded.last_read_message_id'),
              read_at: (eb) => eb.ref('excluded.read_at'),
            })
            // never backwards: ids sort by arrival
            .where('staff_ticket_read_receipts.last_read_message_id', '<', (eb) => eb.ref('excluded.last_read_message_id')),
        )
        .executeTakeFirst();
      if (Number(written.numInsertedOrUpdatedRows ?? 0) > 0) {
        return { kind: 'advanced', receipt: toReceipt(row), messageIsInternal: message.is_internal !== 0 };
      }
      const stored = await trx
        .selectFrom('staff_ticket_read_receipts')
        .selectAll()
        .where('ticket_id', '=', input.ticketId)
        .where('user_id', '=', input.userId)
        .executeTakeFirstOrThrow();
      return { kind: 'unchanged', receipt: toReceipt(stored) };
    });
  }

  async readReceipts(ticketId: string, options: { includeInternal: boolean }): Promise<ReadReceipt[]> {
    let query = this.db
      .selectFrom('staff_ticket_read_receipts as r')
      .innerJoin('staff_ticket_messages as m', 'm.id', 'r.last_read_message_id')
      .selectAll('r')
      .where('r.ticket_id', '=', ticketId);
    if (!options.includeInternal) query = query.where('m.is_internal', '=', 0);
    const rows = await query.orderBy('r.user_id').execute();
    return rows.map(toReceipt);
  }

  async resolvedConversations(limit: number): Promise<ChatMessage[]> {
    const rows = await this.db
      .selectFrom('staff_ticket_messages as m')
      .innerJoin('staff_tickets as t', 't.ticket_id', 'm.ticket_id')
      .selectAll('m')
      .where('t.status', '=', 'closed')
      .where('m.is_internal', '=', 0)
      .orderBy('m.id', 'desc')
      .limit(limit)
      .execute();
    return rows
      .map(toMessage)
      .sort((a, b) => (a.ticketId === b.ticketId ? compare(a.id, b.id) : compare(a.ticketId, b.ticketId)));
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toTicket(row: Selectable<StaffTicketsTable>): Ticket {
  return {
    ticketId: row.ticket_id,
    requesterId: row.requester_id,
    status: toStatus(row.status),
    subject: row.subject,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toStatus(value: string): TicketStatus {
  return value === 'closed' ? 'closed' : 'open';
}

function toRow(message: ChatMessage): Selectable<StaffTicketMessagesTable> {
  return {
    id: message.id,
    ticket_id: message.ticketId,
    sender_id: message.senderId,
    sender_role: message.senderRole,
    content: message.content,
    is_internal: message.isInternal ? 1 : 0,
    client_msg_id: message.clientMsgId,
    created_at: message.createdAt,
  };
}

function toMessage(row: Selectable<StaffTicketMessagesTable>): ChatMessage {
  return {
    id: row.id,
    ticketId: row.ticket_id,
    senderId: row.sender_id,
    // a role this build does not know is treated as a customer role: it never unlocks staff-only content
    senderRole: isRole(row.sender_role) ? row.sender_role : 'student',
    content: row.content,
    isInternal: Number(row.is_internal) !== 0,
    clientMsgId: row.client_msg_id,
    createdAt: Number(row.created_at),
  };
}

function toReceipt(row: Selectable<StaffTicketReadReceiptsTable>): ReadReceipt {
  return { ticketId: row.ticket_id, userId: row.user_id, lastReadMessageId: row.last_read_message_id, readAt: Number(row.read_at) };
}
