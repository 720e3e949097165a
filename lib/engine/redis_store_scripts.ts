/**
 * The Lua scripts of the Redis account store: every change is one script,
 * so that its check and its change are atomic, and the change's
 * notification is published in the same step (a node that dies between
 * the two cannot leave the others unaware).
 *
 * Every script takes `ARGV[1]` the key prefix and `ARGV[2]` the calling
 * store's id (so that it can skip its own notifications), then its own
 * arguments. Keys are built from the prefix inside the scripts: the store
 * lives in one Redis database, not in a cluster.
 *
 * Keys (prefix `chat:`):
 * - `chat:account:<key>` hash: `name`, `hash`, `created`, `operator`
 *   (`1`/`0`), `lastSeen` (once seen); `<key>` is `nameKey(name)`.
 * - `chat:operators` set of the keys of operator accounts.
 * - `chat:bans` hash: `name:<key>` or `address:<network>` → ban JSON.
 * - `chat:mutes` hash: `<key>` → mute JSON.
 * - `chat:inbox:<key>` list of kept messages (JSON), oldest first;
 *   `chat:inbox-dropped:<key>` how many older ones were dropped.
 * - `chat:ignore:<key>` hash: ignored name's key → name as given.
 *
 * Channel `chat:account-changes`: `{"o":ORIGIN,"k":KIND,"key":KEY}` for
 * each change (see `accounts.ts`).
 *
 * @module
 */

import { RedisScript } from "./redis_client.ts";

const PRELUDE = `
local P, ORIGIN = ARGV[1], ARGV[2]
local function changed(kind, key)
  redis.call('PUBLISH', P .. 'account-changes',
    cjson.encode({o = ORIGIN, k = kind, key = key}))
end
local function account(key)
  return P .. 'account:' .. key
end
-- Whether an entry's JSON is in force at now ('until' is a Lua keyword).
local function live(json, now)
  local u = cjson.decode(json)['until']
  return type(u) ~= 'number' or u > now
end
`;

function script(body: string): RedisScript {
  return new RedisScript(PRELUDE + body);
}

/** ARGV 3 key, 4 name, 5 hash, 6 created, 7 operator (`1`/`0`): 1 or 0. */
export const REGISTER = script(`
local A = account(ARGV[3])
if redis.call('EXISTS', A) == 1 then return 0 end
redis.call('HSET', A, 'name', ARGV[4], 'hash', ARGV[5], 'created', ARGV[6],
  'operator', ARGV[7])
if ARGV[7] == '1' then redis.call('SADD', P .. 'operators', ARGV[3]) end
changed('account', ARGV[3])
return 1
`);

/** ARGV 3 key, 4 field, 5 value, 6 change to tell (`1`/`0`): 1, or 0 if no account. */
export const SET_FIELD = script(`
local A = account(ARGV[3])
if redis.call('EXISTS', A) == 0 then return 0 end
redis.call('HSET', A, ARGV[4], ARGV[5])
if ARGV[4] == 'operator' then
  if ARGV[5] == '1' then redis.call('SADD', P .. 'operators', ARGV[3])
  else redis.call('SREM', P .. 'operators', ARGV[3]) end
end
if ARGV[6] == '1' then changed('account', ARGV[3]) end
return 1
`);

/** ARGV 3 key: 1, or 0 if it was not registered. */
export const UNREGISTER = script(`
local key = ARGV[3]
if redis.call('DEL', account(key)) == 0 then return 0 end
redis.call('SREM', P .. 'operators', key)
redis.call('DEL', P .. 'inbox:' .. key, P .. 'inbox-dropped:' .. key,
  P .. 'ignore:' .. key)
changed('account', key)
return 1
`);

/**
 * Sets an entry of `bans` or `mutes`. ARGV 3 hash (`bans`/`mutes`), 4
 * field, 5 JSON, 6 kind (`ban`/`mute`).
 */
export const SET_ENTRY = script(`
redis.call('HSET', P .. ARGV[3], ARGV[4], ARGV[5])
changed(ARGV[6], ARGV[4])
return 1
`);

/**
 * Removes an entry of `bans` or `mutes`: its JSON if it was in force, else
 * false. ARGV 3 hash, 4 field, 5 now, 6 kind.
 */
export const DELETE_ENTRY = script(`
local H = P .. ARGV[3]
local json = redis.call('HGET', H, ARGV[4])
if not json then return false end
redis.call('HDEL', H, ARGV[4])
if not live(json, tonumber(ARGV[5])) then return false end
changed(ARGV[6], ARGV[4])
return json
`);

/**
 * The entries of `bans` or `mutes` in force (their JSON), removing the
 * ended ones. ARGV 3 hash, 4 now.
 */
export const LIVE_ENTRIES = script(`
local H, now = P .. ARGV[3], tonumber(ARGV[4])
local all = redis.call('HGETALL', H)
local out = {}
for i = 1, #all, 2 do
  if live(all[i + 1], now) then out[#out + 1] = all[i + 1]
  else redis.call('HDEL', H, all[i]) end
end
return out
`);

/**
 * Keeps a message for a registered name, dropping the oldest past the
 * limit. ARGV 3 key, 4 message JSON, 5 limit: 1, or -1 if not registered.
 */
export const KEEP = script(`
local key, limit = ARGV[3], tonumber(ARGV[5])
if redis.call('EXISTS', account(key)) == 0 then return -1 end
local inbox = P .. 'inbox:' .. key
local count = redis.call('RPUSH', inbox, ARGV[4])
if count > limit then
  redis.call('LTRIM', inbox, count - limit, -1)
  redis.call('INCRBY', P .. 'inbox-dropped:' .. key, count - limit)
end
changed('inbox', key)
return 1
`);

/** Takes a name's kept messages. ARGV 3 key: `[messages, dropped]`. */
export const TAKE = script(`
local inbox, dropped = P .. 'inbox:' .. ARGV[3], P .. 'inbox-dropped:' .. ARGV[3]
local messages = redis.call('LRANGE', inbox, 0, -1)
local count = tonumber(redis.call('GET', dropped) or '0')
redis.call('DEL', inbox, dropped)
return {messages, count}
`);

/**
 * Adds to an ignore list. ARGV 3 owner key, 4 ignored key, 5 name, 6
 * limit: `ok`, `already`, `full` or `notRegistered`.
 */
export const IGNORE = script(`
local owner = ARGV[3]
if redis.call('EXISTS', account(owner)) == 0 then return 'notRegistered' end
local list = P .. 'ignore:' .. owner
if redis.call('HEXISTS', list, ARGV[4]) == 1 then return 'already' end
if redis.call('HLEN', list) >= tonumber(ARGV[6]) then return 'full' end
redis.call('HSET', list, ARGV[4], ARGV[5])
changed('ignore', owner)
return 'ok'
`);

/** Removes from an ignore list. ARGV 3 owner key, 4 ignored key: 1 or 0. */
export const UNIGNORE = script(`
if redis.call('HDEL', P .. 'ignore:' .. ARGV[3], ARGV[4]) == 0 then
  return 0
end
changed('ignore', ARGV[3])
return 1
`);
