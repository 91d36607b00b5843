import type { Peer } from '../../core/peer.js';
import { isAddressedTo } from '../../core/targeting.js';
import { catalogEntry } from '../../protocol/catalog.js';
import { encodeEnvelope, encodeError } from '../../protocol/envelope.js';
import { sortableIdTime } from '../../shared/ids.js';
import type { Logger } from '../../shared/logger.js';
import type { EventLog } from './event-log.js';

/** Per-connection state of a role channel. */
export interface RoleChannelState {
  /** Set while missed events are replayed: live events wait here so that none is lost or sent twice. */
  replay: { readonly held: Array<{ readonly id: string; readonly frame: Buffer }>; readonly sent: Set<string> } | undefined;
}

export interface EventReplayOptions {
  readonly eventLog: EventLog;
  readonly retentionMs: number;
  readonly logger: Logger;
  /** Most events one resume sends; past it `complete` is false. */
  readonly maxEvents?: number;
  /** The replay waits for the client to read before queueing more than this (keep it under the send-buffer limit). */
  readonly highWaterBytes: number;
}

const PAGE = 500;

/** Hand a live event to a role-channel connection, or hold it while that connection is replaying. */
export function deliverLive(peer: Peer<RoleChannelState>, id: string, frame: Buffer): void {
  const replay = peer.state?.replay;
  if (replay) replay.held.push({ id, frame });
  else peer.sendText(frame);
}

/**
 * Missed-event recovery: after `?since=ID` or `resume`, send the events after ID that this connection may
 * receive, oldest first, then `resume.done {count, complete}`, then the live events that arrived meanwhile
 * (minus any already replayed). Events are stored before they are published, so an event is either in the
 * log when the query runs or arrives live after the connection is registered: no gap.
 */
export class EventReplay {
  constructor(private readonly options: EventReplayOptions) {}

  async resume(peer: Peer<RoleChannelState>, since: string): Promise<void> {
    const state = (peer.state ??= { replay: undefined });
    if (state.replay) {
      peer.sendText(encodeError('invalid_message', 'a resume is already in progress'));
      return;
    }
    const sinceTime = sortableIdTime(since);
    if (sinceTime === undefined) {
      peer.sendText(encodeError('invalid_message', 'since must be an event id'));
      return;
    }
    const replay = { held: [] as Array<{ id: string; frame: Buffer }>, sent: new Set<string>() };
    state.replay = replay;
    let count = 0;
    let complete = sinceTime >= Date.now() - this.options.retentionMs;
    const max = this.options.maxEvents ?? 10_000;
    try {
      let cursor = since;
      for (;;) {
        const page = await this.options.eventLog.after(cursor, PAGE);
        for (const event of page) {
          const entry = catalogEntry(event.type);
          if (!entry || !isAddressedTo(entry, event.delivery, peer.user.userId, peer.user.role)) continue;
          if (count >= max) {
            complete = false;
            break;
          }
          if (peer.bufferedAmount > this.options.highWaterBytes) await peer.drained();
          peer.sendText(event.frame);
          replay.sent.add(event.id);
          count++;
        }
        if (page.length < PAGE || count >= max || !peer.isOpen) break;
        cursor = page[page.length - 1]!.id;
      }
    } catch (error) {
      this.options.logger.error({ err: error }, 'event replay failed');
      complete = false;
    }
    peer.sendText(encodeEnvelope('resume.done', { count, complete }));
    state.replay = undefined;
    for (const live of replay.held) if (!replay.sent.has(live.id)) peer.sendText(live.frame);
  }
}
