import { z } from 'zod';
import type { ConnectionLimits } from '../core/limits.js';

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));
const commaList = z
  .string()
  .optional()
  .transform((v) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0));
const urlString = (protocols: readonly string[]) =>
  optionalString.refine(
    (v) => v === undefined || (URL.canParse(v) && protocols.includes(new URL(v).protocol)),
    { message: `must be a URL (${protocols.join(' ')})` },
  );

/** Every environment variable the server reads, with its default. Names are the contract (SPEC §1, §3). */
const envSchema = z.object({
  NODE_ENV: optionalString,
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Where the embedded default keeps its SQLite file and generated development secrets. */
  DATA_DIR: z.string().min(1).default('./data'),
  JWT_SECRET: optionalString,
  JWT_PUBLIC_KEY: optionalString,
  JWT_JWKS_URL: urlString(['http:', 'https:']),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  PUBLISH_API_KEY: optionalString,
  DATABASE_URL: optionalString.refine(
    (v) => v === undefined || /^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v),
    { message: 'must be sqlite:PATH, sqlite::memory: or postgres://…' },
  ),
  REDIS_URL: urlString(['redis:', 'rediss:']),
  /** Prefix of every Redis key and channel this server uses (not the seed's `ws:admin:broadcast`). */
  REDIS_KEY_PREFIX: z.string().default('uhs:'),
  /** How often each instance proves it is alive in Redis presence; silent for 3 periods → its users go offline. */
  PRESENCE_HEARTBEAT_SECONDS: seconds(5),
  /** How often each instance sends itself a canary through Redis (readiness). */
  REDIS_CANARY_INTERVAL_SECONDS: seconds(2),
  ALLOWED_ORIGINS: commaList,
  SAVE_INTERVAL_SECONDS: seconds(5),
  HEARTBEAT_INTERVAL_SECONDS: seconds(30),
  HEALTH_INTERVAL_SECONDS: seconds(15),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EVENT_RETENTION_HOURS: seconds(72),
  MAX_MESSAGE_BYTES: positiveInt(64 * 1024),
  YJS_MAX_MESSAGE_BYTES: positiveInt(16 * 1024 * 1024),
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(20),
  MAX_CONNECTIONS_PER_USER: positiveInt(20),
  SEND_BUFFER_LIMIT_BYTES: positiveInt(8 * 1024 * 1024),
  YJS_AUTH_URL: urlString(['http:', 'https:']),
  AI_SUGGESTION_URL: urlString(['http:', 'https:']),
  AI_SUGGESTION_MODEL: z.string().default('gpt-4o-mini'),
  AI_SUGGESTION_API_KEY: optionalString,
  AI_SUGGESTION_TIMEOUT_SECONDS: seconds(10),
  VIDEO_REJOIN_GRACE_SECONDS: z.coerce.number().min(0).default(10),
  VIDEO_MAX_PARTICIPANTS: positiveInt(50),
  STUN_URLS: commaList,
  TURN_URLS: commaList,
  TURN_SECRET: optionalString,
  TURN_TTL_SECONDS: positiveInt(3600),
});

type Env = z.infer<typeof envSchema>;

