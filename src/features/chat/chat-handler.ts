import type { EndpointHandler, Peer, PeerRequest } from '../../core/peer.js';
import { chatClientSchemas, type ChatClientMessage, type ChatMessageInput } from '../../protocol/chat-messages.js';
import { close, type Close } from '../../protocol/close-codes.js';
import { decodeIncoming, encodeEnvelope, encodeError, validateIncoming } from '../../protocol/envelope.js';
import { isStaffRole } from '../../protocol/roles.js';
import type { SortableIdGenerator } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import { ChatMember, type QueuedFrame } from './chat-member.js';
import type { ChatRoom } from './chat-room.js';
import type { ChatRooms } from './chat-rooms.js';
import type { ChatStats } from './chat-stats.js';
import { historyFrame, messageFrame } from './chat-frames.js';
import type { MessageWriter } from './message-writer.js';
import type { SuggestionService } from './suggestion-service.js';
import type { ChatMessage, ReadReceipt, Ticket, TicketStore } from './ticket-store.js';
import { TypingTracker } from './typing-tracker.js';

/** Messages in `chat_history`. */
export const HISTORY_LIMIT = 50;
/** Typing indicators end by themselves after this long without a refresh (SPEC §7). */
export const TYPING_TTL_MS = 6000;
/** AI suggestion requests one connection may have in flight. */
const AI_IN_FLIGHT_PER_CONNECTION = 2;

export interface ChatHandlerOptions {
  readonly rooms: ChatRooms;
  readonly store: TicketStore;
  readonly writer: MessageWriter;
  readonly suggestions: SuggestionService;
  readonly ids: SortableIdGenerator;
  readonly stats: ChatStats;
  readonly logger: Logger;
  readonly typingTtlMs?: number;
}

interface TypingEntry {
  readonly room: ChatRoom;
  readonly member: ChatMember;
}

/**
 * `/ws/support-chat/{ticket_id}`: joins the ticket's room, then handles each connection's messages strictly in
 * order (a chat message is stored before anything after it is handled). Storing goes through the group-commit
 * writer; delivery to the room (this connection included) goes through the bus, after the store.
 */
