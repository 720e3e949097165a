/**
 * The rooms as a node of the Redis engine sees them: each room's info
 * (topic, operators, lock) and each room's history, loaded once the node
 * follows the room and kept current by the notifications on the events
 * channel, in the room's one order, for the room layer's synchronous
 * reads. Who is in which room is kept with the holders (`Holder.rooms`).
 *
 * See `redis_scripts.ts` for the keys and the notifications.
 *
 * @module
 */

import type { HistoryEntry, RoomEvent } from "../room/events.ts";
import { History } from "../room/history.ts";
import { roomKey } from "../room/room_names.ts";
import type { Holder, RoomInfo, RoomMessage } from "./engine.ts";
import type { RedisClient, RedisScript } from "./redis_client.ts";
import { ENSURE_ROOMS, ROOM_DEL, ROOM_SET, SEED } from "./redis_scripts.ts";
import type { RespArg, RespValue } from "./resp.ts";

/** A room's info now, or null when it is gone (`{"k":"room",...}`). */
export interface RoomNotification {
  /** The kind. */
  k: "room";
  /** The room's key. */
  key: string;
  /** Its info; null when it is gone. */
  r: RoomInfo | null;
}

/** The entry a public message leaves in its room's history, or null. */
export function historyEntryOf(
  event: RoomEvent,
): { room: string; entry: HistoryEntry } | null {
  if (event.type !== "message" && event.type !== "action") return null;
  return {
    room: roomKey(event.room),
    entry: {
      time: event.time,
      from: event.from,
      text: event.text,
      action: event.type === "action",
    },
  };
}

/** The stream a room's history is kept in (the main room's as before). */
export function historyStream(
  prefix: string,
  mainRoom: string,
  key: string,
): string {
  return key === mainRoom ? `${prefix}history` : `${prefix}history:${key}`;
}

/** Options of {@linkcode RoomReplica}. */
export interface RoomReplicaOptions {
  /** Messages kept for newcomers, per room. */
  historyLimit: number;
  /** The main room's key. */
  mainRoom: string;
  /** Prefix of every key. */
  prefix: string;
  /**
   * Whether a member of this node is in the room: its info is then kept
   * when Redis forgets it, since that member's write makes it again.
   */
  keep: (key: string) => boolean;
}

// A room's history, and the stream id of its last entry.
interface Kept {
  history: History;
  lastId: string;
}

// Stream ids are `MS-SEQ`; compared as numbers.
function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/**
 * Every room's info and history on this node. A change this node makes is
 * applied at once (`set`) and again when its notification comes back, so
 * that every node ends with what Redis has, in Redis's order.
 */
export class RoomReplica {
  #options: RoomReplicaOptions;
  #limit: number;
  #infos = new Map<string, RoomInfo>();
  #histories = new Map<string, Kept>();

  /** No rooms yet; the main room's history empty. */
  constructor(options: RoomReplicaOptions) {
    this.#options = options;
    this.#limit = Math.max(0, Math.floor(options.historyLimit));
  }

  /** A room's info, by key. */
  info(key: string): RoomInfo | undefined {
    return this.#infos.get(key);
  }

