import type { Peer } from '../../core/peer.js';
import type { PresenceTracker } from '../../core/presence.js';
import type { Role } from '../../protocol/roles.js';
import type { Logger } from '../../shared/logger.js';
import type { PublishService } from './publish-service.js';

/**
 * Keeps presence in step with connections of every endpoint and announces `user.online` / `user.offline` on a
 * user's first and last connection (across instances: the tracker decides the edges).
 * Calls for one user are chained so that an open and a close of the same user are seen in order.
 */
export class PresenceAnnouncer {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly tracker: PresenceTracker,
    private readonly publisher: PublishService,
    private readonly logger: Logger,
  ) {}

  opened(peer: Peer): void {
    const { userId, role } = peer.user;
    this.enqueue(userId, async () => {
      if (await this.tracker.connected(userId, role, peer.id)) {
        await this.publisher.publishEvent('user.online', { user_id: userId, role });
      }
    });
  }

  closed(peer: Peer): void {
    const { userId, role } = peer.user;
    this.enqueue(userId, async () => {
      if (await this.tracker.disconnected(userId, role, peer.id)) {
        await this.publisher.publishEvent('user.offline', { user_id: userId, role });
      }
    });
  }

  /**
   * Announce users going offline or online without a local close or open: their instance was taken for dead and
   * reaped (offline), or it was only frozen and woke up (online again).
   */
  announce(edge: 'user.online' | 'user.offline', users: ReadonlyArray<{ readonly userId: string; readonly role: Role }>): void {
    for (const { userId, role } of users) {
      this.enqueue(userId, async () => {
        await this.publisher.publishEvent(edge, { user_id: userId, role });
      });
    }
  }

  /** Resolves when every queued presence change has been applied (shutdown, tests). */
  async settle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }

  private enqueue(userId: string, step: () => Promise<void>): void {
    const previous = this.chains.get(userId) ?? Promise.resolve();
    const next = previous
      .then(step)
      .catch((error: unknown) => this.logger.warn({ err: error }, 'presence update failed'))
      .finally(() => {
        if (this.chains.get(userId) === next) this.chains.delete(userId);
      });
    this.chains.set(userId, next);
  }
}
