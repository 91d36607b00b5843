import type { Bus, Unsubscribe } from '../../core/bus.js';
import type { Peer } from '../../core/peer.js';
import type { Stats } from '../../core/stats.js';
import { forEachRecipient, type RecipientIndex } from '../../core/targeting.js';
import { catalogEntry } from '../../protocol/catalog.js';
import { deliverLive, type RoleChannelState } from './event-replay.js';
import { EVENTS_TOPIC, type EventMessage } from './events-topic.js';

/** Serves this instance's role-channel connections from the bus: every event, to exactly its allowed audience. */
export class EventDelivery {
  private unsubscribe: Unsubscribe | undefined;

  constructor(private readonly index: RecipientIndex, private readonly stats: Stats) {}

  async start(bus: Bus): Promise<void> {
    this.unsubscribe = await bus.subscribe(EVENTS_TOPIC, (message) => this.deliver(message));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  deliver(message: EventMessage): void {
    const entry = catalogEntry(message.type);
    if (!entry) return;
    const frame = Buffer.from(message.frame);
    let count = 0;
    forEachRecipient(this.index, entry, message.delivery, (peer: Peer) => {
      deliverLive(peer as Peer<RoleChannelState>, message.id, frame);
      count++;
    });
    this.stats.deliveries += count;
  }
}
