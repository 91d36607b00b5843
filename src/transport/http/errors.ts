import type { FastifyReply } from 'fastify';
import { errorBody, type ErrorCode } from '../../protocol/error-codes.js';

/** `{"error":{"code","message"}}` with a status. */
export function sendError(reply: FastifyReply, status: number, code: ErrorCode, message?: string): FastifyReply {
  return reply.code(status).send({ error: errorBody(code, message) });
}
