/**
 * Plain counters bumped on hot paths (a field increment per message); the metrics endpoint reads them at
 * scrape time, and the health report derives rates from them.
 */
export class Stats {
  messagesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  eventsPublished = 0;
  deliveries = 0;
  sendErrors = 0;
  droppedDroppable = 0;
  slowConsumerCloses = 0;
  rateLimited = 0;
  authFailures = 0;
}
