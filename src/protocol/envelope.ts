import { z } from 'zod';
import { err, ok, type Result } from '../shared/result.js';
import { errorBody, type ErrorBody, type ErrorCode } from './error-codes.js';

/** `{"type","data","timestamp"}`, plus `id` on published events. */
export interface Envelope<T = unknown> {
  readonly type: string;
  readonly data: T;
  readonly timestamp: string;
  readonly id?: string;
}

export function envelope<T>(type: string, data: T, timestamp: Date = new Date()): Envelope<T> {
  return { type, data, timestamp: timestamp.toISOString() };
}

export function encodeEnvelope<T>(type: string, data: T, timestamp?: Date): string {
  return JSON.stringify(envelope(type, data, timestamp));
}

export function encodeError(code: ErrorCode, message?: string): string {
  return encodeEnvelope('error', errorBody(code, message));
}

const incomingShape = z.object({ type: z.string().min(1).max(100), data: z.unknown().optional() });

/** A client message after the first parse: its type, and its data not yet checked against a per-type schema. */
export interface IncomingMessage {
  readonly type: string;
  readonly data: unknown;
}

/** Parse one text frame into `{type, data}`; per-type validation is the endpoint's schema table. */
export function decodeIncoming(raw: string): Result<IncomingMessage, ErrorBody> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return err(errorBody('bad_json'));
  }
  const shape = incomingShape.safeParse(parsed);
  if (!shape.success) return err(errorBody('bad_json', 'expected an object with a string "type"'));
  return ok({ type: shape.data.type, data: shape.data.data ?? {} });
}

/**
 * Validate a decoded message against a table of per-type zod schemas: unknown types and invalid data
 * become the documented error codes.
 */
export function validateIncoming<S extends Record<string, z.ZodType>>(
  schemas: S,
  message: IncomingMessage,
): Result<{ [K in keyof S & string]: { type: K; data: z.infer<S[K]> } }[keyof S & string], ErrorBody> {
  if (!Object.hasOwn(schemas, message.type)) return err(errorBody('unknown_type', `unknown message type "${message.type.slice(0, 100)}"`));
  const schema = schemas[message.type] as z.ZodType;
  const data = schema.safeParse(message.data);
  if (!data.success) return err(errorBody('invalid_message', summarizeIssues(data.error)));
  return ok({ type: message.type, data: data.data } as never);
}

function summarizeIssues(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid message';
  const path = first.path.length ? `data.${first.path.join('.')}: ` : '';
  return `${path}${first.message}`.slice(0, 200);
}
