/**
 * One load process: the peers of its share of the documents, with the real clients (y-websocket's
 * WebsocketProvider for ours and the reference server, HocuspocusProvider for Hocuspocus). The first peer of each
 * document replays a trace into a TipTap-like paragraph (`XmlFragment('default') > paragraph > XmlText`); the others
 * measure when each keystroke reaches them. All peers of a document live in the same process, so one clock
 * measures writer-to-peer latency.
 */
import { createHash } from 'node:crypto';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { WebsocketProvider } from 'y-websocket';
import WebSocket from 'ws';
import * as Y from 'yjs';
import type { ClientTarget, DocAssignment, DocResult, FromWorker, LoadMode, RunResult, ToWorker } from './protocol.js';
import { loadTraces, type Keystroke, type Trace } from './traces.js';

interface Replica {
  readonly doc: Y.Doc;
  readonly provider: { destroy(): void };
  isSynced(): boolean;
  /** Keystrokes received since the run started. */
  received: number;
}

interface DocState {
  readonly assignment: DocAssignment;
  readonly writer: Replica;
  readonly watchers: Replica[];
  readonly keystrokes: readonly Keystroke[];
  next: number;
  sent: number;
  /** Per keystroke sent: when, and the writer's clock after it (deletions do not advance it). */
  readonly sentAt: number[];
  readonly clockAfter: number[];
  readonly inserts: boolean[];
}

let docs: DocState[] = [];
let traces: Trace[] = [];
let disconnects = 0;
const latencies: number[] = [];
let running = false;
let lastReceivedAt = 0;

function send(message: FromWorker): void {
  process.send?.(message);
}

function connectReplica(target: ClientTarget, docId: string): Replica {
  const doc = new Y.Doc();
  if (target.kind === 'hocuspocus') {
    // one socket per document, as with y-websocket
    const websocketProvider = new HocuspocusProviderWebsocket({ url: target.base, WebSocketPolyfill: WebSocket });
    const provider = new HocuspocusProvider({ websocketProvider, name: docId, document: doc });
    provider.attach();
    provider.on('disconnect', () => disconnects++);
    return {
      doc,
      provider: { destroy: () => (provider.destroy(), websocketProvider.destroy()) },
      isSynced: () => provider.isSynced,
      received: 0,
    };
  }
  const [base, params] = target.kind === 'ours' ? [`${target.base}/ws/yjs`, { token: target.token ?? '' }] : [target.base, {}];
  const provider = new WebsocketProvider(base, docId, doc, { params, WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true });
  provider.on('connection-close', () => disconnects++);
  return { doc, provider, isSynced: () => provider.synced, received: 0 };
}

