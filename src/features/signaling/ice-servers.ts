import { createHmac } from 'node:crypto';

export interface IceServerSettings {
  readonly stunUrls: readonly string[];
  readonly turnUrls: readonly string[];
  /** Shared with coturn (`use-auth-secret`, `static-auth-secret`); required when `turnUrls` is not empty. */
  readonly turnSecret: string | undefined;
  readonly turnTtlSeconds: number;
}

/** One `RTCIceServer` entry, as `new RTCPeerConnection({ iceServers })` takes it. */
export interface IceServer {
  readonly urls: readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** The body of `GET /api/v1/ice-servers`. */
export interface IceServersResponse {
  readonly ice_servers: readonly IceServer[];
  /** Seconds the TURN credentials stay valid. */
  readonly ttl: number;
}

/**
 * TURN REST API credentials (draft-uberti-behave-turn-rest, as coturn's `use-auth-secret` checks them):
 * username `expiry:user_id` with expiry in Unix seconds, credential base64(HMAC-SHA1(secret, username)).
 */
export function turnCredentials(options: {
  readonly secret: string;
  readonly userId: string;
  readonly ttlSeconds: number;
  readonly nowMs: number;
}): { username: string; credential: string } {
  const expiry = Math.floor(options.nowMs / 1000) + options.ttlSeconds;
  const username = `${expiry}:${options.userId}`;
  const credential = createHmac('sha1', options.secret).update(username).digest('base64');
  return { username, credential };
}

/** STUN servers as configured, then TURN servers with credentials for this user; empty lists are left out. */
export function iceServersFor(userId: string, settings: IceServerSettings, nowMs: number): IceServersResponse {
  const servers: IceServer[] = [];
  if (settings.stunUrls.length > 0) servers.push({ urls: [...settings.stunUrls] });
  if (settings.turnUrls.length > 0 && settings.turnSecret) {
    const credentials = turnCredentials({ secret: settings.turnSecret, userId, ttlSeconds: settings.turnTtlSeconds, nowMs });
    servers.push({ urls: [...settings.turnUrls], ...credentials });
  }
  return { ice_servers: servers, ttl: settings.turnTtlSeconds };
}
