import { ROLES, type Role } from '../protocol/roles.js';
import type { Endpoint, Peer } from './peer.js';
import type { RecipientIndex } from './targeting.js';

const EMPTY: ReadonlySet<Peer> = new Set();

/**
 * Every open connection of this instance, indexed by user, with role channels also indexed by role for event
 * targeting. Two index entries per connection (memory per idle connection is a budget); removing a peer cleans
 * both. A peer is filed under the user and role it opened with.
 */
export class ConnectionRegistry implements RecipientIndex {
  private readonly byUser = new Map<string, Set<Peer>>();
  private readonly roleChannelsByRole = new Map<Role, Set<Peer>>(ROLES.map((role) => [role, new Set<Peer>()]));
  private readonly countByEndpoint: Record<Endpoint, number> = { role: 0, yjs: 0, chat: 0, video: 0 };
  private count = 0;

  add(peer: Peer): void {
    const peers = this.byUser.get(peer.user.userId);
    if (peers?.has(peer)) return;
    if (peers) peers.add(peer);
    else this.byUser.set(peer.user.userId, new Set([peer]));
    this.count++;
    this.countByEndpoint[peer.endpoint]++;
    if (peer.endpoint === 'role') this.roleChannelsByRole.get(peer.user.role)?.add(peer);
  }

  /** Returns false if the peer was not registered (so callers can make removal idempotent). */
  remove(peer: Peer): boolean {
    const peers = this.byUser.get(peer.user.userId);
    if (!peers?.delete(peer)) return false;
    if (peers.size === 0) this.byUser.delete(peer.user.userId);
    this.count--;
    this.countByEndpoint[peer.endpoint]--;
    if (peer.endpoint === 'role') this.roleChannelsByRole.get(peer.user.role)?.delete(peer);
    return true;
  }

  get size(): number {
    return this.count;
  }

  *all(): IterableIterator<Peer> {
    for (const peers of this.byUser.values()) yield* peers;
  }

  /** Every connection of a user on this instance, all endpoints. */
  connectionsOf(userId: string): ReadonlySet<Peer> {
    return this.byUser.get(userId) ?? EMPTY;
  }

  peersOfRole(role: Role): Iterable<Peer> {
    return this.roleChannelsByRole.get(role) ?? EMPTY;
  }

  /** The user's role-channel connections (targeting by user is rarer than by role: filtered, not indexed). */
  *peersOfUser(userId: string): Iterable<Peer> {
    const peers = this.byUser.get(userId);
    if (!peers) return;
    for (const peer of peers) if (peer.endpoint === 'role') yield peer;
  }

  countsByEndpoint(): Readonly<Record<Endpoint, number>> {
    return { ...this.countByEndpoint };
  }

  /** Role-channel connections per role. */
  countsByRole(): Record<Role, number> {
    const counts = {} as Record<Role, number>;
    for (const [role, peers] of this.roleChannelsByRole) counts[role] = peers.size;
    return counts;
  }
}

