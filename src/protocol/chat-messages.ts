import { z } from 'zod';
import type { Role } from './roles.js';

/** Content limits of a chat message, counted in characters (code points) after trimming. */
export const CHAT_CONTENT_MAX_CHARS = 4000;

const content = z
  .string()
  .transform((value) => value.trim())
  .refine((value) => value.length > 0, { message: 'content is empty' })
  // code points, not UTF-16 units: an emoji counts as one character
  .refine((value) => value.length <= CHAT_CONTENT_MAX_CHARS || [...value].length <= CHAT_CONTENT_MAX_CHARS, {
    message: `content is longer than ${CHAT_CONTENT_MAX_CHARS} characters`,
  });

const id = z.string().min(1).max(128);

/** Messages a client may send on `/ws/support-chat/{ticket_id}` (SPEC §7), by type. */
export const chatClientSchemas = {
  chat_message: z.object({
    content,
    is_internal: z.boolean().optional().default(false),
    client_msg_id: id.nullish(),
  }),
  typing: z.object({ is_typing: z.boolean() }),
  read_receipt: z.object({ last_read_message_id: id }),
  ai_suggestion_request: z.object({ message_id: id.nullish() }).default({}),
  ping: z.unknown(),
} as const;

type ChatClientSchemas = typeof chatClientSchemas;

/** A validated client message of the chat endpoint. */
export type ChatClientMessage = { [K in keyof ChatClientSchemas]: { readonly type: K; readonly data: z.infer<ChatClientSchemas[K]> } }[keyof ChatClientSchemas];

export type ChatMessageInput = Extract<ChatClientMessage, { type: 'chat_message' }>['data'];

/** `chat_message` as the server sends it. */
export interface ChatMessageData {
  readonly id: string;
  readonly ticket_id: string;
  readonly sender_id: string;
  readonly sender_role: Role;
  readonly content: string;
  readonly is_internal: boolean;
  readonly client_msg_id: string | null;
  /** ISO 8601 UTC with milliseconds. */
  readonly created_at: string;
}

export interface ParticipantData {
  readonly user_id: string;
  readonly role: Role;
}

export interface ReadReceiptData {
  readonly user_id: string;
  readonly last_read_message_id: string;
  readonly read_at: string;
}

export interface ChatHistoryData {
  readonly messages: readonly ChatMessageData[];
  readonly participants: readonly ParticipantData[];
  /** Extension: every stored read position in this ticket the joiner may see. */
  readonly read_receipts: readonly ReadReceiptData[];
}

export interface TypingData {
  readonly user_id: string;
  readonly role: Role;
  readonly is_typing: boolean;
}

export interface AiSuggestionData {
  readonly message_id: string;
  readonly suggestion: string;
  readonly provider: string;
}

/** Epoch milliseconds → the wire's ISO 8601 UTC string with milliseconds. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
