import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from '../../shared/logger.js';
import { redactUrl } from '../../shared/logger.js';
import { sendError } from './errors.js';

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly plugins: readonly FastifyPluginAsync[];
}

/** The Fastify app: JSON API errors in one shape, request logs without credentials. */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // per-request logs would carry URLs and headers: Fastify logs warnings and errors only, and we log our own
    loggerInstance: options.logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    // ids in paths (documents, tickets, sessions) may be 128 characters
    routerOptions: { maxParamLength: 256 },
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413) return sendError(reply, 413, 'payload_too_large');
    if (status >= 400 && status < 500) return sendError(reply, status, 'invalid_body', error.message);
    request.log.error({ err: error, url: redactUrl(request.url) }, 'request failed');
    return sendError(reply, 500, 'internal');
  });
  app.setNotFoundHandler((_request, reply) => sendError(reply, 404, 'not_found'));
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 500) request.log.warn({ url: redactUrl(request.url), status: reply.statusCode }, 'request answered with error');
  });
  for (const plugin of options.plugins) await app.register(plugin);
  return app;
}
