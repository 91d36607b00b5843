import { z } from 'zod';
import { errorBody, type ErrorBody } from './error-codes.js';
import { err, ok, type Result } from '../shared/result.js';

/** Ticket ids follow the WebSocket path's rule, so every registered ticket can be joined. */
export const TICKET_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const ticketBody = z.object({
  requester_id: z.string().trim().min(1).max(256),
  status: z.enum(['open', 'closed']).optional(),
  subject: z.string().max(1000).nullable().optional(),
});

export interface TicketRequest {
  readonly requesterId: string;
  readonly status?: 'open' | 'closed';
  readonly subject?: string | null;
}

/** Validate the body of `PUT /api/v1/tickets/{ticket_id}` (SPEC §4). */
export function parseTicketRequest(body: unknown): Result<TicketRequest, ErrorBody> {
  const parsed = ticketBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(errorBody('invalid_body', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`));
  }
  const { requester_id, status, subject } = parsed.data;
  return ok({ requesterId: requester_id, ...(status !== undefined ? { status } : {}), ...(subject !== undefined ? { subject } : {}) });
}

export interface MessageListQuery {
  readonly includeInternal: boolean;
  readonly afterId?: string;
  readonly limit: number;
}

export const MESSAGE_LIST_MAX = 1000;

const listQuery = z.object({
  include_internal: z.enum(['true', 'false']).optional(),
  after: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(MESSAGE_LIST_MAX).optional(),
});

/** Validate the query of `GET /api/v1/tickets/{ticket_id}/messages`. */
export function parseMessageListQuery(query: unknown): Result<MessageListQuery, ErrorBody> {
  const parsed = listQuery.safeParse(query ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err(errorBody('invalid_body', `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`));
  }
  const { include_internal, after, limit } = parsed.data;
  return ok({ includeInternal: include_internal === 'true', ...(after !== undefined ? { afterId: after } : {}), limit: limit ?? MESSAGE_LIST_MAX });
}
