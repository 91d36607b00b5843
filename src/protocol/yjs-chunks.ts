import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';

/**
 * Splits a Yjs state into several valid updates of bounded size, so that a large document reaches a client as
 * many moderate WebSocket frames instead of one giant one (the y-websocket client drops a socket that completes
 * no message for 30 s), and so that a large update can be applied a piece at a time.
 *
 * Every chunk is a complete Yjs v1 update (the format written by `Y.encodeStateAsUpdate`): for each client one
 * contiguous run of structs, then an empty delete set. Chunks come in dependency order — a struct's origin,
 * right origin and parent are in an earlier chunk, in the same chunk, or already known to the receiver — so a
 * receiver applying them in order integrates each at once instead of keeping it pending. Struct contents that
 * can be cut (strings, JSON/any arrays, deleted runs, GC runs) are cut at the size limit, as Yjs itself splits
 * items; a string is never cut inside a surrogate pair.
 *
 * The last part, `finalUpdate`, carries the delete set (and, for a live document, its pending structs).
 */

type Struct = Y.Item | Y.GC | Y.Skip;

/** Where the structs come from: a live document's struct store, or a decoded update. */
export interface StructSource {
  /** Per client: the first clock to send and the clock to stop at. */
  readonly ranges: ReadonlyMap<number, { readonly from: number; readonly to: number }>;
  /** The struct containing `clock` of `client` (looked up at each call, so a live store may change in between). */
  structAt(client: number, clock: number): Struct | undefined;
}

/** The structs of a live document beyond `stateVector`, as they are now. */
export function documentSource(doc: Y.Doc, stateVector: ReadonlyMap<number, number> = new Map()): StructSource {
  const ranges = new Map<number, { from: number; to: number }>();
  for (const [client, structs] of doc.store.clients) {
    const last = structs[structs.length - 1];
    if (!last) continue;
    const to = last.id.clock + last.length;
    const from = Math.max(stateVector.get(client) ?? 0, structs[0]!.id.clock);
    if (from < to) ranges.set(client, { from, to });
  }
  return {
    ranges,
    structAt(client, clock) {
      const structs = doc.store.clients.get(client);
      if (!structs || structs.length === 0) return undefined;
      const last = structs[structs.length - 1]!;
      if (clock < structs[0]!.id.clock || clock >= last.id.clock + last.length) return undefined;
      return structs[Y.findIndexSS(structs, clock)];
    },
  };
}

/** The structs of an encoded update (which must be well-formed). */
export function updateSource(update: Uint8Array): StructSource {
  const byClient = new Map<number, Struct[]>();
  for (const struct of Y.decodeUpdate(update).structs as Struct[]) {
    let list = byClient.get(struct.id.client);
    if (!list) byClient.set(struct.id.client, (list = []));
    list.push(struct);
  }
  const ranges = new Map<number, { from: number; to: number }>();
  for (const [client, structs] of byClient) {
    const first = structs[0]!;
    const last = structs[structs.length - 1]!;
    ranges.set(client, { from: first.id.clock, to: last.id.clock + last.length });
  }
  return {
    ranges,
    structAt(client, clock) {
      const structs = byClient.get(client);
      if (!structs) return undefined;
      return structs[Y.findIndexSS(structs as Array<Y.Item | Y.GC>, clock)];
    },
  };
}

/** The end clock of every client of an update, as a state vector: diffing against it leaves only the delete set. */
export function updateEndStateVector(update: Uint8Array): Uint8Array {
  const ends = new Map<number, number>();
  for (const struct of Y.decodeUpdate(update).structs) {
    ends.set(struct.id.client, Math.max(ends.get(struct.id.client) ?? 0, struct.id.clock + struct.length));
  }
  return Y.encodeStateVector(ends);
}

interface Piece {
  readonly struct: Struct;
  /** Offset into the struct, and how many clock units of it. */
  readonly offset: number;
  readonly length: number;
}

const STRUCT_OVERHEAD_BYTES = 24;

/**
 * Yields struct chunks of about `maxBytes` each (one oversized indivisible struct makes an oversized chunk).
 * With a live source, the caller may yield to the event loop between chunks: positions are clocks, looked up
 * again for each chunk, so structs that Yjs split, merged or garbage-collected in between are still found.
 */
export function* structChunks(source: StructSource, maxBytes: number): Generator<Uint8Array> {
  const next = new Map<number, number>();
  for (const [client, range] of source.ranges) next.set(client, range.from);
  const done = (client: number): boolean => (next.get(client) ?? Infinity) >= (source.ranges.get(client)?.to ?? 0);
  const satisfied = (id: Y.ID | null | undefined, self: number): boolean => {
    if (!id || id.client === self) return true;
    const range = source.ranges.get(id.client);
    if (!range || id.clock < range.from || id.clock >= range.to) return true;
    return id.clock < next.get(id.client)!;
  };

  let chunk = new Map<number, Piece[]>();
  let size = 0;
  const flush = (): Uint8Array | undefined => {
    if (chunk.size === 0) return undefined;
    const encoded = encodeChunk(chunk);
    chunk = new Map();
    size = 0;
    return encoded;
  };

  for (const root of source.ranges.keys()) {
    // depth-first: a client blocked on another client's struct works that client forward until it is unblocked
    const stack: Array<{ client: number; until: number }> = [{ client: root, until: Infinity }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const clock = next.get(top.client)!;
      if (done(top.client) || clock > top.until) {
        stack.pop();
        continue;
      }
      const struct = source.structAt(top.client, clock);
      if (!struct) {
        next.set(top.client, Infinity);
        continue;
      }
      const offset = clock - struct.id.clock;
      const blocker = offset === 0 ? firstMissing(struct, satisfied) : undefined;
      if (blocker && !stack.some((entry) => entry.client === blocker.client)) {
        stack.push({ client: blocker.client, until: blocker.clock });
        continue;
      }
      const piece = cutPiece(struct, offset, Math.max(1, maxBytes - size));
      let pieces = chunk.get(top.client);
      if (!pieces) chunk.set(top.client, (pieces = []));
      pieces.push(piece);
      size += piece.bytes;
      next.set(top.client, clock + piece.length);
      if (size >= maxBytes) {
        const encoded = flush();
        if (encoded) yield encoded;
      }
    }
  }
  const encoded = flush();
  if (encoded) yield encoded;
}

