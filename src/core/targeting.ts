import type { CatalogEntry } from '../protocol/catalog.js';
import { hasTarget, type Delivery } from '../protocol/delivery.js';
import { ROLES, type Role } from '../protocol/roles.js';
import type { Peer } from './peer.js';

export type { Delivery };

/** What targeting needs to know about the live connections (role channels only). */
export interface RecipientIndex {
  peersOfRole(role: Role): Iterable<Peer>;
  peersOfUser(userId: string): Iterable<Peer> | undefined;
}

/**
 * Visit every connection that should receive an event, each exactly once, applying the catalog allow-list:
 * roles named (or implied by `all`, or the type's default audience when nothing is named) that may not receive
 * the type are skipped, and so is every addressed user connection of such a role.
 */
export function forEachRecipient(index: RecipientIndex, entry: CatalogEntry, delivery: Delivery, visit: (peer: Peer) => void): void {
  const roles = audienceRoles(entry, delivery);
  if (delivery.users) {
    for (const userId of delivery.users) {
      const peers = index.peersOfUser(userId);
      if (!peers) continue;
      for (const peer of peers) {
        const role = peer.user.role;
        // a peer of a role that is also addressed as a whole is visited below, once
        if (entry.mayReceive.has(role) && !roles.includes(role)) visit(peer);
      }
    }
  }
  for (const role of roles) {
    for (const peer of index.peersOfRole(role)) visit(peer);
  }
}

/** The roles addressed as a whole, after the allow-list. */
export function audienceRoles(entry: CatalogEntry, delivery: Delivery): readonly Role[] {
  const named = delivery.all ? ROLES : delivery.roles ?? (hasTarget(delivery) ? [] : entry.defaultRoles);
  return named.filter((role, i) => entry.mayReceive.has(role) && named.indexOf(role) === i);
}

/** Whether one user (by role and id) is in an event's audience: the same rule as live delivery, for replay. */
export function isAddressedTo(entry: CatalogEntry, delivery: Delivery, userId: string, role: Role): boolean {
  if (!entry.mayReceive.has(role)) return false;
  if (audienceRoles(entry, delivery).includes(role)) return true;
  return delivery.users?.includes(userId) ?? false;
}
