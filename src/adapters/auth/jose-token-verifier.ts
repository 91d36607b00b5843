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
  return {
    async verify(token: string): Promise<Result<AuthUser, AuthFailure>> {
      if (!token) return err({ reason: 'token missing' });
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
      return ok({ userId: payload.sub, role: payload.role, expiresAt: (payload.exp as number) * 1000 });
    },
  };
}

async function resolveKey(options: JoseVerifierOptions): Promise<Uint8Array | CryptoKey | KeyObject | JWTVerifyGetKey> {
  if (options.jwksUrl) return createRemoteJWKSet(new URL(options.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
  if (options.publicKeyPem) {
    const pem = options.publicKeyPem.trim();
    if (pem.startsWith('{')) return createLocalJWKSet(JSON.parse(pem) as Parameters<typeof createLocalJWKSet>[0]);
    return importPemForAnyAlgorithm(pem);
  }
  if (options.secret) return new TextEncoder().encode(options.secret);
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
