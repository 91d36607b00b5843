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
  | { readonly kind: 'awareness'; readonly instance: string; readonly update: Uint8Array };

const UPDATES = 0;
const AWARENESS = 1;

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
  } else {
    encoding.writeVarUint(encoder, AWARENESS);
    encoding.writeVarString(encoder, message.instance);
    encoding.writeVarUint8Array(encoder, message.update);
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
  throw new Error(`unknown document bus message kind ${kind}`);
}
