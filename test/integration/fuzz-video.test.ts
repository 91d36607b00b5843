import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { arbitraryFrame, FUZZ_SEED } from '../helpers/fuzz.js';
import { startServer } from '../helpers/server.js';
import { joinVideo, registerSession } from '../helpers/video-client.js';

const DOCUMENTED_ERRORS = new Set(['bad_json', 'unknown_type', 'invalid_message', 'rate_limited', 'unknown_peer', 'forbidden']);

test('video signaling: random and mutated frames get documented errors; the room and its other peers keep working', async () => {
  const s = await startServer({ RATE_LIMIT_PER_SECOND: '100000' });
  await registerSession(s, 'fuzz-room', { host_id: 'teacher', participant_ids: ['kid', 'bystander'] });
  const fuzzer = await joinVideo(s, 'fuzz-room', 'kid', 'student');
  const teacher = await joinVideo(s, 'fuzz-room', 'teacher', 'instructor');
  const bystander = await joinVideo(s, 'fuzz-room', 'bystander', 'student');
  const frames = arbitraryFrame(['offer', 'answer', 'ice_candidate', 'ping'], { to: teacher.peerId, sdp: 'v=0', candidate: { candidate: '' } });
  await fc.assert(
    fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 10 }), async (batch) => {
      for (const frame of batch) fuzzer.client.ws.send(frame, { binary: Buffer.isBuffer(frame) });
      fuzzer.client.send({ type: 'ping' });
      const pongs = fuzzer.client.ofType('pong').length;
      await fuzzer.client.waitFor(() => fuzzer.client.ofType('pong').length > pongs);
      for (const m of fuzzer.client.messages) {
        if (m.type === 'error') assert.ok(DOCUMENTED_ERRORS.has(String(m.data.code)), `undocumented error ${JSON.stringify(m)}`);
      }
    }),
    { numRuns: 150, seed: FUZZ_SEED },
  );
  assert.equal(fuzzer.client.closeCode, undefined);
  // whatever reached the teacher was a well-formed relay stamped by the server
  for (const m of teacher.client.messages.filter((x) => ['offer', 'answer', 'ice_candidate'].includes(x.type))) {
    assert.equal(m.data.from, fuzzer.peerId);
    assert.equal(m.data.from_user_id, 'kid');
  }
  assert.equal(bystander.client.messages.filter((x) => ['offer', 'answer', 'ice_candidate'].includes(x.type)).length, 0);
  teacher.client.send({ type: 'offer', data: { to: bystander.peerId, sdp: 'v=0\r\n' } });
  const offer = await bystander.client.waitForType('offer');
  assert.equal(offer.data.from, teacher.peerId);
});
