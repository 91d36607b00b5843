import type { Bus } from '../../core/bus.js';
import { chatTopic } from './chat-topic.js';
import type { ChatMessage, MessageQuery, Ticket, TicketStatus, TicketStore } from './ticket-store.js';

export interface TicketRegistration {
  readonly requesterId: string;
  readonly status?: TicketStatus;
  readonly subject?: string | null;
}

/** The service API side of tickets: registration (which open rooms learn at once, on every instance) and history. */
export class TicketService {
  constructor(private readonly options: { readonly store: TicketStore; readonly bus: Bus }) {}

  async register(ticketId: string, registration: TicketRegistration): Promise<{ ticket: Ticket; created: boolean }> {
    const { store, bus } = this.options;
    const result = await store.upsertTicket({ ticketId, ...registration, now: Date.now() });
    await bus.publish(chatTopic(ticketId), { kind: 'ticket', origin: bus.instanceId, ticket: result.ticket });
    return result;
  }

  getTicket(ticketId: string): Promise<Ticket | undefined> {
    return this.options.store.getTicket(ticketId);
  }

  listMessages(ticketId: string, query: MessageQuery): Promise<ChatMessage[]> {
    return this.options.store.listMessages(ticketId, query);
  }
}
