import type { Role } from '../protocol/roles.js';
import type { Result } from '../shared/result.js';

/** Who is on the other end of a connection or API call, from a verified access token. */
export interface AuthUser {
  readonly userId: string;
  readonly role: Role;
  /** Token expiry, epoch milliseconds. */
  readonly expiresAt: number;
}

/** Why a token was refused; `reason` is short and safe to send in a close frame (it never echoes the token). */
export interface AuthFailure {
  readonly reason: 'token missing' | 'token expired' | 'token invalid' | 'wrong token type' | 'token has no subject' | 'unknown role';
}

/** Verifies user access tokens (SPEC §2). Implementations pin the algorithms they accept. */
export interface TokenVerifier {
  verify(token: string): Promise<Result<AuthUser, AuthFailure>>;
}
