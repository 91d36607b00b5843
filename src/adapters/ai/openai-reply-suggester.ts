import { isStaffRole } from '../../protocol/roles.js';
import { SuggestionUnavailable, type ReplySuggester, type SuggestionRequest } from '../../features/chat/reply-suggester.js';

export interface OpenAiReplySuggesterOptions {
  /** AI_SUGGESTION_URL: a base URL (`…/v1`) or the full `…/chat/completions` endpoint. */
  readonly url: string;
  readonly model: string;
  readonly apiKey: string | undefined;
  readonly timeoutMs: number;
  readonly maxTokens?: number;
}

const SYSTEM_PROMPT =
  'You are a support agent of Urban Home School, an online school. Write the next reply to the customer in this ' +
  'support ticket: friendly, concise, concrete, in the language the customer writes in. Do not invent policies, ' +
  'prices or dates; ask for the details you need. Reply with the message text only.';

/** Reply suggestions from any OpenAI-compatible chat-completions endpoint, over `fetch`, with a hard timeout. */
export class OpenAiReplySuggester implements ReplySuggester {
  readonly provider = 'openai-compatible';
  private readonly endpoint: string;

  constructor(private readonly options: OpenAiReplySuggesterOptions) {
    this.endpoint = completionsEndpoint(options.url);
  }

  async suggest(request: SuggestionRequest, signal: AbortSignal): Promise<string> {
    const { model, apiKey, timeoutMs } = this.options;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const subject = request.ticket.subject ? `Ticket subject: ${request.ticket.subject}\n` : '';
    const body = {
      model,
      temperature: 0.3,
      max_tokens: this.options.maxTokens ?? 400,
      messages: [
        { role: 'system', content: `${SYSTEM_PROMPT}\n${subject}`.trim() },
        ...request.conversation.map((m) => ({ role: isStaffRole(m.senderRole) ? 'assistant' : 'user', content: m.content })),
      ],
    };
    // the request ends at our timeout or when the caller gives up, whichever comes first; a plain timer rather
    // than AbortSignal.any over AbortSignal.timeout, which Node may collect before it fires (nodejs/node#57736)
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new SuggestionUnavailable('provider timed out')), timeoutMs);
    const onCallerAbort = (): void => abort.abort(signal.reason);
    if (signal.aborted) onCallerAbort();
    else signal.addEventListener('abort', onCallerAbort, { once: true });
    let payload: unknown;
    try {
      const response = await fetch(this.endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal: abort.signal });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new SuggestionUnavailable(`provider answered HTTP ${response.status}`);
      }
      payload = await response.json();
    } catch (error) {
      if (error instanceof SuggestionUnavailable) throw error;
      const reason = abort.signal.aborted ? 'provider timed out' : 'provider unreachable or sent invalid JSON';
      throw new SuggestionUnavailable(reason, { cause: error });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onCallerAbort);
    }
    const text = firstChoice(payload);
    if (!text) throw new SuggestionUnavailable('provider sent no suggestion');
    return text;
  }
}

export function completionsEndpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
}

function firstChoice(payload: unknown): string | undefined {
  if (typeof payload !== 'object' || payload === null || !('choices' in payload) || !Array.isArray(payload.choices)) return undefined;
  const choice: unknown = payload.choices[0];
  if (typeof choice !== 'object' || choice === null || !('message' in choice)) return undefined;
  const message: unknown = choice.message;
  if (typeof message !== 'object' || message === null || !('content' in message) || typeof message.content !== 'string') return undefined;
  return message.content.trim() || undefined;
}
