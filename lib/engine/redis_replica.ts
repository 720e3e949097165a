/**
 * A node's replica of what the other nodes hold in Redis: their names and
 * the room's history, loaded once subscribed and kept current by the
 * notifications on the events channel, for the room's synchronous reads.
 *
 * See `redis_scripts.ts` for the notifications.
 *
 * @module
 */

import { roomKey } from "../room/room_names.ts";
import type { HistoryEntry, RoomEvent } from "../room/events.ts";
import { History } from "../room/history.ts";
import type { Holder, RoomMessage } from "./engine.ts";
import type { RedisClient } from "./redis_client.ts";
import type { RespValue } from "./resp.ts";

/** What comes on the events channel; see `redis_scripts.ts`. */
export type Notification =
  | { k: "e"; id: string; m: RoomMessage; of?: string }
  | { k: "set"; key: string; h: Holder }
  | { k: "del"; key: string; node: string }
  | { k: "mv"; from: string; key: string; h: Holder }
  | { k: "swept"; node: string };

/** Options of {@linkcode Replica}. */
export interface ReplicaOptions {
  /** Messages kept for newcomers. */
  historyLimit: number;
  /** The main room's key, whose history is kept. */
  mainRoom: string;
  /** Prefix of every key. */
  prefix: string;
  /** This node's id now (it changes when the node lost its place). */
  node: () => string;
  /** Whether `node` is a former id of this node. */
  isOldSelf: (node: string) => boolean;
  /** Hands on a room event in the room's order. */
  deliver: (message: RoomMessage) => void;
  /** The room swept this node: it lost its place. */
  lost: () => void;
}

/** The entry a public message leaves in the history, or null. */
export function asHistoryEntry(
  event: RoomEvent,
  mainRoom: string,
): HistoryEntry | null {
  if (event.type !== "message" && event.type !== "action") return null;
  if (roomKey(event.room) !== mainRoom) return null;
  return {
    time: event.time,
    from: event.from,
    text: event.text,
    action: event.type === "action",
  };
}

/**
 * A holder as stored in the names hash: its name and place, and the
 * member's attributes (those not set are left out).
 */
export function holderJson(holder: Holder): string {
  const { name, transport, address, present, node, since } = holder;
  const { signedOn, active, user, realName, away } = holder;
  return JSON.stringify({
    name,
    transport,
    address,
    present,
    node,
    since,
    signedOn,
    active,
    user,
    realName,
    away,
  });
}

function parseHolder(value: RespValue): Holder | null {
  if (typeof value !== "string") return null;
  try {
    return JSON.parse(value) as Holder;
  } catch {
    return null;
  }
}

// Stream ids are `MS-SEQ`; compared as numbers.
function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt);
  const [bm, bs] = b.split("-").map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/**
 * The other nodes' names and the history. Notifications that come while
 * it loads are held back and applied after, in order (each sets or
 * deletes a whole entry, so the replica ends as Redis is).
 */
export class Replica {
  #options: ReplicaOptions;
  #historyLimit: number;
  #remote = new Map<string, Holder>();
  #history: History;
  #lastId = "0-0";
  // Notifications held back while the replica is being loaded.
  #buffer: Notification[] | null = null;

  /** An empty replica. */
  constructor(options: ReplicaOptions) {
    this.#options = options;
    this.#historyLimit = Math.max(0, Math.floor(options.historyLimit));
    this.#history = new History({ limit: this.#historyLimit });
  }

  /** Who of another node holds the name key. */
  get(key: string): Holder | undefined {
    return this.#remote.get(key);
  }

  /** The other nodes' members present, but for names `local` holds. */
  present(local: ReadonlyMap<string, Holder>): Holder[] {
    const present: Holder[] = [];
    for (const [key, holder] of this.#remote) {
      if (holder.present && !local.has(key)) present.push(holder);
    }
    return present;
  }

  /** Forgets the other nodes' names, which would go stale unheard. */
  clearNames(): void {
    this.#remote.clear();
  }

  /** The last public messages, oldest first. */
  history(): HistoryEntry[] {
    return this.#history.entries();
  }

  /** How many messages the history holds. */
  get historySize(): number {
    return this.#history.size;
  }

  /** Keeps a message delivered here only (while split). */
  addHistory(entry: HistoryEntry): void {
    this.#history.add(entry);
  }

  /** Holds back notifications until the next load is over. */
  hold(): void {
    this.#buffer = [];
  }

  /** Takes one message of the events channel. */
  take(text: string): void {
    let notification: Notification;
    try {
      notification = JSON.parse(text) as Notification;
    } catch {
      return;
    }
    if (this.#buffer !== null) this.#buffer.push(notification);
    else this.#apply(notification);
  }

  /** Loads the names and the history, then applies what was held back. */
  async load(client: RedisClient): Promise<void> {
    this.#buffer ??= [];
    const prefix = this.#options.prefix;
    try {
      const [names, stream] = await Promise.all([
        client.command(["HGETALL", prefix + "names"]),
        this.#historyLimit === 0 ? Promise.resolve([]) : client.command([
          "XREVRANGE",
          prefix + "history",
          "+",
          "-",
          "COUNT",
          this.#historyLimit,
        ]),
      ]);
      const self = this.#options.node();
      this.#remote.clear();
      const flat = Array.isArray(names) ? names : [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const holder = parseHolder(flat[i + 1]);
        if (holder !== null && holder.node !== self) {
          this.#remote.set(String(flat[i]), holder);
        }
      }
      const entries = Array.isArray(stream) ? [...stream].reverse() : [];
      this.#history = new History({ limit: this.#historyLimit });
      this.#lastId = "0-0";
      for (const item of entries) {
        if (!Array.isArray(item) || typeof item[0] !== "string") continue;
        const fields = item[1];
        if (!Array.isArray(fields) || typeof fields[1] !== "string") continue;
        this.#history.add(JSON.parse(fields[1]) as HistoryEntry);
        this.#lastId = item[0];
      }
    } finally {
      const held = this.#buffer ?? [];
      this.#buffer = null;
      for (const notification of held) this.#apply(notification);
    }
  }

  #apply(n: Notification): void {
    const self = this.#options.node();
    switch (n.k) {
      case "e": {
        // About a former self of this node, or for the others only.
        if (n.of !== undefined) {
          if (this.#options.isOldSelf(n.of) || n.of === self) return;
        }
        const entry = asHistoryEntry(n.m.event, this.#options.mainRoom);
        if (entry !== null && n.id !== "") {
          if (compareIds(n.id, this.#lastId) <= 0) {
            // In the stream already, so in the history loaded.
          } else {
            this.#lastId = n.id;
            this.#history.add(entry);
          }
        } else if (entry !== null) this.#history.add(entry);
        this.#options.deliver(n.m);
        return;
      }
      case "set":
        if (n.h.node !== self) this.#remote.set(n.key, n.h);
        return;
      case "del":
        if (this.#remote.get(n.key)?.node === n.node) {
          this.#remote.delete(n.key);
        }
        return;
      case "mv":
        if (this.#remote.get(n.from)?.node === n.h.node) {
          this.#remote.delete(n.from);
        }
        if (n.h.node !== self) this.#remote.set(n.key, n.h);
        return;
      case "swept":
        if (n.node === self) {
          this.#options.lost();
          return;
        }
        for (const [key, holder] of this.#remote) {
          if (holder.node === n.node) this.#remote.delete(key);
        }
        return;
    }
  }
}
