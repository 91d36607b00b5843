import type { Role } from '../protocol/roles.js';

export interface PresenceSummary {
  readonly users: number;
  readonly connections: number;
  readonly byRole: Readonly<Record<Role, number>>;
}

export interface UserPresence {
  readonly online: boolean;
  readonly connections: number;
}

/**
 * Who is online across all instances. Calls for one user are made in connection order by this instance.
 * `connected` resolves true when this is the user's first connection anywhere, `disconnected` true when it was
 * the last one anywhere; the caller announces `user.online` / `user.offline` on those edges, so each edge is
 * announced once across the cluster.
 */
export interface PresenceTracker {
  connected(userId: string, role: Role, connectionId: string): Promise<boolean>;
  disconnected(userId: string, role: Role, connectionId: string): Promise<boolean>;
  summary(): Promise<PresenceSummary>;
  user(userId: string): Promise<UserPresence>;
  close(): Promise<void>;
}
