/**
 * The mixed-traffic process of the soak, beside the role channels: Yjs editing with the real y-websocket client
 * (a few documents, a few peers each), support-chat messages between a customer and staff on registered tickets,
 * and video signaling (offer → answer, plus an ICE candidate) between peers of registered sessions. Everything
 * is counted end to end: documents must converge (replicas and the server's copy), every chat message must be
 * echoed to its sender and reach the other side, every offer must be answered. Started with `fork` by run.ts.
 */
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { Role } from '../../src/protocol/roles.js';
import { Histogram } from '../fanout/stats.js';
import { childMain } from '../shared/ipc-child.js';
import { tokenCache } from './tokens.js';
import { bump, type Counts, type ServerAccess, type ServicesIn, type ServicesOut, type ServicesPlan, type ServicesReport } from './protocol.js';

const MAX_LIFETIME_MS = 40 * 60_000;
// every y-websocket provider adds a process 'exit' listener (to announce its departure): one per replica here
process.setMaxListeners(0);
const JOIN_TIMEOUT_MS = 30_000;
const TEXT_LIMIT = 4_000;

let access: ServerAccess | null = null;
let plan: ServicesPlan | null = null;
let running = false;
let stopping = false;
let timers: NodeJS.Timeout[] = [];
const closes: Counts = {};
const errors: Counts = {};
const sockets: WebSocket[] = [];

const token = tokenCache(() => access?.secret ?? '');

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${access?.httpUrl ?? ''}${path}`, {
    method,
    headers: { authorization: `Bearer ${access?.apiKey ?? ''}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response;
}

function pick<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}

function every(perS: number, tick: () => void): void {
  if (perS > 0) timers.push(setInterval(tick, 1000 / perS));
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** A JSON socket: parsed messages to `onMessage`; closes we did not make are counted. */
function jsonSocket(url: string, label: string, onMessage: (message: { type?: unknown; data?: Record<string, unknown> }) => void): WebSocket {
  const ws = new WebSocket(url, { localAddress: plan?.localAddress, handshakeTimeout: JOIN_TIMEOUT_MS, perMessageDeflate: false });
  sockets.push(ws);
  ws.on('message', (raw) => {
    let message: { type?: unknown; data?: Record<string, unknown> };
    try {
      message = JSON.parse(raw.toString()) as typeof message;
    } catch {
      bump(errors, `${label}: unparsable frame`);
      return;
    }
    if (message.type === 'error') bump(errors, `${label}: ${String(message.data?.code ?? 'unknown')}`);
    onMessage(message);
  });
  ws.on('error', () => undefined); // the close that follows is what counts
  ws.on('close', (code, reason) => {
    if (!stopping) bump(closes, `${label} ${code} ${reason.toString()}`.trim());
  });
  return ws;
}

function firstMessage(ws: WebSocket, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS);
    const onMessage = (raw: WebSocket.RawData): void => {
      if (!raw.toString().includes(`"type":"${type}"`)) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`closed ${code} before ${type}`));
    });
  });
}

// ---- Yjs ------------------------------------------------------------------------------------------------------

interface DocPeers {
  readonly docId: string;
  readonly replicas: Array<{ readonly doc: Y.Doc; readonly provider: WebsocketProvider }>;
}

/** The documents being edited, one per slot; `rotate` replaces each with a fresh one. */
let docs: DocPeers[] = [];
/** Documents closed by `rotate`, with the text all their replicas held: the server must have kept it. */
const closedDocs: Array<{ readonly docId: string; readonly text: string; readonly converged: boolean }> = [];
let generation = 0;
let edits = 0;
let yjsDisconnects = 0;

/** y-websocket constructs its socket as `new Polyfill(url, protocols)`: this one binds the soak's source address. */
function boundWebSocket(localAddress: string): unknown {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { localAddress });
    }
  };
}

