/**
 * Error codes sent in `{"type":"error","data":{"code","message"}}` replies (the connection stays open),
 * and in HTTP API error bodies `{"error":{"code","message"}}`.
 */
export const ErrorCodes = {
  bad_json: 'message is not valid JSON',
  unknown_type: 'unknown message type',
  invalid_message: 'message does not match its schema',
  forbidden: 'not allowed',
  ticket_closed: 'the ticket is closed',
  rate_limited: 'too many messages; slow down',
  ai_unavailable: 'AI suggestions are unavailable right now',
  unknown_peer: 'no such peer in this session',
  // HTTP API
  unauthorized: 'missing or invalid credentials',
  not_found: 'not found',
  invalid_body: 'request body is invalid',
  unknown_event_type: 'event type is not in the catalog',
  invalid_target: 'target is invalid',
  invalid_doc_id: 'document id must be 1-128 characters of A-Z a-z 0-9 . _ : -',
  target_required: 'this event type needs a target',
  payload_too_large: 'request body is too large',
  internal: 'internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
}

export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  return { code, message: message ?? ErrorCodes[code] };
}
