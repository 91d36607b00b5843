import type { HeldMember, RoomSnapshot } from './room-membership.js';

/** How long a departure is remembered, so that a snapshot read before it cannot bring the peer back. */
const DEPARTED_MEMORY_MS = 60_000;

interface Entry {
  member: HeldMember;
  /** Local time this instance last learned the member was present. */
  confirmedAt: number;
  /** Local time a snapshot first lacked it while its instance was not live. */
  orphanSince: number | undefined;
}

export interface RoomViewOptions {
  readonly instanceId: string;
  /** A member missing from snapshots whose instance is not live is dropped after this long. */
  readonly orphanMs: number;
  readonly now?: () => number;
}

export interface MergeResult {
  readonly added: readonly HeldMember[];
  readonly removed: readonly string[];
  /** Members held here that a later claim moved to another instance. */
  readonly movedAway: readonly HeldMember[];
}

/**
 * One instance's synchronous picture of a room across all instances: what `peers`, relay and `unknown_peer` read.
 * It is fed by the room's bus messages (exact and immediate) and corrected by snapshots of the shared membership
 * (which heal messages lost while Redis was away). Peer ids are never reused, so a departure is final.
 *
 * A snapshot is causally after everything this instance knew when it asked for it: a member learned before the
 * request and missing from the answer has left — if its instance is live. A missing member of an instance that is
 * not live (dead and reaped, or not yet written back after Redis restarted empty) is dropped only after `orphanMs`.
 * Likewise a member whose departure was heard before the request and who is in the answer was written back since
 * (its instance had been taken for dead); one whose departure was heard after the request is not brought back.
 */
export class RoomView {
  private readonly entries = new Map<string, Entry>();
  private readonly departed = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: RoomViewOptions) {
    this.now = options.now ?? Date.now;
  }

  get(peerId: string): HeldMember | undefined {
    return this.entries.get(peerId)?.member;
  }

  /** Members in admission order. */
  list(): HeldMember[] {
    return [...this.entries.values()].map((e) => e.member).sort((a, b) => a.order - b.order);
  }

  get size(): number {
    return this.entries.size;
  }

  ids(): IterableIterator<string> {
    return this.entries.keys();
  }

  /** An announcement (join, rejoin, write-back): applied unless an entry of a later generation is known. */
  apply(member: HeldMember): boolean {
    const entry = this.entries.get(member.peerId);
    if (entry && entry.member.generation > member.generation) return false;
    this.departed.delete(member.peerId);
    this.entries.set(member.peerId, { member, confirmedAt: this.now(), orphanSince: undefined });
    return true;
  }

  /** A departure; false if the member was not in the view. */
  remove(peerId: string): boolean {
    const now = this.now();
    this.departed.set(peerId, now);
    for (const [id, at] of this.departed) {
      if (now - at < DEPARTED_MEMORY_MS) break;
      this.departed.delete(id);
    }
    return this.entries.delete(peerId);
  }

  /**
   * Correct the view with a snapshot asked for at `requestedAt`. `held` answers for peers whose socket (or grace)
   * is on this instance: they are local truth, never added or removed here.
   */
  merge(snapshot: RoomSnapshot, requestedAt: number, held: (peerId: string) => HeldMember | undefined): MergeResult {
    const now = this.now();
    const added: HeldMember[] = [];
    const removed: string[] = [];
    const movedAway: HeldMember[] = [];
    const present = new Set<string>();
    for (const member of snapshot.members) {
      present.add(member.peerId);
      const local = held(member.peerId);
      if (local) {
        if (member.instance !== this.options.instanceId && member.generation > local.generation) movedAway.push(member);
        continue;
      }
      // this instance's own records without a local peer are stale (a release failed); resync removes them
      if (member.instance === this.options.instanceId) continue;
      // a departure heard after asking: the snapshot may predate it. Heard before: the member was written back since
      const departedAt = this.departed.get(member.peerId);
      if (departedAt !== undefined && departedAt >= requestedAt) continue;
      this.departed.delete(member.peerId);
      const entry = this.entries.get(member.peerId);
      if (!entry) {
        this.entries.set(member.peerId, { member, confirmedAt: now, orphanSince: undefined });
        added.push(member);
      } else if (member.generation >= entry.member.generation) {
        entry.member = member;
        entry.confirmedAt = now;
        entry.orphanSince = undefined;
      }
    }
    for (const [peerId, entry] of this.entries) {
      if (present.has(peerId) || held(peerId) || entry.confirmedAt >= requestedAt) continue;
      if (!snapshot.liveInstances.has(entry.member.instance)) {
        entry.orphanSince ??= now;
        if (now - entry.orphanSince < this.options.orphanMs) continue;
      }
      this.remove(peerId);
      removed.push(peerId);
    }
    return { added, removed, movedAway };
  }
}
