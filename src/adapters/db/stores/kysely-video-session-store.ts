import type { Kysely, Selectable } from 'kysely';
import type { VideoSession, VideoSessionRegistration, VideoSessionStore } from '../../../features/signaling/video-session.js';
import { isRole, type Role } from '../../../protocol/roles.js';
import type { DatabaseSchema, VideoSessionsTable } from '../schema.js';

/** Video session registrations over SQLite or PostgreSQL (one query code for both). */
export class KyselyVideoSessionStore implements VideoSessionStore {
  constructor(private readonly db: Kysely<DatabaseSchema>) {}

  async get(sessionId: string): Promise<VideoSession | undefined> {
    const row = await this.db.selectFrom('video_sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
    return row ? toSession(row) : undefined;
  }

  async put(registration: VideoSessionRegistration, now: number): Promise<{ session: VideoSession; created: boolean }> {
    const values = {
      session_id: registration.sessionId,
      host_id: registration.hostId,
      participant_ids: JSON.stringify(registration.participantIds),
      allowed_roles: JSON.stringify(registration.allowedRoles),
      max_participants: registration.maxParticipants,
      updated_at: now,
    };
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('video_sessions').select('created_at').where('session_id', '=', registration.sessionId).executeTakeFirst();
      // the upsert also settles two concurrent first registrations of one id
      const row = await trx
        .insertInto('video_sessions')
        .values({ ...values, created_at: now })
        .onConflict((oc) =>
          oc.column('session_id').doUpdateSet({
            host_id: values.host_id,
            participant_ids: values.participant_ids,
            allowed_roles: values.allowed_roles,
            max_participants: values.max_participants,
            updated_at: values.updated_at,
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return { session: toSession(row), created: existing === undefined };
    });
  }

  async delete(sessionId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('video_sessions').where('session_id', '=', sessionId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toSession(row: Selectable<VideoSessionsTable>): VideoSession {
  return {
    sessionId: row.session_id,
    hostId: row.host_id,
    participantIds: parseList(row.participant_ids).filter((id): id is string => typeof id === 'string'),
    allowedRoles: parseList(row.allowed_roles).filter((role): role is Role => isRole(role)),
    maxParticipants: Number(row.max_participants),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function parseList(json: string): unknown[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value : [];
}
