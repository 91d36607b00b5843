import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import * as Y from 'yjs';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { startChildServer } from '../helpers/child-server.js';
import { addParagraph, fragmentText, synced, yClient } from '../helpers/collab-clients.js';
import { DIALECTS } from '../helpers/dialects.js';
import { tempDir, TEST_API_KEY, TEST_SECRET } from '../helpers/server.js';
import { connect, type TestClient } from '../helpers/ws-client.js';

const token = (sub: string, role: 'student' | 'staff' | 'parent') => mintAccessToken({ secret: TEST_SECRET, sub, role, ttlSeconds: 600 });

for (const dialect of DIALECTS) {
  test(`kill -9 during heavy editing and chatting (${dialect.name}): every update a peer saw and every chat message a client saw survive`, async () => {
    const dir = tempDir();
    const env = { DATA_DIR: dir, DATABASE_URL: dialect.name === 'sqlite' ? `sqlite:${join(dir, 'crash.db')}` : await dialect.url(), RATE_LIMIT_PER_SECOND: '1000' };
    const first = await startChildServer(env);
    const base = `ws://127.0.0.1:${first.port}`;
    const http = `http://127.0.0.1:${first.port}`;
    const api = (path: string, init: RequestInit = {}) =>
      fetch(http + path, { ...init, headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' } });
    assert.ok((await api('/api/v1/tickets/crash-ticket', { method: 'PUT', body: JSON.stringify({ requester_id: 'customer' }) })).ok);

    const writer = yClient(base, 'crash-doc', await token('writer', 'student'));
    const observer = yClient(base, 'crash-doc', await token('observer', 'student'));
    await synced(writer);
    await synced(observer);
    const customer: TestClient = connect(`${base}/ws/support-chat/crash-ticket/${await token('customer', 'parent')}`);
    const agent: TestClient = connect(`${base}/ws/support-chat/crash-ticket/${await token('agent', 'staff')}`);
    await customer.waitForType('chat_history');
    await agent.waitForType('chat_history');

    // heavy load: a paragraph and a chat message every few milliseconds, until the kill
    let n = 0;
    const typing = setInterval(() => {
      addParagraph(writer.doc, `line ${n}`);
      customer.send({ type: 'chat_message', data: { content: `message ${n}`, client_msg_id: `c-${n}` } });
      n++;
    }, 3);
    const deadline = Date.now() + 10_000;
    while (agent.ofType('chat_message').length < 100 || !fragmentText(observer.doc).includes('line 100<')) {
      if (Date.now() > deadline) throw new Error('load did not get going');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    first.process.kill('SIGKILL');
    clearInterval(typing);
    // what the peers saw at the moment of the crash (taken before anything could reconnect and push state back)
    const seenText = fragmentText(observer.doc);
    const seenMessages = agent.ofType('chat_message').map((m) => String(m.data.content));
    writer.destroy();
    observer.destroy();
    await first.exited;
    assert.ok(seenMessages.length >= 100);

    const second = await startChildServer(env);
    const api2 = (path: string) => fetch(`http://127.0.0.1:${second.port}${path}`, { headers: { authorization: `Bearer ${TEST_API_KEY}` } });
    const restored = new Y.Doc();
    Y.applyUpdate(restored, new Uint8Array(await (await api2('/api/v1/docs/crash-doc')).arrayBuffer()));
    const restoredText = fragmentText(restored);
    const seenLines = seenText.match(/line \d+/g) ?? [];
    assert.ok(seenLines.length >= 100);
    for (const line of seenLines) assert.ok(restoredText.includes(`${line}<`), `"${line}" that a peer saw survived the crash`);
    const stored = (await (await api2('/api/v1/tickets/crash-ticket/messages?limit=1000')).json()) as { messages: Array<{ content: string }> };
    const storedContents = new Set(stored.messages.map((m) => m.content));
    for (const content of seenMessages) assert.ok(storedContents.has(content), `"${content}" that a client saw survived the crash`);
    second.process.kill('SIGTERM');
    await second.exited;
  });
}