export interface Config {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly jwt: {
    /** HS256 secret; undefined only before development secrets are resolved, or when a public key is used. */
    readonly secret: string | undefined;
    readonly publicKeyPem: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly issuer: string | undefined;
    readonly audience: string | undefined;
  };
  readonly publishApiKey: string | undefined;
  readonly databaseUrl: string;
  readonly redis: {
    readonly url: string | undefined;
    readonly keyPrefix: string;
    readonly presenceHeartbeatMs: number;
    readonly canaryIntervalMs: number;
  };
  readonly allowedOrigins: readonly string[];
  readonly saveIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly healthIntervalMs: number;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly eventRetentionMs: number;
  readonly limits: ConnectionLimits;
  readonly yjsAuthUrl: string | undefined;
  readonly ai: {
    readonly url: string | undefined;
    readonly model: string;
    readonly apiKey: string | undefined;
    readonly timeoutMs: number;
  };
  readonly video: {
    readonly rejoinGraceMs: number;
    readonly maxParticipants: number;
    readonly stunUrls: readonly string[];
    readonly turnUrls: readonly string[];
    readonly turnSecret: string | undefined;
    readonly turnTtlSeconds: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Read and validate the environment. Throws ConfigError naming the first bad variable. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const value = env[variable];
    const shown = value === undefined || isSecretVariable(variable) ? '' : ` (got "${value.slice(0, 60)}")`;
    throw new ConfigError(variable, `${issue?.message ?? 'is invalid'}${shown}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.JWT_SECRET && !e.JWT_PUBLIC_KEY && !e.JWT_JWKS_URL) {
    throw new ConfigError('JWT_SECRET', 'is required when NODE_ENV=production (or set JWT_PUBLIC_KEY / JWT_JWKS_URL)');
  }
  if (production && !e.PUBLISH_API_KEY) {
    throw new ConfigError('PUBLISH_API_KEY', 'is required when NODE_ENV=production');
  }
  if (e.JWT_SECRET !== undefined && e.JWT_SECRET.length < 16) {
    throw new ConfigError('JWT_SECRET', 'must be at least 16 characters');
  }
  if (e.TURN_URLS.length > 0 && !e.TURN_SECRET) {
    throw new ConfigError('TURN_SECRET', 'is required when TURN_URLS is set');
  }
  return Object.freeze({
    production,
    port: e.PORT,
    host: e.HOST,
    dataDir: e.DATA_DIR,
    jwt: {
      secret: e.JWT_SECRET,
      publicKeyPem: e.JWT_PUBLIC_KEY?.replace(/\\n/g, '\n'),
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    },
    publishApiKey: e.PUBLISH_API_KEY,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${e.DATA_DIR.replace(/\/$/, '')}/realtime.db`,
    redis: {
      url: e.REDIS_URL,
      keyPrefix: e.REDIS_KEY_PREFIX,
      presenceHeartbeatMs: e.PRESENCE_HEARTBEAT_SECONDS * 1000,
      canaryIntervalMs: e.REDIS_CANARY_INTERVAL_SECONDS * 1000,
    },
    allowedOrigins: e.ALLOWED_ORIGINS,
    saveIntervalMs: e.SAVE_INTERVAL_SECONDS * 1000,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_SECONDS * 1000,
    healthIntervalMs: e.HEALTH_INTERVAL_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
    eventRetentionMs: e.EVENT_RETENTION_HOURS * 3600 * 1000,
    limits: {
      maxMessageBytes: e.MAX_MESSAGE_BYTES,
      yjsMaxMessageBytes: e.YJS_MAX_MESSAGE_BYTES,
      ratePerSecond: e.RATE_LIMIT_PER_SECOND,
      maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
      sendBufferLimitBytes: e.SEND_BUFFER_LIMIT_BYTES,
    },
    yjsAuthUrl: e.YJS_AUTH_URL,
    ai: {
      url: e.AI_SUGGESTION_URL,
      model: e.AI_SUGGESTION_MODEL,
      apiKey: e.AI_SUGGESTION_API_KEY,
      timeoutMs: e.AI_SUGGESTION_TIMEOUT_SECONDS * 1000,
    },
    video: {
      rejoinGraceMs: e.VIDEO_REJOIN_GRACE_SECONDS * 1000,
      maxParticipants: e.VIDEO_MAX_PARTICIPANTS,
      stunUrls: e.STUN_URLS,
      turnUrls: e.TURN_URLS,
      turnSecret: e.TURN_SECRET,
      turnTtlSeconds: e.TURN_TTL_SECONDS,
    },
  });
}

function isSecretVariable(name: string): boolean {
  return /SECRET|KEY|TOKEN|PASSWORD/.test(name) || name === 'DATABASE_URL' || name === 'REDIS_URL';
}