function paragraphText(doc: Y.Doc): Y.XmlText | undefined {
  const paragraph = doc.getXmlFragment('default').get(0);
  const text = paragraph instanceof Y.XmlElement ? paragraph.get(0) : undefined;
  return text instanceof Y.XmlText ? text : undefined;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function setup(target: ClientTarget, assignments: readonly DocAssignment[], tracesDir: string | undefined): Promise<void> {
  const started = performance.now();
  traces = loadTraces(tracesDir);
  docs = assignments.map((assignment) => {
    const writer = connectReplica(target, assignment.docId);
    const watchers = Array.from({ length: assignment.peers - 1 }, () => connectReplica(target, assignment.docId));
    const state: DocState = {
      assignment,
      writer,
      watchers,
      keystrokes: traces[assignment.trace % traces.length]!.keystrokes,
      next: 0,
      sent: 0,
      sentAt: [],
      clockAfter: [],
      inserts: [],
    };
    for (const watcher of watchers) {
      // a keystroke has arrived once the watcher holds the writer's clock after it — whatever the server's message
      // granularity (Hocuspocus may merge updates); the latency of deletion-only keystrokes is not sampled
      watcher.doc.on('update', () => {
        if (!running) return;
        const clock = Y.getState(watcher.doc.store, state.writer.doc.clientID);
        const now = performance.now();
        while (watcher.received < state.sent && state.clockAfter[watcher.received]! <= clock) {
          if (state.inserts[watcher.received]) latencies.push(now - state.sentAt[watcher.received]!);
          watcher.received++;
          lastReceivedAt = now;
        }
      });
    }
    return state;
  });
  await waitFor(() => docs.every((d) => d.writer.isSynced() && d.watchers.every((w) => w.isSynced())), 120_000, 'every peer to sync');
  for (const d of docs) {
    if (!paragraphText(d.writer.doc)) {
      const paragraph = new Y.XmlElement('paragraph');
      paragraph.insert(0, [new Y.XmlText()]);
      d.writer.doc.getXmlFragment('default').insert(0, [paragraph]);
    }
  }
  await waitFor(() => docs.every((d) => d.watchers.every((w) => paragraphText(w.doc) !== undefined)), 60_000, 'the paragraph at every peer');
  send({ type: 'ready', connectMs: performance.now() - started });
}

function typeOne(d: DocState): boolean {
  const keystroke = d.keystrokes[d.next];
  const text = paragraphText(d.writer.doc);
  if (!keystroke || !text) return false;
  d.next++;
  d.sentAt.push(performance.now());
  d.writer.doc.transact(() => {
    for (const [position, deleteCount, inserted] of keystroke) {
      const at = Math.min(position, text.length);
      if (deleteCount > 0) text.delete(at, Math.min(deleteCount, text.length - at));
      if (inserted) text.insert(at, inserted);
    }
  });
  d.clockAfter.push(Y.getState(d.writer.doc.store, d.writer.doc.clientID));
  d.inserts.push(keystroke.some(([, , inserted]) => inserted.length > 0));
  d.sent++;
  return true;
}

async function run(mode: LoadMode, durationMs: number, drainMs: number): Promise<RunResult> {
  latencies.length = 0;
  lastReceivedAt = 0;
  running = true;
  const start = performance.now();
  const end = start + durationMs;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      if (now >= end) return resolve();
      if (mode.kind === 'rate') {
        const due = Math.floor(((now - start) / 1000) * mode.perWriterPerS);
        for (const d of docs) while (d.sent < due && typeOne(d));
        setTimeout(tick, 2);
      } else {
        for (const d of docs) {
          const slowest = d.watchers.reduce((min, w) => Math.min(min, w.received), d.sent);
          for (let ahead = d.sent - slowest; ahead < mode.window && typeOne(d); ahead++);
        }
        setImmediate(tick);
      }
    };
    tick();
  });
  const allIn = (): boolean => docs.every((d) => d.watchers.every((w) => w.received >= d.sent));
  const drainEnd = Date.now() + drainMs;
  await waitFor(allIn, drainMs, 'late keystrokes').catch(() => undefined);
  // trailing deletions do not show in the clock: wait for the texts themselves to agree
  await waitFor(() => docs.every((d) => convergence(d).converged), Math.max(0, drainEnd - Date.now()), 'convergence').catch(() => undefined);
  running = false;
  const sent = docs.reduce((sum, d) => sum + d.sent, 0);
  const received = docs.reduce((sum, d) => sum + d.watchers.reduce((s, w) => s + w.received, 0), 0);
  return { sent, received, latencies: [...latencies], spanMs: Math.max(lastReceivedAt, end) - start, docs: docs.map(convergence), disconnects };
}

function convergence(d: DocState): DocResult {
  const replicas = [d.writer, ...d.watchers];
  const texts = replicas.map((r) => paragraphText(r.doc)?.toString() ?? '');
  const vectors = replicas.map((r) => Buffer.from(Y.encodeStateVector(r.doc)).toString('base64'));
  const converged = texts.every((t) => t === texts[0]) && vectors.every((v) => v === vectors[0]);
  return { docId: d.assignment.docId, converged, textHash: converged ? createHash('sha256').update(texts[0]!).digest('hex') : null };
}

process.on('message', (message: ToWorker) => {
  const fail = (error: unknown): void => send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  if (message.type === 'setup') setup(message.target, message.docs, message.tracesDir).catch(fail);
  else if (message.type === 'run') run(message.mode, message.durationMs, message.drainMs).then((result) => send({ type: 'result', result }), fail);
  else {
    for (const d of docs) for (const r of [d.writer, ...d.watchers]) r.provider.destroy();
    process.exit(0);
  }
});
