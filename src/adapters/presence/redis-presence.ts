import type { PresenceSummary, PresenceTracker, UserPresence } from '../../core/presence.js';
import { ROLES, isRole, type Role } from '../../protocol/roles.js';
import type { Logger } from '../../shared/logger.js';
import { createRedisConnection, type Redis } from '../redis/redis-connection.js';

export interface RedisPresenceOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly instanceId: string;
  readonly logger: Logger;
  /** How often this instance proves it is alive; an instance silent for 3 periods is reaped. */
  readonly heartbeatMs?: number;
  /** Told about users who went offline because the instance holding their last connections died. */
  readonly onReapedOffline?: (users: ReadonlyArray<{ userId: string; role: Role }>) => void;
  /** Told, on the instance that reaped it and only there, that another instance was found dead and reaped. */
  readonly onInstanceReaped?: (instanceId: string) => void;
  /**
   * Told that this instance had been reaped by another while it was alive (frozen for longer than the reaping
   * delay); its presence share has been written back already. `back`: the users that made online again — the
   * reaper announced them offline.
   */
  readonly onReapedWhileAlive?: (back: ReadonlyArray<{ userId: string; role: Role }>) => void;
}

// KEYS: users, roles, instance counts. ARGV: user, role, delta. Returns the user's new total.
const CHANGE = `
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[3])
local mine = redis.call('HINCRBY', KEYS[3], ARGV[1], ARGV[3])
if mine <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]) end
if total <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
if tonumber(ARGV[3]) > 0 and total == tonumber(ARGV[3]) then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
return total`;

// Remove a dead instance's connections. KEYS: users, roles, dead instance counts, instances zset.
// ARGV: instance, dead-before (epoch ms). Returns {0} when the instance is no longer dead (it heartbeated since, or
// another instance reaped it first), else {1, user, role, …} with the users whose total dropped to zero.
// Atomic, so exactly one reaper sees 1 and announces.
const REAP = `
local score = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return {0} end
redis.call('ZREM', KEYS[4], ARGV[1])
local result = {1}
local counts = redis.call('HGETALL', KEYS[3])
for i = 1, #counts, 2 do
  local user = counts[i]
  local total = redis.call('HINCRBY', KEYS[1], user, -tonumber(counts[i + 1]))
  if total <= 0 then
    local role = redis.call('HGET', KEYS[2], user) or ''
    redis.call('HDEL', KEYS[1], user)
    redis.call('HDEL', KEYS[2], user)
    table.insert(result, user)
    table.insert(result, role)
  end
end
redis.call('DEL', KEYS[3])
return result`;

// KEYS: instances zset. ARGV: instance, now. Returns 1 if the instance was registered, 0 if it was not (first beat,
// reaped by another instance, or Redis lost it).
const HEARTBEAT = `
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if known then return 1 end
return 0`;

// Make this instance's share match its local truth after a reconnect (Redis may have restarted empty, or kept
// everything). KEYS: users, roles, instance counts. ARGV: user, role, count, user, role, count, …
// Returns {user, role, …}: the users this made online again (their total was zero).
const RESYNC = `
local back = {}
local wanted = {}
for i = 1, #ARGV, 3 do wanted[ARGV[i]] = {ARGV[i + 1], tonumber(ARGV[i + 2])} end
local current = redis.call('HGETALL', KEYS[3])
for i = 1, #current, 2 do
  if not wanted[current[i]] then wanted[current[i]] = {'', 0} end
end
for user, entry in pairs(wanted) do
  local have = tonumber(redis.call('HGET', KEYS[3], user) or '0')
  local delta = entry[2] - have
  if delta ~= 0 then
    local total = redis.call('HINCRBY', KEYS[1], user, delta)
    if entry[2] > 0 then redis.call('HSET', KEYS[3], user, entry[2]) else redis.call('HDEL', KEYS[3], user) end
    if total <= 0 then
      redis.call('HDEL', KEYS[1], user)
      redis.call('HDEL', KEYS[2], user)
    elseif entry[1] ~= '' and redis.call('HEXISTS', KEYS[2], user) == 0 then
      redis.call('HSET', KEYS[2], user, entry[1])
    end
    if total > 0 and total == delta then
      table.insert(back, user)
      table.insert(back, redis.call('HGET', KEYS[2], user) or entry[1])
    end
  end
end
return back`;

interface LocalUser {
  role: Role;
  connections: number;
}

/**
 * Presence across instances in Redis: a total per user, the user's role, and each instance's own counts, so that
 * a dead instance's connections can be subtracted by whoever notices first. Every instance heartbeats into a
 * sorted set; one silent for three periods is reaped (its users go offline, announced once, and the one reaper
 * reports the instance down). An instance that finds itself reaped while alive (it was frozen) writes its share back
 * and reports that too. While Redis is away, changes are kept locally and written back on reconnect (edges during the outage are not
 * announced cluster-wide).
 */
export class RedisPresence implements PresenceTracker {
  private readonly redis: Redis;
  private readonly keys: { users: string; roles: string; mine: string; instances: string };
  private readonly local = new Map<string, LocalUser>();
  private readonly heartbeatMs: number;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** This instance's heartbeat has been in Redis (a later beat that finds it missing means it was reaped). */
  private registered = false;

