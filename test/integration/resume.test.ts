import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect, connectReady } from '../helpers/ws-client.js';

describe('missed-event recovery', () => {
  let s: TestServer;
  const publish = async (body: unknown): Promise<string> => {
    const response = await s.api('/api/v1/events', { body });
    assert.equal(response.status, 202);
    return ((await response.json()) as { id: string }).id;
  };
  before(async () => {
    s = await startServer({ EVENT_RETENTION_HOURS: '1' });
  });

  test('?since=ID replays exactly what this connection may receive, oldest first, then resume.done', async () => {
    const token = await s.token('resumer', 'parent');
    const first = await connectReady(`${s.wsUrl}/ws/parent/${token}`);
    const seen = await publish({ type: 'parent.report.weekly', data: { n: 0 }, target: { users: ['resumer'] } });
    await first.waitFor((m) => m.id === seen);
    await first.close();

    await publish({ type: 'parent.report.weekly', data: { n: 1 }, target: { users: ['resumer'] } });
    await publish({ type: 'system.alert', data: { n: 'not-for-parents' }, target: { users: ['resumer'] } });
    await publish({ type: 'parent.report.weekly', data: { n: 'someone-else' }, target: { users: ['other-parent'] } });
    await publish({ type: 'notification', data: { n: 2 }, target: { roles: ['parent'] } });
    await publish({ type: 'notification', data: { n: 'students' }, target: { roles: ['student'] } });
    await publish({ type: 'payment.received', data: { n: 'admins' } });
    await publish({ type: 'notification', data: { n: 3 }, target: { all: true } });

    const back = connect(`${s.wsUrl}/ws/parent?token=${token}&since=${seen}`);
    const done = await back.waitForType('resume.done');
    assert.deepEqual(done.data, { count: 3, complete: true });
    const replayed = back.messages.filter((m) => m.id).map((m) => m.data.n);
    assert.deepEqual(replayed, [1, 2, 3]);
    assert.equal(back.messages[0]!.type, 'connection.ready');
  });

  test('the resume message works on an open connection; an id older than retention says complete:false', async () => {
    const client = await connectReady(`${s.wsUrl}/ws/staff/${await s.token('resume-msg', 'staff')}`);
    const mark = await publish({ type: 'staff.review.assigned', data: { n: 'mark' }, target: { users: ['resume-msg'] } });
    await client.waitFor((m) => m.id === mark);
    client.send({ type: 'resume', data: { since: mark } });
    assert.deepEqual((await client.waitForType('resume.done')).data, { count: 0, complete: true });
    const ancient = (Date.now() - 2 * 3600_000).toString(36).padStart(9, '0') + '0000deadbeef';
    client.send({ type: 'resume', data: { since: ancient } });
    const done = await client.waitFor((m) => m.type === 'resume.done' && m.data.complete === false);
    assert.ok((done.data.count as number) >= 1, 'it still sends what it has');
    client.send({ type: 'resume', data: { since: 'garbage!' } });
    assert.equal((await client.waitForType('error')).data.code, 'invalid_message');
    client.send({ type: 'resume', data: {} });
    await client.waitForCount('error', 2);
  });

  test('events published during the replay follow it with no gap and no duplicate', async () => {
    const token = await s.token('racer', 'student');
    const first = await connectReady(`${s.wsUrl}/ws/student/${token}`);
    const mark = await publish({ type: 'student.course.milestone', data: { n: -1 }, target: { users: ['racer'] } });
    await first.waitFor((m) => m.id === mark);
    await first.close();
    for (let n = 0; n < 300; n++) await publish({ type: 'student.course.milestone', data: { n }, target: { users: ['racer'] } });
    const back = connect(`${s.wsUrl}/ws/student/${token}?since=${mark}`);
    // keep publishing while the replay runs
    const live: Promise<string>[] = [];
    for (let n = 300; n < 400; n++) live.push(publish({ type: 'student.course.milestone', data: { n }, target: { users: ['racer'] } }));
    await Promise.all(live);
    await back.waitForType('resume.done');
    await back.waitFor((m) => m.data.n === 399 || back.messages.filter((x) => x.type === 'student.course.milestone').length >= 400, 10_000);
    const deadline = Date.now() + 5000;
    while (back.messages.filter((m) => m.type === 'student.course.milestone').length < 400 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const numbers = back.messages.filter((m) => m.type === 'student.course.milestone').map((m) => m.data.n as number);
    assert.equal(numbers.length, 400, 'every event exactly once');
    assert.deepEqual([...numbers].sort((a, b) => a - b), [...Array(400).keys()]);
    const done = back.messages.findIndex((m) => m.type === 'resume.done');
    const replayed = back.messages.slice(0, done).filter((m) => m.type === 'student.course.milestone').map((m) => m.data.n as number);
    assert.deepEqual(replayed, [...replayed].sort((a, b) => a - b), 'the replay is oldest first');
  });
});
