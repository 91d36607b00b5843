import type { PresenceSummary, PresenceTracker, UserPresence } from '../../core/presence.js';
import { ROLES, type Role } from '../../protocol/roles.js';

interface UserEntry {
  readonly role: Role;
  connections: number;
}

/** Presence of one instance, kept in memory. A user's role is the role of their first open connection. */
export class MemoryPresence implements PresenceTracker {
  private readonly users = new Map<string, UserEntry>();
  private connectionCount = 0;

  async connected(userId: string, role: Role): Promise<boolean> {
    this.connectionCount++;
    const entry = this.users.get(userId);
    if (entry) {
      entry.connections++;
      return false;
    }
    this.users.set(userId, { role, connections: 1 });
    return true;
  }

  async disconnected(userId: string): Promise<boolean> {
    const entry = this.users.get(userId);
    if (!entry) return false;
    this.connectionCount--;
    entry.connections--;
    if (entry.connections > 0) return false;
    this.users.delete(userId);
    return true;
  }

  async summary(): Promise<PresenceSummary> {
    const byRole = Object.fromEntries(ROLES.map((role) => [role, 0])) as Record<Role, number>;
    for (const entry of this.users.values()) byRole[entry.role]++;
    return { users: this.users.size, connections: this.connectionCount, byRole };
  }

  async user(userId: string): Promise<UserPresence> {
    const connections = this.users.get(userId)?.connections ?? 0;
    return { online: connections > 0, connections };
  }

  async close(): Promise<void> {
    this.users.clear();
    this.connectionCount = 0;
  }
}
