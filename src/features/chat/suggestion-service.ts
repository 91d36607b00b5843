import { isStaffRole } from '../../protocol/roles.js';
import type { ChatStats } from './chat-stats.js';
import { SuggestionUnavailable, type ReplySuggester } from './reply-suggester.js';
import type { Ticket, TicketStore } from './ticket-store.js';

/** Messages of context given to a suggester. */
const CONTEXT_MESSAGES = 20;

export type SuggestionOutcome =
  | { readonly kind: 'ok'; readonly messageId: string; readonly suggestion: string; readonly provider: string }
  /** Nothing to answer: the message is unknown, or the ticket has no customer message yet. */
  | { readonly kind: 'no_message'; readonly reason: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface SuggestionServiceOptions {
  readonly store: TicketStore;
  readonly suggester: ReplySuggester;
  readonly stats: ChatStats;
  /** The longest a request may take, whatever the suggester does (AI_SUGGESTION_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
}

/** Answers `ai_suggestion_request`: picks the message to answer, gathers context, asks the suggester, never hangs. */
export class SuggestionService {
  private readonly shutdown = new AbortController();

  constructor(private readonly options: SuggestionServiceOptions) {}

  async suggest(ticket: Ticket, messageId: string | undefined): Promise<SuggestionOutcome> {
    const { store, suggester, stats, timeoutMs } = this.options;
    stats.aiRequests++;
    const recent = await store.recentMessages(ticket.ticketId, { includeInternal: false, limit: CONTEXT_MESSAGES * 5 });
    let target = messageId === undefined ? findLast(recent, (m) => !isStaffRole(m.senderRole)) : recent.find((m) => m.id === messageId);
    if (messageId !== undefined && !target) {
      const stored = await store.getMessage(ticket.ticketId, messageId);
      if (!stored) return { kind: 'no_message', reason: 'no such message in this ticket' };
      if (stored.isInternal) return { kind: 'no_message', reason: 'internal notes are not answered' };
      target = stored;
    }
    if (!target) return { kind: 'no_message', reason: 'the ticket has no customer message yet' };
    const upTo = recent.filter((m) => m.id <= target.id).slice(-CONTEXT_MESSAGES);
    const conversation = upTo.at(-1)?.id === target.id ? upTo : [...upTo, target];

    // a plain timer, not AbortSignal.timeout inside AbortSignal.any: Node may collect such a timeout signal
    // before it fires (nodejs/node#57736), and then nothing would end the wait
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new SuggestionUnavailable('timed out')), timeoutMs);
    const onShutdown = (): void => deadline.abort(this.shutdown.signal.reason);
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    try {
      const suggestion = await raceAbort(suggester.suggest({ ticket, conversation, target }, deadline.signal), deadline.signal);
      const text = suggestion.trim();
      if (!text) throw new SuggestionUnavailable('empty suggestion');
      return { kind: 'ok', messageId: target.id, suggestion: text, provider: suggester.provider };
    } catch (error) {
      stats.aiFailures++;
      return { kind: 'unavailable', reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }
  }

  /** Abort every request in flight (shutdown). */
  stop(): void {
    this.shutdown.abort(new SuggestionUnavailable('server shutting down'));
  }
}

/** Settle with the promise, or reject as soon as `signal` aborts, whichever comes first. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new SuggestionUnavailable('timed out', { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new SuggestionUnavailable('timed out', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function findLast<T>(items: readonly T[], predicate: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (predicate(items[i]!)) return items[i];
  return undefined;
}
