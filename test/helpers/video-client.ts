import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import type { Role } from '../../src/protocol/roles.js';
import type { TestServer } from './server.js';
import { connect, type TestClient } from './ws-client.js';

/** What the helpers need of a server: a single test server, or one instance of a cluster. */
export type VideoServer = Pick<TestServer, 'wsUrl' | 'httpUrl' | 'token' | 'api'>;

export interface SessionBody {
  host_id: string;
  participant_ids?: string[];
  allowed_roles?: Role[];
  max_participants?: number;
}

/** PUT a video session through the service API; asserts it was accepted. */
export async function registerSession(srv: VideoServer, sessionId: string, body: SessionBody): Promise<void> {
  const res = await srv.api(`/api/v1/video-sessions/${sessionId}`, { method: 'PUT', body });
  assert.ok(res.status === 201 || res.status === 200, `PUT video session: HTTP ${res.status} ${await res.text()}`);
}

export interface JoinOptions {
  readonly peerId?: string;
  readonly ws?: WebSocket.ClientOptions;
}

export async function videoUrl(srv: VideoServer, sessionId: string, user: string, role: Role, peerId?: string): Promise<string> {
  const token = await srv.token(user, role);
  const query = peerId === undefined ? '' : `?peer_id=${encodeURIComponent(peerId)}`;
  return `${srv.wsUrl}/ws/video/${sessionId}/${token}${query}`;
}

/** Open `/ws/video/{id}` as `user`, without waiting for anything. */
export async function openVideo(srv: VideoServer, sessionId: string, user: string, role: Role, options: JoinOptions = {}): Promise<TestClient> {
  return connect(await videoUrl(srv, sessionId, user, role, options.peerId), options.ws);
}

export interface JoinedPeer {
  readonly client: TestClient;
  readonly peerId: string;
  readonly peers: Array<{ peer_id: string; user_id: string; role: string }>;
}

/** Join and wait for `peers`. */
export async function joinVideo(srv: VideoServer, sessionId: string, user: string, role: Role, options: JoinOptions = {}): Promise<JoinedPeer> {
  const client = await openVideo(srv, sessionId, user, role, options);
  const peers = await client.waitForType('peers');
  return { client, peerId: peers.data.peer_id as string, peers: peers.data.peers as JoinedPeer['peers'] };
}

/** Open video connections on the server as its metrics count them (the gateway forgets a socket as it closes). */
export async function videoConnections(srv: VideoServer): Promise<number> {
  const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  const match = /^uhs_connections_by_endpoint\{endpoint="video"\} (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

/** Poll `condition` until it holds (for server-side state that sends nothing to a client). */
export async function waitUntil(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
