import type { ChatMessage, Ticket } from './ticket-store.js';

/** What a suggester is given: the ticket, its recent conversation (no internal notes), and the message to answer. */
export interface SuggestionRequest {
  readonly ticket: Ticket;
  /** Oldest first, ending with `target`. Internal notes are never included: a suggestion may be sent to the customer. */
  readonly conversation: readonly ChatMessage[];
  readonly target: ChatMessage;
}

/**
 * Proposes a reply for staff. Contract: resolves with a non-empty suggestion, or rejects (any error) when the
 * provider fails; it settles within its own timeout, and honours `signal` (aborted when the server gives up).
 */
export interface ReplySuggester {
  /** Sent to clients as `provider`. */
  readonly provider: string;
  suggest(request: SuggestionRequest, signal: AbortSignal): Promise<string>;
}

/** The suggester failed or gave nothing usable; the requester gets `ai_unavailable`. */
export class SuggestionUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SuggestionUnavailable';
  }
}
