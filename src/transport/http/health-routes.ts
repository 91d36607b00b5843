import type { FastifyPluginAsync } from 'fastify';
import type { MetricsRegistry } from '../../core/metrics.js';

export interface HealthRoutesOptions {
  readonly metrics: MetricsRegistry;
  /** Named readiness checks (database, redis…); all must pass for 200. */
  readonly readiness: Readonly<Record<string, () => Promise<boolean> | boolean>>;
}

/** `/healthz` (the process runs), `/readyz` (its dependencies answer), `/metrics` (Prometheus). No auth. */
export function healthRoutes(options: HealthRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (_request, reply) => {
      const entries = await Promise.all(
        Object.entries(options.readiness).map(async ([name, check]) => [name, await safe(check)] as const),
      );
      const checks = Object.fromEntries(entries.map(([name, up]) => [name, up ? 'up' : 'down']));
      const ready = entries.every(([, up]) => up);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    });
    app.get('/metrics', async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.text()));
  };
}

async function safe(check: () => Promise<boolean> | boolean): Promise<boolean> {
  try {
    return await check();
  } catch {
    return false;
  }
}
