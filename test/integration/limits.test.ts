import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startServer } from '../helpers/server.js';
import { connect, connectReady, type JsonMessage } from '../helpers/ws-client.js';

describe('limits', () => {
  test('a message over MAX_MESSAGE_BYTES closes that connection with 1009 and nobody else', async () => {
    const s = await startServer({ MAX_MESSAGE_BYTES: '1024' });
    const big = await connectReady(`${s.wsUrl}/ws/student/${await s.token('big', 'student')}`);
    const other = await connectReady(`${s.wsUrl}/ws/student/${await s.token('small', 'student')}`);
    big.send({ type: 'ping', data: { pad: 'x'.repeat(2000) } });
    assert.equal((await big.waitForClose()).code, 1009);
    other.send({ type: 'ping' });
    await other.waitForType('pong');
  });

  test('over the rate: rate_limited errors; sustained abuse: 4429', async () => {
    const s = await startServer({ RATE_LIMIT_PER_SECOND: '5' });
    const client = await connectReady(`${s.wsUrl}/ws/staff/${await s.token('spammer', 'staff')}`);
    for (let i = 0; i < 12; i++) client.send({ type: 'ping' });
    await client.waitFor((m) => m.type === 'error' && m.data.code === 'rate_limited');
    assert.equal(client.ofType('pong').length <= 10, true, 'the burst is twice the rate');
    for (let i = 0; i < 40; i++) client.send({ type: 'ping' });
    assert.equal((await client.waitForClose()).code, 4429);
  });

  test('MAX_CONNECTIONS_PER_USER: the next connection is closed 4429', async () => {
    const s = await startServer({ MAX_CONNECTIONS_PER_USER: '2' });
    const token = await s.token('capped', 'partner');
    await connectReady(`${s.wsUrl}/ws/partner/${token}`);
    await connectReady(`${s.wsUrl}/ws/partner/${token}`);
    const third = connect(`${s.wsUrl}/ws/partner/${token}`);
    assert.deepEqual(await third.waitForClose(), { code: 4429, reason: 'too many connections for this user' });
    await connectReady(`${s.wsUrl}/ws/partner/${await s.token('uncapped', 'partner')}`);
  });

  test('a client that stops reading is closed 1013 past SEND_BUFFER_LIMIT_BYTES; others are unaffected; since recovers everything', async () => {
    const s = await startServer({ SEND_BUFFER_LIMIT_BYTES: String(256 * 1024) });
    const token = await s.token('sleepy', 'admin');
    const sleepy = await connectReady(`${s.wsUrl}/ws/admin/${token}`);
    const awake = await connectReady(`${s.wsUrl}/ws/admin/${await s.token('awake', 'admin')}`);
    // stop reading: the kernel buffers fill, then the server's send buffer
    const socket = (sleepy.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const pad = 'p'.repeat(50_000); // 20 MB in all: more than loopback's kernel buffers hold
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) {
      const response = await s.api('/api/v1/events', { body: { type: 'system.alert', data: { i, pad } } });
      ids.push(((await response.json()) as { id: string }).id);
    }
    await awake.waitFor((m) => m.data.i === 399, 10_000);
    const metrics = await (await s.api('/metrics', { key: null })).text();
    assert.match(metrics, /uhs_send_errors_total [1-9]/, 'the slow consumer was cut');
    socket.resume();
    const closed = await sleepy.waitForClose(10_000);
    assert.equal(closed.code, 1013);
    const received = sleepy.messages.filter((m: JsonMessage) => m.type === 'system.alert');
    assert.ok(received.length < 400, 'it did not get everything before the close');
    const last = received.at(-1)?.id ?? sleepy.messages[0]!.id;
    const back = connect(`${s.wsUrl}/ws/admin/${token}?since=${last ?? ids[0]}`);
    const done = await back.waitForType('resume.done', 10_000);
    assert.equal(done.data.complete, true);
    const recovered = back.messages.filter((m) => m.type === 'system.alert').map((m) => m.data.i as number);
    const all = new Set([...received.map((m) => m.data.i as number), ...recovered]);
    assert.equal(all.size, 400, 'together they hold every event');
  });
});
