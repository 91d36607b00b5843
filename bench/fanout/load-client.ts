/**
 * A load-client process: holds a share of the benchmark's connections and counts what they
 * receive. Driven by the orchestrator over IPC (see protocol.ts); started with `fork`.
 *
 * It exits by itself when the orchestrator goes away (IPC disconnect) or after
 * `--max-lifetime-ms`, whichever comes first.
 */
import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import WebSocket from 'ws';
import { DeliveryCounter, newCursor, type ConnectionCursor } from './delivery-counter.js';
import { nowMs, type ChildMessage, type ClientTarget, type ParentMessage } from './protocol.js';

interface Connection {
  close(): void;
}

const PROGRESS_INTERVAL_MS = 200;

const counter = new DeliveryCounter();
const connections: Connection[] = [];
let open = 0;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function lifetimeFromArgs(): number {
  const index = process.argv.indexOf('--max-lifetime-ms');
  const value = index >= 0 ? Number(process.argv[index + 1]) : 600_000;
  return Number.isFinite(value) && value > 0 ? value : 600_000;
}

/** The parsed message, or the raw text when it is not JSON (then counted as another message). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Opens one connection; resolves on its first message (ws) or `connect` event (Socket.IO). */
function openConnection(target: ClientTarget, index: number, localAddress: string, timeoutMs: number): Promise<Connection> {
  const cursor: ConnectionCursor = newCursor();
  return new Promise((resolve, reject) => {
    let settled = false;
    let opened = false;
    const settle = (error: Error | null, connection: Connection): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        connection.close();
        reject(error);
        return;
      }
      opened = true;
      open += 1;
      resolve(connection);
    };
    const closedAfterOpen = (reason: string): void => {
      if (!opened) return;
      opened = false;
      open -= 1;
      counter.onClose(reason);
    };
    let timer: NodeJS.Timeout;

    if (target.kind === 'ws') {
      const url = target.urls[index % target.urls.length] ?? '';
      // The server's frames are trusted here: skipping UTF-8 validation keeps the client cheap.
      const socket = new WebSocket(url, { localAddress, handshakeTimeout: timeoutMs, skipUTF8Validation: true });
      const connection: Connection = { close: () => socket.terminate() };
      timer = setTimeout(() => settle(new Error('no first message in time'), connection), timeoutMs);
      socket.on('message', (raw, isBinary) => {
        if (!settled) settle(null, connection);
        if (!isBinary) counter.onMessage(parseJson(raw.toString()), cursor, nowMs());
      });
      socket.on('error', (error) => settle(error, connection));
      socket.on('close', (code, reason) => {
        settle(new Error(`closed ${code} ${reason.toString()}`), connection);
        closedAfterOpen(`${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`);
      });
      return;
    }

    const options: Partial<ManagerOptions & SocketOptions> & { localAddress: string } = {
      transports: ['websocket'],
      forceNew: true, // one engine connection per client, never multiplexed
      reconnection: false,
      timeout: timeoutMs,
      auth: { role: target.role },
      localAddress,
    };
    const socket = io(target.url, options);
    const connection: Connection = { close: () => socket.disconnect() };
    timer = setTimeout(() => settle(new Error('no connect in time'), connection), timeoutMs);
    socket.on('connect', () => settle(null, connection));
    socket.on('connect_error', (error) => settle(error, connection));
    socket.on('event', (envelope: unknown) => counter.onMessage(envelope, cursor, nowMs()));
    socket.on('disconnect', (reason) => closedAfterOpen(reason));
  });
}

async function connectAll(message: Extract<ParentMessage, { type: 'connect' }>): Promise<void> {
  const started = nowMs();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const worker = async (): Promise<void> => {
    while (next < message.count) {
      const index = next++;
      const localAddress = message.localAddresses[index % message.localAddresses.length] ?? '127.0.0.1';
      try {
        connections.push(await openConnection(message.target, index, localAddress, message.timeoutMs));
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, message.concurrency) }, worker));
  send({ type: 'connected', opened: message.count - failed, failed, firstError, durationMs: nowMs() - started });
}

function shutdown(): void {
  for (const connection of connections) connection.close();
  process.exit(0);
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'connect':
      connectAll(message).catch((error: unknown) => send({ type: 'fatal', message: String(error) }));
      break;
    case 'phase':
      counter.start(message.phase);
      send({ type: 'phase-started', phase: message.phase });
      break;
    case 'report':
      send(counter.report(open));
      break;
    case 'shutdown':
      shutdown();
      break;
  }
});

setInterval(() => {
  send({ type: 'progress', phase: counter.currentPhase, received: counter.receivedInPhase, total: counter.totalMessages });
}, PROGRESS_INTERVAL_MS);
setTimeout(shutdown, lifetimeFromArgs()).unref();
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
