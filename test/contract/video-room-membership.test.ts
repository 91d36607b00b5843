import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RedisRoomMembership } from '../../src/adapters/redis/redis-room-membership.js';
import { MemoryRoomMembership } from '../../src/features/signaling/memory-room-membership.js';
import type { Departure, HeldMember, MembershipEvents, RoomMember, RoomMembership } from '../../src/features/signaling/room-membership.js';
import { createLogger } from '../../src/shared/logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { REDIS_URL, rawRedis, redisPrefix } from '../helpers/redis.js';

const logger = createLogger({ level: 'silent' });

const member = (peerId: string, userId = `user-${peerId}`): RoomMember => ({ peerId, userId, role: 'student' });

function redisMembership(prefix: string, instanceId: string, overrides: Partial<{ heartbeatMs: number; reapAfterMs: number; rejoinGraceMs: number }> = {}): RedisRoomMembership {
  const membership = new RedisRoomMembership({
    url: REDIS_URL,
    keyPrefix: prefix,
    instanceId,
    logger,
    heartbeatMs: 60_000,
    reapAfterMs: 180_000,
    rejoinGraceMs: 10_000,
    ...overrides,
  });
  onCleanup(() => membership.close());
  return membership;
}

const quiet: MembershipEvents = { reaped: () => undefined, resyncNeeded: () => undefined };

async function started<M extends RoomMembership>(membership: M, events: MembershipEvents = quiet): Promise<M> {
  await membership.start(events);
  return membership;
}

const implementations: Array<{ name: string; make: () => Promise<RoomMembership> }> = [
  { name: 'memory', make: () => started(new MemoryRoomMembership('inst-a')) },
  { name: 'redis', make: () => started(redisMembership(redisPrefix(), 'inst-a')) },
];

async function admitted(membership: RoomMembership, sessionId: string, m: RoomMember, capacity = 10): Promise<HeldMember> {
  const result = await membership.admit(sessionId, m, capacity);
  assert.equal(result.status, 'admitted');
  return (result as { member: HeldMember }).member;
}

for (const impl of implementations) {
  describe(`video room membership contract: ${impl.name}`, () => {
    test('admits up to the capacity; the answer is the room right after, in admission order', async () => {
      const membership = await impl.make();
      const a = await admitted(membership, 's1', member('a'), 2);
      assert.deepEqual({ ...a, order: 0 }, { peerId: 'a', userId: 'user-a', role: 'student', instance: 'inst-a', generation: 1, order: 0 });
      const second = await membership.admit('s1', member('b'), 2);
      assert.equal(second.status, 'admitted');
      assert.deepEqual(second.status === 'admitted' && second.snapshot.members.map((m) => m.peerId).sort(), ['a', 'b']);
      assert.ok(second.status === 'admitted' && second.snapshot.liveInstances !== undefined);
      assert.equal((await membership.admit('s1', member('c'), 2)).status, 'full');
      // rooms are apart
      await admitted(membership, 's2', member('c'), 2);
      const snapshot = await membership.snapshot('s1');
      const ordered = [...(snapshot?.members ?? [])].sort((x, y) => x.order - y.order).map((m) => m.peerId);
      assert.deepEqual(ordered, ['a', 'b']);
    });

    test('claim: the same user gets the member back (generation + 1); another user is refused; unknown ids are unknown', async () => {
      const membership = await impl.make();
      const a = await admitted(membership, 'c1', member('a', 'kid'));
      const claim = await membership.claim('c1', 'a', 'kid');
      assert.equal(claim.status, 'claimed');
      assert.equal(claim.status === 'claimed' && claim.member.generation, a.generation + 1);
      assert.equal(claim.status === 'claimed' && claim.member.order, a.order);
      assert.deepEqual(claim.status === 'claimed' && claim.snapshot.members.map((m) => m.peerId), ['a']);
      assert.equal((await membership.claim('c1', 'a', 'someone-else')).status, 'other_user');
      assert.equal((await membership.claim('c1', 'nobody', 'kid')).status, 'unknown');
      assert.equal((await membership.claim('no-room', 'a', 'kid')).status, 'unknown');
    });

    test('release removes only what this instance holds at that generation', async () => {
      const membership = await impl.make();
      const a = await admitted(membership, 'r1', member('a', 'kid'));
      const claim = await membership.claim('r1', 'a', 'kid');
      assert.equal(await membership.release('r1', a), 'moved', 'an older generation is not released');
      assert.ok(claim.status === 'claimed');
      assert.equal(await membership.release('r1', claim.member), 'released');
      assert.equal(await membership.release('r1', claim.member), 'gone');
      assert.deepEqual((await membership.snapshot('r1'))?.members, []);
      // a released place is free again
      await admitted(membership, 'r1', member('b'), 1);
    });

    test('end forgets the room', async () => {
      const membership = await impl.make();
      await admitted(membership, 'e1', member('a', 'kid'), 1);
      await membership.end('e1');
      assert.equal((await membership.claim('e1', 'a', 'kid')).status, 'unknown');
      await admitted(membership, 'e1', member('b'), 1);
    });
  });
}

