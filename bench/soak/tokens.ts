/** Access tokens for the soak's load processes, minted once per user and role (HS256, 3 hours). */
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import type { Role } from '../../src/protocol/roles.js';

export type TokenSource = (sub: string, role: Role) => Promise<string>;

/** `secret()` is read at the first mint (the process learns it from its first command). */
export function tokenCache(secret: () => string): TokenSource {
  const minted = new Map<string, Promise<string>>();
  return (sub, role) => {
    const key = `${role}/${sub}`;
    let token = minted.get(key);
    if (!token) {
      token = mintAccessToken({ secret: secret(), sub, role, ttlSeconds: 3 * 3600 });
      minted.set(key, token);
    }
    return token;
  };
}
