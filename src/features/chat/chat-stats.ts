/** Counters of the support chat, bumped on hot paths and read by the metrics endpoint at scrape time. */
export class ChatStats {
  messagesStored = 0;
  internalNotes = 0;
  duplicates = 0;
  aiRequests = 0;
  aiFailures = 0;
}
