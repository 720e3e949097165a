/**
 * The Lua scripts of the Redis engine: every change to the room's shared
 * state is one script, so that a check and its change are atomic and the
 * notification of the change is published in the same step (and so in the
 * room's one order).
 *
 * Every script takes `ARGV[1]` the key prefix, `ARGV[2]` the calling node's
 * id and `ARGV[3]` the time (ms since the epoch), then its own arguments.
 * Keys are built from the prefix inside the scripts: a room lives in one
 * Redis database, not in a cluster.
 *
 * Keys (prefix `chat:`): `chat:names` hash of name key → holder JSON;
 * `chat:node:<id>` a node's lease (PX); `chat:nodes` set of node ids with
 * a lease; `chat:swept:<id>` marks a node whose names were swept;
 * `chat:history` the stream of public messages; `chat:history:seeded`
 * set once the stream was seeded. Channels: `chat:events` for the room,
 * `chat:node:<id>:private` for one node's private messages (a
 * PrivateMessage's JSON) and the console's kicks (`{"k":"kick",...}`).
 *
 * Notifications on `chat:events` (JSON): `{"k":"e","id","m","of"?}` a room
 * event (`id` its stream id or "", `of` the node a sweep was of),
 * `{"k":"set","key","h"}`, `{"k":"del","key","node"}`,
 * `{"k":"mv","from","key","h"}` and `{"k":"swept","node"}`.
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
local P, SELF, NOW = ARGV[1], ARGV[2], tonumber(ARGV[3])
local NAMES, EVENTS = P .. 'names', P .. 'events'
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
-- The leave notice of a holder whose node is gone, sent once: by whoever
-- deletes its entry.
local function publishLeave(h)
  redis.call('PUBLISH', EVENTS, cjson.encode({k = 'e', id = '', of = h.node,
    m = {event = {type = 'leave', time = NOW, name = h.name,
      via = h.transport, reason = '${SERVER_LOST}'},
      from = cjson.null, node = SELF}}))
end
-- Whether the entry at key may be taken: free, or held by a dead node (its
-- holder is then told to have left).
local function free(key)
  local cur = redis.call('HGET', NAMES, key)
  if not cur then return true end
  local h = cjson.decode(cur)
  if h.node == SELF or alive(h.node) then return false end
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
      redis.call('HDEL', NAMES, all[i])
      publishDel(all[i], node)
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
 * Claims a name: ARGV[4] the name key, ARGV[5] the holder JSON. Returns
 * `ok`, `taken`, or `nolease` when the caller's own lease is gone (it must
 * not hold names until it re-asserted its place).
 */
export const CLAIM: RedisScript = script(`
if not alive(SELF) then return 'nolease' end
if not free(ARGV[4]) then return 'taken' end
redis.call('HSET', NAMES, ARGV[4], ARGV[5])
publishSet(ARGV[4], ARGV[5])
return 'ok'
`);

/**
 * Renames: ARGV[4] the old key, ARGV[5] the new key (maybe the same, for a
 * change of case), ARGV[6] the new holder JSON. Returns `ok`, `taken`, or
 * `lost` when the caller does not hold the old name (or has no lease).
 */
export const RENAME: RedisScript = script(`
if not alive(SELF) then return 'lost' end
local from, to = ARGV[4], ARGV[5]
local cur = redis.call('HGET', NAMES, from)
if not cur or cjson.decode(cur).node ~= SELF then return 'lost' end
if from ~= to then
  if not free(to) then return 'taken' end
  redis.call('HDEL', NAMES, from)
end
redis.call('HSET', NAMES, to, ARGV[6])
redis.call('PUBLISH', EVENTS, '{"k":"mv","from":' .. cjson.encode(from) ..
  ',"key":' .. cjson.encode(to) .. ',"h":' .. ARGV[6] .. '}')
return 'ok'
`);

/** Compare-and-delete: ARGV[4] the key, freed only if the caller holds it. */
export const RELEASE: RedisScript = script(`
local cur = redis.call('HGET', NAMES, ARGV[4])
if not cur or cjson.decode(cur).node ~= SELF then return 0 end
redis.call('HDEL', NAMES, ARGV[4])
publishDel(ARGV[4], SELF)
return 1
`);

/**
 * Compare-and-set of a holder (its presence changed): ARGV[4] the key,
 * ARGV[5] the holder JSON, written only if the caller holds the key.
 */
export const UPDATE: RedisScript = script(`
local cur = redis.call('HGET', NAMES, ARGV[4])
if not cur or cjson.decode(cur).node ~= SELF then return 0 end
redis.call('HSET', NAMES, ARGV[4], ARGV[5])
publishSet(ARGV[4], ARGV[5])
return 1
`);

