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
  | {
      readonly kind: 'typing';
      readonly origin: string;
      readonly userId: string;
      readonly frame: string;
      /** Known to rooms on other instances, so they can end the indicator if `origin` dies. */
      readonly role: Role;
      readonly isTyping: boolean;
    }
  | { readonly kind: 'read'; readonly origin: string; readonly userId: string; readonly internal: boolean; readonly frame: string }
  | { readonly kind: 'presence'; readonly origin: string; readonly event: 'joined' | 'left'; readonly userId: string; readonly role: Role }
  /** A room just opened on `origin` and asks the other instances who is there. */
  | { readonly kind: 'presence_sync'; readonly origin: string }
  /** Every user present on `origin`, complete: whoever a room attributed to `origin` and is not listed has left it. */
  | { readonly kind: 'presence_snapshot'; readonly origin: string; readonly users: readonly PresentUser[] }
  /**
   * `origin` may have missed traffic (Redis reconnected) or was taken for dead: here is its complete presence; every
   * other room of the ticket answers with its own snapshot (even empty) and catches up on messages from storage.
   */
  | { readonly kind: 'resync'; readonly origin: string; readonly users: readonly PresentUser[] }
  /** The ticket was registered or updated through the API. */
  | { readonly kind: 'ticket'; readonly origin: string; readonly ticket: Ticket };

export interface PresentUser {
  readonly userId: string;
  readonly role: Role;
}

export function chatTopic(ticketId: string): Topic<ChatBusMessage> {
  return topic<ChatBusMessage>(`chat:${ticketId}`);
}
