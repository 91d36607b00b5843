import type {
  Admission,
  Claim,
  Departure,
  HeldMember,
  HeldPeer,
  MembershipEvents,
  Release,
  ResyncReport,
  RoomMember,
  RoomMembership,
  RoomSnapshot,
} from '../../features/signaling/room-membership.js';
import { isRole } from '../../protocol/roles.js';
import type { Logger } from '../../shared/logger.js';
import { createRedisConnection, waitForReady, type Redis } from './redis-connection.js';
import { ADMIT, CLAIM, END, HEARTBEAT, REAP, RELEASE, RESYNC, SNAPSHOT } from './room-membership-scripts.js';

export interface RedisRoomMembershipOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly logger: Logger;
  /** How often this instance proves it is alive (and reaps the dead). */
  readonly heartbeatMs: number;
  /** An instance silent this long is dead and its members are reaped (at least 3 heartbeats and the rejoin grace). */
  readonly reapAfterMs: number;
  /** After a shutdown this instance's members wait this long for a rejoin elsewhere before they are reaped. */
  readonly rejoinGraceMs: number;
  /** A Redis call slower than this counts as unavailable (a paused Redis must not hang joins). */
  readonly commandTimeoutMs?: number;
}

/**
 * Video room membership shared by every instance over Redis (contract in room-membership.ts). Keys, under
 * `{prefix}video:`:
 * - `room:{session_id}` (hash): peer id → member record (user, role, holding instance, generation, order);
 * - `instance:{instance}` (set): "{session_id} {peer_id}" of the members that instance holds, so that a dead
 *   instance's members can be found and removed;
 * - `instances` (sorted set): instance → last heartbeat (epoch ms);
 * - `order` (counter): admission order.
 * Admission, claims, releases and reaping are Lua scripts, atomic across instances. While Redis is away every
 * call answers `unavailable`; when it is back (or this instance finds it was reaped), `resyncNeeded` fires.
 */
export class RedisRoomMembership implements RoomMembership {
  readonly instanceId: string;
  private readonly redis: Redis;
  private readonly keys: { rooms: string; shares: string; share: string; instances: string; order: string };
  private readonly timeoutMs: number;
  private events: MembershipEvents | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private registered = false;
  /** A call failed: what Redis holds for this instance may differ from what it holds. */
  private dirty = false;

  constructor(private readonly options: RedisRoomMembershipOptions) {
    this.instanceId = options.instanceId;
    const p = `${options.keyPrefix}video:`;
    this.keys = {
      rooms: `${p}room:`,
      shares: `${p}instance:`,
      share: `${p}instance:${options.instanceId}`,
      instances: `${p}instances`,
      order: `${p}order`,
    };
    this.timeoutMs = options.commandTimeoutMs ?? 2000;
    this.redis = createRedisConnection(options.url, `uhs-video-${options.instanceId}`, options.logger);
    let readyBefore = false;
    this.redis.on('ready', () => {
      if (readyBefore || this.dirty) this.needResync();
      readyBefore = true;
    });
  }

  async start(events: MembershipEvents, timeoutMs = 3000): Promise<void> {
    this.events = events;
    await waitForReady(this.redis, timeoutMs);
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.timer.unref();
  }

  async admit(sessionId: string, member: RoomMember, capacity: number): Promise<Admission> {
    const reply = await this.call(ADMIT, [this.room(sessionId), this.keys.share, this.keys.order, this.keys.instances], [
      entry(sessionId, member.peerId),
      member.peerId,
      member.userId,
      member.role,
      this.instanceId,
      capacity,
      this.liveSince(),
    ]);
    if (!Array.isArray(reply)) return { status: 'unavailable' };
    if (reply[0] !== 1) return { status: 'full' };
    const admitted = withSnapshot(member.peerId, reply);
    return admitted ? { status: 'admitted', ...admitted } : { status: 'unavailable' };
  }

  async claim(sessionId: string, peerId: string, userId: string): Promise<Claim> {
    const reply = await this.call(CLAIM, [this.room(sessionId), this.keys.share, this.keys.instances], [
      entry(sessionId, peerId),
      peerId,
      userId,
      this.instanceId,
      this.keys.shares,
      this.liveSince(),
    ]);
    if (!Array.isArray(reply)) return { status: 'unavailable' };
    if (reply[0] === 0) return { status: 'unknown' };
    if (reply[0] === -1) return { status: 'other_user' };
    const claimed = withSnapshot(peerId, reply);
    return claimed ? { status: 'claimed', ...claimed } : { status: 'unavailable' };
  }

  async release(sessionId: string, member: HeldMember): Promise<Release> {
    const reply = await this.call(RELEASE, [this.room(sessionId), this.keys.share], [entry(sessionId, member.peerId), member.peerId, this.instanceId, member.generation]);
    return reply === 'released' || reply === 'moved' || reply === 'gone' ? reply : 'unavailable';
  }

