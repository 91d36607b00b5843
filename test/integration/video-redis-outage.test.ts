import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCluster, type Cluster, type Instance } from '../helpers/cluster.js';
import { startOwnRedis } from '../helpers/redis.js';
import { joinVideo, registerSession, waitUntil, type VideoServer } from '../helpers/video-client.js';

const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n';

async function ready(instance: Instance): Promise<boolean> {
  return (await fetch(`${instance.httpUrl}/readyz`)).status === 200;
}

test('Redis away: peers on one instance keep signaling and may join; after Redis restarts empty the room heals, nobody left who stayed', async () => {
  const redis = await startOwnRedis();
  const cluster: Cluster = await startCluster(2, {
    REDIS_URL: redis.url,
    REDIS_CANARY_INTERVAL_SECONDS: '0.3',
    PRESENCE_HEARTBEAT_SECONDS: '0.5',
    VIDEO_REJOIN_GRACE_SECONDS: '5',
  });
  const [i0, i1] = cluster.instances as [Instance, Instance];
  const on = (instance: Instance): VideoServer => ({ ...instance, token: cluster.token });
  await registerSession(on(i0), 'outage', { host_id: 'teacher', participant_ids: ['kid-1', 'kid-2', 'kid-3'] });
  const p1 = await joinVideo(on(i0), 'outage', 'teacher', 'instructor');
  const p2 = await joinVideo(on(i0), 'outage', 'kid-1', 'student');
  const q1 = await joinVideo(on(i1), 'outage', 'kid-2', 'student');
  await p1.client.waitForCount('peer_joined', 2);
  await p2.client.waitForCount('peer_joined', 1);

  await redis.stop();
  await waitUntil(async () => !(await ready(i0)) && !(await ready(i1)), 'both instances to see Redis gone', 15_000);

  // peers on the same instance keep signaling each other
  p1.client.send({ type: 'offer', data: { to: p2.peerId, sdp: SDP } });
  assert.equal((await p2.client.waitForType('offer')).data.from, p1.peerId);
  p2.client.send({ type: 'answer', data: { to: p1.peerId, sdp: SDP } });
  assert.equal((await p1.client.waitForType('answer')).data.from, p2.peerId);

  // a newcomer is admitted against what the instance knows, and meets everyone it knows of
  const p3 = await joinVideo(on(i0), 'outage', 'kid-3', 'student');
  assert.deepEqual(p3.peers.map((p) => p.peer_id).sort(), [p1.peerId, p2.peerId, q1.peerId].sort());
  await p1.client.waitForCount('peer_joined', 3);
  p3.client.send({ type: 'ice_candidate', data: { to: p1.peerId, candidate: { candidate: '' } } });
  assert.equal((await p1.client.waitForType('ice_candidate')).data.from, p3.peerId);

  // a clean leave during the outage
  await p2.client.close(1000);
  assert.deepEqual((await p1.client.waitForType('peer_left')).data, { peer_id: p2.peerId });

  // Redis comes back empty (no persistence): every instance writes its peers back, the views heal
  await redis.start();
  await waitUntil(async () => (await ready(i0)) && (await ready(i1)), 'both instances to be ready again', 20_000);
  assert.deepEqual((await q1.client.waitFor((m) => m.type === 'peer_joined' && m.data.peer_id === p3.peerId, 15_000)).data, {
    peer_id: p3.peerId,
    user_id: 'kid-3',
    role: 'student',
  });
  assert.deepEqual((await q1.client.waitFor((m) => m.type === 'peer_left', 15_000)).data, { peer_id: p2.peerId });

  // signaling across instances works again, both ways
  q1.client.send({ type: 'offer', data: { to: p3.peerId, sdp: SDP } });
  assert.equal((await p3.client.waitForType('offer', 10_000)).data.from, q1.peerId);
  p1.client.send({ type: 'offer', data: { to: q1.peerId, sdp: SDP } });
  assert.equal((await q1.client.waitForType('offer', 10_000)).data.from, p1.peerId);

  // nobody who stayed was ever announced gone, and nobody was announced twice
  for (const client of [p1.client, p3.client, q1.client]) {
    assert.deepEqual(client.ofType('peer_left').map((m) => m.data.peer_id), [p2.peerId]);
  }
  assert.equal(q1.client.ofType('peer_joined').length, 1);
  assert.equal(p1.client.ofType('peer_joined').length, 3);

  // the restored membership still counts everyone: a fresh join on the other instance sees the whole room
  const late = await joinVideo(on(i1), 'outage', 'kid-1', 'student');
  assert.deepEqual(late.peers.map((p) => p.peer_id).sort(), [p1.peerId, p3.peerId, q1.peerId].sort());
});
