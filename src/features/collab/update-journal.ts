import type { Logger } from '../../shared/logger.js';
import type { DocStore } from './doc-store.js';

/** One update to make durable, with whatever its owner needs once it is. */
export interface JournalEntry {
  readonly docId: string;
  readonly update: Uint8Array;
}

export interface UpdateJournalOptions<E extends JournalEntry> {
  readonly store: DocStore;
  readonly logger: Logger;
  /** Called once per committed batch, in commit order, with the new log ids per document. */
  readonly committed: (entries: readonly E[], ids: ReadonlyMap<string, readonly number[]>) => void;
  /** Called when a batch could not be written; none of its entries is durable. */
  readonly failed: (entries: readonly E[], error: unknown) => void;
  /** Bytes written to the log, for metrics. */
  readonly onBytes?: (bytes: number) => void;
}

interface Batch<E> {
  readonly entries: E[];
  readonly barriers: Array<() => void>;
}

/**
 * Write-ahead log writer: updates applied during one turn of the event loop are appended in one transaction at
 * the end of the turn, and only then handed to `committed` (which relays them). Batches commit one after another,
 * in order. `afterDurable` runs a callback once everything appended so far is on disk — at once when nothing
 * is waiting — so that a state sent to a new peer never contains an update that could still be lost.
 */
export class UpdateJournal<E extends JournalEntry> {
  private open: Batch<E> | undefined;
  private inFlight: Batch<E> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(private readonly options: UpdateJournalOptions<E>) {}

  append(entry: E): void {
    this.batch().entries.push(entry);
  }

  afterDurable(callback: () => void): void {
    const target = this.open ?? this.inFlight;
    if (target) target.barriers.push(callback);
    else callback();
  }

  /** Resolves once everything appended so far has been committed (or has failed). */
  async flush(): Promise<void> {
    if (this.open) this.run();
    await this.chain;
  }

  private batch(): Batch<E> {
    if (!this.open) {
      this.open = { entries: [], barriers: [] };
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.run());
      }
    }
    return this.open;
  }

  private run(): void {
    this.scheduled = false;
    const batch = this.open;
    if (!batch) return;
    this.open = undefined;
    this.chain = this.chain.then(() => this.commit(batch));
  }

  private async commit(batch: Batch<E>): Promise<void> {
    this.inFlight = batch;
    try {
      const rows = await this.options.store.append(batch.entries);
      const ids = new Map<string, number[]>();
      for (const row of rows) {
        let list = ids.get(row.docId);
        if (!list) ids.set(row.docId, (list = []));
        list.push(row.id);
      }
      for (const list of ids.values()) list.sort((a, b) => a - b);
      if (this.options.onBytes) {
        let bytes = 0;
        for (const entry of batch.entries) bytes += entry.update.length;
        this.options.onBytes(bytes);
      }
      this.inFlight = undefined;
      this.options.committed(batch.entries, ids);
    } catch (error) {
      this.inFlight = undefined;
      this.options.logger.error({ err: error, updates: batch.entries.length }, 'appending document updates failed');
      this.options.failed(batch.entries, error);
    }
    for (const barrier of batch.barriers) {
      try {
        barrier();
      } catch (error) {
        this.options.logger.error({ err: error }, 'journal callback failed');
      }
    }
  }
}
