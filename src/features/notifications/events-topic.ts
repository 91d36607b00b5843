import { topic } from '../../core/bus.js';
import type { Delivery } from '../../protocol/delivery.js';

/** A published event on the bus: the envelope is serialized once, by the publisher. */
export interface EventMessage {
  readonly id: string;
  readonly type: string;
  readonly delivery: Delivery;
  readonly frame: string;
}

export const EVENTS_TOPIC = topic<EventMessage>('events');
