import type { Bus, Unsubscribe } from '../../core/bus.js';
import { close } from '../../protocol/close-codes.js';
import { encodeEnvelope } from '../../protocol/envelope.js';
import type { ParticipantData } from '../../protocol/chat-messages.js';
import type { Role } from '../../protocol/roles.js';
import { messageFrame } from './chat-frames.js';
import type { ChatMember } from './chat-member.js';
import { chatTopic, type ChatBusMessage, type PresentUser } from './chat-topic.js';
import type { ChatMessage, Ticket } from './ticket-store.js';

export type RoomPhase = 'loading' | 'open' | 'closing' | 'closed';

/** What every room reports to its registry (one object for all rooms). */
export interface ChatRoomHooks {
  readonly onError: (error: unknown) => void;
  /** The room may have missed chat messages on the bus: compare with storage (see `deliverMissed`). */
  readonly catchUp: (room: ChatRoom) => void;
}

/** Ids of the chat messages delivered lately, to deliver a message missed on the bus once and only once. */
const DELIVERED_IDS_KEPT = 1000;

/**
 * One ticket's room on this instance: its members (connections), who is present (across instances, learned
 * from the bus), and delivery of the ticket's bus traffic to the members allowed to see it.
 */
export class ChatRoom {
  phase: RoomPhase = 'loading';
  /** Joins in progress (between acquiring the room and becoming a member or giving up). */
  joining = 0;
  readonly members = new Set<ChatMember>();
  /** Users with a live connection here, with their connection count. */
  private readonly localUsers = new Map<string, { role: Role; connections: number }>();
  /** Users present in the room on any instance, with the instances they are on. */
  private readonly participants = new Map<string, { role: Role; instances: Set<string> }>();
  /** Users typing through another instance, with that instance (their indicator ends if it dies). */
  private readonly remoteTyping = new Map<string, { role: Role; origin: string }>();
  /** Chat messages delivered to the members, most recent last. */
  private readonly delivered = new Set<string>();
  private readonly topic;
  private current: Ticket | undefined;
  private unsubscribe: Unsubscribe | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly ticketId: string,
    private readonly bus: Bus,
    private readonly hooks: ChatRoomHooks,
  ) {
    this.topic = chatTopic(ticketId);
  }

  /** The ticket as last registered; known once the room is open. */
  get ticket(): Ticket {
    if (!this.current) throw new Error(`room ${this.ticketId} is not open`);
    return this.current;
  }

  get origin(): string {
    return this.bus.instanceId;
  }

  /**
   * Loading, step 1: subscribe before the ticket is read, so that an update published meanwhile is not missed
   * (it is kept and wins if newer than what is read).
   */
  async subscribe(): Promise<void> {
    this.unsubscribe = await this.bus.subscribe(this.topic, (message) => this.handle(message));
  }

  /** Loading, step 2: the stored ticket (if any) is known. Returns false for an unknown ticket. */
  start(stored: Ticket | undefined): boolean {
    if (stored) this.updateTicket(stored);
    if (!this.current) return false;
    this.phase = 'open';
    this.publish({ kind: 'presence_sync', origin: this.origin });
    return true;
  }

  /** Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.doClose());
  }

  private async doClose(): Promise<void> {
    this.phase = 'closing';
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.phase = 'closed';
  }

  /** Add a connection; it receives live traffic into its backlog until `activate`. */
  add(member: ChatMember): void {
    this.members.add(member);
  }

  /** The member's history is out: count it as present, announcing the user on their first connection here. */
  activate(member: ChatMember): void {
    if (member.active || !this.members.has(member)) return;
    member.active = true;
    const user = this.localUsers.get(member.userId);
    if (user) {
      user.connections++;
      return;
    }
    this.localUsers.set(member.userId, { role: member.role, connections: 1 });
    this.publish({ kind: 'presence', origin: this.origin, event: 'joined', userId: member.userId, role: member.role });
  }

  /** Remove a connection; on the user's last one here, user_left is announced. Idempotent. */
  remove(member: ChatMember): void {
    if (!this.members.delete(member) || !member.active) return;
    member.active = false;
    const user = this.localUsers.get(member.userId);
    if (!user || --user.connections > 0) return;
    this.localUsers.delete(member.userId);
    this.publish({ kind: 'presence', origin: this.origin, event: 'left', userId: member.userId, role: member.role });
  }

  get isIdle(): boolean {
    return this.members.size === 0 && this.joining === 0;
  }

  /** Who is in the room: everyone announced on the bus, plus this instance's users (their echo may be in flight). */
  participantList(): ParticipantData[] {
    const list = new Map<string, Role>();
    for (const [userId, { role }] of this.participants) list.set(userId, role);
    for (const [userId, { role }] of this.localUsers) list.set(userId, role);
    return [...list].map(([user_id, role]) => ({ user_id, role }));
  }

  publish(message: ChatBusMessage): void {
    this.bus.publish(this.topic, message).catch(this.hooks.onError);
  }

  /**
   * This instance may have missed room traffic, or was taken for dead: announce who is here (the other rooms of the
   * ticket replace what they knew of this instance, and answer with their own snapshot) and catch up on messages.
   */
  resync(): void {
    if (this.phase !== 'open') return;
    // their end may have been lost: indicators from other instances end (a user still typing shows again on the next start)
    for (const [userId, { role }] of [...this.remoteTyping]) this.typingEnded(userId, role);
    this.publish({ kind: 'resync', origin: this.origin, users: this.localSnapshot() });
    this.hooks.catchUp(this);
  }

  /** Another instance died: its users leave (user_left where it was their last instance), its typing ends. */
  instanceDown(instanceId: string): void {
    if (this.phase !== 'open' || instanceId === this.origin) return;
    for (const [userId, { role, origin }] of this.remoteTyping) {
      if (origin === instanceId) this.typingEnded(userId, role);
    }
    for (const [userId, { role, instances }] of [...this.participants]) {
      if (instances.has(instanceId)) this.left(userId, role, instanceId);
    }
  }

  /**
   * Recent messages read from storage (oldest first): those not delivered yet go to the members that may see them
   * and did not get them in their history. Messages of the outage of a bus link arrive this way.
   */
  deliverMissed(messages: readonly ChatMessage[]): void {
    if (this.phase !== 'open') return;
    for (const message of messages) {
      if (this.delivered.has(message.id)) continue;
      this.markDelivered(message.id);
      const frame = Buffer.from(messageFrame(message));
      for (const member of this.members) {
        if (message.isInternal && !member.staff) continue;
        if (member.historyNewest !== undefined && message.id <= member.historyNewest) continue;
        member.deliver(frame, message.id, false);
      }
    }
  }

  /** Delivery of the ticket's bus traffic to this instance's members. */
  handle(message: ChatBusMessage): void {
    if (message.kind === 'ticket') return this.updateTicket(message.ticket);
    if (this.phase !== 'open') return;
    switch (message.kind) {
      case 'message':
        if (this.delivered.has(message.id)) return;
        this.markDelivered(message.id);
        return this.fanOut(Buffer.from(message.frame), message.internal, undefined, message.id, false);
      case 'typing':
        if (message.origin !== this.origin && message.role !== undefined) {
          if (message.isTyping) this.remoteTyping.set(message.userId, { role: message.role, origin: message.origin });
          else this.remoteTyping.delete(message.userId);
        }
        return this.fanOut(Buffer.from(message.frame), false, message.userId, undefined, true);
      case 'read':
        return this.fanOut(Buffer.from(message.frame), message.internal, message.userId, undefined, false);
      case 'presence':
        return message.event === 'joined'
          ? this.joined(message.userId, message.role, message.origin)
          : this.left(message.userId, message.role, message.origin);
      case 'presence_sync':
        if (message.origin !== this.origin && this.localUsers.size > 0) {
          this.publish({ kind: 'presence_snapshot', origin: this.origin, users: this.localSnapshot() });
        }
        return;
      case 'presence_snapshot':
        if (message.origin !== this.origin) this.replacePresence(message.origin, message.users);
        return;
      case 'resync':
        if (message.origin === this.origin) return;
        for (const [userId, { role, origin }] of [...this.remoteTyping]) if (origin === message.origin) this.typingEnded(userId, role);
        this.replacePresence(message.origin, message.users);
        // answered even when empty: the asker may still list users of ours who left while it was away
        this.publish({ kind: 'presence_snapshot', origin: this.origin, users: this.localSnapshot() });
        this.hooks.catchUp(this);
        return;
    }
  }

  private localSnapshot(): PresentUser[] {
    return [...this.localUsers].map(([userId, { role }]) => ({ userId, role }));
  }

  /** A complete snapshot of `origin`: its users join, those attributed to it and not listed leave. */
  private replacePresence(origin: string, users: readonly PresentUser[]): void {
    const listed = new Set(users.map((user) => user.userId));
    for (const [userId, typing] of this.remoteTyping) {
      if (typing.origin === origin && !listed.has(userId)) this.typingEnded(userId, typing.role);
    }
    for (const [userId, { role, instances }] of [...this.participants]) {
      if (instances.has(origin) && !listed.has(userId)) this.left(userId, role, origin);
    }
    for (const { userId, role } of users) this.joined(userId, role, origin);
  }

  private typingEnded(userId: string, role: Role): void {
    this.remoteTyping.delete(userId);
    this.fanOut(Buffer.from(encodeEnvelope('typing', { user_id: userId, role, is_typing: false })), false, userId, undefined, true);
  }

  private markDelivered(id: string): void {
    this.delivered.add(id);
    if (this.delivered.size > DELIVERED_IDS_KEPT) this.delivered.delete(this.delivered.values().next().value!);
  }

  private fanOut(frame: Buffer, staffOnly: boolean, exceptUser: string | undefined, id: string | undefined, droppable: boolean): void {
    for (const member of this.members) {
      if (staffOnly && !member.staff) continue;
      if (member.userId === exceptUser) continue;
      member.deliver(frame, id, droppable);
    }
  }

  private joined(userId: string, role: Role, origin: string): void {
    let entry = this.participants.get(userId);
    if (!entry) this.participants.set(userId, (entry = { role, instances: new Set() }));
    const first = entry.instances.size === 0;
    entry.instances.add(origin);
    if (first) this.fanOut(Buffer.from(encodeEnvelope('user_joined', { user_id: userId, role })), false, userId, undefined, false);
  }

  private left(userId: string, role: Role, origin: string): void {
    const entry = this.participants.get(userId);
    if (!entry || !entry.instances.delete(origin) || entry.instances.size > 0) return;
    this.participants.delete(userId);
    this.fanOut(Buffer.from(encodeEnvelope('user_left', { user_id: userId, role })), false, userId, undefined, false);
  }

  /** A ticket update: new status applies at once; a customer who is no longer the requester is let go. */
  private updateTicket(ticket: Ticket): void {
    if (this.current && ticket.updatedAt < this.current.updatedAt) return;
    this.current = ticket;
    for (const member of this.members) {
      if (!member.staff && member.userId !== ticket.requesterId) member.peer.close(close('forbidden', 'no longer the requester of this ticket'));
    }
  }
}
