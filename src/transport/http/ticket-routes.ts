import type { FastifyPluginAsync } from 'fastify';
import { toWireMessage } from '../../features/chat/chat-frames.js';
import type { TicketService } from '../../features/chat/ticket-service.js';
import type { Ticket } from '../../features/chat/ticket-store.js';
import { isoTime } from '../../protocol/chat-messages.js';
import { parseMessageListQuery, parseTicketRequest, TICKET_ID } from '../../protocol/chat-ticket-request.js';
import { requireApiKey } from './api-key.js';
import { sendError } from './errors.js';

export interface TicketRoutesOptions {
  readonly apiKey: string;
  readonly tickets: TicketService;
}

/** The service API of support tickets (SPEC §4): register/update a ticket, read its messages. */
export function ticketRoutes(options: TicketRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    app.addHook('preHandler', requireApiKey(options.apiKey));

    app.put<{ Params: { ticketId: string } }>('/api/v1/tickets/:ticketId', async (request, reply) => {
      const { ticketId } = request.params;
      if (!TICKET_ID.test(ticketId)) return sendError(reply, 400, 'invalid_body', 'ticket_id must be 1-128 characters of A-Z a-z 0-9 . _ : -');
      const parsed = parseTicketRequest(request.body);
      if (!parsed.ok) return sendError(reply, 400, parsed.error.code, parsed.error.message);
      const { ticket, created } = await options.tickets.register(ticketId, parsed.value);
      return reply.code(created ? 201 : 200).send(toWireTicket(ticket));
    });

    app.get<{ Params: { ticketId: string }; Querystring: Record<string, string> }>('/api/v1/tickets/:ticketId/messages', async (request, reply) => {
      const { ticketId } = request.params;
      const query = parseMessageListQuery(request.query);
      if (!query.ok) return sendError(reply, 400, query.error.code, query.error.message);
      const ticket = TICKET_ID.test(ticketId) ? await options.tickets.getTicket(ticketId) : undefined;
      if (!ticket) return sendError(reply, 404, 'not_found', 'unknown ticket');
      // one more than asked tells whether another page follows
      const rows = await options.tickets.listMessages(ticketId, { ...query.value, limit: query.value.limit + 1 });
      const page = rows.slice(0, query.value.limit);
      return reply.send({ ticket_id: ticketId, messages: page.map(toWireMessage), has_more: rows.length > page.length });
    });
  };
}

function toWireTicket(ticket: Ticket) {
  return {
    ticket_id: ticket.ticketId,
    requester_id: ticket.requesterId,
    status: ticket.status,
    subject: ticket.subject,
    created_at: isoTime(ticket.createdAt),
    updated_at: isoTime(ticket.updatedAt),
  };
}
