/**
 * Collects items added during one turn of the event loop and hands them to `flush` together, so that many
 * writes become one transaction. Each `add` resolves when its batch has been flushed (or rejects with its error).
 */
export class Batcher<T> {
  private items: T[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly flush: (items: readonly T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    this.items.push(item);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.run());
    }
    return done;
  }

  /** Resolves when everything added so far has been flushed. */
  async drain(): Promise<void> {
    while (this.scheduled || this.items.length > 0) await new Promise((resolve) => setImmediate(resolve));
    await this.inFlight.catch(() => undefined);
  }

  private run(): void {
    this.scheduled = false;
    const items = this.items;
    const waiters = this.waiters;
    this.items = [];
    this.waiters = [];
    // batches are flushed one after another, in order
    this.inFlight = this.inFlight
      .catch(() => undefined)
      .then(() => this.flush(items))
      .then(
        () => waiters.forEach((w) => w.resolve()),
        (error: unknown) => waiters.forEach((w) => w.reject(error)),
      );
  }
}
