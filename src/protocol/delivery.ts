import type { Role } from './roles.js';

/** Who an event is addressed to: the union of the named users, the named roles, or everyone. */
export interface Delivery {
  readonly users?: readonly string[];
  readonly roles?: readonly Role[];
  readonly all?: boolean;
}

export function hasTarget(delivery: Delivery): boolean {
  return delivery.all === true || (delivery.roles?.length ?? 0) > 0 || (delivery.users?.length ?? 0) > 0;
}
