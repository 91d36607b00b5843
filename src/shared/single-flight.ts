/** Concurrent requests for one key share one operation in flight; a request after it settled starts a new one. */
export class SingleFlight<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();

  run(key: K, operation: () => Promise<V>): Promise<V> {
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = operation().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** The operations in flight now (e.g. to wait for them at shutdown). */
  pending(): Array<Promise<V>> {
    return [...this.inFlight.values()];
  }
}
