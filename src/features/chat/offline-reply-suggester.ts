import { isStaffRole } from '../../protocol/roles.js';
import type { ReplySuggester, SuggestionRequest } from './reply-suggester.js';
import { templateReply } from './reply-templates.js';
import { TfIdfIndex } from './text-similarity.js';
import type { ChatMessage, TicketStore } from './ticket-store.js';

export interface OfflineReplySuggesterOptions {
  readonly store: TicketStore;
  /** How long the index of resolved tickets is reused before it is rebuilt (default 60 s). */
  readonly corpusTtlMs?: number;
  /** Messages of resolved tickets read to build the index (default 5,000, the most recent). */
  readonly corpusMessages?: number;
  /** Cosine similarity from which an earlier staff reply is reused instead of a template (default 0.35). */
  readonly minScore?: number;
  readonly now?: () => number;
}

interface Exchange {
  readonly ticketId: string;
  readonly answer: string;
}

/**
 * The built-in suggester used when no AI provider is configured. It answers from the conversation itself: the
 * staff reply that resolved the most similar customer message in a closed ticket (TF-IDF retrieval), or else a
 * template chosen by what the customer wrote, quoting it.
 */
export class OfflineReplySuggester implements ReplySuggester {
  readonly provider = 'offline';
  private index: { builtAt: number; value: TfIdfIndex<Exchange> } | undefined;
  private building: Promise<TfIdfIndex<Exchange>> | undefined;

  constructor(private readonly options: OfflineReplySuggesterOptions) {}

  async suggest(request: SuggestionRequest): Promise<string> {
    const index = await this.currentIndex();
    const query = customerTurn(request.conversation, request.target);
    const best = index.search(query, 5).find((hit) => hit.value.ticketId !== request.ticket.ticketId);
    if (best && best.score >= (this.options.minScore ?? 0.35)) return best.value.answer;
    const ongoing = request.conversation.some((m) => isStaffRole(m.senderRole) && m.id < request.target.id);
    return templateReply({ text: query, subject: request.ticket.subject, ongoing }).reply;
  }

  private async currentIndex(): Promise<TfIdfIndex<Exchange>> {
    const now = (this.options.now ?? Date.now)();
    if (this.index && now - this.index.builtAt < (this.options.corpusTtlMs ?? 60_000)) return this.index.value;
    this.building ??= this.build(now).finally(() => (this.building = undefined));
    return this.building;
  }

  private async build(now: number): Promise<TfIdfIndex<Exchange>> {
    const messages = await this.options.store.resolvedConversations(this.options.corpusMessages ?? 5000);
    const value = new TfIdfIndex(exchanges(messages));
    this.index = { builtAt: now, value };
    return value;
  }
}

/**
 * Question/answer pairs of resolved conversations (grouped by ticket, oldest first): the customer messages since
 * the previous staff reply, and the staff reply that followed them.
 */
export function exchanges(messages: readonly ChatMessage[]): Array<{ text: string; value: Exchange }> {
  const pairs: Array<{ text: string; value: Exchange }> = [];
  let ticketId = '';
  let question: string[] = [];
  for (const message of messages) {
    if (message.ticketId !== ticketId) {
      ticketId = message.ticketId;
      question = [];
    }
    if (!isStaffRole(message.senderRole)) {
      question.push(message.content);
    } else if (question.length > 0) {
      pairs.push({ text: question.join('\n'), value: { ticketId, answer: message.content } });
      question = [];
    }
  }
  return pairs;
}

/** The customer's turn ending with `target`: consecutive messages of the same sender, joined. */
function customerTurn(conversation: readonly ChatMessage[], target: ChatMessage): string {
  const end = conversation.findIndex((m) => m.id === target.id);
  if (end < 0) return target.content;
  const parts = [target.content];
  for (let i = end - 1; i >= 0 && parts.length < 5; i--) {
    const m = conversation[i]!;
    if (m.senderId !== target.senderId) break;
    parts.unshift(m.content);
  }
  return parts.join('\n');
}
