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

// Remove a dead instance's connections. KEYS: users, roles, dead instance counts, instances zset. ARGV: instance.
// Returns a flat list user, role of users whose total dropped to zero. Atomic, so only one reaper announces.
const REAP = `
local offline = {}
local counts = redis.call('HGETALL', KEYS[3])
for i = 1, #counts, 2 do
  local user = counts[i]
  local total = redis.call('HINCRBY', KEYS[1], user, -tonumber(counts[i + 1]))
  if total <= 0 then
    local role = redis.call('HGET', KEYS[2], user) or ''
    redis.call('HDEL', KEYS[1], user)
    redis.call('HDEL', KEYS[2], user)
    table.insert(offline, user)
    table.insert(offline, role)
  end
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
return offline`;

// Make this instance's share match its local truth after a reconnect (Redis may have restarted empty, or kept
// everything). KEYS: users, roles, instance counts. ARGV: user, role, count, user, role, count, …
const RESYNC = `
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
  end
end
return 1`;

interface LocalUser {
  role: Role;
  connections: number;
}

/**
 * Presence across instances in Redis: a total per user, the user's role, and each instance's own counts, so that
 * a dead instance's connections can be subtracted by whoever notices first. Every instance heartbeats into a
 * sorted set; one silent for three periods is reaped (its users go offline, announced once).
 * While Redis is away, changes are kept locally and written back on reconnect (edges during the outage are not
 * announced cluster-wide).
 */
export class RedisPresence implements PresenceTracker {
  private readonly redis: Redis;
  private readonly keys: { users: string; roles: string; mine: string; instances: string };
  private readonly local = new Map<string, LocalUser>();
  private readonly heartbeatMs: number;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;

  constructor(private readonly options: RedisPresenceOptions) {
    const p = `${options.keyPrefix}presence:`;
    this.keys = { users: `${p}users`, roles: `${p}roles`, mine: `${p}instance:${options.instanceId}`, instances: `${p}instances` };
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.redis = createRedisConnection(options.url, `uhs-presence-${options.instanceId}`, options.logger);
    let readyBefore = false;
    this.redis.on('ready', () => {
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
    const dead = await this.redis.zrangebyscore(this.keys.instances, '-inf', now - this.heartbeatMs * 3);
    for (const instance of dead) {
      if (instance === this.options.instanceId) continue;
      const flat = (await this.redis.eval(REAP, 4, this.keys.users, this.keys.roles, `${this.options.keyPrefix}presence:instance:${instance}`, this.keys.instances, instance)) as string[];
      const users: Array<{ userId: string; role: Role }> = [];
      for (let i = 0; i < flat.length; i += 2) {
        const role = flat[i + 1];
        if (isRole(role)) users.push({ userId: flat[i]!, role });
      }
      if (users.length > 0) {
        this.options.logger.warn({ instance, users: users.length }, 'reaped presence of a dead instance');
        this.options.onReapedOffline?.(users);
      }
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
      await this.redis.zadd(this.keys.instances, Date.now(), this.options.instanceId);
      await this.reapDead();
    } catch {
      this.dirty = true;
    }
  }

  private async resync(): Promise<void> {
    const args: string[] = [];
    for (const [userId, entry] of this.local) args.push(userId, entry.role, String(entry.connections));
    try {
      await this.redis.eval(RESYNC, 3, this.keys.users, this.keys.roles, this.keys.mine, ...args);
      await this.redis.zadd(this.keys.instances, Date.now(), this.options.instanceId);
      this.dirty = false;
    } catch (error) {
      this.dirty = true;
      this.options.logger.warn({ err: error }, 'presence resync failed');
    }
  }
}
