import type { Admission, Claim, HeldMember, HeldPeer, Release, ResyncReport, RoomMember, RoomMembership, RoomSnapshot } from './room-membership.js';

/**
 * The membership of every video room held in this process (the default without Redis; contract in
 * room-membership.ts). One instance is the whole server, so it is always available and nobody is ever reaped.
 */
export class MemoryRoomMembership implements RoomMembership {
  private readonly rooms = new Map<string, Map<string, HeldMember>>();
  private order = 0;

  constructor(readonly instanceId: string) {}

  async start(): Promise<void> {
    // nothing to watch: no other instance, no outage
  }

  async admit(sessionId: string, member: RoomMember, capacity: number): Promise<Admission> {
    const room = this.room(sessionId);
    if (room.size >= capacity) return { status: 'full' };
    const held: HeldMember = { ...member, instance: this.instanceId, generation: 1, order: ++this.order };
    room.set(held.peerId, held);
    return { status: 'admitted', member: held, snapshot: this.snapshotOf(room) };
  }

  async claim(sessionId: string, peerId: string, userId: string): Promise<Claim> {
    const room = this.rooms.get(sessionId);
    const current = room?.get(peerId);
    if (!room || !current) return { status: 'unknown' };
    if (current.userId !== userId) return { status: 'other_user' };
    const held: HeldMember = { ...current, instance: this.instanceId, generation: current.generation + 1 };
    room.set(peerId, held);
    return { status: 'claimed', member: held, snapshot: this.snapshotOf(room) };
  }

  async release(sessionId: string, member: HeldMember): Promise<Release> {
    const room = this.rooms.get(sessionId);
    const current = room?.get(member.peerId);
    if (!room || !current) return 'gone';
    if (current.instance !== this.instanceId || current.generation !== member.generation) return 'moved';
    room.delete(member.peerId);
    if (room.size === 0) this.rooms.delete(sessionId);
    return 'released';
  }

  async snapshot(sessionId: string): Promise<RoomSnapshot> {
    return this.snapshotOf(this.rooms.get(sessionId));
  }

  async end(sessionId: string): Promise<void> {
    this.rooms.delete(sessionId);
  }

  async resync(_held: readonly HeldPeer[]): Promise<ResyncReport> {
    return { lost: [], removed: [] };
  }

  async close(): Promise<void> {
    this.rooms.clear();
  }

  private room(sessionId: string): Map<string, HeldMember> {
    let room = this.rooms.get(sessionId);
    if (!room) this.rooms.set(sessionId, (room = new Map()));
    return room;
  }

  private snapshotOf(room: ReadonlyMap<string, HeldMember> | undefined): RoomSnapshot {
    return { members: room ? [...room.values()] : [], liveInstances: new Set([this.instanceId]) };
  }
}
