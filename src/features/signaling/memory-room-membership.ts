import type { RoomMember, RoomMembership } from './room-membership.js';

/** Membership of one room held in this process (the default; see the contract in room-membership.ts). */
export class MemoryRoomMembership implements RoomMembership {
  private readonly members = new Map<string, RoomMember>();

  admit(member: RoomMember, capacity: number): boolean {
    if (!this.members.has(member.peerId) && this.members.size >= capacity) return false;
    this.members.set(member.peerId, member);
    return true;
  }

  remove(peerId: string): boolean {
    return this.members.delete(peerId);
  }

  get(peerId: string): RoomMember | undefined {
    return this.members.get(peerId);
  }

  list(): readonly RoomMember[] {
    return [...this.members.values()];
  }

  get size(): number {
    return this.members.size;
  }
}
