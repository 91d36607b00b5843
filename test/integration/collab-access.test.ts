import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { before, describe, test } from 'node:test';
import { httpDocAuthorizer } from '../../src/features/collab/http-doc-authorizer.js';
import { createLogger } from '../../src/shared/logger.js';
import { addParagraph, docReaches, fragmentText, synced, withTimeout, yClient } from '../helpers/collab-clients.js';
import { serveLoopback } from '../helpers/loopback-http.js';
import { startServer, type TestServer } from '../helpers/server.js';

interface AuthRequest {
  readonly user_id: string;
  readonly role: string;
  readonly doc_id: string;
}

/** A real HTTP authorization hook: access by user id, with a few misbehaving users. */
async function startHook(): Promise<{ url: string; requests: AuthRequest[] }> {
  const requests: AuthRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const request = JSON.parse(body) as AuthRequest;
      requests.push(request);
      const reply = (status: number, payload: string): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(payload);
      };
      if (request.user_id.startsWith('writer')) return reply(200, JSON.stringify({ access: 'write' }));
      if (request.user_id.startsWith('reader')) return reply(200, JSON.stringify({ access: 'read' }));
      if (request.user_id === 'broken') return reply(500, '{}');
      if (request.user_id === 'garbled') return reply(200, JSON.stringify({ access: 'admin' }));
      if (request.user_id === 'slow') return void setTimeout(() => reply(200, JSON.stringify({ access: 'write' })), 5000);
      return reply(200, JSON.stringify({ access: 'none' }));
    });
  };
  return { url: `${await serveLoopback(handler)}/authorize`, requests };
}

describe('document access through YJS_AUTH_URL', () => {
  let server: TestServer;
  let hook: { url: string; requests: AuthRequest[] };
  before(async () => {
    hook = await startHook();
    server = await startServer({ YJS_AUTH_URL: hook.url });
  });

  test('the hook is asked with user, role and document', async () => {
    const writer = yClient(server.wsUrl, 'acl-1', await server.token('writer-1', 'instructor'));
    await synced(writer);
    assert.deepEqual(hook.requests.find((r) => r.user_id === 'writer-1'), { user_id: 'writer-1', role: 'instructor', doc_id: 'acl-1' });
  });

  test('a read peer syncs and shows awareness, but its updates are dropped', async () => {
    const writer = yClient(server.wsUrl, 'acl-2', await server.token('writer-2', 'student'));
    await synced(writer);
    addParagraph(writer.doc, 'written by the writer');
    const reader = yClient(server.wsUrl, 'acl-2', await server.token('reader-2', 'student'));
    reader.provider.awareness.setLocalStateField('user', { name: 'Reader' });
    await synced(reader);
    await docReaches(reader.doc, (d) => fragmentText(d).includes('written by the writer'));
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (writer.provider.awareness.getStates().has(reader.doc.clientID)) resolve();
          else writer.provider.awareness.once('change', check);
        };
        check();
      }),
      5000,
      'the reader awareness at the writer',
    );

    addParagraph(reader.doc, 'attempted by the reader');
    // anything sent after the reader's update arrives after it: the writer's next edit is the marker
    const marker = yClient(server.wsUrl, 'acl-2', await server.token('writer-3', 'student'));
    await synced(marker);
    addParagraph(marker.doc, 'marker');
    await docReaches(writer.doc, (d) => fragmentText(d).includes('marker'));
    assert.ok(!fragmentText(writer.doc).includes('attempted by the reader'), 'the reader update was not relayed');
    const state = await server.api('/api/v1/docs/acl-2');
    assert.ok(!Buffer.from(await state.arrayBuffer()).includes('attempted by the reader'), 'nor applied on the server');
    assert.deepEqual(reader.closeCodes, [], 'the reader stays connected');
  });

  for (const user of ['nobody', 'broken', 'garbled']) {
    test(`'${user}' is refused with 4403 and the client stops reconnecting`, async () => {
      const client = yClient(server.wsUrl, 'acl-3', await server.token(user, 'student'));
      const closed = await withTimeout(new Promise<{ code: number }>((resolve) => client.provider.once('closed', resolve)), 10_000, 'the final close');
      assert.equal(closed.code, 4403);
      assert.equal(client.provider.shouldConnect, false);
    });
  }
});

describe('the HTTP document authorizer', () => {
  test('answers are cached briefly, concurrent questions share a request, failures fail closed and are not cached', async () => {
    const hook = await startHook();
    const authorize = httpDocAuthorizer({ url: hook.url, logger: createLogger({ level: 'silent' }), cacheTtlMs: 60_000, timeoutMs: 300 });
    const writer = { userId: 'writer-9', role: 'student' as const, expiresAt: Date.now() + 60_000 };
    const answers = await Promise.all([authorize(writer, 'd1'), authorize(writer, 'd1'), authorize(writer, 'd1')]);
    assert.deepEqual(answers, ['write', 'write', 'write']);
    assert.equal(await authorize(writer, 'd1'), 'write');
    assert.equal(hook.requests.length, 1);
    assert.equal(await authorize(writer, 'd2'), 'write');
    assert.equal(hook.requests.length, 2);

    const slow = { ...writer, userId: 'slow' };
    assert.equal(await authorize(slow, 'd1'), 'none', 'a timeout fails closed');
    const broken = { ...writer, userId: 'broken' };
    assert.equal(await authorize(broken, 'd1'), 'none');
    assert.equal(await authorize(broken, 'd1'), 'none');
    assert.equal(hook.requests.filter((r) => r.user_id === 'broken').length, 2, 'a failure is not cached');
    const unreachable = httpDocAuthorizer({ url: 'http://127.0.0.1:9/authorize', logger: createLogger({ level: 'silent' }) });
    assert.equal(await unreachable(writer, 'd1'), 'none');
  });
});
