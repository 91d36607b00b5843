import type { Role } from '../../protocol/roles.js';

/** One peer of a video room, as every member of the room knows it. */
export interface RoomMember {
  readonly peerId: string;
  readonly userId: string;
  readonly role: Role;
}

/**
 * Who is in one video room: what the `peers` list, the capacity check and the `unknown_peer` check read.
 *
 * Contract:
 * - `admit` adds the member unless the room already holds `capacity` members (then it returns false and changes
 *   nothing); admitting a peer id that is already a member replaces its record and always succeeds.
 * - `list` is in admission order; `get`, `list` and `size` reflect every `admit` / `remove` made before them.
 * - The memory version knows the members admitted on this instance, plus those other instances announce on the
 *   room's bus topic while it is open. A cross-instance version (shared store, counted atomically) keeps the
 *   same synchronous reads over a local replica and makes only admission consult the shared state.
 */
export interface RoomMembership {
  admit(member: RoomMember, capacity: number): boolean;
  remove(peerId: string): boolean;
  get(peerId: string): RoomMember | undefined;
  list(): readonly RoomMember[];
  readonly size: number;
}

/** Creates the membership of one room when the room opens on this instance. */
export type RoomMembershipFactory = (sessionId: string) => RoomMembership;
