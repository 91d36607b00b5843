import type { Role } from '../../protocol/roles.js';

/** One peer of a video room, as every member of the room knows it. */
export interface RoomMember {
  readonly peerId: string;
  readonly userId: string;
  readonly role: Role;
}

/** A member as the membership records it: where its socket lives, and how often it moved. */
export interface HeldMember extends RoomMember {
  /** The instance holding the peer's socket, or its rejoin grace. */
  readonly instance: string;
  /** 1 on admission, +1 on every claim (rejoin): the highest generation is where the peer is now. */
  readonly generation: number;
  /** Admission order within the room (the `peers` list is sorted by it). */
  readonly order: number;
}

/** The members of one room across all instances, and the instances that are alive. */
export interface RoomSnapshot {
  readonly members: readonly HeldMember[];
  /** Instances that heartbeat; a member of another instance is only trusted gone when its instance is live. */
  readonly liveInstances: ReadonlySet<string>;
}

export type Admission =
  | { readonly status: 'admitted'; readonly member: HeldMember; readonly snapshot: RoomSnapshot }
  | { readonly status: 'full' }
  | { readonly status: 'unavailable' };

export type Claim =
  | { readonly status: 'claimed'; readonly member: HeldMember; readonly snapshot: RoomSnapshot }
  /** No such member (never was, its grace ended, or the session ended): the joiner gets a fresh id. */
  | { readonly status: 'unknown' }
  | { readonly status: 'other_user' }
  | { readonly status: 'unavailable' };

/**
 * `released`: it was this instance's and is gone now. `moved`: another instance (or a later claim) holds it now,
 * so its departure is not announced. `gone`: it was not recorded (ended, reaped, or the store lost it).
 */
export type Release = 'released' | 'moved' | 'gone' | 'unavailable';

export interface HeldPeer {
  readonly sessionId: string;
  readonly member: HeldMember;
}

export interface Departure {
  readonly sessionId: string;
  readonly peerId: string;
}

export interface ResyncReport {
  /** Members this instance holds that were claimed elsewhere meanwhile: drop them quietly. */
  readonly lost: readonly HeldPeer[];
  /** Members recorded for this instance that it no longer holds (they left during an outage): announce them gone. */
  readonly removed: readonly Departure[];
}

export interface MembershipEvents {
  /** Members of a dead instance, removed by this instance (and by no other): announce their departure once. */
  reaped(departures: readonly Departure[]): void;
  /** The shared state may have lost this instance's members (store back after an outage, instance reaped): resync. */
  resyncNeeded(): void;
}

/**
 * Who is in which video room, across every instance: the source of the `peers` list, of the capacity check and of
 * rejoins on another instance. Reads on the hot path (relay, `unknown_peer`) use the room's local view
 * (room-view.ts), which snapshots returned here keep honest; this seam is asked on admission, rejoin, departure and
 * reconciliation.
 *
 * Why it is asynchronous (it used to be one synchronous object per room): an atomic admission across instances
 * and a rejoin on another instance need a round trip to the shared store, and the holding instance of each member
 * must be known to route signals and to reap a dead instance's members. The synchronous reads now live in the
 * feature's view, the same code for one instance and many; the memory version is the whole truth for one process.
 *
 * Contract:
 * - `admit` adds a member with a fresh peer id unless the room already holds `capacity` members, atomically across
 *   instances (members in their rejoin grace count). The result carries the room as it is right after.
 * - `claim` moves an existing member of the same user to this instance (generation + 1) wherever it was held;
 *   another user's member is `other_user`, a missing one `unknown`.
 * - `release` removes the member only if this instance still holds it at that generation.
 * - `end` forgets the whole room (the session ended).
 * - Failures never throw: `unavailable` (or undefined) means the shared state could not be reached; the caller
 *   falls back to what it knows locally and `resync` writes this instance's truth back later
 *   (`MembershipEvents.resyncNeeded` says when).
 * - A member whose instance stops heartbeating is removed by a live instance after a bounded time (at least the
 *   rejoin grace, so its peers may rejoin elsewhere first), reported once through `MembershipEvents.reaped`.
 * - `close` (shutdown) stops heartbeating but leaves this instance's members in place for the rejoin grace: its
 *   peers reconnect to another instance and claim their ids; the ones that do not are reaped.
 */
export interface RoomMembership {
  readonly instanceId: string;
  /** Start watching; resolves once the shared state is reachable, or after a short wait (it catches up later). */
  start(events: MembershipEvents): Promise<void>;
  admit(sessionId: string, member: RoomMember, capacity: number): Promise<Admission>;
  claim(sessionId: string, peerId: string, userId: string): Promise<Claim>;
  release(sessionId: string, member: HeldMember): Promise<Release>;
  snapshot(sessionId: string): Promise<RoomSnapshot | undefined>;
  end(sessionId: string): Promise<void>;
  /** Make the shared state match what this instance holds; undefined when it still cannot be reached. */
  resync(held: readonly HeldPeer[]): Promise<ResyncReport | undefined>;
  close(): Promise<void>;
}
