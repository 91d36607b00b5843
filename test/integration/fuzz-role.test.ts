import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { arbitraryFrame, FUZZ_SEED } from '../helpers/fuzz.js';
import { startServer } from '../helpers/server.js';
import { connectReady } from '../helpers/ws-client.js';

const DOCUMENTED_ERRORS = new Set(['bad_json', 'unknown_type', 'invalid_message', 'rate_limited', 'forbidden']);

test('role channel: random and mutated frames get documented errors, the connection and everyone else keep working', async () => {
  const s = await startServer({ RATE_LIMIT_PER_SECOND: '100000' });
  const victim = await connectReady(`${s.wsUrl}/ws/student/${await s.token('fuzzed', 'student')}`);
  const bystander = await connectReady(`${s.wsUrl}/ws/student/${await s.token('bystander', 'student')}`);
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(arbitraryFrame(['ping', 'resume', 'auth.refresh'], { since: 'x' }), { minLength: 1, maxLength: 10 }), async (frames) => {
      for (const frame of frames) victim.ws.send(frame, { binary: Buffer.isBuffer(frame) });
      sent += frames.length;
      // a ping behind the frames proves each was answered in order and the connection lives
      victim.send({ type: 'ping' });
      const pongs = victim.ofType('pong').length;
      await victim.waitFor((m) => m.type === 'pong' && victim.ofType('pong').length > pongs);
      for (const m of victim.messages) {
        if (m.type === 'error') assert.ok(DOCUMENTED_ERRORS.has(String(m.data.code)), `undocumented error ${JSON.stringify(m)}`);
        else assert.ok(['connection.ready', 'pong', 'resume.done', 'auth.refreshed', 'user.online'].includes(m.type), `unexpected ${m.type}`);
      }
    }),
    { numRuns: 150, seed: FUZZ_SEED },
  );
  assert.ok(sent >= 150);
  assert.equal(victim.closeCode, undefined);
  bystander.send({ type: 'ping' });
  await bystander.waitForType('pong');
  assert.equal((await s.api('/healthz', { key: null })).status, 200);
});
