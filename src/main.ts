import { availableParallelism } from 'node:os';
import { mintAccessToken } from './adapters/auth/token-minter.js';
import { createDatabase } from './adapters/db/database.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { resolveDevSecrets } from './config/dev-secrets.js';
import { ROLES } from './protocol/roles.js';
import { createLogger } from './shared/logger.js';
import { createServer } from './server.js';
import { isWorker, runWorkerPool } from './workers.js';

const SHUTDOWN_DEADLINE_MS = 10_000;

export interface ServeOptions {
  /** Worker processes; default: one per core when REDIS_URL is set, else 1. */
  readonly workers?: number | undefined;
}

/** `uhs-realtime serve`: the composition root's process side — config, signals, exit codes. */
export async function serve(options: ServeOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let resolved;
  try {
    resolved = resolveDevSecrets(loadConfig(env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`uhs-realtime: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const { config, generated } = resolved;
  const logger = createLogger({ level: config.logLevel });
  const workers = options.workers ?? (config.redis.url ? availableParallelism() : 1);
  if (!isWorker() && workers > 1) {
    if (!config.redis.url) {
      process.stderr.write('uhs-realtime: --workers above 1 needs REDIS_URL (workers share fan-out, presence and rooms over Redis)\n');
      process.exit(2);
    }
    // migrate once here, so that workers starting together do not race on the schema
    const database = createDatabase(config.databaseUrl);
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
    runWorkerPool({ count: workers, logger, shutdownDeadlineMs: SHUTDOWN_DEADLINE_MS + 2000 });
    if (!config.production) await printDevelopmentHelp(config, config.port, generated.publishApiKey);
    return;
  }
  if (generated.jwtSecret) logger.warn(`JWT_SECRET not set: using a development secret kept in ${config.dataDir}/dev-secrets.json`);

  const server = await createServer({ config, logger });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    server.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const address = await server.listen();
  logger.info({ host: address.host, port: address.port, database: config.databaseUrl.split(':')[0] }, 'listening');
  if (!config.production && !isWorker()) await printDevelopmentHelp(config, address.port, generated.publishApiKey);
}

async function printDevelopmentHelp(config: Config, port: number, keyGenerated: boolean): Promise<void> {
  const base = `ws://localhost:${port}`;
  const lines = ['', 'uhs-realtime is running (development). Connect with, for example:'];
  if (config.jwt.secret) {
    for (const role of ROLES) {
      const token = await mintAccessToken({ secret: config.jwt.secret, sub: `demo-${role}`, role, ttlSeconds: 24 * 3600, issuer: config.jwt.issuer, audience: config.jwt.audience });
      lines.push(`  ${role.padEnd(10)} ${base}/ws/${role}/${token}`);
    }
  }
  if (keyGenerated) lines.push('', `Publish API key (development, kept in ${config.dataDir}/dev-secrets.json): ${config.publishApiKey}`);
  lines.push(
    '',
    `Publish an event:  curl -X POST http://localhost:${port}/api/v1/events -H "Authorization: Bearer $PUBLISH_API_KEY" \\`,
    `                     -H 'Content-Type: application/json' -d '{"type":"system.alert","data":{"message":"hello"}}'`,
    `Or:                npx uhs-realtime publish --type system.alert --data '{"message":"hello"}'`,
    '',
  );
  process.stdout.write(lines.join('\n') + '\n');
}
