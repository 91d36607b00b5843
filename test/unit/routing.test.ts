import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionRegistry } from '../../src/core/connection-registry.js';
import type { Peer } from '../../src/core/peer.js';
import { forEachRecipient } from '../../src/core/targeting.js';
import { CATALOG, catalogEntry } from '../../src/protocol/catalog.js';
import type { Delivery } from '../../src/protocol/delivery.js';
import { ROLES, type Role } from '../../src/protocol/roles.js';
import { parseWsRoute } from '../../src/protocol/ws-route.js';
import { SortableIdGenerator } from '../../src/shared/ids.js';

let seq = 0;
function peer(userId: string, role: Role, endpoint: Peer['endpoint'] = 'role'): Peer {
  return {
    id: `c${++seq}`,
    endpoint,
    user: { userId, role, expiresAt: Date.now() + 60_000 },
    isOpen: true,
    bufferedAmount: 0,
    state: undefined,
    sendText() {},
    sendBinary() {},
    drained: async () => undefined,
    close() {},
  };
}

function recipients(registry: ConnectionRegistry, type: string, delivery: Delivery): string[] {
  const out: string[] = [];
  forEachRecipient(registry, catalogEntry(type)!, delivery, (p) => out.push(p.id));
  return out.sort();
}

test('targeting: union of users and roles, each connection once, allow-list applied', () => {
  const registry = new ConnectionRegistry();
  const s1a = peer('s1', 'student');
  const s1b = peer('s1', 'student');
  const s2 = peer('s2', 'student');
  const p1 = peer('p1', 'parent');
  const a1 = peer('a1', 'admin');
  const docPeer = peer('s1', 'student', 'yjs');
  for (const p of [s1a, s1b, s2, p1, a1, docPeer]) registry.add(p);

  assert.deepEqual(recipients(registry, 'student.quiz.results', { users: ['s1'] }), [s1a.id, s1b.id].sort());
  assert.deepEqual(recipients(registry, 'student.quiz.results', { users: ['s1'], roles: ['student', 'parent'] }), [s1a.id, s1b.id, s2.id].sort());
  assert.deepEqual(recipients(registry, 'system.alert', { users: ['s1', 'a1'] }), [a1.id]);
  assert.deepEqual(recipients(registry, 'system.alert', {}), [a1.id]);
  assert.deepEqual(recipients(registry, 'notification', { all: true, roles: ['student', 'student'] }).length, 5);
  assert.deepEqual(recipients(registry, 'payment.received', { users: ['p1'] }), [p1.id]);
  assert.deepEqual(recipients(registry, 'payment.received', {}), [a1.id]);
  assert.deepEqual(recipients(registry, 'notification', { users: ['nobody'] }), []);

  registry.remove(s1a);
  registry.remove(s1a);
  assert.deepEqual(recipients(registry, 'student.quiz.results', { users: ['s1'] }), [s1b.id]);
  assert.equal(registry.connectionsOf('s1').size, 2, 'the yjs connection still counts for the user');
});

test('catalog: every role can receive notification; every type has a known audience', () => {
  for (const role of ROLES) assert.ok(CATALOG.get('notification')!.mayReceive.has(role));
  for (const entry of CATALOG.values()) for (const role of entry.defaultRoles) assert.ok(entry.mayReceive.has(role), entry.type);
  assert.equal(CATALOG.size, 42, "every type of the SPEC catalog");
});

test('ws routes', () => {
  assert.deepEqual(pick(parseWsRoute('/ws/admin/tok')), { kind: 'route', endpoint: 'role', resource: 'admin', token: 'tok' });
  assert.deepEqual(pick(parseWsRoute('/ws/admin?token=tok')), { kind: 'route', endpoint: 'role', resource: 'admin', token: 'tok' });
  assert.deepEqual(pick(parseWsRoute('/ws/yjs/doc-1:a.b_c?token=t')), { kind: 'route', endpoint: 'yjs', resource: 'doc-1:a.b_c', token: 't' });
  assert.deepEqual(pick(parseWsRoute('/ws/support-chat/T1/tok')), { kind: 'route', endpoint: 'chat', resource: 'T1', token: 'tok' });
  assert.deepEqual(pick(parseWsRoute('/ws/video/s1')), { kind: 'route', endpoint: 'video', resource: 's1', token: undefined });
  assert.equal(parseWsRoute('/ws/yjs/bad%20id').kind, 'bad-request');
  assert.equal(parseWsRoute(`/ws/yjs/${'x'.repeat(129)}`).kind, 'bad-request');
  assert.equal(parseWsRoute('/ws/yjs/').kind, 'bad-request');
  assert.equal(parseWsRoute('/ws/yjs/%E0%A4%A').kind, 'bad-request');
  assert.equal(parseWsRoute('/ws/teacher/tok').kind, 'not-found');
  assert.equal(parseWsRoute('/api/v1/events').kind, 'not-found');
});

test('sortable ids are unique and ordered even within one millisecond or when the clock steps back', () => {
  let now = 1_000_000;
  const ids = new SortableIdGenerator('abcd1234', () => now);
  const minted = [ids.next(), ids.next(), ids.next()];
  now -= 500;
  minted.push(ids.next());
  now += 10_000;
  minted.push(ids.next());
  assert.deepEqual([...minted].sort(), minted);
  assert.equal(new Set(minted).size, minted.length);
});

function pick(result: ReturnType<typeof parseWsRoute>) {
  if (result.kind !== 'route') return { kind: result.kind };
  return { kind: result.kind, endpoint: result.route.endpoint, resource: result.route.resource, token: result.route.token };
}
