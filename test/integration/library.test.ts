import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { onCleanup } from '../helpers/cleanup.js';
import { tempDir, TEST_API_KEY, TEST_SECRET } from '../helpers/server.js';
import { connectReady } from '../helpers/ws-client.js';

test('embedded in another Node service: import { createServer } from "uhs-realtime" and send through its API', async () => {
  // the package name resolves to the built entry point (npm ci builds it), exactly as a consumer would import it
  const { createServer, mintAccessToken } = await import('uhs-realtime');
  const dir = tempDir();
  const server = await createServer({
    env: { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, 'lib.db')}`, JWT_SECRET: TEST_SECRET, PUBLISH_API_KEY: TEST_API_KEY, LOG_LEVEL: 'silent' },
  });
  onCleanup(() => server.close());
  const { port } = await server.listen();
  const url = (sub: string, role: 'admin' | 'student' | 'staff') =>
    mintAccessToken({ secret: TEST_SECRET, sub, role, ttlSeconds: 60 }).then((t) => `ws://127.0.0.1:${port}/ws/${role}/${t}`);
  const admin = await connectReady(await url('lib-admin', 'admin'));
  const student = await connectReady(await url('lib-student', 'student'));
  const staff = await connectReady(await url('lib-staff', 'staff'));

  await server.connections.sendToUser('lib-student', 'student.assignment.due', { assignment: 'a1' });
  assert.deepEqual((await student.waitForType('student.assignment.due')).data, { assignment: 'a1' });
  await server.connections.broadcastToRole('staff', 'staff.team_chat', { text: 'hi' });
  await staff.waitForType('staff.team_chat');
  await server.connections.broadcastToAdmins('system.alert', { level: 'low' });
  await admin.waitForType('system.alert');
  await server.connections.broadcastAll('notification', { text: 'all' });
  for (const c of [admin, student, staff]) await c.waitForType('notification');
  assert.equal(student.ofType('system.alert').length, 0);
  assert.equal((await server.connections.userPresence('lib-student')).online, true);
  await server.connections.disconnectUser('lib-student');
  assert.equal((await student.waitForClose()).code, 4410);
});
