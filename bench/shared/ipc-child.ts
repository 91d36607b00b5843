/**
 * Typed request/reply over Node IPC between a benchmark's orchestrator and the load processes it forks.
 * Messages are objects with a string `type`. Parent side: `IpcChild.fork` (waits for the child's `ready`),
 * `request` (send, then wait for the reply of a given type), `on` (unsolicited messages such as progress).
 * Child side: `childMain` (answers, exits when the parent goes away or after a maximum lifetime).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { stopChild, track } from './child-processes.js';

export interface Typed {
  readonly type: string;
}

/** Sent by a child whose command failed; rejects the pending requests. */
export interface FatalMessage {
  readonly type: 'fatal';
  readonly message: string;
}

interface Waiter {
  readonly type: string;
  readonly resolve: (message: Typed) => void;
  readonly reject: (error: Error) => void;
}

export class IpcChild<In extends Typed, Out extends Typed> {
  private readonly waiters: Waiter[] = [];
  private readonly listeners = new Map<string, Array<(message: Out) => void>>();

  private constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.on('message', (message: Out | FatalMessage) => this.onMessage(message));
    child.once('exit', (code, signal) => {
      const error = new Error(`${name} exited (${code ?? signal})`);
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    });
  }

  /** Forks `script` with tsx and waits for its `{type: 'ready'}`. */
  static async fork<In extends Typed, Out extends Typed>(script: string, name: string, args: readonly string[] = [], readyTimeoutMs = 30_000): Promise<IpcChild<In, Out>> {
    const child = track(fork(script, [...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const handle = new IpcChild<In, Out>(child, name);
    await handle.next('ready', readyTimeoutMs);
    return handle;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onMessage(message: Out | FatalMessage): void {
    if (message.type === 'fatal') {
      const error = new Error(`${this.name}: ${(message as FatalMessage).message}`);
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
      return;
    }
    for (const listener of this.listeners.get(message.type) ?? []) listener(message as Out);
    const at = this.waiters.findIndex((waiter) => waiter.type === message.type);
    if (at >= 0) this.waiters.splice(at, 1)[0]?.resolve(message);
  }

  /** Calls `listener` for every message of `type` (besides any waiting request). */
  on<T extends Out['type']>(type: T, listener: (message: Extract<Out, { type: T }>) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener as (message: Out) => void);
    this.listeners.set(type, list);
  }

  /** The next message of `type` (register before sending what it answers). */
  next<T extends string>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new Error(`${this.name}: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as Extract<Out, { type: T }>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  send(message: In): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Sends `message` and waits for the reply of type `reply`. */
  request<T extends Out['type']>(message: In, reply: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    const answer = this.next(reply, timeoutMs);
    this.send(message);
    return answer;
  }

  async stop(graceMs = 5_000): Promise<void> {
    await stopChild(this.child, graceMs);
  }
}

/**
 * The child side: sends `ready`, hands every message to `handle` (a thrown error or rejection is sent as
 * `fatal`), exits when the parent disconnects or after `maxLifetimeMs`, running `onExit` first.
 */
export function childMain<In extends Typed, Out extends Typed>(options: {
  readonly handle: (message: In, reply: (message: Out) => void) => void | Promise<void>;
  readonly maxLifetimeMs: number;
  readonly onExit?: () => void;
}): (message: Out) => void {
  const reply = (message: Out | FatalMessage): void => {
    if (process.connected) process.send?.(message);
  };
  const exit = (code: number): void => {
    try {
      options.onExit?.();
    } finally {
      process.exit(code);
    }
  };
  process.on('message', (message: In) => {
    Promise.resolve()
      .then(() => options.handle(message, reply))
      .catch((error: unknown) => reply({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  process.on('disconnect', () => exit(0));
  process.on('SIGTERM', () => exit(0));
  setTimeout(() => exit(0), options.maxLifetimeMs).unref();
  reply({ type: 'ready' } as Out);
  return reply;
}
