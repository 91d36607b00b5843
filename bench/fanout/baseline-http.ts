/**
 * What the two baseline servers share: their HTTP surface and the event envelope.
 *
 * Both answer `GET /healthz` and `POST /publish` with the body uhs-realtime's
 * `POST /api/v1/events` takes (`{"type","data","target"?}`); the target is ignored, every
 * connected client gets every event. No authentication: they are the ceiling, not products.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Envelope {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly timestamp: string;
  readonly id: string;
}

const MAX_BODY_BYTES = 64 * 1024;
let lastId = 0;

/** An envelope as uhs-realtime sends it; the id sorts by publish order. */
export function makeEnvelope(type: string, data: Readonly<Record<string, unknown>>): Envelope {
  lastId += 1;
  return { type, data, timestamp: new Date().toISOString(), id: `${Date.now().toString(36)}-${lastId.toString(36).padStart(8, '0')}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * An HTTP request handler for a baseline: `broadcast` receives each published envelope and
 * must have handed it to every client when it returns.
 */
export function baselineHttpHandler(broadcast: (envelope: Envelope) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url === '/healthz') {
      reply(res, 200, { status: 'ok' });
      return;
    }
    if (req.method !== 'POST' || req.url !== '/publish') {
      reply(res, 404, { error: { code: 'not_found', message: 'not found' } });
      return;
    }
    readBody(req).then(
      (text) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          reply(res, 400, { error: { code: 'bad_json', message: 'body is not JSON' } });
          return;
        }
        if (!isRecord(body) || typeof body.type !== 'string' || !isRecord(body.data)) {
          reply(res, 400, { error: { code: 'bad_request', message: 'need {"type","data"}' } });
          return;
        }
        const envelope = makeEnvelope(body.type, body.data);
        broadcast(envelope);
        reply(res, 202, { id: envelope.id });
      },
      () => reply(res, 413, { error: { code: 'too_large', message: 'body too large' } }),
    );
  };
}

/** Port from `--port <n>` (0 when absent: any free port). */
export function portFromArgs(argv: readonly string[]): number {
  const index = argv.indexOf('--port');
  const value = index >= 0 ? Number(argv[index + 1]) : 0;
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`bad --port ${String(argv[index + 1])}`);
  return value;
}

/** Announces readiness on stdout as one JSON line; SIGTERM ends the process at once. */
export function announce(name: string, port: number): void {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', server: name, port, pid: process.pid })}\n`);
  process.on('SIGTERM', () => process.exit(0));
}
