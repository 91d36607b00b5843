import type { AuthUser } from '../../core/auth.js';
import type { Role } from '../../protocol/roles.js';

/** A registered live session (SPEC §8): who may join it, and how many peers it holds. */
export interface VideoSession {
  readonly sessionId: string;
  readonly hostId: string;
  readonly participantIds: readonly string[];
  readonly allowedRoles: readonly Role[];
  readonly maxParticipants: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What `PUT` stores; the store keeps `createdAt` of an existing registration. */
export type VideoSessionRegistration = Omit<VideoSession, 'createdAt' | 'updatedAt'>;

/**
 * Where registrations live; they survive a restart. `put` and `delete` are durable when they resolve.
 */
export interface VideoSessionStore {
  get(sessionId: string): Promise<VideoSession | undefined>;
  /** Insert, or replace an existing registration (keeping its `createdAt`); `created` tells which. */
  put(registration: VideoSessionRegistration, now: number): Promise<{ session: VideoSession; created: boolean }>;
  /** False when there was nothing to delete. */
  delete(sessionId: string): Promise<boolean>;
}

/** The host, listed participants, allowed roles and admins get in; nobody else. */
export function mayJoin(session: VideoSession, user: Pick<AuthUser, 'userId' | 'role'>): boolean {
  return (
    user.role === 'admin' ||
    session.hostId === user.userId ||
    session.participantIds.includes(user.userId) ||
    session.allowedRoles.includes(user.role)
  );
}
