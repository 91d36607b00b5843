import type { Bus } from '../../core/bus.js';
import type { VideoSessionRequest } from '../../protocol/video-session-request.js';
import type { RoomMembership } from './room-membership.js';
import type { VideoSession, VideoSessionStore } from './video-session.js';
import { videoRoomTopic } from './video-topic.js';

export interface VideoSessionServiceOptions {
  readonly store: VideoSessionStore;
  readonly bus: Bus;
  readonly membership: RoomMembership;
  /** VIDEO_MAX_PARTICIPANTS: capacity of a session registered without `max_participants`. */
  readonly defaultMaxParticipants: number;
  readonly now?: () => number;
}

/** Registers, updates and ends video sessions (the service API), telling the session's rooms on every instance. */
export class VideoSessionService {
  private readonly now: () => number;

  constructor(private readonly options: VideoSessionServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  get(sessionId: string): Promise<VideoSession | undefined> {
    return this.options.store.get(sessionId);
  }

  /** Register or replace; peers already in the room who lose access are closed with 4403. */
  async register(sessionId: string, request: VideoSessionRequest): Promise<{ session: VideoSession; created: boolean }> {
    const result = await this.options.store.put(
      {
        sessionId,
        hostId: request.hostId,
        participantIds: request.participantIds,
        allowedRoles: request.allowedRoles,
        maxParticipants: request.maxParticipants ?? this.options.defaultMaxParticipants,
      },
      this.now(),
    );
    if (!result.created) {
      await this.options.bus.publish(videoRoomTopic(sessionId), { kind: 'updated', origin: this.options.bus.instanceId, session: result.session });
    }
    return result;
  }

  /** End the session: its registration is removed and its peers, wherever they are, are closed with 4410. */
  async end(sessionId: string): Promise<boolean> {
    const deleted = await this.options.store.delete(sessionId);
    // forget the members first, so a session registered again under this id starts empty
    if (deleted) await this.options.membership.end(sessionId);
    if (deleted) await this.options.bus.publish(videoRoomTopic(sessionId), { kind: 'ended', origin: this.options.bus.instanceId });
    return deleted;
  }
}
