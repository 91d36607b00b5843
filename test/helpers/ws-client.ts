import { onCleanup } from './cleanup.js';
import WebSocket from 'ws';

export interface JsonMessage {
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly timestamp?: string;
  readonly id?: string;
}

/**
 * A test client that records every message it receives, so tests wait on what arrives (never on sleeps) and can
 * also assert what did not arrive.
 */
export class TestClient {
  readonly messages: JsonMessage[] = [];
  readonly binary: Buffer[] = [];
  closeCode: number | undefined;
  closeReason: string | undefined;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve({ code, reason: this.closeReason });
        this.notify();
      });
    });
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.binary.push(data);
      else this.messages.push(JSON.parse(data.toString('utf8')) as JsonMessage);
      this.notify();
    });
    onCleanup(() => this.ws.terminate());
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first message (from `from` on) matching, waiting up to `timeoutMs`. */
  async waitFor(predicate: (m: JsonMessage) => boolean, timeoutMs = 5000, from = 0): Promise<JsonMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(predicate);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`closed (${this.closeCode} ${this.closeReason}) before the message arrived`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await this.nextChange(left);
    }
  }

  waitForType(type: string, timeoutMs?: number): Promise<JsonMessage> {
    return this.waitFor((m) => m.type === type, timeoutMs);
  }

  /** Wait until `count` messages of `type` have arrived. */
  async waitForCount(type: string, count: number, timeoutMs = 5000): Promise<JsonMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.filter((m) => m.type === type);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.closeCode !== undefined) throw new Error(`expected ${count} ${type}, got ${found.length}`);
      await this.nextChange(left);
    }
  }

  ofType(type: string): JsonMessage[] {
    return this.messages.filter((m) => m.type === type);
  }

  async waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(code?: number): Promise<{ code: number; reason: string }> {
    this.ws.close(code);
    return this.closed;
  }

  private nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export function connect(url: string, options: WebSocket.ClientOptions = {}): TestClient {
  return new TestClient(new WebSocket(url, options));
}

/** Connect and wait for `connection.ready` (role channels). */
export async function connectReady(url: string, options?: WebSocket.ClientOptions): Promise<TestClient> {
  const client = connect(url, options);
  await client.waitForType('connection.ready');
  return client;
}

/** Resolve the HTTP status of an upgrade the server refuses before upgrading (404, 403, 503). */
export function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgrade unexpectedly accepted'));
    });
    ws.once('error', () => undefined);
  });
}