/**
 * Publishes a room event: ARGV[4] the RoomMessage JSON, ARGV[5] a history
 * entry JSON (or "" for none), ARGV[6] the stream's approximate length,
 * ARGV[7] the node the event is for the others of ("" for everyone).
 * The entry goes into the stream and the event onto the channel in one
 * step, with the entry's id, so a node loading the stream can tell which
 * of the events it gets are in it already.
 */
export const PUBLISH_EVENT: RedisScript = script(`
local id = ''
if ARGV[5] ~= '' then
  id = redis.call('XADD', P .. 'history', 'MAXLEN', '~', ARGV[6], '*', 'e', ARGV[5])
end
local of = ''
if ARGV[7] ~= '' then of = ',"of":' .. cjson.encode(ARGV[7]) end
redis.call('PUBLISH', EVENTS, '{"k":"e","id":"' .. id .. '"' .. of .. ',"m":' .. ARGV[4] .. '}')
return id
`);

/**
 * Refreshes the caller's lease: ARGV[4] the lease in ms. Returns `ok`,
 * `swept` (the room saw its users leave: it lost its place) or `expired`
 * (it must re-assert its names).
 */
export const REFRESH: RedisScript = script(`
if redis.call('EXISTS', P .. 'swept:' .. SELF) == 1 then return 'swept' end
if redis.call('PEXPIRE', P .. 'node:' .. SELF, ARGV[4]) == 1 then return 'ok' end
return 'expired'
`);

/**
 * Takes (or takes back) the caller's place: ARGV[4] the lease in ms, then
 * pairs of name key and holder JSON, every name it holds. Returns `swept`
 * or `lost` (one of its names is held by a live node) without changing
 * anything, or `ok` once its lease and names are set and its entries not
 * in the list are deleted.
 */
export const REASSERT: RedisScript = script(`
if redis.call('EXISTS', P .. 'swept:' .. SELF) == 1 then return 'swept' end
local mine = {}
for i = 5, #ARGV, 2 do
  local cur = redis.call('HGET', NAMES, ARGV[i])
  if cur then
    local h = cjson.decode(cur)
    if h.node ~= SELF and alive(h.node) then return 'lost' end
  end
  mine[ARGV[i]] = ARGV[i + 1]
end
redis.call('SET', P .. 'node:' .. SELF, '1', 'PX', ARGV[4])
redis.call('SADD', P .. 'nodes', SELF)
local all = redis.call('HGETALL', NAMES)
for i = 1, #all, 2 do
  if mine[all[i]] == nil and cjson.decode(all[i + 1]).node == SELF then
    redis.call('HDEL', NAMES, all[i])
    publishDel(all[i], SELF)
  end
end
for i = 5, #ARGV, 2 do
  free(ARGV[i])
  if redis.call('HGET', NAMES, ARGV[i]) ~= ARGV[i + 1] then
    redis.call('HSET', NAMES, ARGV[i], ARGV[i + 1])
    publishSet(ARGV[i], ARGV[i + 1])
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
 * Sweeps one former id of the caller (ARGV[4]) after it lost its place, if
 * nobody did yet: its lease is dropped first.
 */
export const SWEEP_NODE: RedisScript = script(`
redis.call('DEL', P .. 'node:' .. ARGV[4])
return sweep(ARGV[4])
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
  if cjson.decode(all[i + 1]).node == SELF then
    redis.call('HDEL', NAMES, all[i])
    publishDel(all[i], SELF)
  end
end
return 1
`);

/**
 * Seeds an empty history stream once: ARGV[4] the stream's approximate
 * length, then history entry JSONs, oldest first. Returns how many were
 * added (0 when the stream has entries or was seeded already).
 */
export const SEED: RedisScript = script(`
if redis.call('EXISTS', P .. 'history') == 1 then return 0 end
if not redis.call('SET', P .. 'history:seeded', SELF, 'NX') then return 0 end
for i = 5, #ARGV do
  redis.call('XADD', P .. 'history', 'MAXLEN', '~', ARGV[4], '*', 'e', ARGV[i])
end
return #ARGV - 4
`);

/**
 * Hands a console's kick to the node that holds a name: ARGV[4] the name
 * key, ARGV[5] the reason. Publishes `{"k":"kick","name","reason"}` on
 * that node's private channel and returns `{"sent", name as held}`;
 * `{"none"}` when no live node holds the name, `{"deaf"}` when its node
 * does not listen now (it is reconnecting).
 */
export const KICK: RedisScript = script(`
local cur = redis.call('HGET', NAMES, ARGV[4])
if not cur then return {'none'} end
local h = cjson.decode(cur)
if not alive(h.node) then return {'none'} end
local kick = cjson.encode({k = 'kick', name = h.name, reason = ARGV[5]})
if redis.call('PUBLISH', P .. 'node:' .. h.node .. ':private', kick) == 0 then
  return {'deaf'}
end
return {'sent', h.name}
`);
