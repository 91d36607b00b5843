import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';

/**
 * What instances tell each other about one document, on that document's bus topic. Every message names its
 * instance (to drop one's own echoes); updates carry a per-instance, per-document sequence number (a gap means
 * messages were lost: read the log) and the log ids they were stored under (so compaction knows what is merged).
 */
export type DocBusMessage =
  | {
      readonly kind: 'updates';
      readonly instance: string;
      readonly seq: number;
      readonly ids: readonly number[];
      readonly updates: readonly Uint8Array[];
    }
  | { readonly kind: 'awareness'; readonly instance: string; readonly update: Uint8Array }
  /**
   * An instance's view of the document: its state vector and the sequence number of its last `updates` message.
   * Sent when a room opens and when an instance resyncs (its Redis link came back, or it was taken for dead);
   * a receiver that sees it lacks something heals from storage, and answers (`reply: true`, never answered) with
   * its own view and its peers' awareness states.
   */
  | {
      readonly kind: 'sync';
      readonly instance: string;
      readonly seq: number;
      readonly stateVector: Uint8Array;
      readonly reply: boolean;
    };

const UPDATES = 0;
const AWARENESS = 1;
const SYNC = 2;

export function docTopicName(docId: string): string {
  return `yjs:doc:${docId}`;
}

export function encodeDocBusMessage(message: DocBusMessage): Buffer {
  const encoder = encoding.createEncoder();
  if (message.kind === 'updates') {
    encoding.writeVarUint(encoder, UPDATES);
    encoding.writeVarString(encoder, message.instance);
    encoding.writeVarUint(encoder, message.seq);
    encoding.writeVarUint(encoder, message.ids.length);
    for (const id of message.ids) encoding.writeVarUint(encoder, id);
    encoding.writeVarUint(encoder, message.updates.length);
    for (const update of message.updates) encoding.writeVarUint8Array(encoder, update);
  } else if (message.kind === 'awareness') {
    encoding.writeVarUint(encoder, AWARENESS);
    encoding.writeVarString(encoder, message.instance);
    encoding.writeVarUint8Array(encoder, message.update);
  } else {
    encoding.writeVarUint(encoder, SYNC);
    encoding.writeVarString(encoder, message.instance);
    encoding.writeVarUint(encoder, message.seq);
    encoding.writeVarUint8Array(encoder, message.stateVector);
    encoding.writeVarUint(encoder, message.reply ? 1 : 0);
  }
  return Buffer.from(encoding.toUint8Array(encoder));
}

/** Throws on malformed input (bus messages come from our own instances). */
export function decodeDocBusMessage(raw: Uint8Array): DocBusMessage {
  const decoder = decoding.createDecoder(raw);
  const kind = decoding.readVarUint(decoder);
  const instance = decoding.readVarString(decoder);
  if (kind === UPDATES) {
    const seq = decoding.readVarUint(decoder);
    const ids: number[] = [];
    for (let n = decoding.readVarUint(decoder); n > 0; n--) ids.push(decoding.readVarUint(decoder));
    const updates: Uint8Array[] = [];
    for (let n = decoding.readVarUint(decoder); n > 0; n--) updates.push(decoding.readVarUint8Array(decoder));
    return { kind: 'updates', instance, seq, ids, updates };
  }
  if (kind === AWARENESS) return { kind: 'awareness', instance, update: decoding.readVarUint8Array(decoder) };
  if (kind === SYNC) {
    const seq = decoding.readVarUint(decoder);
    const stateVector = decoding.readVarUint8Array(decoder);
    return { kind: 'sync', instance, seq, stateVector, reply: decoding.readVarUint(decoder) === 1 };
  }
  throw new Error(`unknown document bus message kind ${kind}`);
}
