import { topic, type Topic } from '../../core/bus.js';
import type { RoomMember } from './room-membership.js';
import type { VideoSession } from './video-session.js';

/**
 * Everything that happens in one video session travels on its own bus topic, published once and delivered to
 * local sockets by each instance's room from the bus (so a network bus carries it unchanged). `origin` is the
 * publishing instance; frames are serialized once by the publisher.
 */
export type VideoRoomMessage =
  /** A peer joined: `frame` (peer_joined) goes to every other peer. */
  | { readonly kind: 'joined'; readonly origin: string; readonly member: RoomMember; readonly frame: string }
  /** A peer left for good: `frame` (peer_left) goes to every other peer. */
  | { readonly kind: 'left'; readonly origin: string; readonly peerId: string; readonly frame: string }
  /** offer / answer / ice_candidate for one peer only. */
  | { readonly kind: 'signal'; readonly origin: string; readonly to: string; readonly frame: string }
  /** The registration changed (PUT): peers who lost access are closed with 4403. */
  | { readonly kind: 'updated'; readonly origin: string; readonly session: VideoSession }
  /** The session was ended (DELETE): every peer is closed with 4410. */
  | { readonly kind: 'ended'; readonly origin: string };

/** The one place a session's topic name is built. */
export function videoRoomTopic(sessionId: string): Topic<VideoRoomMessage> {
  return topic<VideoRoomMessage>(`video:${sessionId}`);
}