  async snapshot(sessionId: string): Promise<RoomSnapshot | undefined> {
    const reply = await this.call(SNAPSHOT, [this.room(sessionId), this.keys.instances], [this.liveSince()]);
    return Array.isArray(reply) ? snapshotOf(reply[0], reply[1]) : undefined;
  }

  async end(sessionId: string): Promise<void> {
    await this.call(END, [this.room(sessionId)], [sessionId, this.keys.shares]);
  }

  async resync(held: readonly HeldPeer[]): Promise<ResyncReport | undefined> {
    const args: Array<string | number> = [this.instanceId, Date.now(), this.keys.shares, this.keys.rooms];
    for (const { sessionId, member } of held) args.push(sessionId, member.peerId, member.userId, member.role, member.generation, member.order);
    const reply = await this.call(RESYNC, [this.keys.share, this.keys.instances], args);
    if (!Array.isArray(reply)) return undefined;
    this.dirty = false;
    this.registered = true;
    const lost: HeldPeer[] = [];
    const flatLost = stringsOf(reply[0]);
    for (let i = 0; i + 2 < flatLost.length; i += 3) {
      const member = parseRecord(flatLost[i + 1]!, flatLost[i + 2]!);
      if (member) lost.push({ sessionId: flatLost[i]!, member });
    }
    return { lost, removed: departuresOf(reply[1]) };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      // this instance's members wait out the rejoin grace (their peers may rejoin elsewhere), then are reaped
      const reapAt = Date.now() + this.options.rejoinGraceMs;
      await this.redis.zadd(this.keys.instances, Math.min(Date.now(), reapAt - this.options.reapAfterMs), this.instanceId);
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** Heartbeat, then remove the members of instances that stopped heartbeating (every instance tries; one does it). */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const known = await this.call(HEARTBEAT, [this.keys.instances], [this.instanceId, Date.now()]);
      if (known === undefined) return;
      // unregistered after having been registered: Redis lost us (restart) or reaped us (we were silent too long)
      if ((known === 0 && this.registered) || this.dirty) this.needResync();
      this.registered = true;
      const reaped = await this.call(REAP, [this.keys.instances], [this.instanceId, Date.now() - this.options.reapAfterMs, this.keys.shares, this.keys.rooms]);
      const departures = departuresOf(reaped);
      if (departures.length > 0) {
        this.options.logger.warn({ peers: departures.length }, 'reaped video peers of a dead instance');
        this.events?.reaped(departures);
      }
    } finally {
      this.beating = false;
    }
  }

  private needResync(): void {
    this.dirty = true;
    this.events?.resyncNeeded();
  }

  /** Run a script; undefined (and dirty) when Redis cannot be reached in time. */
  private async call(script: string, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.redis.eval(script, keys.length, ...keys, ...args),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('redis call timed out')), this.timeoutMs);
        }),
      ]);
    } catch (error) {
      this.dirty = true;
      this.options.logger.debug({ err: error }, 'video membership call failed');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private room(sessionId: string): string {
    return `${this.keys.rooms}${sessionId}`;
  }

  private liveSince(): number {
    return Date.now() - this.options.reapAfterMs;
  }
}

/** `{1, record, room hash, live instances}` of ADMIT and CLAIM. */
function withSnapshot(peerId: string, reply: readonly unknown[]): { member: HeldMember; snapshot: RoomSnapshot } | undefined {
  const member = typeof reply[1] === 'string' ? parseRecord(peerId, reply[1]) : undefined;
  return member ? { member, snapshot: snapshotOf(reply[2], reply[3]) } : undefined;
}

function entry(sessionId: string, peerId: string): string {
  return `${sessionId} ${peerId}`;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function snapshotOf(hash: unknown, live: unknown): RoomSnapshot {
  const flat = stringsOf(hash);
  const members: HeldMember[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const member = parseRecord(flat[i]!, flat[i + 1]!);
    if (member) members.push(member);
  }
  return { members, liveInstances: new Set(stringsOf(live)) };
}

function departuresOf(value: unknown): Departure[] {
  const flat = stringsOf(value);
  const departures: Departure[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) departures.push({ sessionId: flat[i]!, peerId: flat[i + 1]! });
  return departures;
}

function parseRecord(peerId: string, raw: string): HeldMember | undefined {
  let record: unknown;
  try {
    record = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const { u, r, i, g, o } = record as Record<string, unknown>;
  if (typeof u !== 'string' || !isRole(r) || typeof i !== 'string' || typeof g !== 'number' || typeof o !== 'number') return undefined;
  return { peerId, userId: u, role: r, instance: i, generation: g, order: o };
}
