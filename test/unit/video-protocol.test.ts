import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { iceServersFor, turnCredentials } from '../../src/features/signaling/ice-servers.js';
import { mayJoin, type VideoSession } from '../../src/features/signaling/video-session.js';
import { validateIncoming } from '../../src/protocol/envelope.js';
import { SDP_MAX_LENGTH, videoClientSchemas } from '../../src/protocol/video-messages.js';
import { isVideoSessionId, parseVideoSessionRequest } from '../../src/protocol/video-session-request.js';

const validate = (type: string, data: unknown) => validateIncoming(videoClientSchemas, { type, data });

describe('video client messages', () => {
  test('offer, answer and ice_candidate keep only their own fields: a client cannot set from / from_user_id', () => {
    const offer = validate('offer', { to: 'abc_DEF-123', sdp: 'v=0', from: 'forged', from_user_id: 'admin' });
    assert.ok(offer.ok);
    assert.deepEqual(offer.value, { type: 'offer', data: { to: 'abc_DEF-123', sdp: 'v=0' } });

    const candidate = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'u' };
    const ice = validate('ice_candidate', { to: 'p1', candidate: { ...candidate, extra: 'x' }, from: 'forged' });
    assert.ok(ice.ok);
    assert.deepEqual(ice.value.data, { to: 'p1', candidate });
    assert.ok(validate('ice_candidate', { to: 'p1', candidate: { candidate: '' } }).ok, 'end-of-candidates is relayed');
  });

  test('bad addresses, missing or oversized payloads are invalid_message; unknown types are unknown_type', () => {
    const cases: Array<[string, unknown]> = [
      ['offer', { sdp: 'v=0' }],
      ['offer', { to: '', sdp: 'v=0' }],
      ['offer', { to: 'has space', sdp: 'v=0' }],
      ['offer', { to: 'x'.repeat(65), sdp: 'v=0' }],
      ['answer', { to: 'p1', sdp: '' }],
      ['answer', { to: 'p1', sdp: 'x'.repeat(SDP_MAX_LENGTH + 1) }],
      ['answer', { to: 'p1', sdp: { type: 'answer', sdp: 'v=0' } }],
      ['ice_candidate', { to: 'p1', candidate: 'candidate:1' }],
      ['ice_candidate', { to: 'p1', candidate: { candidate: 'x'.repeat(2049) } }],
      ['ice_candidate', { to: 'p1', candidate: { candidate: 'c', sdpMLineIndex: -1 } }],
    ];
    for (const [type, data] of cases) {
      const result = validate(type, data);
      assert.ok(!result.ok && result.error.code === 'invalid_message', `${type} ${JSON.stringify(data).slice(0, 80)}`);
    }
    const unknown = validate('peer_joined', {});
    assert.ok(!unknown.ok && unknown.error.code === 'unknown_type');
  });
});

describe('video session registration body', () => {
  test('defaults and deduplication', () => {
    const parsed = parseVideoSessionRequest({ host_id: 'teacher-1', participant_ids: ['s1', 's2', 's1'], allowed_roles: ['staff', 'staff'] });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.value, { hostId: 'teacher-1', participantIds: ['s1', 's2'], allowedRoles: ['staff'], maxParticipants: undefined });
    const minimal = parseVideoSessionRequest({ host_id: 'h', max_participants: 2 });
    assert.ok(minimal.ok);
    assert.deepEqual(minimal.value, { hostId: 'h', participantIds: [], allowedRoles: [], maxParticipants: 2 });
  });

  test('refuses what it cannot honour, naming the field', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { host_id: '' },
      { host_id: 'h', participant_ids: 'a' },
      { host_id: 'h', allowed_roles: ['teacher'] },
      { host_id: 'h', max_participants: 0 },
      { host_id: 'h', max_participants: 2.5 },
      { host_id: 'h', max_participants: 100_000 },
    ];
    for (const body of bad) {
      const parsed = parseVideoSessionRequest(body);
      assert.ok(!parsed.ok && parsed.error.code === 'invalid_body', JSON.stringify(body));
    }
    const named = parseVideoSessionRequest({ host_id: 'h', allowed_roles: ['teacher'] });
    assert.ok(!named.ok && named.error.message.startsWith('allowed_roles.0'));
  });

  test('session ids use the room id alphabet', () => {
    for (const id of ['class-1', 'a', 'math:2026.02_x', 'x'.repeat(128)]) assert.ok(isVideoSessionId(id), id);
    for (const id of ['', 'x'.repeat(129), 'a/b', 'a b', 'ü']) assert.ok(!isVideoSessionId(id), id);
  });
});

describe('video access', () => {
  const session: VideoSession = {
    sessionId: 's',
    hostId: 'teacher',
    participantIds: ['kid-1'],
    allowedRoles: ['staff'],
    maxParticipants: 5,
    createdAt: 0,
    updatedAt: 0,
  };
  test('host, participants, allowed roles and admins; nobody else', () => {
    assert.ok(mayJoin(session, { userId: 'teacher', role: 'instructor' }));
    assert.ok(mayJoin(session, { userId: 'kid-1', role: 'student' }));
    assert.ok(mayJoin(session, { userId: 'anyone', role: 'staff' }));
    assert.ok(mayJoin(session, { userId: 'root', role: 'admin' }));
    assert.ok(!mayJoin(session, { userId: 'kid-2', role: 'student' }));
    assert.ok(!mayJoin(session, { userId: 'parent-1', role: 'parent' }));
  });
});

describe('ICE servers', () => {
  test('TURN REST credentials: expiry:user_id and base64 HMAC-SHA1 (vector computed with openssl)', () => {
    const credentials = turnCredentials({ secret: 'coturn-shared-secret', userId: 'user-42', ttlSeconds: 3600, nowMs: 1_700_000_000_999 });
    assert.deepEqual(credentials, { username: '1700003600:user-42', credential: 'RJ/Mwgtz58+IGLxp5oVuXurxWZU=' });
  });

  test('STUN first, TURN with credentials; unconfigured lists are left out', () => {
    const settings = { stunUrls: ['stun:a:3478'], turnUrls: ['turn:b:3478', 'turns:b:5349'], turnSecret: 's', turnTtlSeconds: 60 };
    const body = iceServersFor('u', settings, 1_000_000);
    assert.equal(body.ttl, 60);
    assert.deepEqual(body.ice_servers[0], { urls: ['stun:a:3478'] });
    assert.deepEqual(body.ice_servers[1]?.urls, ['turn:b:3478', 'turns:b:5349']);
    assert.equal(body.ice_servers[1]?.username, '1060:u');
    assert.deepEqual(iceServersFor('u', { ...settings, stunUrls: [], turnUrls: [] }, 0), { ice_servers: [], ttl: 60 });
  });
});
