import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importSPKI,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type CryptoKey,
  type KeyObject,
} from 'jose';
import type { AuthFailure, AuthUser, TokenVerifier } from '../../core/auth.js';
import { isRole } from '../../protocol/roles.js';
import { err, ok, type Result } from '../../shared/result.js';

export interface JoseVerifierOptions {
  /** HS256 shared secret. */
  readonly secret?: string | undefined;
  /** PEM public key (RS256 or ES256). */
  readonly publicKeyPem?: string | undefined;
  /** JWKS endpoint (RS256 or ES256). */
  readonly jwksUrl?: string | undefined;
  /** How many verified tokens to remember (a reconnecting tab presents the same token again); 0 turns it off. */
  readonly cacheSize?: number;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

const ASYMMETRIC = ['RS256', 'ES256'];

/** Token verification with `jose`; algorithms are pinned per key kind, so `none` and HS/RS confusion never pass. */
export async function createJoseTokenVerifier(options: JoseVerifierOptions): Promise<TokenVerifier> {
  const key = await resolveKey(options);
  const verifyOptions: JWTVerifyOptions = {
    algorithms: options.secret && !options.publicKeyPem && !options.jwksUrl ? ['HS256'] : ASYMMETRIC,
    requiredClaims: ['exp', 'sub'],
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  const cache = new VerifiedTokenCache(options.cacheSize ?? 10_000);
  return {
    async verify(token: string): Promise<Result<AuthUser, AuthFailure>> {
      if (!token) return err({ reason: 'token missing' });
      const known = cache.get(token, Date.now());
      if (known) return ok(known);
      let payload;
      try {
        // the overloads of jwtVerify take a key or a key-getter; the union needs narrowing to pick one
        ({ payload } = typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions));
      } catch (e) {
        return err({ reason: e instanceof errors.JWTExpired ? 'token expired' : 'token invalid' });
      }
      if (payload.type !== 'access') return err({ reason: 'wrong token type' });
      if (typeof payload.sub !== 'string' || payload.sub.length === 0) return err({ reason: 'token has no subject' });
      if (!isRole(payload.role)) return err({ reason: 'unknown role' });
      const user: AuthUser = { userId: payload.sub, role: payload.role, expiresAt: (payload.exp as number) * 1000 };
      cache.set(token, user);
      return ok(user);
    },
  };
}

/**
 * Tokens that verified, by their exact text (signature included, so a hit is the same bytes already checked),
 * until they expire. Bounded: the oldest entry goes first. Saves the signature check on reconnects and extra tabs.
 */
class VerifiedTokenCache {
  private readonly entries = new Map<string, AuthUser>();

  constructor(private readonly capacity: number) {}

  get(token: string, now: number): AuthUser | undefined {
    const user = this.entries.get(token);
    if (user && user.expiresAt <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return user;
  }

  set(token: string, user: AuthUser): void {
    if (this.capacity === 0) return;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, user);
  }
}

async function resolveKey(options: JoseVerifierOptions): Promise<Uint8Array | CryptoKey | KeyObject | JWTVerifyGetKey> {
  if (options.jwksUrl) return createRemoteJWKSet(new URL(options.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
  if (options.publicKeyPem) {
    const pem = options.publicKeyPem.trim();
    if (pem.startsWith('{')) return createLocalJWKSet(JSON.parse(pem) as Parameters<typeof createLocalJWKSet>[0]);
    return importPemForAnyAlgorithm(pem);
  }
  // imported once: jose would otherwise import a raw secret again on every verification
  if (options.secret) return crypto.subtle.importKey('raw', new TextEncoder().encode(options.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  throw new Error('no JWT key configured');
}

/** A PEM key fits one algorithm family; try RS256 then ES256 and keep what imports. */
async function importPemForAnyAlgorithm(pem: string): Promise<CryptoKey | KeyObject> {
  let lastError: unknown;
  for (const alg of ASYMMETRIC) {
    try {
      return await importSPKI(pem, alg);
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`JWT_PUBLIC_KEY is not an RSA or P-256 public key: ${String(lastError)}`);
}
