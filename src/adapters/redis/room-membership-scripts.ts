/**
 * Lua scripts of the Redis video membership (see redis-room-membership.ts for the key layout). Each runs
 * atomically, so two instances never both admit the last place, both claim a peer, or both reap a dead instance.
 * Some scripts build keys of other instances or rooms from a prefix: fine on one Redis (or a replicated pair),
 * not on Redis Cluster.
 *
 * A member record is JSON: {"u": user id, "r": role, "i": instance, "g": generation, "o": admission order}.
 * A share entry (the set of members an instance holds) is "{session_id} {peer_id}"; neither id contains a space.
 */

const DECODE = `
local function decode(raw)
  if not raw then return nil end
  local ok, record = pcall(cjson.decode, raw)
  if ok and type(record) == 'table' and type(record.i) == 'string' and type(record.g) == 'number' then return record end
  return nil
end
local function split(entry)
  local space = string.find(entry, ' ', 1, true)
  if not space then return nil, nil end
  return string.sub(entry, 1, space - 1), string.sub(entry, space + 1)
end
-- Removes the member of share entry \`entry\` from its room if \`instance\` holds it; appends session, peer to \`out\`.
local function remove_held(entry, instance, room_prefix, out)
  local session, peer = split(entry)
  if not session then return end
  local record = decode(redis.call('HGET', room_prefix .. session, peer))
  if record and record.i == instance then
    redis.call('HDEL', room_prefix .. session, peer)
    table.insert(out, session)
    table.insert(out, peer)
  end
end
`;

// KEYS: room, own share, order counter, instances. ARGV: entry, peer, user, role, instance, capacity, live since.
// → {0} full, or {1, record, room hash, live instances}
export const ADMIT = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then return {0} end
local order = redis.call('INCR', KEYS[3])
local record = cjson.encode({u = ARGV[3], r = ARGV[4], i = ARGV[5], g = 1, o = order})
redis.call('HSET', KEYS[1], ARGV[2], record)
redis.call('SADD', KEYS[2], ARGV[1])
return {1, record, redis.call('HGETALL', KEYS[1]), redis.call('ZRANGEBYSCORE', KEYS[4], ARGV[7], '+inf')}`;

// KEYS: room, own share, instances. ARGV: entry, peer, user, instance, share prefix, live since.
// → {0} unknown, {-1} another user's, or {1, record, room hash, live instances}
export const CLAIM = `${DECODE}
local record = decode(redis.call('HGET', KEYS[1], ARGV[2]))
if not record then return {0} end
if record.u ~= ARGV[3] then return {-1} end
if record.i ~= ARGV[4] then redis.call('SREM', ARGV[5] .. record.i, ARGV[1]) end
record.i = ARGV[4]
record.g = record.g + 1
local raw = cjson.encode(record)
redis.call('HSET', KEYS[1], ARGV[2], raw)
redis.call('SADD', KEYS[2], ARGV[1])
return {1, raw, redis.call('HGETALL', KEYS[1]), redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[6], '+inf')}`;

// KEYS: room, own share. ARGV: entry, peer, instance, generation. → 'released' | 'moved' | 'gone'
export const RELEASE = `${DECODE}
local record = decode(redis.call('HGET', KEYS[1], ARGV[2]))
if not record then
  redis.call('SREM', KEYS[2], ARGV[1])
  return 'gone'
end
if record.i ~= ARGV[3] or record.g ~= tonumber(ARGV[4]) then return 'moved' end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
return 'released'`;

// KEYS: room, instances. ARGV: live since. → {room hash, live instances}
export const SNAPSHOT = `
return {redis.call('HGETALL', KEYS[1]), redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], '+inf')}`;

// KEYS: room. ARGV: session id, share prefix. Forgets the room and its entries in every instance's share.
export const END = `${DECODE}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local record = decode(all[i + 1])
  if record then redis.call('SREM', ARGV[2] .. record.i, ARGV[1] .. ' ' .. all[i]) end
end
redis.call('DEL', KEYS[1])
return #all / 2`;

// KEYS: instances. ARGV: instance, now. → 1 if the instance was registered, 0 if it was not (new, reaped, or
// Redis lost it).
export const HEARTBEAT = `
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if known then return 1 end
return 0`;

// KEYS: instances. ARGV: own instance, dead before, share prefix, room prefix.
// Removes the members every silent instance still holds. → flat {session, peer, …} of the removed members.
export const REAP = `${DECODE}
local departed = {}
for _, instance in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])) do
  if instance ~= ARGV[1] then
    local share = ARGV[3] .. instance
    for _, entry in ipairs(redis.call('SMEMBERS', share)) do remove_held(entry, instance, ARGV[4], departed) end
    redis.call('DEL', share)
    redis.call('ZREM', KEYS[1], instance)
  end
end
return departed`;

// KEYS: own share, instances. ARGV: instance, now, share prefix, room prefix, then per held member:
// session, peer, user, role, generation, order.
// Writes back every held member unless a later claim moved it elsewhere (→ lost), removes recorded members this
// instance no longer holds (→ removed), and registers the instance. → {{session, peer, record, …}, {session, peer, …}}
export const RESYNC = `${DECODE}
local me = ARGV[1]
local lost, removed, wanted = {}, {}, {}
for i = 5, #ARGV, 6 do
  local session, peer = ARGV[i], ARGV[i + 1]
  local entry = session .. ' ' .. peer
  local room = ARGV[4] .. session
  local generation = tonumber(ARGV[i + 4])
  local raw = redis.call('HGET', room, peer)
  local record = decode(raw)
  if record and record.i ~= me and record.g > generation then
    table.insert(lost, session)
    table.insert(lost, peer)
    table.insert(lost, raw)
  else
    if record and record.i ~= me then redis.call('SREM', ARGV[3] .. record.i, entry) end
    local written = {u = ARGV[i + 2], r = ARGV[i + 3], i = me, g = generation, o = tonumber(ARGV[i + 5])}
    if record and type(record.o) == 'number' then written.o = record.o end
    redis.call('HSET', room, peer, cjson.encode(written))
    redis.call('SADD', KEYS[1], entry)
    wanted[entry] = true
  end
end
for _, entry in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not wanted[entry] then
    redis.call('SREM', KEYS[1], entry)
    remove_held(entry, me, ARGV[4], removed)
  end
end
redis.call('ZADD', KEYS[2], ARGV[2], me)
return {lost, removed}`;
