/** Plain counters of the collaborative-document feature, bumped on hot paths and read by the metrics endpoint. */
export class CollabStats {
  /** Document updates received from peers (sync step 2 and update messages). */
  updatesIn = 0;
  /** Updates that changed a document and were persisted and relayed. */
  updatesApplied = 0;
  /** Updates from read-only peers, ignored. */
  updatesIgnoredReadOnly = 0;
  /** Messages refused as malformed (the peer is closed). */
  malformedMessages = 0;
  awarenessIn = 0;
  /** Bytes written to storage: log entries and compacted states. */
  bytesPersistedLog = 0;
  bytesPersistedSnapshot = 0;
  compactions = 0;
  compactionConflicts = 0;
  storageErrors = 0;
  /** Frames sent to bring a peer up to date (chunks of a large document count one each). */
  syncFrames = 0;
}
