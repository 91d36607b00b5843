import type { Endpoint } from './endpoints.js';
import { isRole } from './roles.js';

/** A WebSocket path, understood: which endpoint, which resource, and the token if it travels in the URL. */
export interface WsRoute {
  readonly endpoint: Endpoint;
  /** Role for role channels; document, ticket or video session id otherwise. */
  readonly resource: string;
  readonly token: string | undefined;
  readonly query: URLSearchParams;
}

export type RouteResult =
  | { readonly kind: 'route'; readonly route: WsRoute }
  /** A known endpoint with a malformed id: upgrade, then close 4400. */
  | { readonly kind: 'bad-request'; readonly endpoint: Endpoint; readonly reason: string }
  /** Not a WebSocket endpoint: HTTP 404 without upgrade. */
  | { readonly kind: 'not-found' };

const RESOURCE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ROOM_ENDPOINTS: Readonly<Record<string, Endpoint>> = { yjs: 'yjs', 'support-chat': 'chat', video: 'video' };

/**
 * Parse `/ws/{role}/{token}`, `/ws/yjs/{doc_id}[/{token}]`, `/ws/support-chat/{ticket_id}[/{token}]`,
 * `/ws/video/{session_id}[/{token}]`; a token may instead come as `?token=`.
 */
export function parseWsRoute(url: string): RouteResult {
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
  const segments = path.split('/');
  if (segments[0] !== '' || segments[1] !== 'ws' || segments.length < 3) return { kind: 'not-found' };
  const [, , head = '', ...rest] = segments;
  if (rest.at(-1) === '') rest.pop();
  const queryToken = query.get('token') ?? undefined;

  if (isRole(head)) {
    if (rest.length > 1) return { kind: 'not-found' };
    const token = rest[0] !== undefined ? decodeSegment(rest[0]) : queryToken;
    return { kind: 'route', route: { endpoint: 'role', resource: head, token, query } };
  }
  const endpoint = ROOM_ENDPOINTS[head];
  if (!endpoint || rest.length > 2) return { kind: 'not-found' };
  const id = rest[0] === undefined ? undefined : decodeSegment(rest[0]);
  if (id === undefined || !RESOURCE_ID.test(id)) {
    return { kind: 'bad-request', endpoint, reason: 'id must be 1-128 characters of A-Z a-z 0-9 . _ : -' };
  }
  const token = rest[1] !== undefined ? decodeSegment(rest[1]) : queryToken;
  return { kind: 'route', route: { endpoint, resource: id, token, query } };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The bearer token of an `Authorization` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
