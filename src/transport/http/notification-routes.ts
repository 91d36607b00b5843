import type { FastifyPluginAsync } from 'fastify';
import type { PresenceTracker } from '../../core/presence.js';
import type { UserDisconnector } from '../../core/user-disconnector.js';
import type { PublishService } from '../../features/notifications/publish-service.js';
import { parsePublishRequest } from '../../protocol/publish-request.js';
import { requireApiKey } from './api-key.js';
import { sendError } from './errors.js';

export interface NotificationRoutesOptions {
  readonly apiKey: string;
  readonly publisher: PublishService;
  readonly presence: PresenceTracker;
  readonly disconnector: UserDisconnector;
}

/** The service API of role channels: publish, presence, disconnect (SPEC §4). */
export function notificationRoutes(options: NotificationRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    app.addHook('preHandler', requireApiKey(options.apiKey));

    app.post('/api/v1/events', async (request, reply) => {
      const parsed = parsePublishRequest(request.body);
      if (!parsed.ok) return sendError(reply, 400, parsed.error.code, parsed.error.message);
      const id = await options.publisher.publish(parsed.value);
      return reply.code(202).send({ id });
    });

    app.get('/api/v1/presence', async () => {
      const summary = await options.presence.summary();
      return { users: summary.users, connections: summary.connections, by_role: summary.byRole };
    });

    app.get<{ Params: { userId: string } }>('/api/v1/presence/users/:userId', async (request) => {
      return options.presence.user(request.params.userId);
    });

    app.post<{ Params: { userId: string } }>('/api/v1/users/:userId/disconnect', async (request, reply) => {
      await options.disconnector.disconnect(request.params.userId);
      return reply.code(202).send({ user_id: request.params.userId });
    });
  };
}
