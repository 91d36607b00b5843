import { isoTime, type ChatHistoryData, type ChatMessageData, type ParticipantData, type ReadReceiptData } from '../../protocol/chat-messages.js';
import { encodeEnvelope } from '../../protocol/envelope.js';
import type { ChatMessage, ReadReceipt } from './ticket-store.js';

/** A stored message as clients see it. */
export function toWireMessage(message: ChatMessage): ChatMessageData {
  return {
    id: message.id,
    ticket_id: message.ticketId,
    sender_id: message.senderId,
    sender_role: message.senderRole,
    content: message.content,
    is_internal: message.isInternal,
    client_msg_id: message.clientMsgId,
    created_at: isoTime(message.createdAt),
  };
}

export function toWireReceipt(receipt: ReadReceipt): ReadReceiptData {
  return { user_id: receipt.userId, last_read_message_id: receipt.lastReadMessageId, read_at: isoTime(receipt.readAt) };
}

export function messageFrame(message: ChatMessage): string {
  return encodeEnvelope('chat_message', toWireMessage(message));
}

export function historyFrame(messages: readonly ChatMessage[], participants: readonly ParticipantData[], receipts: readonly ReadReceipt[]): string {
  const data: ChatHistoryData = { messages: messages.map(toWireMessage), participants, read_receipts: receipts.map(toWireReceipt) };
  return encodeEnvelope('chat_history', data);
}
