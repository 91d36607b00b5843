import type { WsPeer } from './ws-peer.js';

/**
 * One timer for all connections: each sweep terminates peers that stayed silent since the previous sweep and
 * pings the rest, so a peer silent for two intervals is gone.
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
      if (!peer.alive) {
        peer.terminate();
        continue;
      }
      peer.alive = false;
      if (peer.isOpen) peer.ws.ping();
    }
  }
}
