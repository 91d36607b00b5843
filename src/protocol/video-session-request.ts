import { z } from 'zod';
import { err, ok, type Result } from '../shared/result.js';
import { errorBody, type ErrorBody } from './error-codes.js';
import { ROLES, type Role } from './roles.js';

/** Same alphabet and length as every room id in a WebSocket path (`ws-route.ts`). */
const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const MAX_LISTED_PARTICIPANTS = 10_000;
export const MAX_PARTICIPANTS_LIMIT = 1000;

const userId = z.string().min(1).max(255);

const bodySchema = z.object({
  host_id: userId,
  participant_ids: z.array(userId).max(MAX_LISTED_PARTICIPANTS).optional(),
  allowed_roles: z.array(z.enum(ROLES)).optional(),
  max_participants: z.number().int().min(1).max(MAX_PARTICIPANTS_LIMIT).optional(),
});

/** A registration as the API receives it; `PUT` replaces the whole registration. */
export interface VideoSessionRequest {
  readonly hostId: string;
  readonly participantIds: readonly string[];
  readonly allowedRoles: readonly Role[];
  /** Undefined: the server's default (VIDEO_MAX_PARTICIPANTS). */
  readonly maxParticipants: number | undefined;
}

export function isVideoSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** Validate `PUT /api/v1/video-sessions/{id}`; lists are deduplicated, order kept. */
export function parseVideoSessionRequest(body: unknown): Result<VideoSessionRequest, ErrorBody> {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return err(errorBody('invalid_body', `${where}${issue?.message ?? 'invalid body'}`.slice(0, 200)));
  }
  const data = parsed.data;
  return ok({
    hostId: data.host_id,
    participantIds: [...new Set(data.participant_ids ?? [])],
    allowedRoles: [...new Set(data.allowed_roles ?? [])],
    maxParticipants: data.max_participants,
  });
}
