import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { serveLoopback } from '../helpers/loopback-http.js';
import { startServer, TEST_SECRET, type TestServer } from '../helpers/server.js';
import { connect, connectReady, upgradeStatus } from '../helpers/ws-client.js';

const secretKey = new TextEncoder().encode(TEST_SECRET);
const now = () => Math.floor(Date.now() / 1000);

function sign(claims: Record<string, unknown>, alg = 'HS256', key: Parameters<SignJWT['sign']>[0] = secretKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(key);
}

describe('authentication (HS256)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ ALLOWED_ORIGINS: 'https://school.example' });
  });

  test('accepts a token in the path, the query, or the Authorization header', async () => {
    const token = await s.token('u-path', 'student');
    const a = await connectReady(`${s.wsUrl}/ws/student/${token}`);
    const b = await connectReady(`${s.wsUrl}/ws/student?token=${token}`);
    const c = await connectReady(`${s.wsUrl}/ws/student`, { headers: { authorization: `Bearer ${token}` } });
    for (const client of [a, b, c]) {
      const ready = client.ofType('connection.ready')[0]!;
      assert.equal(ready.data.user_id, 'u-path');
      assert.equal(ready.data.role, 'student');
    }
  });

  const refusals: Array<[string, () => Promise<string>, number, string]> = [
    ['expired', () => sign({ sub: 'u', role: 'admin', type: 'access', exp: now() - 10 }), 4401, 'token expired'],
    ['wrong type', () => sign({ sub: 'u', role: 'admin', type: 'refresh', exp: now() + 60 }), 4401, 'wrong token type'],
    ['no sub', () => sign({ role: 'admin', type: 'access', exp: now() + 60 }), 4401, 'token invalid'],
    ['empty sub', () => sign({ sub: '', role: 'admin', type: 'access', exp: now() + 60 }), 4401, 'token has no subject'],
    ['no exp', () => sign({ sub: 'u', role: 'admin', type: 'access' }), 4401, 'token invalid'],
    ['unknown role', () => sign({ sub: 'u', role: 'janitor', type: 'access', exp: now() + 60 }), 4401, 'unknown role'],
    ['bad signature', () => new SignJWT({ sub: 'u', role: 'admin', type: 'access', exp: now() + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('another-secret-0123456789')), 4401, 'token invalid'],
    ['alg none', async () => unsignedToken({ sub: 'u', role: 'admin', type: 'access', exp: now() + 60 }), 4401, 'token invalid'],
    ['garbage', async () => 'not-a-jwt', 4401, 'token invalid'],
    ['role mismatch', () => sign({ sub: 'u', role: 'student', type: 'access', exp: now() + 60 }), 4403, 'role mismatch: token is for student'],
  ];
  for (const [name, makeToken, code, reason] of refusals) {
    test(`refuses a token with ${name}: ${code} ${reason}`, async () => {
      const client = connect(`${s.wsUrl}/ws/admin/${await makeToken()}`);
      const closed = await client.waitForClose();
      assert.deepEqual(closed, { code, reason });
      assert.equal(client.messages.length, 0, 'nothing is delivered before the close');
    });
  }

  test('refuses a missing token with 4401', async () => {
    const closed = await connect(`${s.wsUrl}/ws/admin`).waitForClose();
    assert.deepEqual(closed, { code: 4401, reason: 'token missing' });
  });

  test('unknown paths get HTTP 404 without an upgrade', async () => {
    const token = await s.token('u', 'admin');
    for (const path of [`/ws/janitor/${token}`, '/ws', '/nope', `/ws/admin/${token}/extra`, '/ws/unknown-endpoint/x']) {
      assert.equal(await upgradeStatus(`${s.wsUrl}${path}`), 404, path);
    }
  });

  test('an Origin outside ALLOWED_ORIGINS gets HTTP 403; a listed one connects', async () => {
    const token = await s.token('u-origin', 'admin');
    assert.equal(await upgradeStatus(`${s.wsUrl}/ws/admin/${token}`, { origin: 'https://evil.example' }), 403);
    await connectReady(`${s.wsUrl}/ws/admin/${token}`, { origin: 'https://school.example' });
  });

  test('tokens and the API key never appear in logs', async () => {
    const token = await s.token('u-log', 'admin');
    await connectReady(`${s.wsUrl}/ws/admin/${token}`);
    await connectReady(`${s.wsUrl}/ws/admin?token=${token}`);
    await connect(`${s.wsUrl}/ws/staff/${token}`).waitForClose();
    await upgradeStatus(`${s.wsUrl}/ws/admin/${token}`, { origin: 'https://evil.example' });
    await s.api('/api/v1/events', { body: { type: 'system.alert', data: {} } });
    await s.api('/api/v1/events', { body: { type: 'nope' }, key: 'wrong-key-value-123' });
    const server = s.server;
    server.logger.info({ token, headers: { authorization: `Bearer ${token}` }, url: `/ws/admin/${token}` }, 'a line that tries to log secrets');
    server.logger.info({ url: `/ws/yjs/doc1?token=${token}` }, 'query token');
    const text = s.logs.join('');
    assert.ok(text.includes('a line that tries to log secrets'), 'the log line was written');
    assert.ok(!text.includes(token), 'the token is not in the logs');
    assert.ok(!text.includes(token.split('.')[2]!), 'not even the signature part');
    assert.ok(!text.includes('test-api-key'), 'the API key is not in the logs');
    assert.ok(!text.includes('wrong-key-value-123'));
  });
});

describe('authentication with public keys', () => {
  test('RS256 with JWT_PUBLIC_KEY; HS256 tokens are then refused', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const s = await startServer({ JWT_SECRET: '', JWT_PUBLIC_KEY: await exportSPKI(publicKey) });
    const good = await sign({ sub: 'rs', role: 'parent', type: 'access', exp: now() + 60 }, 'RS256', privateKey);
    await connectReady(`${s.wsUrl}/ws/parent/${good}`);
    const hs = await sign({ sub: 'rs', role: 'parent', type: 'access', exp: now() + 60 });
    assert.equal((await connect(`${s.wsUrl}/ws/parent/${hs}`).waitForClose()).code, 4401);
  });

  test('ES256 from a JWKS endpoint, with issuer and audience checked', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const jwks = await serveLoopback((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    const jwksUrl = `${jwks}/.well-known/jwks.json`;
    const s = await startServer({ JWT_SECRET: '', JWT_JWKS_URL: jwksUrl, JWT_ISSUER: 'https://id.school', JWT_AUDIENCE: 'realtime' });
    const make = (iss: string, aud: string) =>
      new SignJWT({ sub: 'es', role: 'instructor', type: 'access' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(iss)
        .setAudience(aud)
        .setExpirationTime(now() + 60)
        .sign(privateKey);
    await connectReady(`${s.wsUrl}/ws/instructor/${await make('https://id.school', 'realtime')}`);
    assert.equal((await connect(`${s.wsUrl}/ws/instructor/${await make('https://other', 'realtime')}`).waitForClose()).code, 4401);
    assert.equal((await connect(`${s.wsUrl}/ws/instructor/${await make('https://id.school', 'other')}`).waitForClose()).code, 4401);
  });
});

function unsignedToken(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
