import type { Bus, Topic, Unsubscribe } from '../../core/bus.js';
import { newInstanceId } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';

type Handler = (message: unknown) => void;

/** The in-process bus: one instance, synchronous delivery, messages passed by reference (never encoded). */
export class MemoryBus implements Bus {
  readonly instanceId = newInstanceId();
  readonly reachesOtherInstances = false;
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(private readonly logger?: Logger) {}

  async publish<M>(topic: Topic<M>, message: M): Promise<void> {
    this.deliver(topic.name, message);
  }

  private deliver(name: string, message: unknown): void {
    const handlers = this.handlers.get(name);
    if (!handlers) return;
    for (const handler of handlers) {
      try {
        handler(message);
      } catch (error) {
        this.logger?.error({ err: error, topic: name }, 'bus handler failed');
      }
    }
  }

  async subscribe<M>(topic: Topic<M>, handler: (message: M) => void): Promise<Unsubscribe> {
    let set = this.handlers.get(topic.name);
    if (!set) this.handlers.set(topic.name, (set = new Set()));
    const entry: Handler = (message) => handler(message as M);
    set.add(entry);
    return () => {
      const current = this.handlers.get(topic.name);
      if (!current) return;
      current.delete(entry);
      if (current.size === 0) this.handlers.delete(topic.name);
    };
  }

  isHealthy(): boolean {
    return true;
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
