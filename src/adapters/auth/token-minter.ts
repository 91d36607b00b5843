import { SignJWT } from 'jose';
import type { Role } from '../../protocol/roles.js';

export interface MintOptions {
  readonly secret: string;
  readonly sub: string;
  readonly role: Role;
  readonly ttlSeconds: number;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

/** An HS256 access token, as the school's backend would issue it (used by the CLI and development output). */
export async function mintAccessToken(options: MintOptions): Promise<string> {
  let jwt = new SignJWT({ role: options.role, type: 'access' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
