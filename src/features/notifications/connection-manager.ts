import type { PresenceSummary, PresenceTracker, UserPresence } from '../../core/presence.js';
import type { UserDisconnector } from '../../core/user-disconnector.js';
import type { Role } from '../../protocol/roles.js';
import type { PublishService } from './publish-service.js';

/**
 * The library face of role channels for a service that embeds the server (the seed's ConnectionManager).
 * Everything goes through the publish service, so the catalog allow-list applies and, with Redis, every
 * instance's connections are reached. Each call resolves with the event id.
 */
export class ConnectionManager {
  constructor(
    private readonly publisher: PublishService,
    private readonly presenceTracker: PresenceTracker,
    private readonly disconnector: UserDisconnector,
  ) {}

  sendToUser(userId: string, type: string, data: Record<string, unknown> = {}): Promise<string> {
    return this.publisher.publishEvent(type, data, { users: [userId] });
  }

  broadcastToRole(role: Role, type: string, data: Record<string, unknown> = {}): Promise<string> {
    return this.publisher.publishEvent(type, data, { roles: [role] });
  }

  broadcastToAdmins(type: string, data: Record<string, unknown> = {}): Promise<string> {
    return this.broadcastToRole('admin', type, data);
  }

  broadcastAll(type: string, data: Record<string, unknown> = {}): Promise<string> {
    return this.publisher.publishEvent(type, data, { all: true });
  }

  disconnectUser(userId: string): Promise<void> {
    return this.disconnector.disconnect(userId);
  }

  presence(): Promise<PresenceSummary> {
    return this.presenceTracker.summary();
  }

  userPresence(userId: string): Promise<UserPresence> {
    return this.presenceTracker.user(userId);
  }
}
