import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { startServer, tempDir, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { joinVideo, openVideo, registerSession } from '../helpers/video-client.js';

describe('video sessions API', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ VIDEO_MAX_PARTICIPANTS: '50' });
  });

  test('PUT registers (201), replaces (200), GET reads it back, with defaults filled in', async () => {
    const created = await srv.api('/api/v1/video-sessions/math-101', { method: 'PUT', body: { host_id: 'teacher-1', participant_ids: ['kid-1'] } });
    assert.equal(created.status, 201);
    const body = (await created.json()) as Record<string, unknown>;
    assert.deepEqual(
      { ...body, created_at: undefined, updated_at: undefined },
      { session_id: 'math-101', host_id: 'teacher-1', participant_ids: ['kid-1'], allowed_roles: [], max_participants: 50, created_at: undefined, updated_at: undefined },
    );
    assert.match(String(body.created_at), /Z$/);

    const replaced = await srv.api('/api/v1/video-sessions/math-101', { method: 'PUT', body: { host_id: 'teacher-2', allowed_roles: ['staff'], max_participants: 4 } });
    assert.equal(replaced.status, 200);
    const read = (await (await srv.api('/api/v1/video-sessions/math-101')).json()) as Record<string, unknown>;
    assert.equal(read.host_id, 'teacher-2');
    assert.deepEqual(read.participant_ids, [], 'PUT replaces the whole registration');
    assert.deepEqual(read.allowed_roles, ['staff']);
    assert.equal(read.max_participants, 4);
    assert.equal(read.created_at, body.created_at);
  });

  test('the API key is required; bad bodies and ids are 400 with the error shape', async () => {
    assert.equal((await srv.api('/api/v1/video-sessions/x', { method: 'PUT', body: { host_id: 'h' }, key: null })).status, 401);
    assert.equal((await srv.api('/api/v1/video-sessions/x', { method: 'PUT', body: { host_id: 'h' }, key: 'wrong' })).status, 401);
    assert.equal((await srv.api('/api/v1/video-sessions/x', { method: 'DELETE', key: null })).status, 401);
    assert.equal((await srv.api('/api/v1/video-sessions/x', { key: null })).status, 401);
    // a user token is not an API key
    const userToken = await srv.token('teacher-1', 'admin');
    assert.equal((await srv.api('/api/v1/video-sessions/x', { method: 'PUT', body: { host_id: 'h' }, key: userToken })).status, 401);

    const bad = await srv.api('/api/v1/video-sessions/x', { method: 'PUT', body: { host_id: 'h', max_participants: 0 } });
    assert.equal(bad.status, 400);
    const error = (await bad.json()) as { error: { code: string; message: string } };
    assert.equal(error.error.code, 'invalid_body');
    assert.match(error.error.message, /max_participants/);
    assert.equal((await srv.api('/api/v1/video-sessions/x', { method: 'PUT', body: '{"host_id":' })).status, 400);
    assert.equal((await srv.api('/api/v1/video-sessions/bad%20id', { method: 'PUT', body: { host_id: 'h' } })).status, 400);
    assert.equal((await srv.api('/api/v1/video-sessions/a/b', { method: 'PUT', body: { host_id: 'h' } })).status, 400);
    assert.equal((await srv.api(`/api/v1/video-sessions/${'x'.repeat(129)}`, { method: 'PUT', body: { host_id: 'h' } })).status, 400);
    assert.equal((await srv.api('/api/v1/video-sessions/never-registered')).status, 404);
    assert.equal((await srv.api('/api/v1/video-sessions/never-registered', { method: 'DELETE' })).status, 404);
  });

  test('a 128-character session id works end to end', async () => {
    const id = `c:${'x'.repeat(126)}`;
    await registerSession(srv, id, { host_id: 'teacher-1' });
    const { client } = await joinVideo(srv, id, 'teacher-1', 'instructor');
    assert.equal((await srv.api(`/api/v1/video-sessions/${id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await client.waitForClose()).code, 4410);
  });
});

describe('ICE servers', () => {
  const TURN_SECRET = 'turn-shared-secret-for-tests';
  let srv: TestServer;
  before(async () => {
    srv = await startServer({
      STUN_URLS: 'stun:stun.school.example:3478, stun:stun2.school.example:3478',
      TURN_URLS: 'turn:turn.school.example:3478?transport=udp,turns:turn.school.example:5349?transport=tcp',
      TURN_SECRET,
      TURN_TTL_SECONDS: '600',
      ALLOWED_ORIGINS: 'https://school.example',
    });
  });

  const get = (headers: Record<string, string>) => fetch(`${srv.httpUrl}/api/v1/ice-servers`, { headers });

  test('a user JWT gets STUN, and TURN with REST credentials that recompute', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await get({ authorization: `Bearer ${await srv.token('kid-7', 'student')}` });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as { ice_servers: Array<{ urls: string[]; username?: string; credential?: string }>; ttl: number };
    assert.equal(body.ttl, 600);
    assert.deepEqual(body.ice_servers[0], { urls: ['stun:stun.school.example:3478', 'stun:stun2.school.example:3478'] });
    const turn = body.ice_servers[1]!;
    assert.deepEqual(turn.urls, ['turn:turn.school.example:3478?transport=udp', 'turns:turn.school.example:5349?transport=tcp']);
    const [expiry, userId] = turn.username!.split(':');
    assert.equal(userId, 'kid-7');
    const after = Math.floor(Date.now() / 1000);
    assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= after + 600, `expiry ${expiry}`);
    const expected = createHmac('sha1', TURN_SECRET).update(turn.username!).digest('base64');
    assert.equal(turn.credential, expected);
    assert.equal(body.ice_servers.length, 2);
  });

  test('no token, a bad or expired token, or the API key instead: 401', async () => {
    assert.equal((await get({})).status, 401);
    assert.equal((await get({ authorization: 'Bearer not-a-jwt' })).status, 401);
    assert.equal((await get({ authorization: `Bearer ${srv.server.config.publishApiKey}` })).status, 401);
    const expired = await mintAccessToken({ secret: TEST_SECRET, sub: 'kid-7', role: 'student', ttlSeconds: -10 });
    const res = await get({ authorization: `Bearer ${expired}` });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: { code: 'unauthorized', message: 'token expired' } });
    const other = await mintAccessToken({ secret: 'another-secret-0123456789', sub: 'kid-7', role: 'student', ttlSeconds: 60 });
    assert.equal((await get({ authorization: `Bearer ${other}` })).status, 401);
  });

  test('browsers of allowed origins may call it cross-origin', async () => {
    const preflight = await fetch(`${srv.httpUrl}/api/v1/ice-servers`, {
      method: 'OPTIONS',
      headers: { origin: 'https://school.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://school.example');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const res = await get({ origin: 'https://school.example', authorization: `Bearer ${await srv.token('kid-7', 'student')}` });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://school.example');
    const foreign = await get({ origin: 'https://evil.example', authorization: `Bearer ${await srv.token('kid-7', 'student')}` });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  test('with nothing configured the list is empty', async () => {
    const bare = await startServer();
    const res = await fetch(`${bare.httpUrl}/api/v1/ice-servers`, { headers: { authorization: `Bearer ${await bare.token('u', 'parent')}` } });
    assert.deepEqual(await res.json(), { ice_servers: [], ttl: 3600 });
  });
});

describe('video sessions survive a restart', () => {
  test('a session registered before a restart admits its participants after it', async () => {
    const databaseUrl = `sqlite:${join(tempDir(), 'restart.db')}`;
    const first = await startServer({ DATABASE_URL: databaseUrl });
    await registerSession(first, 'kept-class', { host_id: 'teacher-1', participant_ids: ['kid-1'], max_participants: 3 });
    await first.close();

    const second = await startServer({ DATABASE_URL: databaseUrl });
    const host = await joinVideo(second, 'kept-class', 'teacher-1', 'instructor');
    const kid = await joinVideo(second, 'kept-class', 'kid-1', 'student');
    assert.deepEqual(kid.peers.map((p) => p.user_id), ['teacher-1']);
    const stranger = await openVideo(second, 'kept-class', 'kid-2', 'student');
    assert.equal((await stranger.waitForClose()).code, 4403);
    const read = (await (await second.api('/api/v1/video-sessions/kept-class')).json()) as { max_participants: number };
    assert.equal(read.max_participants, 3);
    await Promise.all([host.client.close(1000), kid.client.close(1000)]);
  });
});
