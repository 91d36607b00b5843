import type { Peer } from '../../core/peer.js';
import { isStaffRole, type Role } from '../../protocol/roles.js';
import type { ChatRoom } from './chat-room.js';

/** What arrives on a connection, kept raw until its turn (one connection's messages are handled in order). */
export interface QueuedFrame {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** Live traffic held for a joiner until its history is sent; `id` marks chat messages (to drop those in the history). */
export interface BacklogItem {
  readonly id: string | undefined;
  readonly frame: Buffer;
}

/** One connection in a ticket room: the per-connection state of the chat endpoint (`peer.state`). */
export class ChatMember {
  readonly userId: string;
  readonly role: Role;
  /** Staff and admin see internal notes and may send them. */
  readonly staff: boolean;
  /** Non-null while the history is being loaded: live traffic waits here. */
  backlog: BacklogItem[] | null = [];
  /** The newest message of the history it was sent: older messages found missing later are not sent again. */
  historyNewest: string | undefined;
  /** Counted in the room's users (user_joined sent if it was the user's first connection). */
  active = false;
  /** The socket is gone; queued chat messages are still stored, nothing else is done. */
  gone = false;
  readonly queue: QueuedFrame[] = [];
  busy = false;
  aiInFlight = 0;

  constructor(readonly peer: Peer<ChatMember>, readonly room: ChatRoom) {
    this.userId = peer.user.userId;
    this.role = peer.user.role;
    this.staff = isStaffRole(this.role);
  }

  /** Send now, or hold until the history is out. */
  deliver(frame: Buffer, id?: string, droppable = false): void {
    if (this.backlog) {
      if (!droppable) this.backlog.push({ id, frame });
      return;
    }
    this.peer.sendText(frame, droppable ? DROPPABLE : undefined);
  }
}

const DROPPABLE = { droppable: true } as const;
