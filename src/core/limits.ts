/** What one connection may do and hold (SPEC §3 "Limits"); the defaults are in the configuration. */
export interface ConnectionLimits {
  /** Largest client message on JSON endpoints (close 1009). */
  readonly maxMessageBytes: number;
  /** Largest client message on `/ws/yjs` (close 1009). */
  readonly yjsMaxMessageBytes: number;
  /** Client messages per second per connection; bursts of twice that; Yjs sockets ×10. */
  readonly ratePerSecond: number;
  /** Connections of one user on one instance. */
  readonly maxConnectionsPerUser: number;
  /** Unread bytes before a slow client is closed 1013. */
  readonly sendBufferLimitBytes: number;
}
