import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { mintAccessToken } from '../../src/adapters/auth/token-minter.js';
import { CLI, freePort } from '../helpers/child-server.js';
import { onCleanup } from '../helpers/cleanup.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { REDIS_URL, redisPrefix } from '../helpers/redis.js';
import { tempDir, TEST_API_KEY, TEST_SECRET } from '../helpers/server.js';
import { connectReady, type TestClient } from '../helpers/ws-client.js';

test('serve --workers 2: two instances on one port act as one server and drain together on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--workers', '2'], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_SECRET,
      PUBLISH_API_KEY: TEST_API_KEY,
      DATA_DIR: tempDir(),
      DATABASE_URL: await createTestDatabase(),
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix(),
      LOG_LEVEL: 'warn',
      NODE_ENV: 'test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  onCleanup(() => child.kill('SIGKILL'));

  const clients: TestClient[] = [];
  const instances = new Set<string>();
  const deadline = Date.now() + 20_000;
  // connections are spread over both workers; keep opening until both have answered
  while (instances.size < 2 || clients.length < 8) {
    if (Date.now() > deadline) throw new Error(`saw instances ${[...instances]}; ${output}`);
    try {
      const token = await mintAccessToken({ secret: TEST_SECRET, sub: `w-${clients.length}`, role: 'staff', ttlSeconds: 60 });
      const client = await connectReady(`ws://127.0.0.1:${port}/ws/staff/${token}`);
      clients.push(client);
      instances.add(String(client.messages[0]!.data.connection_id).split('-')[0] ?? '');
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100)); // workers still starting
    }
  }
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'staff.team_chat', data: { k: 'workers' }, target: { roles: ['staff'] } }),
  });
  assert.equal(response.status, 202);
  for (const client of clients) await client.waitFor((m) => m.data.k === 'workers');
  for (const client of clients) assert.equal(client.messages.filter((m) => m.data.k === 'workers').length, 1);

  child.kill('SIGTERM');
  for (const client of clients) assert.equal((await client.waitForClose(10_000)).code, 1001);
  assert.equal(await exited, 0, output);
});
