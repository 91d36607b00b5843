import type { TokenVerifier } from '../../core/auth.js';
import { close } from '../../protocol/close-codes.js';
import { encodeEnvelope, encodeError } from '../../protocol/envelope.js';
import type { WsPeer } from './ws-peer.js';

const WARN_BEFORE_MS = 60_000;
const TICK_MS = 250;

/**
 * Enforces token expiry on open connections with one timer for all of them: peers sit in per-second buckets
 * keyed by their next deadline (the `auth.expiring` warning 60 s before `exp`, then the close at `exp`).
 * `auth.refresh` with a valid token for the same `sub` and `role` moves the deadlines.
 */
export class TokenLifetime {
  private readonly buckets = new Map<number, Set<WsPeer>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly verifier: TokenVerifier) {}

  start(): void {
    this.timer = setInterval(() => this.tick(Date.now()), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  track(peer: WsPeer): void {
    this.untrack(peer);
    const expiresAt = peer.user.expiresAt;
    const due = peer.expiryWarned ? expiresAt : Math.max(Date.now(), expiresAt - WARN_BEFORE_MS);
    const second = Math.floor(due / 1000);
    let bucket = this.buckets.get(second);
    if (!bucket) this.buckets.set(second, (bucket = new Set()));
    bucket.add(peer);
    peer.expiryBucket = second;
  }

  untrack(peer: WsPeer): void {
    const second = peer.expiryBucket;
    if (second === undefined) return;
    peer.expiryBucket = undefined;
    const bucket = this.buckets.get(second);
    bucket?.delete(peer);
    if (bucket?.size === 0) this.buckets.delete(second);
  }

  /** Handle `{"type":"auth.refresh","data":{"token"}}`. */
  async refresh(peer: WsPeer, token: unknown): Promise<void> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      peer.sendText(encodeError('invalid_message', 'data.token must be a token string'));
      return;
    }
    const result = await this.verifier.verify(token);
    if (!result.ok) {
      peer.sendText(encodeError('invalid_message', `refresh refused: ${result.error.reason}`));
      return;
    }
    const next = result.value;
    if (next.userId !== peer.user.userId || next.role !== peer.user.role) {
      peer.sendText(encodeError('forbidden', 'a refreshed token must keep the same sub and role'));
      return;
    }
    if (peer.phase !== 'open') return;
    peer.user = next;
    peer.expiryWarned = false;
    this.track(peer);
    peer.sendText(encodeEnvelope('auth.refreshed', { expires_at: new Date(next.expiresAt).toISOString() }));
  }

  tick(now: number): void {
    const current = Math.floor(now / 1000);
    for (const [second, peers] of this.buckets) {
      if (second > current) continue;
      for (const peer of [...peers]) {
        const expiresAt = peer.user.expiresAt;
        if (now >= expiresAt) {
          this.untrack(peer);
          peer.close(close('unauthorized', 'token expired'));
        } else if (!peer.expiryWarned && now >= expiresAt - WARN_BEFORE_MS) {
          peer.expiryWarned = true;
          if (peer.endpoint !== 'yjs') peer.sendText(encodeEnvelope('auth.expiring', { expires_at: new Date(expiresAt).toISOString() }));
          this.track(peer);
        } else if (peer.expiryBucket === second) {
          // refreshed or not yet due within this second: re-file under its real deadline
          this.track(peer);
        }
      }
    }
  }
}
