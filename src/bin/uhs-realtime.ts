#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { mintAccessToken } from '../adapters/auth/token-minter.js';
import { createDatabase } from '../adapters/db/database.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { resolveDevSecrets } from '../config/dev-secrets.js';
import { isRole } from '../protocol/roles.js';
import { serve } from '../main.js';

const USAGE = `usage: uhs-realtime <command> [options]

commands:
  serve [--workers N]                    run the server (default); N worker processes share the port
                                         (default: one per core when REDIS_URL is set, else 1)
  token --sub ID --role ROLE [--ttl S]   print an access token signed with the configured JWT_SECRET
  publish --type T [--data JSON] [--user ID]... [--role R]... [--all] [--url URL]
                                         publish an event through the HTTP API
  migrate                                bring the database schema up to date
  help                                   this text

Configuration comes from the environment and ./.env (see README).`;

loadDotEnv();
const [command = 'serve', ...args] = process.argv.slice(2);

try {
  switch (command) {
    case 'serve':
      await serve(serveOptions(args));
      break;
    case 'token':
      await token(args);
      break;
    case 'publish':
      await publish(args);
      break;
    case 'migrate':
      await migrate();
      break;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      break;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`);
  }
} catch (error) {
  fail(error instanceof ConfigError || error instanceof TypeError ? error.message : String((error as Error)?.stack ?? error));
}

function serveOptions(argv: string[]): { workers?: number } {
  const { values } = parseArgs({ args: argv, options: { workers: { type: 'string' } } });
  if (values.workers === undefined) return {};
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) fail('serve: --workers must be a whole number of at least 1');
  return { workers };
}

function config() {
  return resolveDevSecrets(loadConfig(process.env)).config;
}

async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { sub: { type: 'string' }, role: { type: 'string' }, ttl: { type: 'string', default: '3600' } } });
  if (!values.sub) fail('token: --sub is required');
  if (!isRole(values.role)) fail('token: --role must be one of admin staff instructor parent student partner');
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) fail('token: --ttl must be a positive number of seconds');
  const c = config();
  if (!c.jwt.secret) fail('token: JWT_SECRET is not set (tokens for RS256/ES256 keys are minted by your identity provider)');
  process.stdout.write((await mintAccessToken({ secret: c.jwt.secret, sub: values.sub, role: values.role, ttlSeconds, issuer: c.jwt.issuer, audience: c.jwt.audience })) + '\n');
}

async function publish(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      type: { type: 'string' },
      data: { type: 'string', default: '{}' },
      user: { type: 'string', multiple: true },
      role: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      url: { type: 'string' },
    },
  });
  if (!values.type) fail('publish: --type is required');
  let data: unknown;
  try {
    data = JSON.parse(values.data);
  } catch {
    fail('publish: --data must be JSON');
  }
  const target: Record<string, unknown> = {};
  if (values.user?.length) target.users = values.user;
  if (values.role?.length) target.roles = values.role;
  if (values.all) target.all = true;
  const c = config();
  const url = values.url ?? `http://127.0.0.1:${c.port}`;
  const response = await fetch(`${url.replace(/\/$/, '')}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${c.publishApiKey ?? ''}` },
    body: JSON.stringify({ type: values.type, data, ...(Object.keys(target).length ? { target } : {}) }),
  });
  const text = await response.text();
  if (!response.ok) fail(`publish: HTTP ${response.status} ${text}`);
  process.stdout.write(text + '\n');
}

async function migrate(): Promise<void> {
  const database = createDatabase(config().databaseUrl);
  try {
    const ran = await database.migrate();
    process.stdout.write(ran.length ? `applied: ${ran.join(', ')}\n` : 'schema is up to date\n');
  } finally {
    await database.close();
  }
}

function loadDotEnv(): void {
  try {
    process.loadEnvFile('.env');
  } catch {
    // no .env: the environment alone configures the server
  }
}

function fail(message: string): never {
  process.stderr.write(`uhs-realtime: ${message}\n`);
  process.exit(2);
}