async function openDocs(p: ServicesPlan): Promise<DocPeers[]> {
  const Polyfill = boundWebSocket(p.localAddress) as typeof globalThis.WebSocket;
  const opened = await Promise.all(
    Array.from({ length: p.docs }, async (_, d) => {
      const docId = `soak-doc-${d}-g${generation}`;
      const replicas = await Promise.all(
        Array.from({ length: p.peersPerDoc }, async (_, k) => {
          const doc = new Y.Doc();
          const jwt = await token(`editor-${d}-${k}`, 'instructor');
          const provider = new WebsocketProvider(`${access?.wsUrl ?? ''}/ws/yjs`, docId, doc, { params: { token: jwt }, WebSocketPolyfill: Polyfill, disableBc: true });
          provider.on('connection-close', () => {
            if (!stopping && !closing.has(provider)) yjsDisconnects++;
          });
          return { doc, provider };
        }),
      );
      return { docId, replicas };
    }),
  );
  generation++;
  if (!(await waitUntil(() => opened.every((d) => d.replicas.every((r) => r.provider.synced)), JOIN_TIMEOUT_MS))) throw new Error('y-websocket peers did not sync in time');
  return opened;
}

const closing = new Set<WebsocketProvider>();

function replicasAgree(d: DocPeers): boolean {
  const texts = d.replicas.map((r) => r.doc.getText('t').toString());
  return texts.every((t) => t === texts[0]);
}

/** Every slot gets a fresh document; the old ones are left once their replicas agree (the server then saves and unloads them). */
async function rotateDocs(p: ServicesPlan): Promise<void> {
  const old = docs;
  docs = await openDocs(p);
  await waitUntil(() => old.every(replicasAgree), 10_000);
  for (const d of old) {
    closedDocs.push({ docId: d.docId, text: d.replicas[0]?.doc.getText('t').toString() ?? '', converged: replicasAgree(d) });
    for (const r of d.replicas) {
      closing.add(r.provider);
      r.provider.destroy();
      r.doc.destroy();
    }
  }
}

function edit(): void {
  const d = pick(docs);
  const replica = d && pick(d.replicas);
  if (!replica) return;
  const text = replica.doc.getText('t');
  if (text.length > TEXT_LIMIT) text.delete(Math.floor(Math.random() * (text.length - 200)), 200);
  text.insert(Math.floor(Math.random() * (text.length + 1)), `w${edits} `);
  edits++;
}

