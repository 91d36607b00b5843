import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { createJoseTokenVerifier } from '../../src/adapters/auth/jose-token-verifier.js';
import { CLI, startChildServer } from '../helpers/child-server.js';
import { tempDir, TEST_API_KEY, TEST_SECRET } from '../helpers/server.js';
import { connectReady } from '../helpers/ws-client.js';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, JWT_SECRET: TEST_SECRET, PUBLISH_API_KEY: TEST_API_KEY, ...env } });

describe('uhs-realtime CLI', () => {
  test('token mints a verifiable access token', async () => {
    const { stdout } = await cli(['token', '--sub', 'cli-user', '--role', 'staff', '--ttl', '120']);
    const verifier = await createJoseTokenVerifier({ secret: TEST_SECRET });
    const result = await verifier.verify(stdout.trim());
    assert.ok(result.ok);
    assert.equal(result.value.userId, 'cli-user');
    assert.equal(result.value.role, 'staff');
    assert.ok(result.value.expiresAt - Date.now() <= 120_000);
  });

  test('token refuses a bad role with a clear message and exit code 2', async () => {
    await assert.rejects(cli(['token', '--sub', 'x', '--role', 'janitor']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /--role must be one of/);
      return true;
    });
  });

  test('migrate applies the schema once', async () => {
    const dir = tempDir();
    const env = { DATABASE_URL: `sqlite:${join(dir, 'm.db')}`, DATA_DIR: dir };
    assert.match((await cli(['migrate'], env)).stdout, /applied: 0001-events/);
    assert.match((await cli(['migrate'], env)).stdout, /schema is up to date/);
  });

  test('publish sends an event through the HTTP API to a running server', async () => {
    const dir = tempDir();
    const server = await startChildServer({ DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'p.db')}` });
    const { stdout: token } = await cli(['token', '--sub', 'cli-parent', '--role', 'parent']);
    const parent = await connectReady(`ws://127.0.0.1:${server.port}/ws/parent/${token.trim()}`);
    const { stdout } = await cli(['publish', '--type', 'parent.report.weekly', '--data', '{"week":12}', '--user', 'cli-parent', '--url', `http://127.0.0.1:${server.port}`]);
    assert.match(stdout, /"id"/);
    const event = await parent.waitForType('parent.report.weekly');
    assert.deepEqual(event.data, { week: 12 });
  });

  test('a malformed variable stops the start with one line naming it', async () => {
    await assert.rejects(cli(['serve'], { PORT: 'eighty', DATA_DIR: tempDir() }), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.equal(error.stderr.trim().split('\n').length, 1);
      assert.match(error.stderr, /PORT/);
      return true;
    });
  });

  test('NODE_ENV=production refuses to start without secrets', async () => {
    await assert.rejects(cli(['serve'], { NODE_ENV: 'production', JWT_SECRET: '', DATA_DIR: tempDir() }), (error: { stderr: string }) => {
      assert.match(error.stderr, /JWT_SECRET is required when NODE_ENV=production/);
      return true;
    });
    await assert.rejects(cli(['serve'], { NODE_ENV: 'production', PUBLISH_API_KEY: '', DATA_DIR: tempDir() }), (error: { stderr: string }) => {
      assert.match(error.stderr, /PUBLISH_API_KEY is required/);
      return true;
    });
  });

  test('development start with no variables prints a working URL per role', async () => {
    const dir = tempDir();
    const server = await startChildServer({ DATA_DIR: dir, JWT_SECRET: '', PUBLISH_API_KEY: '', NODE_ENV: '' });
    // the help is printed just after the port opens
    const deadline = Date.now() + 10_000;
    while (!server.output().includes('Publish an event') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const output = server.output();
    for (const role of ['admin', 'staff', 'instructor', 'parent', 'student', 'partner']) {
      assert.match(output, new RegExp(`ws://localhost:\\d+/ws/${role}/[\\w-]+\\.[\\w-]+\\.[\\w-]+`));
    }
    const url = /ws:\/\/localhost:\d+\/ws\/student\/\S+/.exec(output)![0].replace('localhost', '127.0.0.1');
    const client = await connectReady(url);
    assert.equal(client.messages[0]!.data.role, 'student');
    assert.match(output, /Publish API key/);
  });
});
