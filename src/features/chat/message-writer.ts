import type { Logger } from '../../shared/logger.js';
import type { AppendResult, ChatMessage, TicketStore } from './ticket-store.js';

const MAX_BATCH = 2000;

interface Pending {
  readonly message: ChatMessage;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit of chat messages: everything appended while the previous transaction runs (or during one turn of
 * the event loop) is written in the next single transaction. Each `append` resolves once its message is
 * durable, in append order, so callers deliver only what is stored. A failing batch is retried message by message,
 * so one bad message fails alone.
 */
export class MessageWriter {
  private pending: Pending[] = [];
  private running = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly store: TicketStore, private readonly logger: Logger) {}

  append(message: ChatMessage): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (!this.running && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.run());
      }
    });
  }

  /** Resolves when everything appended so far is written (or failed). */
  drain(): Promise<void> {
    if (!this.running && !this.scheduled && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      await this.write(batch);
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async write(batch: readonly Pending[]): Promise<void> {
    try {
      const results = await this.store.appendMessages(batch.map((p) => p.message));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) {
        this.logger.error({ err: error, ticket_id: batch[0]!.message.ticketId }, 'storing a chat message failed');
        batch[0]!.reject(error);
        return;
      }
      for (const p of batch) await this.write([p]);
    }
  }
}
