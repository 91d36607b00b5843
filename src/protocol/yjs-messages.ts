import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { err, ok, type Result } from '../shared/result.js';

/**
 * The binary wire format of `/ws/yjs/{doc_id}` (SPEC §6), decoded and encoded by pure functions.
 *
 * - `y-websocket` framing (default): the y-protocols messages of the `y-websocket` client — a lib0 varUint
 *   message type (0 sync, 1 awareness, 3 query awareness), for sync a varUint sub-type (0 step 1, 1 step 2,
 *   2 update), then the payload as a lib0 varUint8Array. One message per WebSocket frame.
 * - `flat` framing (`?framing=flat`): one type byte (0 step 1, 1 step 2, 2 update, 3 awareness), then the raw
 *   payload (state vector, update, update, awareness update) up to the end of the frame.
 */
export type YjsFraming = 'y-websocket' | 'flat';

export type YjsMessage =
  | { readonly kind: 'sync-step-1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'sync-step-2'; readonly update: Uint8Array }
  | { readonly kind: 'update'; readonly update: Uint8Array }
  | { readonly kind: 'awareness'; readonly update: Uint8Array }
  | { readonly kind: 'query-awareness' };

export interface YjsProtocolError {
  /** Short, safe to send as a close reason. */
  readonly reason: string;
}

/** SPEC §6: 1–128 characters of `A-Z a-z 0-9 . _ : -`. */
export const DOC_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export const MESSAGE_SYNC = 0;
export const MESSAGE_AWARENESS = 1;
export const MESSAGE_QUERY_AWARENESS = 3;
export const SYNC_STEP_1 = 0;
export const SYNC_STEP_2 = 1;
export const SYNC_UPDATE = 2;

const FLAT_AWARENESS = 3;

export function parseFraming(value: string | null): YjsFraming | undefined {
  if (value === null || value === '' || value === 'y-websocket') return 'y-websocket';
  if (value === 'flat') return 'flat';
  return undefined;
}

/**
 * Decode and validate one frame. Payloads are checked completely (state vectors, updates including their
 * delete set, awareness entries and their JSON), so that a message that decodes here never fails half-way
 * when it is applied. Payloads are views into `frame` (no copy).
 */
export function decodeYjsMessage(frame: Uint8Array, framing: YjsFraming): Result<YjsMessage, YjsProtocolError> {
  try {
    const message = framing === 'flat' ? decodeFlat(frame) : decodeYWebsocket(frame);
    if (!message.ok) return message;
    const invalid = validatePayload(message.value);
    return invalid ? err(invalid) : message;
  } catch {
    return err({ reason: 'malformed message' });
  }
}

function decodeYWebsocket(frame: Uint8Array): Result<YjsMessage, YjsProtocolError> {
  if (frame.length === 0) return err({ reason: 'empty message' });
  const decoder = decoding.createDecoder(frame);
  const type = decoding.readVarUint(decoder);
  let message: YjsMessage;
  switch (type) {
    case MESSAGE_SYNC: {
      const sub = decoding.readVarUint(decoder);
      const payload = decoding.readVarUint8Array(decoder);
      if (sub === SYNC_STEP_1) message = { kind: 'sync-step-1', stateVector: payload };
      else if (sub === SYNC_STEP_2) message = { kind: 'sync-step-2', update: payload };
      else if (sub === SYNC_UPDATE) message = { kind: 'update', update: payload };
      else return err({ reason: 'unknown sync message type' });
      break;
    }
    case MESSAGE_AWARENESS:
      message = { kind: 'awareness', update: decoding.readVarUint8Array(decoder) };
      break;
    case MESSAGE_QUERY_AWARENESS:
      message = { kind: 'query-awareness' };
      break;
    default:
      return err({ reason: 'unknown message type' });
  }
  if (decoding.hasContent(decoder)) return err({ reason: 'trailing bytes after message' });
  return ok(message);
}

function decodeFlat(frame: Uint8Array): Result<YjsMessage, YjsProtocolError> {
  if (frame.length === 0) return err({ reason: 'empty message' });
  const payload = frame.subarray(1);
  switch (frame[0]) {
    case SYNC_STEP_1:
      return ok({ kind: 'sync-step-1', stateVector: payload });
    case SYNC_STEP_2:
      return ok({ kind: 'sync-step-2', update: payload });
    case SYNC_UPDATE:
      return ok({ kind: 'update', update: payload });
    case FLAT_AWARENESS:
      return ok({ kind: 'awareness', update: payload });
    default:
      return err({ reason: 'unknown message type' });
  }
}

function validatePayload(message: YjsMessage): YjsProtocolError | undefined {
  switch (message.kind) {
    case 'sync-step-1':
      return isStateVector(message.stateVector) ? undefined : { reason: 'malformed state vector' };
    case 'sync-step-2':
    case 'update':
      return isUpdate(message.update) ? undefined : { reason: 'malformed update' };
    case 'awareness':
      return isAwarenessUpdate(message.update) ? undefined : { reason: 'malformed awareness update' };
    case 'query-awareness':
      return undefined;
  }
}

function isStateVector(bytes: Uint8Array): boolean {
  return isCountedList(bytes, (decoder) => {
    decoding.readVarUint(decoder); // client
    decoding.readVarUint(decoder); // clock
    return true;
  });
}

/** A complete, well-formed Yjs (v1) update: every struct and the delete set decode. */
export function isUpdate(bytes: Uint8Array): boolean {
  if (bytes.length < 2) return false;
  try {
    Y.decodeUpdate(bytes);
    return true;
  } catch {
    return false;
  }
}

function isAwarenessUpdate(bytes: Uint8Array): boolean {
  return isCountedList(bytes, (decoder) => {
    decoding.readVarUint(decoder); // client
    decoding.readVarUint(decoder); // clock
    const state: unknown = JSON.parse(decoding.readVarString(decoder));
    return state === null || typeof state === 'object';
  });
}

/** A varUint count, then exactly that many entries that `readEntry` reads and accepts, and nothing after them. */
function isCountedList(bytes: Uint8Array, readEntry: (decoder: decoding.Decoder) => boolean): boolean {
  try {
    const decoder = decoding.createDecoder(bytes);
    const count = decoding.readVarUint(decoder);
    for (let i = 0; i < count; i++) if (!readEntry(decoder)) return false;
    return !decoding.hasContent(decoder);
  } catch {
    return false;
  }
}

export function encodeSyncStep1(stateVector: Uint8Array, framing: YjsFraming): Uint8Array {
  return encodeSync(SYNC_STEP_1, stateVector, framing);
}

export function encodeSyncStep2(update: Uint8Array, framing: YjsFraming): Uint8Array {
  return encodeSync(SYNC_STEP_2, update, framing);
}

export function encodeUpdate(update: Uint8Array, framing: YjsFraming): Uint8Array {
  return encodeSync(SYNC_UPDATE, update, framing);
}

export function encodeAwareness(update: Uint8Array, framing: YjsFraming): Uint8Array {
  if (framing === 'flat') return flat(FLAT_AWARENESS, update);
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_AWARENESS);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

export function encodeQueryAwareness(): Uint8Array {
  return Uint8Array.of(MESSAGE_QUERY_AWARENESS);
}

function encodeSync(sub: number, payload: Uint8Array, framing: YjsFraming): Uint8Array {
  if (framing === 'flat') return flat(sub, payload);
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  encoding.writeVarUint(encoder, sub);
  encoding.writeVarUint8Array(encoder, payload);
  return encoding.toUint8Array(encoder);
}

function flat(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 1);
  out[0] = type;
  out.set(payload, 1);
  return out;
}
