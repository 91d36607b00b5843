import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { onCleanup } from './cleanup.js';

export interface YClient {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  /** Close codes the server sent, in order. */
  readonly closeCodes: number[];
  /** Sizes of the binary frames received, in order. */
  readonly frameSizes: number[];
  destroy(): void;
}

export interface YClientOptions {
  readonly params?: Record<string, string>;
  readonly doc?: Y.Doc;
  readonly connect?: boolean;
}

/** The real y-websocket client (WebsocketProvider), in Node, against `${wsUrl}/ws/yjs/{docId}?token=…`. */
export function yClient(wsUrl: string, docId: string, token: string, options: YClientOptions = {}): YClient {
  const doc = options.doc ?? new Y.Doc();
  const frameSizes: number[] = [];
  // a WebSocket that records the size of each received frame, to check frame bounds
  class RecordingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      this.on('message', (data: ArrayBuffer | Buffer) => frameSizes.push(data.byteLength));
    }
  }
  const provider = new WebsocketProvider(`${wsUrl}/ws/yjs`, docId, doc, {
    params: { token, ...options.params },
    WebSocketPolyfill: RecordingWebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    connect: options.connect ?? true,
  });
  const closeCodes: number[] = [];
  provider.on('connection-close', (event) => {
    if (event) closeCodes.push(event.code);
  });
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    provider.destroy();
    doc.destroy();
  };
  onCleanup(destroy);
  return { doc, provider, closeCodes, frameSizes, destroy };
}

/** Resolves when `provider` is synced (again). */
export function synced(client: YClient, timeoutMs = 10_000): Promise<void> {
  if (client.provider.synced) return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve) => {
      const handler = (state: boolean): void => {
        if (!state) return;
        client.provider.off('sync', handler);
        resolve();
      };
      client.provider.on('sync', handler);
    }),
    timeoutMs,
    'sync',
  );
}

/** Resolves once `predicate(doc)` holds, checked after every update of `doc`. */
export function docReaches(doc: Y.Doc, predicate: (doc: Y.Doc) => boolean, timeoutMs = 10_000, what = 'document state'): Promise<void> {
  if (predicate(doc)) return Promise.resolve();
  let handler: (() => void) | undefined;
  return withTimeout(
    new Promise<void>((resolve) => {
      handler = () => {
        if (predicate(doc)) resolve();
      };
      doc.on('update', handler);
    }),
    timeoutMs,
    what,
  ).finally(() => handler && doc.off('update', handler));
}

/** Resolves with the next close code the server sends this client. */
export function nextClose(client: YClient, timeoutMs = 10_000): Promise<number> {
  const seen = client.closeCodes.length;
  return withTimeout(
    new Promise<number>((resolve) => {
      const handler = (event: { code: number } | null): void => {
        if (!event || client.closeCodes.length <= seen) return;
        client.provider.off('connection-close', handler);
        resolve(event.code);
      };
      client.provider.on('connection-close', handler);
    }),
    timeoutMs,
    'close',
  );
}

/** The TipTap layout: paragraphs of text in the `default` XmlFragment. */
export function addParagraph(doc: Y.Doc, text: string): void {
  const paragraph = new Y.XmlElement('paragraph');
  paragraph.insert(0, [new Y.XmlText(text)]);
  const fragment = doc.getXmlFragment('default');
  fragment.insert(fragment.length, [paragraph]);
}

export function fragmentText(doc: Y.Doc): string {
  return doc.getXmlFragment('default').toString();
}

export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
