import type { Role } from '../../protocol/roles.js';

export type TicketStatus = 'open' | 'closed';

/** A support ticket as registered by the ticketing backend (SPEC §4). Times are epoch milliseconds. */
export interface Ticket {
  readonly ticketId: string;
  readonly requesterId: string;
  readonly status: TicketStatus;
  readonly subject: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Register or update: fields left undefined keep their stored value (status defaults to open on creation). */
export interface TicketInput {
  readonly ticketId: string;
  readonly requesterId: string;
  readonly status?: TicketStatus;
  readonly subject?: string | null;
  readonly now: number;
}

/** One chat message as stored. */
export interface ChatMessage {
  /** Server-minted sortable id: ordering by id is ordering by arrival. */
  readonly id: string;
  readonly ticketId: string;
  readonly senderId: string;
  readonly senderRole: Role;
  readonly content: string;
  readonly isInternal: boolean;
  readonly clientMsgId: string | null;
  readonly createdAt: number;
}

/** The outcome of appending one message: the stored message, and whether it was already there (resend). */
export interface AppendResult {
  readonly message: ChatMessage;
  readonly duplicate: boolean;
}

export interface ReadReceipt {
  readonly ticketId: string;
  readonly userId: string;
  readonly lastReadMessageId: string;
  readonly readAt: number;
}

export type MarkReadResult =
  /** The receipt moved forward (or was created). */
  | { readonly kind: 'advanced'; readonly receipt: ReadReceipt; readonly messageIsInternal: boolean }
  /** The message is at or before the stored receipt: nothing changed; the stored receipt is returned. */
  | { readonly kind: 'unchanged'; readonly receipt: ReadReceipt }
  /** No such message in this ticket (or one the reader may not see). */
  | { readonly kind: 'unknown_message' };

export interface MessageQuery {
  readonly includeInternal: boolean;
  /** Only messages with an id greater than this. */
  readonly afterId?: string;
  readonly limit: number;
}

/**
 * Tickets, their messages and read receipts (tables staff_tickets, staff_ticket_messages,
 * staff_ticket_read_receipts). Every write is durable when its promise resolves.
 */
export interface TicketStore {
  /** Create or update a ticket; resolves with the stored row and whether it was created. */
  upsertTicket(input: TicketInput): Promise<{ readonly ticket: Ticket; readonly created: boolean }>;
  getTicket(ticketId: string): Promise<Ticket | undefined>;
  /**
   * Append messages in one transaction. Results are in input order. A message whose
   * (ticket, sender, clientMsgId) is already stored is not stored again: its result is the stored message with
   * `duplicate: true` (also when the first copy is earlier in the same batch).
   */
  appendMessages(messages: readonly ChatMessage[]): Promise<AppendResult[]>;
  /** The last `limit` messages of a ticket, oldest first. */
  recentMessages(ticketId: string, options: { readonly includeInternal: boolean; readonly limit: number }): Promise<ChatMessage[]>;
  /** Messages of a ticket after an id, oldest first (the API's listing). */
  listMessages(ticketId: string, query: MessageQuery): Promise<ChatMessage[]>;
  getMessage(ticketId: string, messageId: string): Promise<ChatMessage | undefined>;
  /**
   * Move a user's read position forward to `messageId`; never backwards. `includeInternal: false` refuses
   * internal notes as unknown (a customer cannot learn their ids).
   */
  markRead(input: ReadReceipt & { readonly includeInternal: boolean }): Promise<MarkReadResult>;
  /** Read positions in a ticket; without `includeInternal`, positions on internal notes are left out. */
  readReceipts(ticketId: string, options: { readonly includeInternal: boolean }): Promise<ReadReceipt[]>;
  /**
   * Non-internal messages of closed (resolved) tickets, the most recent `limit`, grouped by ticket and oldest
   * first within a ticket: the corpus of the offline reply suggester.
   */
  resolvedConversations(limit: number): Promise<ChatMessage[]>;
}
