import { z } from 'zod';
import type { Role } from './roles.js';

/** Longest SDP text relayed (characters); the frame limit MAX_MESSAGE_BYTES applies first. */
export const SDP_MAX_LENGTH = 64 * 1024;
/** Longest ICE candidate line relayed (characters). */
export const CANDIDATE_MAX_LENGTH = 2048;

/** Peer ids are minted by the server (random, URL-safe); a rejoin's `?peer_id=` must look like one. */
export const PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const peerId = z.string().regex(PEER_ID_PATTERN, 'must be a peer id');
const sdp = z.string().min(1).max(SDP_MAX_LENGTH);

/** `RTCIceCandidateInit`, as `RTCIceCandidate.toJSON()` gives it; an empty `candidate` is end-of-candidates. */
const iceCandidate = z.object({
  candidate: z.string().max(CANDIDATE_MAX_LENGTH),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(65535).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

/**
 * Messages a client may send on `/ws/video/{session_id}` (SPEC §8), by type. Unknown fields are stripped, so a
 * client can never set `from` / `from_user_id` itself.
 */
export const videoClientSchemas = {
  ping: z.unknown(),
  offer: z.object({ to: peerId, sdp }),
  answer: z.object({ to: peerId, sdp }),
  ice_candidate: z.object({ to: peerId, candidate: iceCandidate }),
} as const;

export type VideoSignalType = 'offer' | 'answer' | 'ice_candidate';

/** A peer as the others see it. */
export interface VideoPeerInfo {
  readonly peer_id: string;
  readonly user_id: string;
  readonly role: Role;
}

/** `peers`: sent to a peer when it joins (and again when it rejoins), listing everyone else. */
export interface PeersData {
  readonly peer_id: string;
  readonly peers: readonly VideoPeerInfo[];
}

export type PeerJoinedData = VideoPeerInfo;

export interface PeerLeftData {
  readonly peer_id: string;
}
