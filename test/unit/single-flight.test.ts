import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SingleFlight } from '../../src/shared/single-flight.js';

test('concurrent requests for a key share one operation; other keys run their own', async () => {
  const flight = new SingleFlight<string, number>();
  let runs = 0;
  let finish!: (value: number) => void;
  const operation = () => {
    runs++;
    return new Promise<number>((resolve) => (finish = resolve));
  };
  const first = flight.run('a', operation);
  const second = flight.run('a', operation);
  assert.equal(first, second);
  assert.equal(flight.pending().length, 1);
  const other = flight.run('b', () => Promise.resolve(7));
  finish(42);
  assert.deepEqual(await Promise.all([first, second, other]), [42, 42, 7]);
  assert.equal(runs, 1);
});

test('a request after the operation settled starts a new one, also after a failure', async () => {
  const flight = new SingleFlight<string, number>();
  await assert.rejects(flight.run('a', () => Promise.reject(new Error('boom'))), /boom/);
  assert.equal(flight.pending().length, 0);
  assert.equal(await flight.run('a', () => Promise.resolve(1)), 1);
  assert.equal(await flight.run('a', () => Promise.resolve(2)), 2);
});
