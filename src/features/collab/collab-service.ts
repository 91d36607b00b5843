import type { Bus, Topic } from '../../core/bus.js';
import type { ClusterEvents } from '../../core/cluster-events.js';
import type { MetricsRegistry } from '../../core/metrics.js';
import { decodeDocBusMessage, docTopicName, encodeDocBusMessage, type DocBusMessage } from '../../protocol/yjs-bus.js';
import type { Logger } from '../../shared/logger.js';
import { CollabStats } from './collab-stats.js';
import { allowAllDocuments, type DocumentAuthorizer } from './doc-access.js';
import type { RoomEntry } from './doc-room.js';
import { DocRooms } from './doc-rooms.js';
import type { DocStore } from './doc-store.js';
import { UpdateJournal } from './update-journal.js';
import { YjsEndpoint } from './yjs-endpoint.js';

export interface CollabServiceOptions {
  readonly store: DocStore;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Default: every authenticated user may edit. */
  readonly authorize?: DocumentAuthorizer;
  /** `SAVE_INTERVAL_SECONDS` in ms: how often changed documents are compacted. */
  readonly saveIntervalMs: number;
  /** Largest frame used to send a document's state to a peer (default 256 KiB). */
  readonly maxFrameBytes?: number;
  readonly metrics?: MetricsRegistry;
  /** Signals of other instances dying and of this one having to resync (several instances). */
  readonly cluster?: ClusterEvents;
}

const DOC_CODEC = { encode: encodeDocBusMessage, decode: decodeDocBusMessage };

/** The collaborative-document feature, composed: endpoint handler, rooms, write-ahead journal, metrics. */
export class CollabService {
  readonly stats = new CollabStats();
  readonly endpoint: YjsEndpoint;
  private readonly rooms: DocRooms;
  private readonly journal: UpdateJournal<RoomEntry>;

  constructor(options: CollabServiceOptions) {
    const { stats } = this;
    const saveLatency = options.metrics?.histogram('uhs_yjs_save_seconds', 'Time to compact a document into its stored state', [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);
    this.journal = new UpdateJournal<RoomEntry>({
      store: options.store,
      logger: options.logger,
      committed: (entries, ids) => this.rooms.committed(entries, ids),
      failed: (entries) => this.rooms.failed(entries),
      onBytes: (bytes) => (stats.bytesPersistedLog += bytes),
    });
    this.rooms = new DocRooms(
      {
        store: options.store,
        journal: this.journal,
        bus: options.bus,
        topic: (docId): Topic<DocBusMessage> => ({ name: docTopicName(docId), codec: DOC_CODEC }),
        logger: options.logger,
        stats,
        maxFrameBytes: options.maxFrameBytes ?? 256 * 1024,
        saveIntervalMs: options.saveIntervalMs,
        observeSave: (seconds) => saveLatency?.observe(seconds),
      },
      { logger: options.logger, cluster: options.cluster },
    );
    this.endpoint = new YjsEndpoint({ rooms: this.rooms, authorize: options.authorize ?? allowAllDocuments, stats, logger: options.logger });
    if (options.metrics) this.registerMetrics(options.metrics);
  }

  start(): void {
    this.rooms.start();
  }

  /** `GET /api/v1/docs/{doc_id}`: the current state as one update, or undefined for a document never written. */
  documentState(docId: string): Promise<Uint8Array | undefined> {
    return this.rooms.state(docId);
  }

  get openDocuments(): number {
    return this.rooms.size;
  }

  /** Shutdown (SPEC §9): everything applied is written, every open document compacted. Call after peers are closed. */
  close(): Promise<void> {
    return this.rooms.close();
  }

  private registerMetrics(metrics: MetricsRegistry): void {
    const { stats } = this;
    metrics.gauge('uhs_yjs_documents_open', 'Collaborative documents open on this instance', () => this.rooms.size);
    metrics.gauge('uhs_yjs_peers', 'Peers connected to open documents', () => this.rooms.peerCount());
    metrics.counter('uhs_yjs_updates_in_total', 'Document updates received from peers', () => stats.updatesIn);
    metrics.counter('uhs_yjs_updates_applied_total', 'Document updates that changed a document (persisted and relayed)', () => stats.updatesApplied);
    metrics.counter('uhs_yjs_updates_ignored_total', 'Document updates ignored from read-only peers', () => stats.updatesIgnoredReadOnly);
    metrics.counter('uhs_yjs_malformed_messages_total', 'Malformed messages (the sender was closed)', () => stats.malformedMessages);
    metrics.counter('uhs_yjs_bytes_persisted_total', 'Bytes written to storage', () => ({ log: stats.bytesPersistedLog, snapshot: stats.bytesPersistedSnapshot }));
    metrics.counter('uhs_yjs_compactions_total', 'Compactions of the update log into stored states', () => stats.compactions);
    metrics.counter('uhs_yjs_storage_errors_total', 'Failed writes of documents', () => stats.storageErrors);
  }
}
