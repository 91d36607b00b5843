/**
 * Every WebSocket close code the server uses, in one table. A close ends a connection; an error reply
 * (error-codes.ts) fails one message and the connection lives on.
 * `retry` tells a client whether reconnecting can help.
 */
export const CloseCodes = {
  normal: { code: 1000, reason: 'normal close', retry: false },
  goingAway: { code: 1001, reason: 'server going away', retry: true },
  messageTooBig: { code: 1009, reason: 'message too big', retry: true },
  internalError: { code: 1011, reason: 'internal error', retry: true },
  tryAgainLater: { code: 1013, reason: 'slow consumer', retry: true },
  badRequest: { code: 4400, reason: 'bad request', retry: false },
  unauthorized: { code: 4401, reason: 'unauthorized', retry: false },
  forbidden: { code: 4403, reason: 'forbidden', retry: false },
  notFound: { code: 4404, reason: 'not found', retry: false },
  disconnected: { code: 4410, reason: 'disconnected by service', retry: false },
  tooMany: { code: 4429, reason: 'too many', retry: true },
} as const;

export type CloseName = keyof typeof CloseCodes;
export type CloseCode = (typeof CloseCodes)[CloseName]['code'];

/** A close decision: which code, and the short human reason sent in the close frame (≤ 123 bytes). */
export interface Close {
  readonly code: CloseCode;
  readonly reason: string;
}

const MAX_REASON_BYTES = 123;

export function close(name: CloseName, reason?: string): Close {
  const entry = CloseCodes[name];
  return { code: entry.code, reason: truncateReason(reason ?? entry.reason) };
}

function truncateReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_REASON_BYTES) return reason;
  let cut = reason.slice(0, MAX_REASON_BYTES);
  while (Buffer.byteLength(cut) > MAX_REASON_BYTES) cut = cut.slice(0, -1);
  return cut;
}
