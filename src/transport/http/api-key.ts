import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken } from '../../protocol/ws-route.js';
import { sendError } from './errors.js';

/** Constant-time comparison of the presented bearer key with the configured one (hashes make lengths equal). */
export function apiKeyMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** A preHandler that refuses requests without `Authorization: Bearer $PUBLISH_API_KEY`. */
export function requireApiKey(expected: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!apiKeyMatches(bearerToken(request.headers.authorization), expected)) {
      await sendError(reply, 401, 'unauthorized', 'missing or invalid API key');
    }
  };
}
