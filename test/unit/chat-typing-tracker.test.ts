import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TypingTracker } from '../../src/features/chat/typing-tracker.js';

function tracker(ttlMs: number) {
  const expired: Array<{ key: string; at: number }> = [];
  let notify: (() => void) | undefined;
  const t = new TypingTracker<string>({
    ttlMs,
    onExpire: (key) => {
      expired.push({ key, at: Date.now() });
      notify?.();
    },
  });
  // the tracker's timer does not keep a process alive (unref); this one does, while a test waits
  const nextExpiry = () => {
    const keepAlive = setInterval(() => undefined, 1000);
    return new Promise<void>((resolve) => (notify = resolve)).finally(() => clearInterval(keepAlive));
  };
  return { t, expired, nextExpiry };
}

describe('typing tracker', () => {
  test('touch reports a start once; clear reports whether it was typing', () => {
    const { t } = tracker(10_000);
    assert.equal(t.touch('a', 'A'), true);
    assert.equal(t.touch('a', 'A'), false);
    assert.equal(t.size, 1);
    assert.equal(t.clear('a'), 'A');
    assert.equal(t.clear('a'), undefined);
    assert.equal(t.size, 0);
    t.stop();
  });

  test('entries expire after the ttl without refresh, in refresh order, on one timer', async () => {
    const { t, expired, nextExpiry } = tracker(80);
    const start = Date.now();
    t.touch('a', 'A');
    t.touch('b', 'B');
    await new Promise((resolve) => setTimeout(resolve, 40));
    t.touch('a', 'A'); // refreshed: now expires after b
    let wait = nextExpiry();
    await wait;
    assert.deepEqual(expired.map((e) => e.key), ['b']);
    assert.ok(expired[0]!.at - start >= 75, `b expired after ${expired[0]!.at - start} ms`);
    wait = nextExpiry();
    await wait;
    assert.deepEqual(expired.map((e) => e.key), ['b', 'a']);
    assert.ok(expired[1]!.at - start >= 115, `a expired after ${expired[1]!.at - start} ms (refreshed at 40)`);
    assert.equal(t.size, 0);
  });

  test('a cleared entry never expires', async () => {
    const { t, expired, nextExpiry } = tracker(30);
    t.touch('gone', 'G');
    t.clear('gone');
    t.touch('stays', 'S');
    await nextExpiry();
    assert.deepEqual(expired.map((e) => e.key), ['stays']);
  });
});
