import type { Duplex } from 'node:stream';

/**
 * Coalesces everything written to one socket within one event-loop turn into a single write: the first write
 * of a turn corks the socket, and all corked sockets are uncorked together once the turn's I/O callbacks ran.
 * Callers remember the turn they corked in (`corkedIn`) so that a socket is corked once per turn.
 */
export class Corker {
  private turn = 1;
  private corked: Duplex[] = [];
  private scheduled = false;
  private readonly flush = (): void => {
    this.scheduled = false;
    this.turn++;
    const sockets = this.corked;
    this.corked = [];
    for (const socket of sockets) socket.uncork();
  };

  /** Cork `socket` for the rest of this turn unless `corkedIn` says it already is; returns the current turn. */
  cork(socket: Duplex, corkedIn: number): number {
    if (corkedIn === this.turn) return corkedIn;
    socket.cork();
    this.corked.push(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return this.turn;
  }
}
