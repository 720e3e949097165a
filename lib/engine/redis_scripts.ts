/**
 * The Lua scripts of the Redis engine: every change to the room's shared
 * state is one script, so that a check and its change are atomic and the
 * notification of the change is published in the same step (and so in the
 * room's one order).
 *
 * Every script takes `ARGV[1]` the key prefix, `ARGV[2]` the calling node's
 * id, `ARGV[3]` the time (ms since the epoch) and `ARGV[4]` the main room's
 * key, then its own arguments. Keys are built from the prefix inside the
 * scripts: a room lives in one Redis database, not in a cluster.
 *
 * Keys (prefix `chat:`): `chat:names` hash of name key → holder JSON (with
 * the rooms it is in); `chat:node:<id>` a node's lease (PX); `chat:nodes`
 * set of node ids with a lease; `chat:swept:<id>` marks a node whose names
 * were swept; `chat:history` the stream of the main room's public
 * messages, `chat:history:<room key>` another room's; `chat:history:seeded`
 * set once the main stream was seeded; `chat:rooms` hash of room key →
 * RoomInfo JSON; `chat:room-members` hash of room key → how many present
 * holders are in it. Every change of a holder goes through `put` or
 * `remove` below, which keep the counts; a room (but the main room) whose
 * count falls to 0 is deleted with its history in the same step. Channels:
 * `chat:events` for the room, `chat:node:<id>:private` for one node's
 * private messages (a PrivateMessage's JSON) and the console's kicks
 * (`{"k":"kick",...}`).
 *
 * Notifications on `chat:events` (JSON): `{"k":"e","id","m","of"?}` a room
 * event (`id` its stream id or "", `of` the node a sweep was of),
 * `{"k":"set","key","h"}`, `{"k":"del","key","node"}`,
 * `{"k":"mv","from","key","h"}`, `{"k":"swept","node"}` and
 * `{"k":"room","key","r"}` (a room's info now, null when it is gone).
 *
 * @module
 */

import type { EndCode } from "../room/reasons.ts";
import { RedisScript } from "./redis_client.ts";

/** The reason (a code, see `lib/room/reasons.ts`) for the users of a node that died. */
export const SERVER_LOST: EndCode = "serverLost";

/** How long the mark of a swept node stays (ms): longer than any pause. */
export const SWEPT_TTL_MS = 24 * 3600 * 1000;

