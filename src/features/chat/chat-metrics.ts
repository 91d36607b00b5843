import type { MetricsRegistry } from '../../core/metrics.js';
import type { ChatRooms } from './chat-rooms.js';
import type { ChatStats } from './chat-stats.js';

/** The support chat's Prometheus series, read at scrape time. */
export function registerChatMetrics(metrics: MetricsRegistry, { stats, rooms }: { stats: ChatStats; rooms: ChatRooms }): void {
  metrics.gauge('uhs_chat_rooms_open', 'Ticket rooms open on this instance (with at least one connection)', () => rooms.size);
  metrics.counter('uhs_chat_messages_stored_total', 'Chat messages stored (internal notes included, resends not)', () => stats.messagesStored);
  metrics.counter('uhs_chat_internal_notes_total', 'Internal notes stored', () => stats.internalNotes);
  metrics.counter('uhs_chat_duplicate_messages_total', 'Resent chat messages answered from storage (client_msg_id seen before)', () => stats.duplicates);
  metrics.counter('uhs_chat_ai_requests_total', 'AI reply suggestions requested', () => stats.aiRequests);
  metrics.counter('uhs_chat_ai_failures_total', 'AI reply suggestions that failed or timed out', () => stats.aiFailures);
}
