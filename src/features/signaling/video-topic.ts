import { topic, type Topic } from '../../core/bus.js';
import type { HeldMember } from './room-membership.js';
import type { VideoSession } from './video-session.js';

/**
 * Everything that concerns a whole video session travels on its own bus topic, published once and delivered to
 * local sockets by each instance's room from the bus (so a network bus carries it unchanged). `origin` is the
 * publishing instance; frames are serialized once by the publisher.
 */
export type VideoRoomMessage =
  /**
   * A peer joined, rejoined on another instance, or was written back after an outage: every instance updates its
   * view; `frame` (peer_joined) goes to local peers not yet told about it; the instance that held it before drops
   * it quietly.
   */
  | { readonly kind: 'member'; readonly origin: string; readonly member: HeldMember; readonly frame: string }
  /** A peer left for good: `frame` (peer_left) goes to every peer that knew it. */
  | { readonly kind: 'left'; readonly origin: string; readonly peerId: string; readonly frame: string }
  /** The registration changed (PUT): peers who lost access are closed with 4403. */
  | { readonly kind: 'updated'; readonly origin: string; readonly session: VideoSession }
  /** The session was ended (DELETE): every peer is closed with 4410. */
  | { readonly kind: 'ended'; readonly origin: string };

/**
 * offer / answer / ice_candidate for one peer, sent to the instance its sender's view says holds it (and only
 * there). An instance that no longer holds the peer forwards it once to where its own view says it went.
 */
export interface VideoSignalMessage {
  readonly sessionId: string;
  readonly to: string;
  readonly frame: string;
  readonly forwarded: boolean;
}

/** The one place a session's topic name is built. */
export function videoRoomTopic(sessionId: string): Topic<VideoRoomMessage> {
  return topic<VideoRoomMessage>(`video:${sessionId}`);
}

/** Signals for the peers held by one instance. */
export function videoSignalTopic(instanceId: string): Topic<VideoSignalMessage> {
  return topic<VideoSignalMessage>(`video-signal:${instanceId}`);
}