const PRELUDE = `
local P, SELF, NOW, MAIN = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local NAMES, EVENTS = P .. 'names', P .. 'events'
local ROOMS, COUNTS = P .. 'rooms', P .. 'room-members'
local function alive(node)
  return redis.call('EXISTS', P .. 'node:' .. node) == 1
end
local function publishSet(key, json)
  redis.call('PUBLISH', EVENTS,
    '{"k":"set","key":' .. cjson.encode(key) .. ',"h":' .. json .. '}')
end
local function publishDel(key, node)
  redis.call('PUBLISH', EVENTS, cjson.encode({k = 'del', key = key, node = node}))
end
-- A room's info now (its JSON), or nil when it is gone.
local function publishRoom(key, json)
  redis.call('PUBLISH', EVENTS, '{"k":"room","key":' .. cjson.encode(key) ..
    ',"r":' .. (json or 'null') .. '}')
end
local function stream(key)
  if key == '' or key == MAIN then return P .. 'history' end
  return P .. 'history:' .. key
end
-- The room keys of a holder who is in the chat (none when it is not).
local function roomsOf(h)
  local keys = {}
  if h and h.present and type(h.rooms) == 'table' then
    for _, room in ipairs(h.rooms) do keys[string.lower(room)] = true end
  end
  return keys
end
-- Forgets a room (never the main room) with its history.
local function dropRoom(key)
  if key == MAIN then return end
  redis.call('DEL', stream(key))
  if redis.call('HDEL', ROOMS, key) == 1 then publishRoom(key, nil) end
end
-- Counts a holder's change (old and new decoded, nil for none); a room
-- left with no one is dropped.
local function recount(old, new)
  local before, after = roomsOf(old), roomsOf(new)
  for key in pairs(after) do
    if not before[key] then redis.call('HINCRBY', COUNTS, key, 1) end
  end
  for key in pairs(before) do
    if not after[key] and redis.call('HINCRBY', COUNTS, key, -1) <= 0 then
      redis.call('HDEL', COUNTS, key)
      dropRoom(key)
    end
  end
end
local function members(key)
  return tonumber(redis.call('HGET', COUNTS, key) or '0')
end
-- Sets the entry at key (old: the holder it replaces, decoded, or nil).
local function put(key, json, old)
  redis.call('HSET', NAMES, key, json)
  recount(old, cjson.decode(json))
  publishSet(key, json)
end
-- Deletes the entry at key (h: its holder, decoded).
local function remove(key, h)
  redis.call('HDEL', NAMES, key)
  recount(h, nil)
  publishDel(key, h.node)
end
-- The leave notice of a holder whose node is gone, sent once: by whoever
-- deletes its entry. It reaches those who shared a room with it.
local function publishLeave(h)
  local event = {type = 'leave', time = NOW, name = h.name,
    via = h.transport, reason = '${SERVER_LOST}'}
  if type(h.rooms) == 'table' and #h.rooms > 0 then event.rooms = h.rooms end
  redis.call('PUBLISH', EVENTS, cjson.encode({k = 'e', id = '', of = h.node,
    m = {event = event, from = cjson.null, node = SELF}}))
end
-- Whether the entry at key may be taken: free, or held by a dead node (it
-- is then deleted, and its holder told to have left).
local function free(key)
  local cur = redis.call('HGET', NAMES, key)
  if not cur then return true end
  local h = cjson.decode(cur)
  if h.node == SELF or alive(h.node) then return false end
  remove(key, h)
  if h.present then publishLeave(h) end
  return true
end
-- Deletes every entry of a dead node, telling its users' leave once.
local function sweep(node)
  if not redis.call('SET', P .. 'swept:' .. node, SELF, 'NX', 'PX', ${SWEPT_TTL_MS}) then
    return 0
  end
  redis.call('SREM', P .. 'nodes', node)
  redis.call('PUBLISH', EVENTS, cjson.encode({k = 'swept', node = node}))
  local all = redis.call('HGETALL', NAMES)
  for i = 1, #all, 2 do
    local h = cjson.decode(all[i + 1])
    if h.node == node then
      remove(all[i], h)
      if h.present then publishLeave(h) end
    end
  end
  return 1
end
`;

function script(body: string): RedisScript {
  return new RedisScript(PRELUDE + body);
}

/**
 * Claims a name: ARGV[5] the name key, ARGV[6] the holder JSON. Returns
 * `ok`, `taken`, or `nolease` when the caller's own lease is gone (it must
 * not hold names until it re-asserted its place).
 */
export const CLAIM: RedisScript = script(`
if not alive(SELF) then return 'nolease' end
if not free(ARGV[5]) then return 'taken' end
put(ARGV[5], ARGV[6], nil)
return 'ok'
`);

/**
 * Renames: ARGV[5] the old key, ARGV[6] the new key (maybe the same, for a
 * change of case), ARGV[7] the new holder JSON. Returns `ok`, `taken`, or
 * `lost` when the caller does not hold the old name (or has no lease).
 */
export const RENAME: RedisScript = script(`
if not alive(SELF) then return 'lost' end
local from, to = ARGV[5], ARGV[6]
local cur = redis.call('HGET', NAMES, from)
if not cur or cjson.decode(cur).node ~= SELF then return 'lost' end
if from ~= to then
  if not free(to) then return 'taken' end
  redis.call('HDEL', NAMES, from)
end
redis.call('HSET', NAMES, to, ARGV[7])
recount(cjson.decode(cur), cjson.decode(ARGV[7]))
redis.call('PUBLISH', EVENTS, '{"k":"mv","from":' .. cjson.encode(from) ..
  ',"key":' .. cjson.encode(to) .. ',"h":' .. ARGV[7] .. '}')
return 'ok'
`);

/** Compare-and-delete: ARGV[5] the key, freed only if the caller holds it. */
export const RELEASE: RedisScript = script(`
local cur = redis.call('HGET', NAMES, ARGV[5])
if not cur then return 0 end
local h = cjson.decode(cur)
if h.node ~= SELF then return 0 end
remove(ARGV[5], h)
return 1
`);

