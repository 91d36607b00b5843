import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { startCluster, type Cluster, type Instance } from '../helpers/cluster.js';
import { TEST_API_KEY } from '../helpers/server.js';
import { joinVideo, openVideo, registerSession, videoConnections, waitUntil, type VideoServer } from '../helpers/video-client.js';

const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n';
const CANDIDATE = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
const GRACE_SECONDS = 3;

describe('video signaling across instances over Redis', () => {
  let cluster: Cluster;
  const on = (instance: Instance): VideoServer => ({ ...instance, token: cluster.token });
  const at = (i: number): VideoServer => on(cluster.instances[i]!);

  before(async () => {
    cluster = await startCluster(3, { PRESENCE_HEARTBEAT_SECONDS: '0.5', VIDEO_REJOIN_GRACE_SECONDS: String(GRACE_SECONDS) });
  });

  test('peers on three instances see each other, once, and signal each other; only the addressed peer hears it', async () => {
    await registerSession(at(0), 'spread', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'] });
    const a = await joinVideo(at(0), 'spread', 'teacher', 'instructor');
    assert.deepEqual(a.peers, []);
    const b = await joinVideo(at(1), 'spread', 'kid-1', 'student');
    assert.deepEqual(b.peers, [{ peer_id: a.peerId, user_id: 'teacher', role: 'instructor' }]);
    assert.deepEqual((await a.client.waitForType('peer_joined')).data, { peer_id: b.peerId, user_id: 'kid-1', role: 'student' });
    const c = await joinVideo(at(2), 'spread', 'kid-2', 'student');
    assert.deepEqual(c.peers.map((p) => p.peer_id), [a.peerId, b.peerId], 'the peers list spans instances, in join order');
    await a.client.waitForCount('peer_joined', 2);
    await b.client.waitForCount('peer_joined', 1);

    a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP } });
    assert.deepEqual((await b.client.waitForType('offer')).data, { to: b.peerId, sdp: SDP, from: a.peerId, from_user_id: 'teacher' });
    b.client.send({ type: 'answer', data: { to: a.peerId, sdp: SDP } });
    assert.deepEqual((await a.client.waitForType('answer')).data, { to: a.peerId, sdp: SDP, from: b.peerId, from_user_id: 'kid-1' });
    c.client.send({ type: 'ice_candidate', data: { to: a.peerId, candidate: CANDIDATE } });
    assert.deepEqual((await a.client.waitForType('ice_candidate')).data, { to: a.peerId, candidate: CANDIDATE, from: c.peerId, from_user_id: 'kid-2' });
    b.client.send({ type: 'ice_candidate', data: { to: c.peerId, candidate: CANDIDATE } });
    assert.equal((await c.client.waitForType('ice_candidate')).data.from, b.peerId);

    // c heard nothing of a and b's exchange; nobody got a join twice
    c.client.send({ type: 'ping' });
    await c.client.waitForType('pong');
    assert.deepEqual(c.client.messages.map((m) => m.type), ['peers', 'ice_candidate', 'pong']);
    assert.equal(a.client.ofType('peer_joined').length, 2);
    assert.equal(b.client.ofType('peer_joined').length, 1);

    // a clean leave on one instance reaches the others once
    await b.client.close(1000);
    assert.deepEqual((await a.client.waitForType('peer_left')).data, { peer_id: b.peerId });
    assert.deepEqual((await c.client.waitForType('peer_left')).data, { peer_id: b.peerId });
    a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP } });
    assert.equal((await a.client.waitForType('error')).data.code, 'unknown_peer', 'a peer that left is unknown everywhere');
    assert.equal(a.client.ofType('peer_left').length, 1);
    await Promise.all([a.client.close(1000), c.client.close(1000)]);
  });

  test('unknown_peer only for ids that are in no instance’s part of the room', async () => {
    await registerSession(at(0), 'known', { host_id: 'teacher', participant_ids: ['kid-1'] });
    await registerSession(at(0), 'elsewhere', { host_id: 'teacher' });
    // b is in before a's instance ever opened the room: a's instance learns of b from the shared membership
    const b = await joinVideo(at(2), 'known', 'kid-1', 'student');
    const a = await joinVideo(at(0), 'known', 'teacher', 'instructor');
    assert.deepEqual(a.peers.map((p) => p.peer_id), [b.peerId]);
    const stranger = await joinVideo(at(1), 'elsewhere', 'teacher', 'instructor');
    for (const to of ['AAAAAAAAAAAAAAAAAAAAAA', stranger.peerId]) {
      const from = a.client.messages.length;
      a.client.send({ type: 'offer', data: { to, sdp: SDP } });
      assert.equal((await a.client.waitFor((m) => m.type === 'error', 5000, from)).data.code, 'unknown_peer');
    }
    // the peer on another instance is known: no error, it gets the offer
    const from = a.client.messages.length;
    a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP } });
    await b.client.waitForType('offer');
    a.client.send({ type: 'ping' });
    await a.client.waitFor((m) => m.type === 'pong', 5000, from);
    assert.equal(a.client.messages.slice(from).filter((m) => m.type === 'error').length, 0);
    stranger.client.send({ type: 'ping' });
    await stranger.client.waitForType('pong');
    assert.equal(stranger.client.ofType('offer').length, 0);
    await Promise.all([a.client.close(1000), b.client.close(1000), stranger.client.close(1000)]);
  });

  test('capacity holds across instances, also for simultaneous joins', async () => {
    await registerSession(at(0), 'capped-in-turn', { host_id: 'teacher', participant_ids: ['k0', 'k1', 'k2', 'k3'], max_participants: 3 });
    for (let i = 0; i < 3; i++) await joinVideo(at(i), 'capped-in-turn', `k${i}`, 'student');
    for (let i = 0; i < 3; i++) {
      const over = await openVideo(at(i), 'capped-in-turn', 'k3', 'student');
      assert.equal((await over.waitForClose()).code, 4429, `a fourth peer on instance ${i}`);
    }

    const kids = Array.from({ length: 6 }, (_, i) => `cap-kid-${i}`);
    await registerSession(at(0), 'capped', { host_id: 'teacher', participant_ids: kids, max_participants: 3 });
    const clients = await Promise.all(kids.map((kid, i) => openVideo(at(i % 3), 'capped', kid, 'student')));
    const outcomes = await Promise.all(
      clients.map((client) =>
        Promise.race([client.waitForType('peers', 10_000).then(() => 'in' as const), client.closed.then((c) => c.code)]),
      ),
    );
    assert.equal(outcomes.filter((o) => o === 'in').length, 3, `outcomes: ${JSON.stringify(outcomes)}`);
    assert.equal(outcomes.filter((o) => o === 4429).length, 3, `outcomes: ${JSON.stringify(outcomes)}`);
    const inside = clients.filter((_, i) => outcomes[i] === 'in');
    const refusedKid = kids[outcomes.findIndex((o) => o === 4429)]!;
    // still full, from any instance
    for (let i = 0; i < 3; i++) {
      const late = await openVideo(at(i), 'capped', refusedKid, 'student');
      assert.equal((await late.waitForClose()).code, 4429);
    }
    // a place freed on one instance can be taken on another
    await inside[0]!.close(1000);
    await inside[1]!.waitForType('peer_left');
    const joined = await joinVideo(at(2), 'capped', refusedKid, 'student');
    assert.equal(joined.peers.length, 2);
  });

  test('a peer that dropped on one instance rejoins on another with its id; the others see nothing; signals sent meanwhile arrive', async () => {
    await registerSession(at(0), 'roam', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'] });
    const a = await joinVideo(at(0), 'roam', 'teacher', 'instructor');
    const b = await joinVideo(at(1), 'roam', 'kid-1', 'student');
    const c = await joinVideo(at(2), 'roam', 'kid-2', 'student');
    await a.client.waitForCount('peer_joined', 2);
    await b.client.waitForCount('peer_joined', 1);

    const before = await videoConnections(at(1));
    b.client.ws.terminate(); // a network drop: no close frame
    await waitUntil(async () => (await videoConnections(at(1))) === before - 1, 'instance 1 to notice the drop');
    a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP } });
    c.client.send({ type: 'ping' });
    await c.client.waitForType('pong');

    // another user cannot take the place, from any instance
    const thief = await openVideo(at(2), 'roam', 'kid-2', 'student', { peerId: b.peerId });
    assert.equal((await thief.waitForClose()).code, 4403);

    const back = await joinVideo(at(2), 'roam', 'kid-1', 'student', { peerId: b.peerId });
    assert.equal(back.peerId, b.peerId);
    assert.deepEqual(back.peers.map((p) => p.peer_id), [a.peerId, c.peerId]);
    assert.equal((await back.client.waitForType('offer')).data.from, a.peerId, 'the offer kept during the blip is passed on');

    // signals now reach it on its new instance, from everywhere
    a.client.send({ type: 'ice_candidate', data: { to: b.peerId, candidate: CANDIDATE } });
    assert.equal((await back.client.waitForType('ice_candidate')).data.from, a.peerId);
    back.client.send({ type: 'answer', data: { to: a.peerId, sdp: SDP } });
    assert.equal((await a.client.waitForType('answer')).data.from, b.peerId);

    // past the grace period of the old instance: still no peer_left, no second peer_joined
    c.client.ws.terminate();
    assert.deepEqual((await a.client.waitForType('peer_left', (GRACE_SECONDS + 5) * 1000)).data, { peer_id: c.peerId });
    assert.equal(a.client.ofType('peer_left').length, 1);
    assert.equal(a.client.ofType('peer_joined').length, 2);
    assert.deepEqual((await back.client.waitForType('peer_left')).data, { peer_id: c.peerId });

    await back.client.close(1000);
    assert.deepEqual((await a.client.waitFor((m) => m.type === 'peer_left' && m.data.peer_id === b.peerId)).data, { peer_id: b.peerId });
    await a.client.close(1000);
  });

  test('a rejoin on another instance takes over a half-open socket, which is closed quietly', async () => {
    await registerSession(at(0), 'takeover', { host_id: 'teacher', participant_ids: ['kid-1'] });
    const a = await joinVideo(at(0), 'takeover', 'teacher', 'instructor');
    const b = await joinVideo(at(1), 'takeover', 'kid-1', 'student');
    await a.client.waitForType('peer_joined');
    const back = await joinVideo(at(2), 'takeover', 'kid-1', 'student', { peerId: b.peerId });
    assert.equal(back.peerId, b.peerId);
    const old = await b.client.waitForClose();
    assert.deepEqual(old, { code: 1000, reason: 'replaced by a newer connection' });
    a.client.send({ type: 'offer', data: { to: b.peerId, sdp: SDP } });
    await back.client.waitForType('offer');
    assert.equal(b.client.ofType('offer').length, 0);
    assert.equal(a.client.ofType('peer_left').length, 0);
    assert.equal(a.client.ofType('peer_joined').length, 1);
    await back.client.close(1000);
    assert.deepEqual((await a.client.waitForType('peer_left')).data, { peer_id: b.peerId });
    await a.client.close(1000);
  });

  test('DELETE on one instance closes the peers on every instance with 4410; a PUT revoking access closes 4403 anywhere', async () => {
    await registerSession(at(0), 'ending', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'] });
    const a = await joinVideo(at(0), 'ending', 'teacher', 'instructor');
    const b = await joinVideo(at(1), 'ending', 'kid-1', 'student');
    const c = await joinVideo(at(2), 'ending', 'kid-2', 'student');
    await a.client.waitForCount('peer_joined', 2);

    await registerSession(at(2), 'ending', { host_id: 'teacher', participant_ids: ['kid-2'] });
    assert.equal((await b.client.waitForClose()).code, 4403);
    assert.deepEqual((await a.client.waitForType('peer_left')).data, { peer_id: b.peerId });
    assert.deepEqual((await c.client.waitForType('peer_left')).data, { peer_id: b.peerId });

    const deleted = await fetch(`${cluster.instances[1]!.httpUrl}/api/v1/video-sessions/ending`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TEST_API_KEY}` },
    });
    assert.equal(deleted.status, 204);
    const [ca, cc] = await Promise.all([a.client.waitForClose(), c.client.waitForClose()]);
    assert.equal(ca.code, 4410);
    assert.equal(cc.code, 4410);
    assert.equal(a.client.ofType('peer_left').length, 1, 'no peer_left for the end itself');
    for (let i = 0; i < 3; i++) {
      const late = await openVideo(at(i), 'ending', 'teacher', 'instructor');
      assert.equal((await late.waitForClose()).code, 4404);
    }
    // registered again under the same id: the room starts empty
    await registerSession(at(0), 'ending', { host_id: 'teacher', max_participants: 1 });
    const again = await joinVideo(at(1), 'ending', 'teacher', 'instructor');
    assert.deepEqual(again.peers, []);
  });

  test('SIGKILL of an instance: its peers that rejoin elsewhere keep their ids, the others leave within a bounded time', async () => {
    const doomed = on(await cluster.add());
    await registerSession(at(0), 'crash', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'] });
    const watcher = await joinVideo(at(0), 'crash', 'teacher', 'instructor');
    const survivor = await joinVideo(doomed, 'crash', 'kid-1', 'student');
    const stranded = await joinVideo(doomed, 'crash', 'kid-2', 'student');
    await watcher.client.waitForCount('peer_joined', 2);

    const instance = cluster.instances.at(-1)!;
    instance.process.kill('SIGKILL');
    await instance.exited;
    const killedAt = Date.now();
    await survivor.client.closed;
    // the survivor's client reconnects to another instance with its id, as after any blip
    const back = await joinVideo(at(1), 'crash', 'kid-1', 'student', { peerId: survivor.peerId });
    assert.equal(back.peerId, survivor.peerId);
    assert.deepEqual(back.peers.map((p) => p.peer_id).sort(), [watcher.peerId, stranded.peerId].sort());

    const left = await watcher.client.waitForType('peer_left', 15_000);
    assert.deepEqual(left.data, { peer_id: stranded.peerId });
    const after = Date.now() - killedAt;
    assert.ok(after < 10_000, `peer_left came ${after} ms after the crash`);
    assert.deepEqual((await back.client.waitForType('peer_left')).data, { peer_id: stranded.peerId });
    back.client.send({ type: 'offer', data: { to: watcher.peerId, sdp: SDP } });
    await watcher.client.waitForType('offer');
    watcher.client.send({ type: 'ping' });
    await watcher.client.waitForType('pong');
    assert.equal(watcher.client.ofType('peer_left').length, 1, 'no peer_left for the peer that rejoined');
    assert.equal(watcher.client.ofType('peer_joined').length, 2);
  });

  test('an instance frozen past the reaping comes back: its peers, still connected to it, are announced again', async () => {
    const frozen = on(await cluster.add());
    await registerSession(at(0), 'freeze', { host_id: 'teacher', participant_ids: ['kid-1'] });
    const watcher = await joinVideo(at(0), 'freeze', 'teacher', 'instructor');
    const sleeper = await joinVideo(frozen, 'freeze', 'kid-1', 'student');
    await watcher.client.waitForType('peer_joined');
    const instance = cluster.instances.at(-1)!;
    instance.process.kill('SIGSTOP');
    try {
      assert.deepEqual((await watcher.client.waitForType('peer_left', 15_000)).data, { peer_id: sleeper.peerId });
    } finally {
      instance.process.kill('SIGCONT');
    }
    const [, again] = await watcher.client.waitForCount('peer_joined', 2, 15_000);
    assert.deepEqual(again!.data, { peer_id: sleeper.peerId, user_id: 'kid-1', role: 'student' });
    watcher.client.send({ type: 'offer', data: { to: sleeper.peerId, sdp: SDP } });
    assert.equal((await sleeper.client.waitForType('offer')).data.from, watcher.peerId);
    sleeper.client.send({ type: 'answer', data: { to: watcher.peerId, sdp: SDP } });
    assert.equal((await watcher.client.waitForType('answer')).data.from, sleeper.peerId);
    assert.equal(sleeper.client.ofType('peer_left').length, 0, 'its own peers saw nothing');
    assert.equal(sleeper.client.closeCode, undefined);
    instance.process.kill('SIGTERM');
    await instance.exited;
  });

  test('a graceful shutdown hands peers over: they close with 1001 and keep their ids on another instance', async () => {
    const leaving = on(await cluster.add());
    await registerSession(at(0), 'deploy', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2'] });
    const watcher = await joinVideo(at(0), 'deploy', 'teacher', 'instructor');
    const mover = await joinVideo(leaving, 'deploy', 'kid-1', 'student');
    const quitter = await joinVideo(leaving, 'deploy', 'kid-2', 'student');
    await watcher.client.waitForCount('peer_joined', 2);

    const instance = cluster.instances.at(-1)!;
    instance.process.kill('SIGTERM');
    assert.equal((await mover.client.waitForClose()).code, 1001);
    const back = await joinVideo(at(2), 'deploy', 'kid-1', 'student', { peerId: mover.peerId });
    assert.equal(back.peerId, mover.peerId);
    assert.deepEqual((await instance.exited).code, 0);
    // the one that did not come back leaves once its grace is over
    const left = await watcher.client.waitForType('peer_left', (GRACE_SECONDS + 8) * 1000);
    assert.deepEqual(left.data, { peer_id: quitter.peerId });
    assert.equal(watcher.client.ofType('peer_left').length, 1);
    assert.equal(watcher.client.ofType('peer_joined').length, 2);
  });
});
