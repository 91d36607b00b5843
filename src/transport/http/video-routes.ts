import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../../core/auth.js';
import { iceServersFor, type IceServerSettings } from '../../features/signaling/ice-servers.js';
import type { VideoSession } from '../../features/signaling/video-session.js';
import type { VideoSessionService } from '../../features/signaling/video-session-service.js';
import { isVideoSessionId, parseVideoSessionRequest } from '../../protocol/video-session-request.js';
import { bearerToken } from '../../protocol/ws-route.js';
import { requireApiKey } from './api-key.js';
import { sendError } from './errors.js';

export interface VideoRoutesOptions {
  readonly apiKey: string;
  readonly sessions: VideoSessionService;
  /** Verifies the user JWT that `GET /api/v1/ice-servers` takes as its bearer. */
  readonly verifier: TokenVerifier;
  readonly iceServers: IceServerSettings;
  /** ALLOWED_ORIGINS: browsers of these origins (any when empty) may call `/api/v1/ice-servers` cross-origin. */
  readonly allowedOrigins: readonly string[];
}

type SessionRequest = FastifyRequest<{ Params: { '*': string } }>;

const SESSIONS_PATH = '/api/v1/video-sessions/*';
const ICE_PATH = '/api/v1/ice-servers';

/** The service API of video sessions (API key), and ICE servers for browsers (user JWT) — SPEC §4, §8. */
export function videoRoutes(options: VideoRoutesOptions): FastifyPluginAsync {
  return async (app) => {
    const apiKey = requireApiKey(options.apiKey);

    // a wildcard, not `:id`: Fastify caps parameters at 100 characters and session ids may have 128
    app.put(SESSIONS_PATH, { preHandler: apiKey }, async (request: SessionRequest, reply) => {
      const sessionId = sessionIdOf(request, reply);
      if (sessionId === undefined) return reply;
      const parsed = parseVideoSessionRequest(request.body);
      if (!parsed.ok) return sendError(reply, 400, parsed.error.code, parsed.error.message);
      const { session, created } = await options.sessions.register(sessionId, parsed.value);
      return reply.code(created ? 201 : 200).send(sessionBody(session));
    });

    app.get(SESSIONS_PATH, { preHandler: apiKey }, async (request: SessionRequest, reply) => {
      const sessionId = sessionIdOf(request, reply);
      if (sessionId === undefined) return reply;
      const session = await options.sessions.get(sessionId);
      if (!session) return sendError(reply, 404, 'not_found', 'video session not found');
      return sessionBody(session);
    });

    app.delete(SESSIONS_PATH, { preHandler: apiKey }, async (request: SessionRequest, reply) => {
      const sessionId = sessionIdOf(request, reply);
      if (sessionId === undefined) return reply;
      if (!(await options.sessions.end(sessionId))) return sendError(reply, 404, 'not_found', 'video session not found');
      return reply.code(204).send();
    });

    app.get(ICE_PATH, async (request, reply) => {
      allowOrigin(request, reply, options.allowedOrigins);
      reply.header('cache-control', 'no-store');
      const token = bearerToken(request.headers.authorization);
      if (!token) return sendError(reply, 401, 'unauthorized', 'a user access token is required as bearer');
      const verified = await options.verifier.verify(token);
      if (!verified.ok) return sendError(reply, 401, 'unauthorized', verified.error.reason);
      return iceServersFor(verified.value.userId, options.iceServers, Date.now());
    });

    app.options(ICE_PATH, async (request, reply) => {
      allowOrigin(request, reply, options.allowedOrigins);
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET')
        .header('access-control-allow-headers', 'authorization')
        .header('access-control-max-age', '600')
        .send();
    });
  };
}

function sessionIdOf(request: SessionRequest, reply: FastifyReply): string | undefined {
  const sessionId = request.params['*'];
  if (isVideoSessionId(sessionId)) return sessionId;
  void sendError(reply, 400, 'invalid_body', 'session id must be 1-128 characters of A-Z a-z 0-9 . _ : -');
  return undefined;
}

function sessionBody(session: VideoSession) {
  return {
    session_id: session.sessionId,
    host_id: session.hostId,
    participant_ids: session.participantIds,
    allowed_roles: session.allowedRoles,
    max_participants: session.maxParticipants,
    created_at: new Date(session.createdAt).toISOString(),
    updated_at: new Date(session.updatedAt).toISOString(),
  };
}

function allowOrigin(request: FastifyRequest, reply: FastifyReply, allowed: readonly string[]): void {
  const origin = request.headers.origin;
  reply.header('vary', 'Origin');
  if (origin === undefined || (allowed.length > 0 && !allowed.includes(origin))) return;
  reply.header('access-control-allow-origin', origin);
}