/**
 * Compare-and-set of a holder (its presence, rooms or attributes changed):
 * ARGV[5] the key, ARGV[6] the holder JSON, written only if the caller
 * holds the key; then pairs of room key and RoomInfo JSON, the rooms it
 * just joined: one that is gone from Redis (its last member left
 * meanwhile) is made again from the caller's copy, so that no member is
 * ever in a room without its info.
 */
export const UPDATE: RedisScript = script(`
local cur = redis.call('HGET', NAMES, ARGV[5])
if not cur then return 0 end
local old = cjson.decode(cur)
if old.node ~= SELF then return 0 end
local joined = roomsOf(cjson.decode(ARGV[6]))
for i = 7, #ARGV - 1, 2 do
  if joined[ARGV[i]] and redis.call('HSETNX', ROOMS, ARGV[i], ARGV[i + 1]) == 1 then
    publishRoom(ARGV[i], ARGV[i + 1])
  end
end
put(ARGV[5], ARGV[6], old)
return 1
`);

/**
 * Publishes a room event: ARGV[5] the RoomMessage JSON, ARGV[6] a history
 * entry JSON (or "" for none), ARGV[7] the stream's approximate length,
 * ARGV[8] the node the event is for the others of ("" for everyone),
 * ARGV[9] the key of the room whose history the entry goes to. The entry
 * goes into the room's stream (not for a room that is gone) and the event
 * onto the channel in one step, with the entry's id, so a node loading
 * the stream can tell which of the events it gets are in it already.
 */
export const PUBLISH_EVENT: RedisScript = script(`
local id = ''
local room = ARGV[9] or ''
if ARGV[6] ~= '' and (room == '' or room == MAIN or
    redis.call('HEXISTS', ROOMS, room) == 1) then
  id = redis.call('XADD', stream(room), 'MAXLEN', '~', ARGV[7], '*', 'e', ARGV[6])
end
local of = ''
if ARGV[8] ~= '' then of = ',"of":' .. cjson.encode(ARGV[8]) end
redis.call('PUBLISH', EVENTS, '{"k":"e","id":"' .. id .. '"' .. of .. ',"m":' .. ARGV[5] .. '}')
return id
`);

/**
 * Keeps a room's info: ARGV[5] the room key, ARGV[6] the RoomInfo JSON.
 * Only a room that exists (a member is in it) or the main room: a room is
 * made by its first member's `UPDATE`. Either way the room's info as it is
 * then is published, so that the caller's copy ends as Redis has it.
 */
export const ROOM_SET: RedisScript = script(`
local key = ARGV[5]
if key == MAIN or redis.call('HEXISTS', ROOMS, key) == 1 then
  redis.call('HSET', ROOMS, key, ARGV[6])
  publishRoom(key, ARGV[6])
  return 1
end
publishRoom(key, nil)
return 0
`);

/**
 * Forgets a room with its history: ARGV[5] the room key; not the main
 * room, nor one someone is in (whose info is then published again, for
 * the caller that forgot it already).
 */
export const ROOM_DEL: RedisScript = script(`
local key = ARGV[5]
if key == MAIN then return 0 end
if members(key) > 0 then
  local cur = redis.call('HGET', ROOMS, key)
  if cur then publishRoom(key, cur) end
  return 0
end
dropRoom(key)
return 1
`);

/**
 * Makes again, from the caller's copy, the rooms its members are in that
 * Redis lost (it was restarted empty): pairs of room key and RoomInfo
 * JSON. Only rooms someone is in; returns how many were made.
 */
export const ENSURE_ROOMS: RedisScript = script(`
local made = 0
for i = 5, #ARGV - 1, 2 do
  if members(ARGV[i]) > 0 and redis.call('HSETNX', ROOMS, ARGV[i], ARGV[i + 1]) == 1 then
    publishRoom(ARGV[i], ARGV[i + 1])
    made = made + 1
  end
end
return made
`);

/**
 * Refreshes the caller's lease: ARGV[5] the lease in ms. Returns `ok`,
 * `swept` (the room saw its users leave: it lost its place) or `expired`
 * (it must re-assert its names).
 */
export const REFRESH: RedisScript = script(`
if redis.call('EXISTS', P .. 'swept:' .. SELF) == 1 then return 'swept' end
if redis.call('PEXPIRE', P .. 'node:' .. SELF, ARGV[5]) == 1 then return 'ok' end
return 'expired'
`);