export class ChatHandler implements EndpointHandler<ChatMember> {
  private readonly typing: TypingTracker<TypingEntry>;
  /** Connections with a message being handled, and their count of queued frames: drained at shutdown. */
  private busyMembers = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: ChatHandlerOptions) {
    this.typing = new TypingTracker<TypingEntry>({
      ttlMs: options.typingTtlMs ?? TYPING_TTL_MS,
      onExpire: (_key, { room, member }) => this.publishTyping(room, member, false),
    });
  }

  async open(peer: Peer<ChatMember>, request: PeerRequest): Promise<Close | void> {
    const { rooms, store } = this.options;
    const room = await rooms.acquire(request.resource);
    if (!room) return close('notFound', 'unknown ticket');
    try {
      if (!mayJoin(peer, room.ticket)) return close('forbidden', 'not a participant of this ticket');
      const member = new ChatMember(peer, room);
      peer.state = member;
      // from here on live traffic is held in the member's backlog, so nothing is lost or doubled around the history
      room.add(member);
      let messages: ChatMessage[];
      let receipts: ReadReceipt[];
      try {
        [messages, receipts] = await Promise.all([
          store.recentMessages(room.ticketId, { includeInternal: member.staff, limit: HISTORY_LIMIT }),
          store.readReceipts(room.ticketId, { includeInternal: member.staff }),
        ]);
      } catch (error) {
        room.remove(member);
        throw error;
      }
      if (!peer.isOpen || !mayJoin(peer, room.ticket)) {
        room.remove(member);
        return peer.isOpen ? close('forbidden', 'not a participant of this ticket') : close('normal');
      }
      room.activate(member);
      member.historyNewest = messages.at(-1)?.id;
      peer.sendText(historyFrame(messages, room.participantList(), receipts));
      const backlog = member.backlog ?? [];
      member.backlog = null;
      const seen = new Set(messages.map((m) => m.id));
      for (const item of backlog) if (item.id === undefined || !seen.has(item.id)) peer.sendText(item.frame);
    } finally {
      rooms.release(room);
    }
  }

  message(peer: Peer<ChatMember>, data: Buffer, isBinary: boolean): void {
    const member = peer.state;
    if (!member) return;
    member.queue.push({ data, isBinary });
    if (!member.busy) this.pump(member);
  }

  closed(peer: Peer<ChatMember>): void {
    const member = peer.state;
    if (!member) return;
    member.gone = true;
    const { room } = member;
    const key = typingKey(room.ticketId, member.userId);
    const typing = this.typing.get(key);
    // the typing indicator ends with the connection that set it, or with the user's last connection
    if (typing && (typing.member === member || !this.hasOtherConnection(room, member))) {
      this.typing.clear(key);
      this.publishTyping(room, member, false);
    }
    room.remove(member);
    this.options.rooms.closeIfIdle(room);
  }

  /** Resolves when no connection has a message being handled or queued (shutdown: nothing received is lost). */
  async drain(): Promise<void> {
    while (this.busyMembers > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.options.writer.drain();
  }

  stop(): void {
    this.typing.stop();
  }

  private hasOtherConnection(room: ChatRoom, member: ChatMember): boolean {
    for (const other of room.members) if (other !== member && other.userId === member.userId) return true;
    return false;
  }

  /** Handle queued frames in order; a frame whose handling is asynchronous holds the queue until it is done. */
  private pump(member: ChatMember): void {
    while (member.queue.length > 0) {
      const frame = member.queue.shift()!;
      let pending: Promise<void> | undefined;
      try {
        pending = this.handle(member, frame);
      } catch (error) {
        this.options.logger.error({ err: error }, 'chat message handling failed');
        member.peer.sendText(encodeError('internal'));
      }
      if (pending) {
        member.busy = true;
        this.busyMembers++;
        pending
          .catch((error: unknown) => {
            this.options.logger.error({ err: error }, 'chat message handling failed');
            member.peer.sendText(encodeError('internal'));
          })
          .finally(() => {
            member.busy = false;
            this.busyMembers--;
            this.pump(member);
            if (this.busyMembers === 0) this.notifyIdle();
          });
        return;
      }
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private handle(member: ChatMember, frame: QueuedFrame): Promise<void> | undefined {
    const { peer } = member;
    if (frame.isBinary) {
      peer.sendText(encodeError('bad_json', 'support chat takes JSON text frames'));
      return undefined;
    }
    const decoded = decodeIncoming(frame.data.toString('utf8'));
    if (!decoded.ok) {
      peer.sendText(encodeError(decoded.error.code, decoded.error.message));
      return undefined;
    }
    const validated = validateIncoming(chatClientSchemas, decoded.value);
    if (!validated.ok) {
      peer.sendText(encodeError(validated.error.code, validated.error.message));
      return undefined;
    }
    const message: ChatClientMessage = validated.value;
    // after the socket closed, only chat messages still matter: they were received, so they are stored
    if (member.gone && message.type !== 'chat_message') return undefined;
    switch (message.type) {
      case 'chat_message':
        return this.chatMessage(member, message.data);
      case 'typing':
        this.typingChanged(member, message.data.is_typing);
        return undefined;
      case 'read_receipt':
        return this.readReceipt(member, message.data.last_read_message_id);
      case 'ai_suggestion_request':
        this.suggest(member, message.data.message_id ?? undefined);
        return undefined;
      case 'ping':
        peer.sendText(encodeEnvelope('pong', {}));
        return undefined;
    }
  }

  private chatMessage(member: ChatMember, data: ChatMessageInput): Promise<void> | undefined {
    const { peer, room } = member;
    if (data.is_internal && !member.staff) {
      peer.sendText(encodeError('forbidden', 'only staff may send internal notes'));
      return undefined;
    }
    if (room.ticket.status === 'closed') {
      peer.sendText(encodeError('ticket_closed'));
      return undefined;
    }
    const { ids, writer, stats } = this.options;
    const message: ChatMessage = {
      id: ids.next(),
      ticketId: room.ticketId,
      senderId: member.userId,
      senderRole: member.role,
      content: data.content,
      isInternal: data.is_internal,
      clientMsgId: data.client_msg_id ?? null,
      createdAt: Date.now(),
    };
    return writer.append(message).then(
      ({ message: stored, duplicate }) => {
        const frame = messageFrame(stored);
        if (duplicate) {
          // a resend: the sender gets the stored message again, the room nothing new
          stats.duplicates++;
          peer.sendText(frame);
          return;
        }
        stats.messagesStored++;
        if (stored.isInternal) stats.internalNotes++;
        const key = typingKey(room.ticketId, member.userId);
        if (this.typing.clear(key)) this.publishTyping(room, member, false);
        room.publish({ kind: 'message', origin: room.origin, id: stored.id, internal: stored.isInternal, frame });
      },
      () => {
        peer.sendText(encodeError('internal', 'the message could not be stored; send it again'));
      },
    );
  }

  private typingChanged(member: ChatMember, isTyping: boolean): void {
    const { room } = member;
    if (room.ticket.status === 'closed') return;
    const key = typingKey(room.ticketId, member.userId);
    if (isTyping) {
      if (this.typing.touch(key, { room, member })) this.publishTyping(room, member, true);
    } else if (this.typing.clear(key)) {
      this.publishTyping(room, member, false);
    }
  }

  private publishTyping(room: ChatRoom, member: ChatMember, isTyping: boolean): void {
    const frame = encodeEnvelope('typing', { user_id: member.userId, role: member.role, is_typing: isTyping });
    room.publish({ kind: 'typing', origin: room.origin, userId: member.userId, frame, role: member.role, isTyping });
  }

  private async readReceipt(member: ChatMember, messageId: string): Promise<void> {
    const { room, peer } = member;
    const result = await this.options.store.markRead({
      ticketId: room.ticketId,
      userId: member.userId,
      lastReadMessageId: messageId,
      readAt: Date.now(),
      includeInternal: member.staff,
    });
    if (result.kind === 'unknown_message') {
      peer.sendText(encodeError('invalid_message', 'last_read_message_id is not a message of this ticket'));
      return;
    }
    if (result.kind === 'unchanged') return;
    const { receipt } = result;
    const frame = encodeEnvelope('read_receipt', {
      user_id: receipt.userId,
      last_read_message_id: receipt.lastReadMessageId,
      read_at: new Date(receipt.readAt).toISOString(),
    });
    // a position on an internal note names that note: only staff may see it
    room.publish({ kind: 'read', origin: room.origin, userId: member.userId, internal: result.messageIsInternal, frame });
  }

  private suggest(member: ChatMember, messageId: string | undefined): void {
    const { peer, room } = member;
    if (!member.staff) {
      peer.sendText(encodeError('forbidden', 'AI suggestions are for staff'));
      return;
    }
    if (member.aiInFlight >= AI_IN_FLIGHT_PER_CONNECTION) {
      peer.sendText(encodeError('rate_limited', 'an AI suggestion is already being prepared'));
      return;
    }
    member.aiInFlight++;
    this.options.suggestions
      .suggest(room.ticket, messageId)
      .then(
        (outcome) => {
          if (outcome.kind === 'ok') {
            peer.sendText(encodeEnvelope('ai_suggestion', { message_id: outcome.messageId, suggestion: outcome.suggestion, provider: outcome.provider }));
          } else if (outcome.kind === 'no_message') {
            peer.sendText(encodeError('invalid_message', outcome.reason));
          } else {
            this.options.logger.warn({ ticket_id: room.ticketId, reason: outcome.reason }, 'AI suggestion failed');
            peer.sendText(encodeError('ai_unavailable'));
          }
        },
        (error: unknown) => {
          this.options.stats.aiFailures++;
          this.options.logger.warn({ err: error, ticket_id: room.ticketId }, 'AI suggestion failed');
          peer.sendText(encodeError('ai_unavailable'));
        },
      )
      .finally(() => member.aiInFlight--);
  }
}

function mayJoin(peer: Peer, ticket: Ticket): boolean {
  return isStaffRole(peer.user.role) || peer.user.userId === ticket.requesterId;
}

function typingKey(ticketId: string, userId: string): string {
  return `${ticketId}\n${userId}`;
}
