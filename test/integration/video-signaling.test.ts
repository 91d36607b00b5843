import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { REDIS_URL, redisPrefix } from '../helpers/redis.js';
import { startServer as startAlone, type TestServer } from '../helpers/server.js';
import { connect } from '../helpers/ws-client.js';
import { joinVideo, openVideo, registerSession, videoConnections, waitUntil } from '../helpers/video-client.js';

const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n';

/** The same suite on the default in-process membership and on the Redis one (a single instance with REDIS_URL). */
const BACKENDS = ['memory', 'redis'] as const;

for (const backend of BACKENDS) {
  const startServer = (env: Record<string, string> = {}): Promise<TestServer> =>
    startAlone(backend === 'redis' ? { REDIS_URL, REDIS_KEY_PREFIX: redisPrefix(), ...env } : env);

  describe(`video signaling: access (${backend})`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer();
      await registerSession(srv, 'access-1', { host_id: 'teacher', participant_ids: ['kid-1'], allowed_roles: ['staff'] });
      await registerSession(srv, 'small', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'], max_participants: 2 });
    });

    test('an unregistered session is 4404', async () => {
      const client = await openVideo(srv, 'nobody-registered-this', 'teacher', 'instructor');
      assert.equal((await client.waitForClose()).code, 4404);
    });

    test('host, participant, allowed role and admin get in; anyone else is 4403', async () => {
      for (const [user, role] of [['teacher', 'instructor'], ['kid-1', 'student'], ['any-staff', 'staff'], ['root', 'admin']] as const) {
        const { client, peerId } = await joinVideo(srv, 'access-1', user, role);
        assert.match(peerId, /^[A-Za-z0-9_-]{22}$/);
        await client.close(1000);
      }
      for (const [user, role] of [['kid-2', 'student'], ['parent-1', 'parent'], ['teacher-2', 'instructor']] as const) {
        const client = await openVideo(srv, 'access-1', user, role);
        const closed = await client.waitForClose();
        assert.equal(closed.code, 4403, `${user} should be refused`);
        assert.equal(client.messages.length, 0, 'a refused user learns nothing about the room');
      }
    });

    test('the token may come as ?token= and as a bearer header too', async () => {
      const token = await srv.token('kid-1', 'student');
      const viaQuery = connect(`${srv.wsUrl}/ws/video/access-1?token=${token}`);
      await viaQuery.waitForType('peers');
      const viaHeader = connect(`${srv.wsUrl}/ws/video/access-1`, { headers: { authorization: `Bearer ${token}` } });
      await viaHeader.waitForType('peers');
      await Promise.all([viaQuery.close(1000), viaHeader.close(1000)]);
      const noToken = connect(`${srv.wsUrl}/ws/video/access-1`);
      assert.equal((await noToken.waitForClose()).code, 4401);
    });

    test('a full session is 4429; a place frees up when a peer leaves', async () => {
      const a = await joinVideo(srv, 'small', 'kid-1', 'student');
      const b = await joinVideo(srv, 'small', 'kid-2', 'student');
      const c = await openVideo(srv, 'small', 'teacher', 'instructor');
      assert.equal((await c.waitForClose()).code, 4429);
      await b.client.close(1000);
      await a.client.waitForType('peer_left');
      const again = await joinVideo(srv, 'small', 'teacher', 'instructor');
      assert.deepEqual(again.peers.map((p) => p.peer_id), [a.peerId]);
    });

    test('a malformed peer_id is 4400; an unknown one just gets a fresh id', async () => {
      const bad = await openVideo(srv, 'access-1', 'kid-1', 'student', { peerId: 'not a peer id!' });
      assert.equal((await bad.waitForClose()).code, 4400);
      const fresh = await joinVideo(srv, 'access-1', 'kid-1', 'student', { peerId: 'AAAAAAAAAAAAAAAAAAAAAA' });
      assert.notEqual(fresh.peerId, 'AAAAAAAAAAAAAAAAAAAAAA');
    });
  });

  describe(`video signaling: peers and relay (${backend})`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer({ VIDEO_REJOIN_GRACE_SECONDS: '30' });
      await registerSession(srv, 'relay', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'] });
      await registerSession(srv, 'other-room', { host_id: 'teacher' });
    });

    test('peers on join, peer_joined to the others, peer_left at once on a clean close', async () => {
      const a = await joinVideo(srv, 'relay', 'teacher', 'instructor');
      assert.deepEqual(a.peers, []);
      const b = await joinVideo(srv, 'relay', 'kid-1', 'student');
      assert.deepEqual(b.peers, [{ peer_id: a.peerId, user_id: 'teacher', role: 'instructor' }]);
      const joined = await a.client.waitForType('peer_joined');
      assert.deepEqual(joined.data, { peer_id: b.peerId, user_id: 'kid-1', role: 'student' });
      assert.match(joined.timestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(b.client.ofType('peer_joined').length, 0, 'a peer is not told about itself');

      // a close frame is a departure, grace or not (the grace here is 30 s)
      await b.client.close(1000);
      const left = await a.client.waitForType('peer_left');
      assert.deepEqual(left.data, { peer_id: b.peerId });
      await a.client.close(1001);
    });

    test('offer, answer and ice_candidate reach only the addressed peer, stamped by the server', async () => {
      const a = await joinVideo(srv, 'relay', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'relay', 'kid-1', 'student');
      const c = await joinVideo(srv, 'relay', 'kid-2', 'student');

      a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP, from: c.peerId, from_user_id: 'kid-2' } });
      const offer = await b.client.waitForType('offer');
      assert.deepEqual(offer.data, { to: b.peerId, sdp: SDP, from: a.peerId, from_user_id: 'teacher' });

      b.client.send({ type: 'answer', data: { to: a.peerId, sdp: SDP } });
      const answer = await a.client.waitForType('answer');
      assert.deepEqual(answer.data, { to: a.peerId, sdp: SDP, from: b.peerId, from_user_id: 'kid-1' });

      const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
      b.client.send({ type: 'ice_candidate', data: { to: a.peerId, candidate } });
      const ice = await a.client.waitForType('ice_candidate');
      assert.deepEqual(ice.data, { to: a.peerId, candidate, from: b.peerId, from_user_id: 'kid-1' });

      // c addressed itself and a stranger; it also sees that nothing of a/b's exchange reached it
      c.client.send({ type: 'offer', data: { to: c.peerId, sdp: SDP } });
      const selfError = await c.client.waitForType('error');
      assert.equal(selfError.data.code, 'invalid_message');
      c.client.send({ type: 'ping' });
      await c.client.waitForType('pong');
      assert.deepEqual(
        c.client.messages.map((m) => m.type),
        ['peers', 'error', 'pong'],
      );
      await Promise.all([a.client.close(1000), b.client.close(1000), c.client.close(1000)]);
    });

    test('unknown_peer for ids that are not in this room, peers of other rooms included', async () => {
      const a = await joinVideo(srv, 'relay', 'teacher', 'instructor');
      const elsewhere = await joinVideo(srv, 'other-room', 'teacher', 'instructor');
      for (const to of ['AAAAAAAAAAAAAAAAAAAAAA', elsewhere.peerId]) {
        const from = a.client.messages.length;
        a.client.send({ type: 'offer', data: { to, sdp: SDP } });
        const error = await a.client.waitFor((m) => m.type === 'error', 5000, from);
        assert.equal(error.data.code, 'unknown_peer');
      }
      elsewhere.client.send({ type: 'ping' });
      await elsewhere.client.waitForType('pong');
      assert.equal(elsewhere.client.ofType('offer').length, 0);
      await Promise.all([a.client.close(1000), elsewhere.client.close(1000)]);
    });

    test('bad frames get an error and the connection lives on', async () => {
      const a = await joinVideo(srv, 'relay', 'teacher', 'instructor');
      a.client.send('{not json');
      assert.equal((await a.client.waitForType('error')).data.code, 'bad_json');
      const from = a.client.messages.length;
      a.client.send({ type: 'chat_message', data: {} });
      assert.equal((await a.client.waitFor((m) => m.type === 'error', 5000, from)).data.code, 'unknown_type');
      const from2 = a.client.messages.length;
      a.client.ws.send(Buffer.from([1, 2, 3]));
      assert.equal((await a.client.waitFor((m) => m.type === 'error', 5000, from2)).data.code, 'bad_json');
      a.client.send({ type: 'ping' });
      await a.client.waitForType('pong');
      await a.client.close(1000);
    });
  });

  describe(`video signaling: limits (${backend})`, () => {
    let srv: TestServer;
    before(async () => {
      // grace 0: a socket the server cuts for an oversized frame never completes the close handshake (1006)
      srv = await startServer({ MAX_MESSAGE_BYTES: '100000', RATE_LIMIT_PER_SECOND: '5', VIDEO_REJOIN_GRACE_SECONDS: '30' });
      await registerSession(srv, 'limits', { host_id: 'teacher', participant_ids: ['kid-1'] });
    });

    test('an SDP over the relay bound is invalid_message; a frame over MAX_MESSAGE_BYTES is 1009', async () => {
      const a = await joinVideo(srv, 'limits', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'limits', 'kid-1', 'student');
      a.client.send({ type: 'offer', data: { to: b.peerId, sdp: 'x'.repeat(70_000) } });
      assert.equal((await a.client.waitForType('error')).data.code, 'invalid_message');
      a.client.send({ type: 'offer', data: { to: b.peerId, sdp: 'x'.repeat(110_000) } });
      assert.equal((await a.client.waitForClose()).code, 1009);
      assert.equal(b.client.ofType('offer').length, 0);
      // the server closed it for a rule: that is a departure at once, not a blip waiting out the 30 s grace
      await b.client.waitForType('peer_left', 2000);
    });

    test('a flood is rate_limited, sustained abuse closes 4429', async () => {
      const a = await joinVideo(srv, 'limits', 'teacher', 'instructor');
      for (let i = 0; i < 12; i++) a.client.send({ type: 'ping' });
      assert.equal((await a.client.waitForType('error')).data.code, 'rate_limited');
      for (let i = 0; i < 50; i++) a.client.send({ type: 'ping' });
      assert.equal((await a.client.waitForClose()).code, 4429);
    });
  });

  describe(`video signaling: blips, grace and rejoin (${backend})`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer({ VIDEO_REJOIN_GRACE_SECONDS: '1.5' });
      // one session per test: a peer left in its grace period by one test must not show up in the next
      for (const id of ['blip-1', 'blip-2', 'blip-3', 'blip-4']) {
        await registerSession(srv, id, { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2', 'kid-3'] });
      }
    });

    test('a dropped peer that rejoins with its peer_id keeps it; the others see nothing, and what was sent meanwhile arrives', async () => {
      const a = await joinVideo(srv, 'blip-1', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'blip-1', 'kid-1', 'student');
      const c = await joinVideo(srv, 'blip-1', 'kid-2', 'student');
      await a.client.waitForCount('peer_joined', 2);
      const connectionsBefore = await videoConnections(srv);

      b.client.ws.terminate(); // no close frame: a network drop
      await waitUntil(async () => (await videoConnections(srv)) === connectionsBefore - 1, 'the server to notice the drop');
      a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP } });
      c.client.send({ type: 'ping' });
      await c.client.waitForType('pong');

      const rejoined = await joinVideo(srv, 'blip-1', 'kid-1', 'student', { peerId: b.peerId });
      assert.equal(rejoined.peerId, b.peerId);
      assert.deepEqual(rejoined.peers.map((p) => p.peer_id).sort(), [a.peerId, c.peerId].sort());
      const replayed = await rejoined.client.waitForType('offer');
      assert.equal(replayed.data.from, a.peerId, 'the offer sent during the blip is delivered on rejoin');

      // relay to the old id reaches the new socket
      c.client.send({ type: 'ice_candidate', data: { to: b.peerId, candidate: { candidate: '' } } });
      assert.equal((await rejoined.client.waitForType('ice_candidate')).data.from, c.peerId);

      // c now drops for good; its grace timer was armed after b's, so once a hears c leave, b's would have fired too
      c.client.ws.terminate();
      const left = await a.client.waitForType('peer_left', 8000);
      assert.deepEqual(left.data, { peer_id: c.peerId });
      assert.equal(a.client.ofType('peer_left').length, 1, 'no peer_left for the peer that rejoined');
      assert.equal(a.client.ofType('peer_joined').length, 2, 'no second peer_joined for it either');
      await Promise.all([a.client.close(1000), rejoined.client.close(1000)]);
    });

    test('another user passing a peer_id is refused 4403, while the peer is in grace and while it is connected', async () => {
      const a = await joinVideo(srv, 'blip-2', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'blip-2', 'kid-1', 'student');
      const thief = await openVideo(srv, 'blip-2', 'kid-2', 'student', { peerId: b.peerId });
      assert.equal((await thief.waitForClose()).code, 4403);
      const before = await videoConnections(srv);
      b.client.ws.terminate();
      await waitUntil(async () => (await videoConnections(srv)) === before - 1, 'the server to notice the drop');
      const thief2 = await openVideo(srv, 'blip-2', 'teacher', 'instructor', { peerId: b.peerId });
      assert.equal((await thief2.waitForClose()).code, 4403);
      assert.equal(a.client.ofType('peer_joined').length, 1);
      await a.client.close(1000);
    });

    test('a rejoin while the server still holds the half-open socket takes over; the old socket is closed quietly', async () => {
      const a = await joinVideo(srv, 'blip-3', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'blip-3', 'kid-3', 'student');
      await a.client.waitForType('peer_joined');

      const rejoined = await joinVideo(srv, 'blip-3', 'kid-3', 'student', { peerId: b.peerId });
      assert.equal(rejoined.peerId, b.peerId);
      const old = await b.client.waitForClose();
      assert.equal(old.code, 1000);
      assert.equal(old.reason, 'replaced by a newer connection');

      a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP } });
      await rejoined.client.waitForType('offer');
      assert.equal(b.client.ofType('offer').length, 0);
      rejoined.client.send({ type: 'answer', data: { to: a.peerId, sdp: SDP } });
      await a.client.waitForType('answer');
      assert.equal(a.client.ofType('peer_left').length, 0);
      assert.equal(a.client.ofType('peer_joined').length, 1);

      // leaving cleanly after a takeover is still a departure
      await rejoined.client.close(1000);
      assert.deepEqual((await a.client.waitForType('peer_left')).data, { peer_id: b.peerId });
      await a.client.close(1000);
    });

    test('peer_left goes out when the grace period ends without a rejoin', async () => {
      const a = await joinVideo(srv, 'blip-4', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'blip-4', 'kid-1', 'student');
      const dropped = Date.now();
      b.client.ws.terminate();
      const left = await a.client.waitForType('peer_left', 8000);
      assert.deepEqual(left.data, { peer_id: b.peerId });
      assert.ok(Date.now() - dropped >= 1400, `peer_left came after ${Date.now() - dropped} ms, before the grace ended`);
      const late = await joinVideo(srv, 'blip-4', 'kid-1', 'student', { peerId: b.peerId });
      assert.notEqual(late.peerId, b.peerId, 'after the grace period the old id is gone');
      await a.client.waitForType('peer_joined');
      await Promise.all([a.client.close(1000), late.client.close(1000)]);
    });
  });

  describe(`video signaling: heartbeat (${backend})`, () => {
    test('a socket that dies without a close frame is cut by the heartbeat, and peer_left follows the grace period', async () => {
      const srv = await startServer({ HEARTBEAT_INTERVAL_SECONDS: '0.2', VIDEO_REJOIN_GRACE_SECONDS: '0.2' });
      await registerSession(srv, 'hb', { host_id: 'teacher', participant_ids: ['kid-1'] });
      const a = await joinVideo(srv, 'hb', 'teacher', 'instructor');
      // a client whose network is gone: it never answers pings, never closes
      const b = await joinVideo(srv, 'hb', 'kid-1', 'student', { ws: { autoPong: false } });
      const left = await a.client.waitForType('peer_left', 5000);
      assert.deepEqual(left.data, { peer_id: b.peerId });
      assert.equal(a.client.closeCode, undefined, 'the live peer answers pings and stays');
    });
  });

  describe(`video sessions: update and end reach connected peers (${backend})`, () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer();
    });

    test('DELETE closes every peer with 4410 and later joins get 4404', async () => {
      await registerSession(srv, 'ending', { host_id: 'teacher', participant_ids: ['kid-1'] });
      const a = await joinVideo(srv, 'ending', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'ending', 'kid-1', 'student');
      const res = await srv.api('/api/v1/video-sessions/ending', { method: 'DELETE' });
      assert.equal(res.status, 204);
      const [ca, cb] = await Promise.all([a.client.waitForClose(), b.client.waitForClose()]);
      assert.equal(ca.code, 4410);
      assert.equal(cb.code, 4410);
      assert.equal(a.client.ofType('peer_left').length, 0);
      const late = await openVideo(srv, 'ending', 'teacher', 'instructor');
      assert.equal((await late.waitForClose()).code, 4404);
      assert.equal((await srv.api('/api/v1/video-sessions/ending', { method: 'DELETE' })).status, 404);
    });

    test('a PUT that removes a participant closes them with 4403; the others see them leave', async () => {
      await registerSession(srv, 'updating', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'] });
      const a = await joinVideo(srv, 'updating', 'teacher', 'instructor');
      const b = await joinVideo(srv, 'updating', 'kid-1', 'student');
      const c = await joinVideo(srv, 'updating', 'kid-2', 'student');
      await registerSession(srv, 'updating', { host_id: 'teacher', participant_ids: ['kid-2'] });
      assert.equal((await b.client.waitForClose()).code, 4403);
      assert.deepEqual((await a.client.waitForType('peer_left')).data, { peer_id: b.peerId });
      assert.deepEqual((await c.client.waitForType('peer_left')).data, { peer_id: b.peerId });
      assert.equal(c.client.closeCode, undefined);
      const refused = await openVideo(srv, 'updating', 'kid-1', 'student');
      assert.equal((await refused.waitForClose()).code, 4403);
    });
  });
}