/**
 * Takes (or takes back) the caller's place: ARGV[5] the lease in ms, then
 * pairs of name key and holder JSON, every name it holds. Returns `swept`
 * or `lost` (one of its names is held by a live node) without changing
 * anything, or `ok` once its lease and names are set and its entries not
 * in the list are deleted.
 */
export const REASSERT: RedisScript = script(`
if redis.call('EXISTS', P .. 'swept:' .. SELF) == 1 then return 'swept' end
local mine = {}
for i = 6, #ARGV, 2 do
  local cur = redis.call('HGET', NAMES, ARGV[i])
  if cur then
    local h = cjson.decode(cur)
    if h.node ~= SELF and alive(h.node) then return 'lost' end
  end
  mine[ARGV[i]] = ARGV[i + 1]
end
redis.call('SET', P .. 'node:' .. SELF, '1', 'PX', ARGV[5])
redis.call('SADD', P .. 'nodes', SELF)
local all = redis.call('HGETALL', NAMES)
for i = 1, #all, 2 do
  local h = cjson.decode(all[i + 1])
  if mine[all[i]] == nil and h.node == SELF then remove(all[i], h) end
end
for i = 6, #ARGV, 2 do
  free(ARGV[i])
  local cur = redis.call('HGET', NAMES, ARGV[i])
  if cur ~= ARGV[i + 1] then
    put(ARGV[i], ARGV[i + 1], cur and cjson.decode(cur) or nil)
  end
end
return 'ok'
`);

/**
 * Sweeps every node (but the caller) whose lease is gone; returns how many
 * this call swept. The `swept:` mark is set with NX, so each dead node is
 * swept, and its users' leave told, exactly once.
 */
export const SWEEP: RedisScript = script(`
local count = 0
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if node ~= SELF and not alive(node) then
    redis.call('SREM', P .. 'nodes', node)
    count = count + sweep(node)
  end
end
return count
`);

/**
 * Sweeps one former id of the caller (ARGV[5]) after it lost its place, if
 * nobody did yet: its lease is dropped first.
 */
export const SWEEP_NODE: RedisScript = script(`
redis.call('DEL', P .. 'node:' .. ARGV[5])
return sweep(ARGV[5])
`);

/**
 * Leaves the room for good: deletes the caller's lease and every entry it
 * holds (so the others see its names free at once).
 */
export const LEAVE_ROOM: RedisScript = script(`
redis.call('DEL', P .. 'node:' .. SELF)
redis.call('SREM', P .. 'nodes', SELF)
local all = redis.call('HGETALL', NAMES)
for i = 1, #all, 2 do
  local h = cjson.decode(all[i + 1])
  if h.node == SELF then remove(all[i], h) end
end
return 1
`);

/**
 * Seeds an empty history stream of the main room once: ARGV[5] the
 * stream's approximate length, then history entry JSONs, oldest first.
 * Returns how many were added (0 when the stream has entries or was
 * seeded already).
 */
export const SEED: RedisScript = script(`
if redis.call('EXISTS', P .. 'history') == 1 then return 0 end
if not redis.call('SET', P .. 'history:seeded', SELF, 'NX') then return 0 end
for i = 6, #ARGV do
  redis.call('XADD', P .. 'history', 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[i])
end
return #ARGV - 5
`);

/**
 * Hands a console's kick to the node that holds a name: ARGV[5] the name
 * key, ARGV[6] the reason, ARGV[7] "1" for a ghost's takeover. Publishes
 * `{"k":"kick","name","reason","ghost"}` on that node's private channel
 * and returns `{"sent", name as held}`; `{"none"}` when no live node holds
 * the name, `{"deaf"}` when its node does not listen now (it is
 * reconnecting).
 */
export const KICK: RedisScript = script(`
local cur = redis.call('HGET', NAMES, ARGV[5])
if not cur then return {'none'} end
local h = cjson.decode(cur)
if not alive(h.node) then return {'none'} end
local kick = cjson.encode({k = 'kick', name = h.name, reason = ARGV[6],
  ghost = ARGV[7] == '1'})
if redis.call('PUBLISH', P .. 'node:' .. h.node .. ':private', kick) == 0 then
  return {'deaf'}
end
return {'sent', h.name}
`);
