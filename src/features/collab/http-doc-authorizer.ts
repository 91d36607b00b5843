import type { AuthUser } from '../../core/auth.js';
import type { Logger } from '../../shared/logger.js';
import { isDocumentAccess, type DocumentAccess, type DocumentAuthorizer } from './doc-access.js';

export interface HttpDocAuthorizerOptions {
  /** `YJS_AUTH_URL`: receives `POST {"user_id","role","doc_id"}`, answers `{"access":"write"|"read"|"none"}`. */
  readonly url: string;
  readonly logger: Logger;
  /** How long an answer is reused for the same user, role and document (default 10 s). */
  readonly cacheTtlMs?: number;
  /** A hook slower than this counts as a failure (default 3 s). */
  readonly timeoutMs?: number;
  /** Bound on cached answers (default 10 000). */
  readonly maxEntries?: number;
}

/**
 * Asks the deployment's own service whether a user may open a document. Answers are cached briefly (a page reload
 * or a reconnect does not ask again), concurrent questions about the same key share one request, and any failure —
 * network error, timeout, non-2xx status, malformed body — answers 'none' and is not cached.
 */
export function httpDocAuthorizer(options: HttpDocAuthorizerOptions): DocumentAuthorizer {
  const ttl = options.cacheTtlMs ?? 10_000;
  const timeout = options.timeoutMs ?? 3_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { access: DocumentAccess; until: number }>();
  const asking = new Map<string, Promise<DocumentAccess>>();

  const ask = async (user: AuthUser, docId: string): Promise<DocumentAccess> => {
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ user_id: user.userId, role: user.role, doc_id: docId }),
        signal: AbortSignal.timeout(timeout),
      });
      if (!response.ok) throw new Error(`authorizer answered HTTP ${response.status}`);
      const body: unknown = await response.json();
      const access = typeof body === 'object' && body !== null ? (body as { access?: unknown }).access : undefined;
      if (!isDocumentAccess(access)) throw new Error('authorizer answer has no valid "access"');
      return access;
    } catch (error) {
      options.logger.warn({ err: error, docId }, 'document authorizer failed; refusing access');
      throw error;
    }
  };

  return async (user, docId) => {
    const key = JSON.stringify([user.userId, user.role, docId]);
    const now = Date.now();
    const cached = cache.get(key);
    if (cached && cached.until > now) return cached.access;
    let pending = asking.get(key);
    if (!pending) {
      pending = ask(user, docId).then(
        (access) => {
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
          cache.set(key, { access, until: Date.now() + ttl });
          return access;
        },
        (): DocumentAccess => 'none',
      );
      asking.set(key, pending);
      void pending.finally(() => asking.delete(key));
    }
    return pending;
  };
}