describe('video room membership over Redis: several instances', () => {
  const events = (): MembershipEvents & { reapedPeers: Departure[]; resyncs: number } => {
    const record = {
      reapedPeers: [] as Departure[],
      resyncs: 0,
      reaped(departures: readonly Departure[]) {
        record.reapedPeers.push(...departures);
      },
      resyncNeeded() {
        record.resyncs++;
      },
    };
    return record;
  };

  test('capacity holds across instances under concurrent admissions', async () => {
    const prefix = redisPrefix();
    const a = await started(redisMembership(prefix, 'inst-a'));
    const b = await started(redisMembership(prefix, 'inst-b'));
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).admit('busy', member(`p${i}`), 5)),
    );
    assert.equal(results.filter((r) => r.status === 'admitted').length, 5);
    assert.equal(results.filter((r) => r.status === 'full').length, 7);
    const snapshot = await b.snapshot('busy');
    assert.equal(snapshot?.members.length, 5);
    assert.equal(new Set(snapshot?.members.map((m) => m.order)).size, 5, 'every admission has its own order');
  });

  test('a claim moves a member to the claiming instance; the old holder can no longer release it', async () => {
    const prefix = redisPrefix();
    const a = await started(redisMembership(prefix, 'inst-a'));
    const b = await started(redisMembership(prefix, 'inst-b'));
    const held = await admitted(a, 'move', member('x', 'kid'));
    const claim = await b.claim('move', 'x', 'kid');
    assert.ok(claim.status === 'claimed');
    assert.equal(claim.member.instance, 'inst-b');
    assert.equal(await a.release('move', held), 'moved');
    assert.equal(await b.release('move', claim.member), 'released');
  });

  test('a silent instance is reaped once, after reapAfterMs, by a live one; its members are reported once', async () => {
    const prefix = redisPrefix();
    const live = redisMembership(prefix, 'inst-live', { heartbeatMs: 100, reapAfterMs: 400 });
    const other = redisMembership(prefix, 'inst-other', { heartbeatMs: 100, reapAfterMs: 400 });
    const doomed = redisMembership(prefix, 'inst-doomed', { heartbeatMs: 100, reapAfterMs: 400 });
    const seenLive = events();
    const seenOther = events();
    await Promise.all([doomed.start(events()), live.start(seenLive), other.start(seenOther)]);
    await admitted(doomed, 'reap', member('d1'));
    await admitted(doomed, 'reap-2', member('d2'));
    const kept = await admitted(doomed, 'reap', member('d3', 'kid'));
    await admitted(live, 'reap', member('l1'));
    // d3 rejoins on a live instance before the reaping: it is not reaped
    assert.equal((await live.claim('reap', kept.peerId, 'kid')).status, 'claimed');
    const stoppedAt = Date.now();
    // a crash: no goodbye, the heartbeat just stops
    (doomed as unknown as { timer: NodeJS.Timeout }).timer.close();
    const deadline = Date.now() + 5000;
    while (seenLive.reapedPeers.length + seenOther.reapedPeers.length < 2) {
      assert.ok(Date.now() < deadline, 'reaped in time');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(Date.now() - stoppedAt >= 300, 'not before reapAfterMs');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const all = [...seenLive.reapedPeers, ...seenOther.reapedPeers].map((d) => `${d.sessionId}/${d.peerId}`).sort();
    assert.deepEqual(all, ['reap-2/d2', 'reap/d1']);
    assert.deepEqual((await live.snapshot('reap'))?.members.map((m) => m.peerId).sort(), ['d3', 'l1']);
    const snapshot = await live.snapshot('reap');
    assert.ok(snapshot?.liveInstances.has('inst-live') && !snapshot.liveInstances.has('inst-doomed'));
  });

  test('a shutdown leaves the members for the rejoin grace, then they are reaped', async () => {
    const prefix = redisPrefix();
    const live = redisMembership(prefix, 'inst-live', { heartbeatMs: 100, reapAfterMs: 2000, rejoinGraceMs: 500 });
    const leaving = redisMembership(prefix, 'inst-leaving', { heartbeatMs: 100, reapAfterMs: 2000, rejoinGraceMs: 500 });
    const seen = events();
    await leaving.start(events());
    await admitted(leaving, 'handoff', member('h1', 'kid'));
    await admitted(leaving, 'handoff', member('h2'));
    await leaving.close();
    const closedAt = Date.now();
    await live.start(seen);
    assert.equal((await live.claim('handoff', 'h1', 'kid')).status, 'claimed', 'rejoin elsewhere during the grace');
    while (seen.reapedPeers.length === 0) {
      assert.ok(Date.now() - closedAt < 1800, 'reaped after the grace, well before reapAfterMs');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(Date.now() - closedAt >= 400);
    assert.deepEqual(seen.reapedPeers, [{ sessionId: 'handoff', peerId: 'h2' }]);
  });

  test('resync writes back what Redis lost, reports leaves it missed and members claimed elsewhere', async () => {
    const prefix = redisPrefix();
    const a = await started(redisMembership(prefix, 'inst-a'));
    const b = await started(redisMembership(prefix, 'inst-b'));
    const kept = await admitted(a, 'sync', member('kept'));
    const gone = await admitted(a, 'sync', member('gone'));
    const moved = await admitted(a, 'sync', member('moved', 'kid'));
    assert.ok(gone);
    assert.equal((await b.claim('sync', 'moved', 'kid')).status, 'claimed');
    // a holds `kept` and (it believes) `moved`; `gone` left while a could not tell Redis
    const report = await a.resync([
      { sessionId: 'sync', member: kept },
      { sessionId: 'sync', member: moved },
    ]);
    assert.deepEqual(report?.removed, [{ sessionId: 'sync', peerId: 'gone' }]);
    assert.deepEqual(report?.lost.map((l) => [l.sessionId, l.member.peerId, l.member.instance]), [['sync', 'moved', 'inst-b']]);
    assert.deepEqual((await a.snapshot('sync'))?.members.map((m) => m.peerId).sort(), ['kept', 'moved']);

    // Redis restarted empty: everything of this prefix is gone; a resync writes a's members back as they were
    const redis = rawRedis();
    const keys = await redis.keys(`${prefix}*`);
    await redis.del(...keys);
    const again = await a.resync([{ sessionId: 'sync', member: kept }]);
    assert.deepEqual(again, { lost: [], removed: [] });
    const snapshot = await b.snapshot('sync');
    assert.deepEqual(snapshot?.members, [kept]);
    assert.ok(snapshot?.liveInstances.has('inst-a'));
  });
});
