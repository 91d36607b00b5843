import type { Bus } from '../../core/bus.js';
import type { ClusterEvents } from '../../core/cluster-events.js';
import type { MetricsRegistry } from '../../core/metrics.js';
import type { SortableIdGenerator } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import { ChatHandler } from './chat-handler.js';
import { registerChatMetrics } from './chat-metrics.js';
import { ChatRooms } from './chat-rooms.js';
import { ChatStats } from './chat-stats.js';
import { MessageWriter } from './message-writer.js';
import type { ReplySuggester } from './reply-suggester.js';
import { SuggestionService } from './suggestion-service.js';
import { TicketService } from './ticket-service.js';
import type { TicketStore } from './ticket-store.js';

export interface ChatFeatureOptions {
  readonly bus: Bus;
  readonly store: TicketStore;
  readonly suggester: ReplySuggester;
  readonly ids: SortableIdGenerator;
  readonly logger: Logger;
  /** AI_SUGGESTION_TIMEOUT_SECONDS, in ms. */
  readonly suggestionTimeoutMs: number;
  /** Signals of other instances dying and of this one having to resync (several instances). */
  readonly cluster?: ClusterEvents;
}

/** The support chat, composed: the endpoint handler, the ticket service for the HTTP API, and shutdown. */
export class ChatFeature {
  readonly handler: ChatHandler;
  readonly tickets: TicketService;
  readonly rooms: ChatRooms;
  readonly stats = new ChatStats();
  private readonly suggestions: SuggestionService;

  constructor(options: ChatFeatureOptions) {
    const { bus, store, logger } = options;
    const chatLogger = logger.child({ component: 'chat' });
    this.rooms = new ChatRooms({ bus, store, logger: chatLogger, cluster: options.cluster });
    this.tickets = new TicketService({ store, bus });
    this.suggestions = new SuggestionService({ store, suggester: options.suggester, stats: this.stats, timeoutMs: options.suggestionTimeoutMs });
    this.handler = new ChatHandler({
      rooms: this.rooms,
      store,
      writer: new MessageWriter(store, chatLogger),
      suggestions: this.suggestions,
      ids: options.ids,
      stats: this.stats,
      logger: chatLogger,
    });
  }

  registerMetrics(metrics: MetricsRegistry): void {
    registerChatMetrics(metrics, { stats: this.stats, rooms: this.rooms });
  }

  /** Store every message received so far (call after the connections are closed, before the database). */
  async close(): Promise<void> {
    this.suggestions.stop();
    this.handler.stop();
    await this.handler.drain();
    await this.rooms.closeAll();
  }
}
