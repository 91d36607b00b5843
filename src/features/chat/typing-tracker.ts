/**
 * Who is typing, with a server-side expiry, on one timer for the whole process (not a timer per keystroke).
 * Entries live in a Map in refresh order (a refresh re-inserts), so the head is always the next to expire and a
 * sweep stops at the first live entry. The timer is armed only while someone is typing.
 */
export class TypingTracker<E> {
  private readonly entries = new Map<string, { expiresAt: number; entry: E }>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly options: {
      readonly ttlMs: number;
      readonly onExpire: (key: string, entry: E) => void;
      readonly now?: () => number;
    },
  ) {}

  /** Mark `key` as typing (or refresh it); true when it was not typing before. */
  touch(key: string, entry: E): boolean {
    const existed = this.entries.delete(key);
    const expiresAt = this.now() + this.options.ttlMs;
    this.entries.set(key, { expiresAt, entry });
    this.arm(expiresAt);
    return !existed;
  }

  /** Stop typing for `key`; returns its entry if it was typing. */
  clear(key: string): E | undefined {
    const found = this.entries.get(key);
    if (!found) return undefined;
    this.entries.delete(key);
    if (this.entries.size === 0) this.disarm();
    return found.entry;
  }

  get(key: string): E | undefined {
    return this.entries.get(key)?.entry;
  }

  get size(): number {
    return this.entries.size;
  }

  stop(): void {
    this.entries.clear();
    this.disarm();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private arm(at: number): void {
    // the head expires first; a later refresh never needs an earlier wake-up
    if (this.timer && this.timerAt <= at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    for (const [key, { expiresAt, entry }] of this.entries) {
      if (expiresAt > now) {
        this.arm(expiresAt);
        return;
      }
      this.entries.delete(key);
      this.options.onExpire(key, entry);
    }
  }
}
