import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HeldMember, RoomSnapshot } from '../../src/features/signaling/room-membership.js';
import { RoomView } from '../../src/features/signaling/room-view.js';

const ME = 'me';

function held(peerId: string, instance: string, order: number, generation = 1): HeldMember {
  return { peerId, userId: `u-${peerId}`, role: 'student', instance, generation, order };
}

function snapshot(members: HeldMember[], live: string[] = [ME, 'b']): RoomSnapshot {
  return { members, liveInstances: new Set(live) };
}

function viewAt(clock: { t: number }, orphanMs = 1000): RoomView {
  return new RoomView({ instanceId: ME, orphanMs, now: () => clock.t });
}

const nobodyHeld = (): undefined => undefined;

describe('video room view', () => {
  test('announcements apply unless a later generation is known; the list is in admission order', () => {
    const clock = { t: 100 };
    const view = viewAt(clock);
    assert.ok(view.apply(held('y', 'b', 2)));
    assert.ok(view.apply(held('x', 'b', 1)));
    assert.deepEqual(view.list().map((m) => m.peerId), ['x', 'y']);
    assert.ok(view.apply(held('x', 'c', 1, 3)));
    assert.ok(!view.apply(held('x', 'b', 1, 2)), 'an older generation is stale');
    assert.equal(view.get('x')?.instance, 'c');
  });

  test('a snapshot adds what the view missed and removes what left, if it was known before the request', () => {
    const clock = { t: 100 };
    const view = viewAt(clock);
    view.apply(held('old', 'b', 1));
    clock.t = 200;
    const result = view.merge(snapshot([held('new', 'b', 2)]), 150, nobodyHeld);
    assert.deepEqual(result.added.map((m) => m.peerId), ['new']);
    assert.deepEqual(result.removed, ['old']);
    assert.deepEqual(view.list().map((m) => m.peerId), ['new']);
  });

  test('a member learned after the request is kept, even when the snapshot lacks it', () => {
    const clock = { t: 100 };
    const view = viewAt(clock);
    clock.t = 120;
    view.apply(held('fresh', 'b', 1)); // its announcement overtook the snapshot's answer
    const result = view.merge(snapshot([]), 110, nobodyHeld);
    assert.deepEqual(result.removed, []);
    assert.ok(view.get('fresh'));
  });

  test('a departure is final: a snapshot read before it does not bring the peer back; an announcement does', () => {
    const clock = { t: 100 };
    const view = viewAt(clock);
    view.apply(held('gone', 'b', 1));
    clock.t = 200;
    assert.ok(view.remove('gone'));
    const result = view.merge(snapshot([held('gone', 'b', 1)]), 150, nobodyHeld);
    assert.deepEqual(result.added, []);
    assert.equal(view.get('gone'), undefined);
    // written back after an outage (another instance took its instance for dead): announced again
    assert.ok(view.apply(held('gone', 'b', 1)));
    assert.ok(view.get('gone'));
    // or, if that announcement was lost, found again by a snapshot asked for after the departure
    clock.t = 300;
    assert.ok(view.remove('gone'));
    clock.t = 400;
    assert.deepEqual(view.merge(snapshot([held('gone', 'b', 1)]), 350, nobodyHeld).added.map((m) => m.peerId), ['gone']);
  });

  test('members of an instance that is not live are only dropped after orphanMs', () => {
    const clock = { t: 100 };
    const view = viewAt(clock, 1000);
    view.apply(held('z', 'restarting', 1));
    clock.t = 200;
    assert.deepEqual(view.merge(snapshot([]), 150, nobodyHeld).removed, []);
    clock.t = 900;
    assert.deepEqual(view.merge(snapshot([]), 850, nobodyHeld).removed, []);
    // its instance wrote it back in time: the orphan clock starts over
    clock.t = 1000;
    view.merge(snapshot([held('z', 'restarting', 1)], [ME, 'restarting']), 950, nobodyHeld);
    clock.t = 1500;
    assert.deepEqual(view.merge(snapshot([]), 1450, nobodyHeld).removed, []);
    clock.t = 2600;
    assert.deepEqual(view.merge(snapshot([]), 2550, nobodyHeld).removed, ['z']);
  });

  test('peers held here are local truth; records of this instance without a local peer are ignored', () => {
    const clock = { t: 100 };
    const view = viewAt(clock);
    const mine = held('mine', ME, 1);
    view.apply(mine);
    clock.t = 200;
    const holding = (peerId: string): HeldMember | undefined => (peerId === 'mine' ? mine : undefined);
    const result = view.merge(snapshot([held('stale', ME, 2)]), 150, holding);
    assert.deepEqual(result, { added: [], removed: [], movedAway: [] });
    assert.ok(view.get('mine'));
    assert.equal(view.get('stale'), undefined);
  });

  test('a held peer claimed by another instance with a later generation is reported as moved away', () => {
    const clock = { t: 100 };
    const view = viewAt(clock);
    const mine = held('mine', ME, 1, 1);
    view.apply(mine);
    const result = view.merge(snapshot([held('mine', 'b', 1, 2)]), 100, (id) => (id === 'mine' ? mine : undefined));
    assert.deepEqual(result.movedAway.map((m) => [m.peerId, m.instance]), [['mine', 'b']]);
  });
});
