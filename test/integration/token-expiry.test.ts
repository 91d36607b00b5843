import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { synced, yClient } from '../helpers/collab-clients.js';
import { connectReady } from '../helpers/ws-client.js';

describe('token expiry on open connections', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });

  test('auth.expiring comes up to 60 s before exp, and the connection closes 4401 token expired at exp', async () => {
    const client = await connectReady(`${s.wsUrl}/ws/student/${await s.token('short-lived', 'student', 2)}`);
    const warning = await client.waitForType('auth.expiring');
    const expiresAt = Date.parse(String(warning.data.expires_at));
    assert.ok(expiresAt > Date.now() - 1000 && expiresAt <= Date.now() + 2000);
    const closed = await client.waitForClose(5000);
    assert.deepEqual(closed, { code: 4401, reason: 'token expired' });
    assert.ok(Date.now() >= expiresAt, 'not before exp');
  });

  test('auth.refresh with a valid token for the same sub and role keeps the connection open', async () => {
    const client = await connectReady(`${s.wsUrl}/ws/parent/${await s.token('refresher', 'parent', 2)}`);
    await client.waitForType('auth.expiring');
    client.send({ type: 'auth.refresh', data: { token: await s.token('refresher', 'parent', 3600) } });
    const refreshed = await client.waitForType('auth.refreshed');
    assert.ok(Date.parse(String(refreshed.data.expires_at)) > Date.now() + 3000_000);
    // outlive the first token: a ping answered after its exp proves the connection stayed
    await new Promise((resolve) => setTimeout(resolve, 2500));
    client.send({ type: 'ping' });
    await client.waitForType('pong');
    assert.equal(client.closeCode, undefined);
  });

  test('a refresh that changes sub or role, or carries a bad token, is refused and the old expiry stands', async () => {
    const client = await connectReady(`${s.wsUrl}/ws/instructor/${await s.token('changer', 'instructor', 3)}`);
    client.send({ type: 'auth.refresh', data: { token: await s.token('someone-else', 'instructor', 3600) } });
    const other = await client.waitFor((m) => m.type === 'error');
    assert.equal(other.data.code, 'forbidden');
    client.send({ type: 'auth.refresh', data: { token: await s.token('changer', 'admin', 3600) } });
    await client.waitFor((m) => m.type === 'error' && m.data.code === 'forbidden' && m !== other);
    client.send({ type: 'auth.refresh', data: { token: 'garbage' } });
    await client.waitFor((m) => m.type === 'error' && m.data.code === 'invalid_message');
    client.send({ type: 'auth.refresh', data: {} });
    await client.waitForCount('error', 4);
    assert.equal(client.ofType('auth.refreshed').length, 0);
    assert.deepEqual(await client.waitForClose(6000), { code: 4401, reason: 'token expired' });
  });
});

describe('token expiry on a Yjs socket', () => {
  test('a y-websocket client is closed 4401 at exp and, being told not to retry, stays away', async () => {
    const s = await startServer();
    const client = yClient(s.wsUrl, 'expiring-doc', await s.token('doc-editor', 'student', 2));
    await synced(client);
    const deadline = Date.now() + 6000;
    while (!client.closeCodes.includes(4401) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(client.closeCodes.slice(0, 1), [4401]);
  });
});