function firstMissing(struct: Struct, satisfied: (id: Y.ID | null | undefined, self: number) => boolean): Y.ID | undefined {
  if (!(struct instanceof Y.Item)) return undefined;
  const self = struct.id.client;
  if (!satisfied(struct.origin, self)) return struct.origin!;
  if (!satisfied(struct.rightOrigin, self)) return struct.rightOrigin!;
  const parent = parentId(struct);
  if (!satisfied(parent, self)) return parent;
  return undefined;
}

function parentId(item: Y.Item): Y.ID | undefined {
  const parent: unknown = item.parent;
  if (parent instanceof Y.ID) return parent;
  if (parent instanceof Y.AbstractType) return (parent._item as Y.Item | null)?.id;
  return undefined;
}

/** Take as much of `struct` from `offset` as fits in `budget` bytes (at least one unit). */
function cutPiece(struct: Struct, offset: number, budget: number): Piece & { bytes: number } {
  const remaining = struct.length - offset;
  if (!(struct instanceof Y.Item)) {
    return { struct, offset, length: remaining, bytes: STRUCT_OVERHEAD_BYTES };
  }
  const content: unknown = struct.content;
  if (content instanceof Y.ContentString) {
    const text = content.str;
    let end = text.length;
    let bytes = Buffer.byteLength(offset === 0 ? text : text.slice(offset));
    if (bytes > budget && remaining > 1) {
      end = offset + Math.max(1, Math.min(remaining, budget));
      if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end += end - 1 > offset ? -1 : 1;
      bytes = Buffer.byteLength(text.slice(offset, end));
    }
    return { struct, offset, length: end - offset, bytes: bytes + STRUCT_OVERHEAD_BYTES };
  }
  if (content instanceof Y.ContentAny || content instanceof Y.ContentJSON) {
    const values = content.arr as unknown[];
    let bytes = 0;
    let length = 0;
    for (let i = offset; i < values.length; i++) {
      const valueBytes = approximateSize(values[i]);
      if (length > 0 && bytes + valueBytes > budget) break;
      bytes += valueBytes;
      length++;
    }
    return { struct, offset, length, bytes: bytes + STRUCT_OVERHEAD_BYTES };
  }
  if (content instanceof Y.ContentBinary) {
    return { struct, offset, length: remaining, bytes: content.content.length + STRUCT_OVERHEAD_BYTES };
  }
  if (content instanceof Y.ContentEmbed || content instanceof Y.ContentFormat) {
    return { struct, offset, length: remaining, bytes: approximateSize(content) + STRUCT_OVERHEAD_BYTES };
  }
  return { struct, offset, length: remaining, bytes: STRUCT_OVERHEAD_BYTES };
}

function approximateSize(value: unknown): number {
  if (value === undefined) return 1;
  if (value instanceof Uint8Array) return value.length + 4;
  try {
    return (JSON.stringify(value) ?? '').length + 2;
  } catch {
    return 64;
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function encodeChunk(chunk: ReadonlyMap<number, readonly Piece[]>): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  const rest = encoder.restEncoder;
  encoding.writeVarUint(rest, chunk.size);
  for (const [client, pieces] of chunk) {
    encoding.writeVarUint(rest, pieces.length);
    encoder.writeClient(client);
    const first = pieces[0]!;
    encoding.writeVarUint(rest, first.struct.id.clock + first.offset);
    for (const piece of pieces) writePiece(encoder, piece);
  }
  encoding.writeVarUint(rest, 0); // empty delete set
  return encoder.toUint8Array();
}

function writePiece(encoder: Y.UpdateEncoderV1, { struct, offset, length }: Piece): void {
  if (offset + length === struct.length) {
    struct.write(encoder, offset);
    return;
  }
  const id = Y.createID(struct.id.client, struct.id.clock + offset);
  if (struct instanceof Y.GC) return new Y.GC(id, length).write(encoder, 0);
  if (struct instanceof Y.Skip) return new Y.Skip(id, length).write(encoder, 0);
  // a prefix of an item: the same item Yjs would get by splitting it at offset + length
  const origin = offset > 0 ? Y.createID(struct.id.client, struct.id.clock + offset - 1) : struct.origin;
  const piece = new Y.Item(id, null, origin, null, struct.rightOrigin, struct.parent, struct.parentSub, sliceContent(struct.content, offset, offset + length));
  piece.write(encoder, 0);
}

function sliceContent(content: Y.Item['content'], start: number, end: number): Y.Item['content'] {
  const c: unknown = content;
  if (c instanceof Y.ContentString) return new Y.ContentString(c.str.slice(start, end));
  if (c instanceof Y.ContentAny) return new Y.ContentAny((c.arr as unknown[]).slice(start, end));
  if (c instanceof Y.ContentJSON) return new Y.ContentJSON((c.arr as unknown[]).slice(start, end));
  if (c instanceof Y.ContentDeleted) return new Y.ContentDeleted(end - start);
  throw new Error('content cannot be split');
}