  /** Keeps a room's info; null forgets the room with its history. */
  set(key: string, info: RoomInfo | null): void {
    if (info !== null) {
      this.#infos.set(key, info);
      return;
    }
    this.#infos.delete(key);
    if (key !== this.#options.mainRoom) this.#histories.delete(key);
  }

  /** `[key, info JSON, ...]` for those of `keys` whose info is known. */
  pairs(keys: Iterable<string>): string[] {
    const pairs: string[] = [];
    for (const key of keys) {
      const info = this.#infos.get(key);
      if (info !== undefined) pairs.push(key, JSON.stringify(info));
    }
    return pairs;
  }

  /** A room's last public messages, oldest first. */
  history(key: string): HistoryEntry[] {
    return this.#histories.get(key)?.history.entries() ?? [];
  }

  /**
   * Keeps a message of a room (the main room, or one whose info is known):
   * `id` is its stream id, and one not after the last loaded is in the
   * history already; "" for a message kept nowhere else (delivered here
   * only, or by a room that was gone in Redis).
   */
  add(key: string, entry: HistoryEntry, id = ""): void {
    if (key !== this.#options.mainRoom && !this.#infos.has(key)) return;
    let kept = this.#histories.get(key);
    if (kept === undefined) {
      kept = { history: new History({ limit: this.#limit }), lastId: "0-0" };
      this.#histories.set(key, kept);
    }
    if (id !== "") {
      if (compareIds(id, kept.lastId) <= 0) return;
      kept.lastId = id;
    }
    kept.history.add(entry);
  }

  /** Applies a room's notification. */
  apply(notification: RoomNotification): void {
    const { key, r } = notification;
    if (r === null && this.#options.keep(key)) return;
    this.set(key, r);
  }

  /** Forgets the rooms' infos, which would go stale unheard. */
  clear(): void {
    for (const key of [...this.#infos.keys()]) {
      if (!this.#options.keep(key)) this.#infos.delete(key);
    }
  }

  /**
   * Loads every room's info and history (two round trips: the rooms, then
   * their streams); a room a member of this node is in keeps its info.
   */
  async load(client: RedisClient): Promise<void> {
    const { prefix, mainRoom } = this.#options;
    const [rooms, mainStream] = await Promise.all([
      client.command(["HGETALL", `${prefix}rooms`]),
      this.#read(client, mainRoom),
    ]);
    const infos = new Map<string, RoomInfo>();
    const flat = Array.isArray(rooms) ? rooms : [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const info = parse<RoomInfo>(flat[i + 1]);
      if (info !== null) infos.set(String(flat[i]), info);
    }
    for (const [key, info] of this.#infos) {
      if (!infos.has(key) && this.#options.keep(key)) infos.set(key, info);
    }
    const others = [...infos.keys()].filter((key) => key !== mainRoom);
    const streams = await Promise.all(
      others.map((key) => this.#read(client, key)),
    );
    this.#infos = infos;
    this.#histories = new Map();
    this.#keep(mainRoom, mainStream);
    others.forEach((key, i) => this.#keep(key, streams[i]));
  }

  // The last messages of a room's stream, newest first.
  #read(client: RedisClient, key: string): Promise<RespValue> {
    if (this.#limit === 0) return Promise.resolve([]);
    const { prefix, mainRoom } = this.#options;
    return client.command([
      "XREVRANGE",
      historyStream(prefix, mainRoom, key),
      "+",
      "-",
      "COUNT",
      this.#limit,
    ]);
  }

  #keep(key: string, stream: RespValue): void {
    const items = Array.isArray(stream) ? [...stream].reverse() : [];
    for (const item of items) {
      if (!Array.isArray(item) || typeof item[0] !== "string") continue;
      const fields = item[1];
      if (!Array.isArray(fields)) continue;
      const entry = parse<HistoryEntry>(fields[1]);
      if (entry !== null) this.add(key, entry, item[0]);
    }
  }
}

function parse<T>(value: RespValue): T | null {
  if (typeof value !== "string") return null;
  try {
    return JSON.parse(value) as T;
  } catch {
    return null;
  }
}

/** Options of {@linkcode SharedRooms}. */
export interface SharedRoomsOptions {
  /** Messages kept for newcomers, per room. */
  historyLimit: number;
  /** The main room's key. */
  mainRoom: string;
  /** Prefix of every key. */
  prefix: string;
  /** Runs one of the engine's scripts as this node. */
  run: (script: RedisScript, args: readonly RespArg[]) => Promise<RespValue>;
  /** Whether Redis can be reached now (else a change stays here). */
  usable: () => boolean;
  /** The holders of this node. */
  local: () => Iterable<Holder>;
}

/**
 * The rooms of a Redis engine: what it reads of them (its replica) and
 * what it writes. A room is made in Redis by its first member's holder
 * write, which carries the room's info (see `UPDATE`), and forgotten by
 * Redis when its last member leaves; a change of its info is written by
 * the node that makes it, and read on that node at once.
 */
export class SharedRooms {
  /** Every room's info and history on this node. */
  readonly replica: RoomReplica;
  #options: SharedRoomsOptions;
  #limit: number;

  /** The rooms as this node will see them once it follows the room. */
  constructor(options: SharedRoomsOptions) {
    this.#options = options;
    this.#limit = Math.max(0, Math.floor(options.historyLimit));
    this.replica = new RoomReplica({
      ...options,
      keep: (key) => this.#hasMemberIn(key),
    });
  }

  /**
   * What a holder's write carries of its rooms: `[key, info JSON, ...]`
   * for those of `after` it was not in `before`.
   */
  joined(before: readonly string[] | undefined, after: string[]): string[] {
    const had = new Set((before ?? []).map(roomKey));
    const keys = after.map(roomKey).filter((key) => !had.has(key));
    return this.replica.pairs(keys);
  }

  /** A room's info (by name, any case). */
  info(room: string): RoomInfo | undefined {
    return this.replica.info(roomKey(room));
  }

  /** Keeps (or with null forgets) a room's info, here and in Redis. */
  set(room: string, info: RoomInfo | null): void {
    const key = roomKey(room);
    const main = key === this.#options.mainRoom;
    const known = this.replica.info(key) !== undefined;
    this.replica.set(key, info);
    if (!this.#options.usable()) return;
    if (info === null) {
      if (!main) this.#fire(ROOM_DEL, [key]);
    } else if (known || main) {
      // A new room is made in Redis by its first member's write.
      this.#fire(ROOM_SET, [key, JSON.stringify(info)]);
    }
  }

  /** A room's last messages (the main room's by default), oldest first. */
  history(room?: string): HistoryEntry[] {
    return this.replica.history(
      room === undefined ? this.#options.mainRoom : roomKey(room),
    );
  }

  /**
   * What `PUBLISH_EVENT` takes to publish `message` to everyone: with the
   * history entry it leaves in its room's stream, if any.
   */
  publishArgs(message: RoomMessage): RespArg[] {
    const json = JSON.stringify(message);
    const kept = historyEntryOf(message.event);
    if (kept === null || this.#limit === 0) return [json, "", 0, "", ""];
    const entry = JSON.stringify(kept.entry);
    return [json, entry, this.#limit, "", kept.room];
  }

  /** Keeps a message delivered on this node only (while split). */
  keepHere(event: RoomEvent): void {
    const kept = historyEntryOf(event);
    if (kept !== null) this.replica.add(kept.room, kept.entry);
  }

  /** Seeds the main room's stream once, when it is empty. */
  async seed(entries: readonly HistoryEntry[]): Promise<void> {
    if (this.#limit === 0 || entries.length === 0) return;
    await this.#options.run(SEED, [
      this.#limit,
      ...entries.slice(-this.#limit).map((e) => JSON.stringify(e)),
    ]);
  }

  /**
   * After a split: makes again what Redis lost (it was restarted empty)
   * from this node's copy: the rooms its members are in, and the main
   * room's history.
   */
  async heal(): Promise<void> {
    const keys = new Set<string>();
    for (const holder of this.#options.local()) {
      if (!holder.present) continue;
      for (const room of holder.rooms ?? []) keys.add(roomKey(room));
    }
    const pairs = this.replica.pairs(keys);
    if (pairs.length > 0) await this.#options.run(ENSURE_ROOMS, pairs);
    await this.seed(this.history());
  }

  // Whether a member of this node is in the room (by key).
  #hasMemberIn(key: string): boolean {
    for (const holder of this.#options.local()) {
      if (holder.present && holder.rooms?.some((r) => roomKey(r) === key)) {
        return true;
      }
    }
    return false;
  }

  // A change whose failure the fault handling covers.
  #fire(script: RedisScript, args: readonly RespArg[]): void {
    this.#options.run(script, args).catch(() => {});
  }
}
