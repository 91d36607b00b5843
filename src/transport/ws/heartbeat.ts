import type { WsPeer } from './ws-peer.js';

/**
 * One timer for all connections: each sweep terminates peers that stayed silent since the previous sweep and
 * pings the rest, so a peer silent for two intervals is gone. "Silent" means no byte arrived on its socket (a
 * pong, a message, anything), read from the socket's own counter: no listener and no write per message.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number, private readonly peers: () => Iterable<WsPeer>) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sweep(): void {
    for (const peer of this.peers()) {
      const read = peer.bytesRead;
      if (read === peer.bytesReadAtLastSweep) {
        peer.terminate();
        continue;
      }
      peer.bytesReadAtLastSweep = read;
      if (peer.isOpen) peer.ws.ping();
    }
  }
}
