import { ROLES, type Role } from '../protocol/roles.js';
import type { Endpoint, Peer } from './peer.js';
import type { RecipientIndex } from './targeting.js';

const EMPTY: ReadonlySet<Peer> = new Set();

/**
 * Every open connection of this instance, indexed by id and by user, with role channels also indexed by role
 * for event targeting. One entry per key; removing a peer cleans every index.
 */
export class ConnectionRegistry implements RecipientIndex {
  private readonly byId = new Map<string, Peer>();
  private readonly byUser = new Map<string, Set<Peer>>();
  private readonly roleChannelsByUser = new Map<string, Set<Peer>>();
  private readonly roleChannelsByRole = new Map<Role, Set<Peer>>(ROLES.map((role) => [role, new Set<Peer>()]));
  private readonly countByEndpoint: Record<Endpoint, number> = { role: 0, yjs: 0, chat: 0, video: 0 };

  add(peer: Peer): void {
    if (this.byId.has(peer.id)) return;
    this.byId.set(peer.id, peer);
    addTo(this.byUser, peer.user.userId, peer);
    this.countByEndpoint[peer.endpoint]++;
    if (peer.endpoint === 'role') {
      addTo(this.roleChannelsByUser, peer.user.userId, peer);
      this.roleChannelsByRole.get(peer.user.role)?.add(peer);
    }
  }

  /** Returns false if the peer was not registered (so callers can make removal idempotent). */
  remove(peer: Peer): boolean {
    if (this.byId.get(peer.id) !== peer) return false;
    this.byId.delete(peer.id);
    removeFrom(this.byUser, peer.user.userId, peer);
    this.countByEndpoint[peer.endpoint]--;
    if (peer.endpoint === 'role') {
      removeFrom(this.roleChannelsByUser, peer.user.userId, peer);
      this.roleChannelsByRole.get(peer.user.role)?.delete(peer);
    }
    return true;
  }

  get size(): number {
    return this.byId.size;
  }

  all(): IterableIterator<Peer> {
    return this.byId.values();
  }

  /** Every connection of a user on this instance, all endpoints. */
  connectionsOf(userId: string): ReadonlySet<Peer> {
    return this.byUser.get(userId) ?? EMPTY;
  }

  peersOfRole(role: Role): Iterable<Peer> {
    return this.roleChannelsByRole.get(role) ?? EMPTY;
  }

  peersOfUser(userId: string): Iterable<Peer> | undefined {
    return this.roleChannelsByUser.get(userId);
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

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
