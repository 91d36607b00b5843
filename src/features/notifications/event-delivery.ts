import type { Bus, Unsubscribe } from '../../core/bus.js';
import type { Peer } from '../../core/peer.js';
import type { Stats } from '../../core/stats.js';
import { forEachRecipient, type RecipientIndex } from '../../core/targeting.js';
import { catalogEntry } from '../../protocol/catalog.js';
import { deliverLive, type RoleChannelState } from './event-replay.js';
import { EVENTS_TOPIC, type EventMessage } from './events-topic.js';

/** Most sends in one event-loop turn: an event to 10,000 connections yields between chunks. */
const SENDS_PER_TURN = 1024;
/** Publishers wait while more sends than this are queued here: intake never outruns delivery. */
const MAX_QUEUED_SENDS = 20_000;

interface PendingDelivery {
  readonly id: string;
  readonly frame: Buffer;
  /** Resolved when the event arrived: a connection that opens later gets it by replay, not here. */
  readonly recipients: readonly Peer[];
  next: number;
}

/**
 * Serves this instance's role-channel connections from the bus: every event, to exactly its allowed audience.
 * Large audiences are served in chunks of SENDS_PER_TURN per event-loop turn so that one event to every admin does
 * not stall chat, documents and signaling; events wait in one FIFO queue, so each connection still receives
 * them in publish order.
 */
export class EventDelivery {
  private unsubscribe: Unsubscribe | undefined;
  private readonly queue: PendingDelivery[] = [];
  private scheduled = false;
  private queuedSends = 0;
  private relieved: Array<() => void> = [];
  private readonly drain = (): void => this.drainQueue();

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
    const recipients: Peer[] = [];
    forEachRecipient(this.index, entry, message.delivery, (peer: Peer) => {
      recipients.push(peer);
    });
    if (recipients.length === 0) return;
    this.stats.deliveries += recipients.length;
    this.queuedSends += recipients.length;
    this.queue.push({ id: message.id, frame: Buffer.from(message.frame), recipients, next: 0 });
    // small audiences go out at once when nothing is waiting ahead of them
    if (this.queue.length === 1 && recipients.length <= SENDS_PER_TURN) this.drainQueue();
    else this.schedule();
  }

  /** Resolves once the queue is short enough to take more (the publish path waits on it: backpressure). */
  whenRelieved(): Promise<void> {
    if (this.queuedSends <= MAX_QUEUED_SENDS) return Promise.resolve();
    return new Promise((resolve) => this.relieved.push(resolve));
  }

  private drainQueue(): void {
    this.scheduled = false;
    let budget = SENDS_PER_TURN;
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      const end = Math.min(head.recipients.length, head.next + budget);
      for (let i = head.next; i < end; i++) deliverLive(head.recipients[i] as Peer<RoleChannelState>, head.id, head.frame);
      budget -= end - head.next;
      this.queuedSends -= end - head.next;
      head.next = end;
      if (end === head.recipients.length) this.queue.shift();
    }
    if (this.queuedSends <= MAX_QUEUED_SENDS && this.relieved.length > 0) {
      const relieved = this.relieved;
      this.relieved = [];
      for (const resolve of relieved) resolve();
    }
    if (this.queue.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }
}
