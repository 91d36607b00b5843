/**
 * The fan-out seam between instances. One process (memory) or many (Redis) run the same code path:
 * publishers publish, every instance's subscribers are served from the bus's delivery, this instance included.
 *
 * Contract:
 * - `publish` delivers the message to every current subscriber of the topic on every instance, this one too.
 *   Messages from one publisher on one topic arrive in publish order. Delivery is at most once: a bus over a
 *   network (Redis pub/sub) may lose messages while it is disconnected; features that cannot afford a gap detect
 *   it themselves (sequence numbers, state-vector resync).
 * - The memory bus delivers synchronously, before `publish` resolves; a network bus resolves when the message has
 *   been handed to the network and delivers later.
 * - `subscribe` resolves once the subscription is active (messages published after that are received); the
 *   returned function removes only that one subscription.
 * - A handler that throws does not stop delivery to the other handlers.
 */
export interface Bus {
  /** Tags messages so features can drop their own echoes. */
  readonly instanceId: string;
  /**
   * False when no other instance can receive what this one publishes (the in-process bus): a feature may skip
   * messages that only other instances read.
   */
  readonly reachesOtherInstances: boolean;
  publish<M>(topic: Topic<M>, message: M): Promise<void>;
  subscribe<M>(topic: Topic<M>, handler: (message: M) => void): Promise<Unsubscribe>;
  /** True while the bus can deliver to other instances (always true for the memory bus). */
  isHealthy(): boolean;
  close(): Promise<void>;
}

export type Unsubscribe = () => void;

/** A named stream of one message type, with the codec a network bus uses to carry it. */
export interface Topic<M> {
  readonly name: string;
  readonly codec: Codec<M>;
}

export interface Codec<M> {
  encode(message: M): Buffer;
  decode(raw: Buffer): M;
}

/** JSON codec for messages that are plain data (no binary fields). */
export function jsonCodec<M>(): Codec<M> {
  return {
    encode: (message) => Buffer.from(JSON.stringify(message)),
    decode: (raw) => JSON.parse(raw.toString('utf8')) as M,
  };
}

export function topic<M>(name: string, codec: Codec<M> = jsonCodec<M>()): Topic<M> {
  return { name, codec };
}
