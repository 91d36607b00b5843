import { randomBytes } from 'node:crypto';

/** A short random id for this process, part of every id it mints so that ids from two instances never collide. */
export function newInstanceId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Mints ids that sort (as strings) by the time they were made: 9 base-36 digits of milliseconds, 4 of a
 * per-millisecond sequence, then the instance id. Monotonic within one instance even if the clock steps back.
 */
export class SortableIdGenerator {
  private lastMs = 0;
  private seq = 0;

  constructor(private readonly instanceId: string, private readonly now: () => number = Date.now) {}

  next(): string {
    let ms = this.now();
    if (ms <= this.lastMs) {
      ms = this.lastMs;
      this.seq++;
      if (this.seq >= 36 ** 4) {
        this.lastMs = ms + 1;
        ms = this.lastMs;
        this.seq = 0;
      }
    } else {
      this.lastMs = ms;
      this.seq = 0;
    }
    return ms.toString(36).padStart(9, '0') + this.seq.toString(36).padStart(4, '0') + this.instanceId;
  }
}

/** The publish time encoded in a sortable id, or undefined if it is not one. */
export function sortableIdTime(id: string): number | undefined {
  if (!/^[0-9a-z]{13}/.test(id)) return undefined;
  const ms = parseInt(id.slice(0, 9), 36);
  return Number.isFinite(ms) ? ms : undefined;
}
