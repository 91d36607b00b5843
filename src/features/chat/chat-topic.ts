import { topic, type Topic } from '../../core/bus.js';
import type { Role } from '../../protocol/roles.js';
import type { Ticket } from './ticket-store.js';

/**
 * Everything a ticket room shares across instances, on one bus topic per ticket. Frames are serialized once by
 * the publishing instance; `origin` is its instance id. Messages are published only after they are stored,
 * by the instance that received them; every instance (the publisher too) delivers from the bus.
 */
export type ChatBusMessage =
  | { readonly kind: 'message'; readonly origin: string; readonly id: string; readonly internal: boolean; readonly frame: string }
  | { readonly kind: 'typing'; readonly origin: string; readonly userId: string; readonly frame: string }
  | { readonly kind: 'read'; readonly origin: string; readonly userId: string; readonly internal: boolean; readonly frame: string }
  | { readonly kind: 'presence'; readonly origin: string; readonly event: 'joined' | 'left'; readonly userId: string; readonly role: Role }
  /** A room just opened on `origin` and asks the other instances who is there. */
  | { readonly kind: 'presence_sync'; readonly origin: string }
  | { readonly kind: 'presence_snapshot'; readonly origin: string; readonly users: ReadonlyArray<{ readonly userId: string; readonly role: Role }> }
  /** The ticket was registered or updated through the API. */
  | { readonly kind: 'ticket'; readonly origin: string; readonly ticket: Ticket };

export function chatTopic(ticketId: string): Topic<ChatBusMessage> {
  return topic<ChatBusMessage>(`chat:${ticketId}`);
}
