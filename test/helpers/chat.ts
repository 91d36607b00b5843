import assert from 'node:assert/strict';
import type { Role } from '../../src/protocol/roles.js';
import type { TestServer } from './server.js';
import { connect, type JsonMessage, type TestClient } from './ws-client.js';

/** Register (or update) a ticket through the service API; fails the test on a non-2xx answer. */
export async function putTicket(
  server: TestServer,
  ticketId: string,
  body: { requester_id: string; status?: 'open' | 'closed'; subject?: string | null },
): Promise<Record<string, unknown>> {
  const response = await server.api(`/api/v1/tickets/${ticketId}`, { method: 'PUT', body });
  assert.ok(response.status === 200 || response.status === 201, `PUT ticket: HTTP ${response.status} ${await response.clone().text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** The chat endpoint URL of a ticket for a user. */
export async function chatUrl(server: TestServer, ticketId: string, sub: string, role: Role): Promise<string> {
  return `${server.wsUrl}/ws/support-chat/${ticketId}/${await server.token(sub, role)}`;
}

/** Join a ticket's chat and wait for `chat_history`. */
export async function joinChat(server: TestServer, ticketId: string, sub: string, role: Role): Promise<{ client: TestClient; history: JsonMessage }> {
  const client = connect(await chatUrl(server, ticketId, sub, role));
  const history = await client.waitForType('chat_history');
  return { client, history };
}

/** Send a chat message and wait for its echo (the stored message) on the sender's connection. */
export async function say(client: TestClient, content: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const clientMsgId = (extra.client_msg_id as string | undefined) ?? `m-${Math.random().toString(36).slice(2)}`;
  const from = client.messages.length;
  client.send({ type: 'chat_message', data: { content, client_msg_id: clientMsgId, ...extra } });
  const echo = await client.waitFor((m) => (m.type === 'chat_message' && m.data.client_msg_id === clientMsgId) || m.type === 'error', 5000, from);
  assert.equal(echo.type, 'chat_message', `expected the stored message back, got ${JSON.stringify(echo)}`);
  return echo.data;
}

/** Messages of `type` received so far, as data. */
export function received(client: TestClient, type: string): Array<Record<string, unknown>> {
  return client.ofType(type).map((m) => m.data);
}

/** Wait for an `error` reply after `from`, and return its code. */
export async function errorCode(client: TestClient, from: number, timeoutMs = 5000): Promise<string> {
  const reply = await client.waitFor((m) => m.type === 'error', timeoutMs, from);
  return String(reply.data.code);
}