async function serverText(docId: string): Promise<{ text: string; bytes: number } | null> {
  try {
    const response = await fetch(`${access?.httpUrl ?? ''}/api/v1/docs/${docId}`, { headers: { authorization: `Bearer ${access?.apiKey ?? ''}` }, signal: AbortSignal.timeout(15_000) });
    // a document nobody ever changed is never stored
    if (response.status === 404) return { text: '', bytes: 0 };
    if (!response.ok) throw new Error(`HTTP ${response.status} ${await response.text()}`);
    const state = new Uint8Array(await response.arrayBuffer());
    const copy = new Y.Doc();
    Y.applyUpdate(copy, state);
    return { text: copy.getText('t').toString(), bytes: state.length };
  } catch (error) {
    bump(errors, `yjs: server copy of ${docId}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

async function docsConverged(): Promise<ServicesReport['yjs']> {
  let converged = 0;
  let serverCopiesMatching = 0;
  let stateBytes = 0;
  for (const d of docs) {
    if (replicasAgree(d)) converged++;
    const copy = await serverText(d.docId);
    if (copy?.text === d.replicas[0]?.doc.getText('t').toString()) serverCopiesMatching++;
    stateBytes += copy?.bytes ?? 0;
  }
  let closedKept = 0;
  for (const d of closedDocs) if ((await serverText(d.docId))?.text === d.text) closedKept++;
  return {
    docs: docs.length,
    peers: docs.reduce((acc, d) => acc + d.replicas.length, 0),
    edits,
    converged,
    serverCopiesMatching,
    stateBytes,
    rotated: closedDocs.length,
    rotatedConverged: closedDocs.filter((d) => d.converged).length,
    rotatedKept: closedKept,
    disconnects: yjsDisconnects,
  };
}

// ---- support chat ---------------------------------------------------------------------------------------------

interface ChatSide {
  readonly ws: WebSocket;
  readonly userId: string;
}

const tickets: Array<{ readonly id: string; readonly sides: readonly [ChatSide, ChatSide] }> = [];
const chatSent = new Map<string, { readonly sentAt: number; acked: boolean; delivered: boolean }>();
const chatLatency = new Histogram();
let chatAcked = 0;
let chatDelivered = 0;

function onChat(side: ChatSide, message: { type?: unknown; data?: Record<string, unknown> }): void {
  if (message.type !== 'chat_message' || !message.data) return;
  const entry = chatSent.get(String(message.data.client_msg_id));
  if (!entry) return;
  if (message.data.sender_id === side.userId) {
    if (!entry.acked) chatAcked++;
    entry.acked = true;
  } else {
    if (!entry.delivered) chatDelivered++;
    entry.delivered = true;
    chatLatency.recordMs(performance.now() - entry.sentAt);
  }
}

async function setupTickets(p: ServicesPlan): Promise<number> {
  for (let i = 0; i < p.tickets; i++) {
    const id = `soak-ticket-${i}`;
    await api('PUT', `/api/v1/tickets/${id}`, { requester_id: `customer-${i}`, subject: 'soak' });
    const people: Array<[string, Role]> = [
      [`customer-${i}`, 'parent'],
      [`agent-${i % 4}`, 'staff'],
    ];
    const sides = await Promise.all(
      people.map(async ([userId, role]) => {
        const ws = jsonSocket(`${access?.wsUrl ?? ''}/ws/support-chat/${id}/${await token(userId, role)}`, 'chat', (message) => onChat(side, message));
        const side: ChatSide = { ws, userId };
        await firstMessage(ws, 'chat_history');
        return side;
      }),
    );
    tickets.push({ id, sides: sides as [ChatSide, ChatSide] });
  }
  return p.tickets * 2;
}

let chatSeq = 0;
function chat(): void {
  const ticket = pick(tickets);
  const side = ticket && ticket.sides[chatSeq % 2];
  if (!side || side.ws.readyState !== WebSocket.OPEN) return;
  const id = `${process.pid}-${chatSeq++}`;
  if (chatSeq % 5 === 0) side.ws.send('{"type":"typing","data":{"is_typing":true}}');
  chatSent.set(id, { sentAt: performance.now(), acked: false, delivered: false });
  side.ws.send(JSON.stringify({ type: 'chat_message', data: { content: `soak message ${id}`, client_msg_id: id } }));
}

// ---- video signaling ------------------------------------------------------------------------------------------

interface VideoPeer {
  readonly ws: WebSocket;
  peerId: string;
  readonly known: Set<string>;
}

const sessions: VideoPeer[][] = [];
const exchanges = new Map<string, { readonly sentAt: number; offered: boolean; answered: boolean }>();
const videoLatency = new Histogram();
let offers = 0;
let offersReceived = 0;
let answersReceived = 0;

function onVideo(peer: VideoPeer, message: { type?: unknown; data?: Record<string, unknown> }): void {
  const data = message.data ?? {};
  switch (message.type) {
    case 'peers':
      peer.peerId = String(data.peer_id);
      for (const other of Array.isArray(data.peers) ? (data.peers as Array<{ peer_id?: unknown }>) : []) peer.known.add(String(other.peer_id));
      return;
    case 'peer_joined':
      peer.known.add(String(data.peer_id));
      return;
    case 'peer_left':
      peer.known.delete(String(data.peer_id));
      return;
    case 'offer': {
      const exchange = exchanges.get(String(data.sdp).slice(-24));
      if (exchange && !exchange.offered) offersReceived++;
      if (exchange) exchange.offered = true;
      if (peer.ws.readyState === WebSocket.OPEN) peer.ws.send(JSON.stringify({ type: 'answer', data: { to: data.from, sdp: `v=0 answer ${String(data.sdp).slice(-24)}` } }));
      return;
    }
    case 'answer': {
      const exchange = exchanges.get(String(data.sdp).slice(-24));
      if (!exchange || exchange.answered) return;
      exchange.answered = true;
      answersReceived++;
      videoLatency.recordMs(performance.now() - exchange.sentAt);
      return;
    }
  }
}

async function setupVideo(p: ServicesPlan): Promise<number> {
  for (let s = 0; s < p.videoSessions; s++) {
    const id = `soak-video-${s}`;
    const participants = Array.from({ length: p.peersPerSession - 1 }, (_, j) => `pupil-${s}-${j}`);
    await api('PUT', `/api/v1/video-sessions/${id}`, { host_id: `host-${s}`, participant_ids: participants });
    const people: Array<[string, Role]> = [[`host-${s}`, 'instructor'], ...participants.map((user): [string, Role] => [user, 'student'])];
    const peers: VideoPeer[] = [];
    for (const [userId, role] of people) {
      const peer: VideoPeer = { ws: jsonSocket(`${access?.wsUrl ?? ''}/ws/video/${id}/${await token(userId, role)}`, 'video', (message) => onVideo(peer, message)), peerId: '', known: new Set() };
      await firstMessage(peer.ws, 'peers');
      peers.push(peer);
    }
    sessions.push(peers);
  }
  const everyoneKnown = (): boolean => sessions.every((peers) => peers.every((peer) => peer.known.size === peers.length - 1));
  if (!(await waitUntil(everyoneKnown, JOIN_TIMEOUT_MS))) throw new Error('video peers did not all see each other');
  return p.videoSessions * p.peersPerSession;
}

function signal(): void {
  const peers = pick(sessions);
  const from = peers && pick(peers);
  const to = peers && pick(peers.filter((peer) => peer !== from && from?.known.has(peer.peerId)));
  if (!from || !to || from.ws.readyState !== WebSocket.OPEN) return;
  const key = `x${process.pid}-${offers}`.padStart(24, '0');
  exchanges.set(key, { sentAt: performance.now(), offered: false, answered: false });
  offers++;
  from.ws.send(JSON.stringify({ type: 'offer', data: { to: to.peerId, sdp: `v=0 offer ${key}` } }));
  from.ws.send(JSON.stringify({ type: 'ice_candidate', data: { to: to.peerId, candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 } } }));
}

// ---- commands -------------------------------------------------------------------------------------------------

async function stop(settleMs: number): Promise<void> {
  running = false;
  for (const timer of timers) clearInterval(timer);
  timers = [];
  const settled = (): boolean => {
    return chatAcked === chatSent.size && chatDelivered === chatSent.size && answersReceived === offers && docs.every(replicasAgree);
  };
  await waitUntil(settled, settleMs);
}

async function report(): Promise<ServicesReport> {
  return {
    type: 'report',
    yjs: await docsConverged(),
    chat: { tickets: tickets.length, sent: chatSent.size, acked: chatAcked, delivered: chatDelivered, latencyP99Ms: chatLatency.summary().p99Ms },
    video: {
      sessions: sessions.length,
      peers: sessions.reduce((acc, peers) => acc + peers.length, 0),
      offers,
      offersReceived,
      answersReceived,
      latencyP99Ms: videoLatency.summary().p99Ms,
    },
    closes,
    errors,
  };
}

function closeAll(): void {
  stopping = true;
  for (const d of docs) for (const r of d.replicas) r.provider.destroy();
  for (const ws of sockets) ws.terminate();
}

childMain<ServicesIn, ServicesOut>({
  maxLifetimeMs: MAX_LIFETIME_MS,
  onExit: closeAll,
  async handle(message, send) {
    switch (message.type) {
      case 'setup': {
        access = message.access;
        plan = message.plan;
        docs = await openDocs(plan);
        const connections = plan.docs * plan.peersPerDoc + (await setupTickets(plan)) + (await setupVideo(plan));
        send({ type: 'set-up', connections });
        return;
      }
      case 'start':
        if (!plan || running) return;
        running = true;
        every(plan.editsPerS, edit);
        every(plan.chatPerS, chat);
        every(plan.signalsPerS, signal);
        send({ type: 'started' });
        return;
      case 'rotate':
        if (plan) await rotateDocs(plan);
        send({ type: 'rotated' });
        return;
      case 'stop':
        await stop(message.settleMs);
        send({ type: 'stopped' });
        return;
      case 'report':
        send(await report());
        return;
      case 'shutdown':
        closeAll();
        process.exit(0);
    }
  },
});