  constructor(private readonly options: RedisPresenceOptions) {
    const p = `${options.keyPrefix}presence:`;
    this.keys = { users: `${p}users`, roles: `${p}roles`, mine: `${p}instance:${options.instanceId}`, instances: `${p}instances` };
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.redis = createRedisConnection(options.url, `uhs-presence-${options.instanceId}`, options.logger);
    let readyBefore = false;
    this.redis.on('ready', () => {
      // Redis may have restarted empty: being missing from it is no sign of having been reaped
      this.registered = false;
      if (readyBefore || this.dirty) void this.resync();
      readyBefore = true;
    });
  }

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  async connected(userId: string, role: Role): Promise<boolean> {
    const entry = this.local.get(userId);
    if (entry) entry.connections++;
    else this.local.set(userId, { role, connections: 1 });
    const total = await this.change(userId, role, 1);
    return total === undefined ? !entry : total === 1;
  }

  async disconnected(userId: string, role: Role): Promise<boolean> {
    const entry = this.local.get(userId);
    if (!entry) return false;
    entry.connections--;
    if (entry.connections <= 0) this.local.delete(userId);
    const total = await this.change(userId, role, -1);
    return total === undefined ? entry.connections <= 0 : total === 0;
  }

  async summary(): Promise<PresenceSummary> {
    const byRole = Object.fromEntries(ROLES.map((r) => [r, 0])) as Record<Role, number>;
    try {
      const [counts, roles] = await Promise.all([this.redis.hvals(this.keys.users), this.redis.hvals(this.keys.roles)]);
      for (const role of roles) if (isRole(role)) byRole[role]++;
      return { users: counts.length, connections: counts.reduce((sum, c) => sum + Number(c), 0), byRole };
    } catch {
      let connections = 0;
      for (const entry of this.local.values()) {
        byRole[entry.role]++;
        connections += entry.connections;
      }
      return { users: this.local.size, connections, byRole };
    }
  }

  async user(userId: string): Promise<UserPresence> {
    try {
      const connections = Number((await this.redis.hget(this.keys.users, userId)) ?? 0);
      return { online: connections > 0, connections };
    } catch {
      const connections = this.local.get(userId)?.connections ?? 0;
      return { online: connections > 0, connections };
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      // leaving cleanly: remove this instance's share at once instead of waiting to be reaped
      this.local.clear();
      await this.resync();
      await this.redis.zrem(this.keys.instances, this.options.instanceId);
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** Reap instances that stopped heartbeating (run by every instance; the script makes it happen once). */
  async reapDead(now = Date.now()): Promise<void> {
    const deadBefore = now - this.heartbeatMs * 3;
    const dead = await this.redis.zrangebyscore(this.keys.instances, '-inf', deadBefore);
    for (const instance of dead) {
      if (instance === this.options.instanceId) continue;
      const instanceKey = `${this.options.keyPrefix}presence:instance:${instance}`;
      const reply = (await this.redis.eval(REAP, 4, this.keys.users, this.keys.roles, instanceKey, this.keys.instances, instance, deadBefore)) as Array<string | number>;
      if (Number(reply[0]) !== 1) continue;
      const users = userRolePairs(reply.slice(1));
      this.options.logger.warn({ instance, users: users.length }, 'reaped presence of a dead instance');
      this.options.onInstanceReaped?.(instance);
      if (users.length > 0) this.options.onReapedOffline?.(users);
    }
  }

  private async change(userId: string, role: Role, delta: 1 | -1): Promise<number | undefined> {
    try {
      return Number(await this.redis.eval(CHANGE, 3, this.keys.users, this.keys.roles, this.keys.mine, userId, role, delta));
    } catch {
      this.dirty = true;
      return undefined;
    }
  }

  private async beat(): Promise<void> {
    try {
      const known = Number(await this.redis.eval(HEARTBEAT, 1, this.keys.instances, this.options.instanceId, Date.now()));
      // registered before, missing now, and no reconnect in between: another instance took us for dead
      const reaped = known === 0 && this.registered;
      this.registered = true;
      if (reaped) this.options.logger.warn('this instance was reaped while alive; writing its presence back');
      // also heals a change that failed without a reconnect
      const back = reaped || this.dirty ? await this.resync() : [];
      if (reaped && !this.dirty) this.options.onReapedWhileAlive?.(back);
      await this.reapDead();
    } catch {
      this.dirty = true;
    }
  }

  /** Returns the users the write-back made online again (none when it failed). */
  private async resync(): Promise<Array<{ userId: string; role: Role }>> {
    const args: string[] = [];
    for (const [userId, entry] of this.local) args.push(userId, entry.role, String(entry.connections));
    try {
      const reply = (await this.redis.eval(RESYNC, 3, this.keys.users, this.keys.roles, this.keys.mine, ...args)) as string[];
      await this.redis.zadd(this.keys.instances, Date.now(), this.options.instanceId);
      this.dirty = false;
      this.registered = true;
      return userRolePairs(reply);
    } catch (error) {
      this.dirty = true;
      this.options.logger.warn({ err: error }, 'presence resync failed');
      return [];
    }
  }
}

/** `[user, role, user, role, …]` from a script, without entries whose role is unknown. */
function userRolePairs(flat: ReadonlyArray<string | number>): Array<{ userId: string; role: Role }> {
  const users: Array<{ userId: string; role: Role }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const role = String(flat[i + 1]);
    if (isRole(role)) users.push({ userId: String(flat[i]), role });
  }
  return users;
}
