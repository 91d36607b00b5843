import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';

interface DevSecrets {
  readonly jwtSecret: string;
  readonly publishApiKey: string;
}

export interface ResolvedSecrets {
  readonly config: Config;
  /** Which secrets were generated for development (so the caller can warn and print them). */
  readonly generated: { readonly jwtSecret: boolean; readonly publishApiKey: boolean };
}

/**
 * Outside production, fill a missing JWT secret and publish key from `DATA_DIR/dev-secrets.json`,
 * creating it on first start, so that restarts (and the CLI) keep working with the same tokens.
 */
export function resolveDevSecrets(config: Config): ResolvedSecrets {
  const needsJwt = !config.jwt.secret && !config.jwt.publicKeyPem && !config.jwt.jwksUrl;
  const needsKey = !config.publishApiKey;
  if (config.production || (!needsJwt && !needsKey)) {
    return { config, generated: { jwtSecret: false, publishApiKey: false } };
  }
  const secrets = readOrCreateDevSecrets(config.dataDir);
  return {
    config: Object.freeze({
      ...config,
      jwt: needsJwt ? { ...config.jwt, secret: secrets.jwtSecret } : config.jwt,
      publishApiKey: needsKey ? secrets.publishApiKey : config.publishApiKey,
    }),
    generated: { jwtSecret: needsJwt, publishApiKey: needsKey },
  };
}

export function readOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, 'dev-secrets.json');
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    if (typeof parsed.jwtSecret === 'string' && typeof parsed.publishApiKey === 'string') {
      return { jwtSecret: parsed.jwtSecret, publishApiKey: parsed.publishApiKey };
    }
  } catch {
    // missing or unreadable: make new ones below
  }
  const secrets: DevSecrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    publishApiKey: randomBytes(24).toString('base64url'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return secrets;
}
