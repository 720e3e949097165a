/**
 * A node's replica of what the other nodes hold in Redis: their names (with
 * the rooms each is in), and the rooms' infos and histories
 * (`redis_rooms.ts`), loaded once subscribed and kept current by the
 * notifications on the events channel, for the room's synchronous reads.
 *
 * See `redis_scripts.ts` for the notifications.
 *
 * @module
 */

import type { Holder, RoomMessage } from "./engine.ts";
import type { RedisClient } from "./redis_client.ts";
import {
  historyEntryOf,
  type RoomNotification,
  type RoomReplica,
} from "./redis_rooms.ts";
import type { RespValue } from "./resp.ts";

/** What comes on the events channel; see `redis_scripts.ts`. */
export type Notification =
  | { k: "e"; id: string; m: RoomMessage; of?: string }
  | { k: "set"; key: string; h: Holder }
  | { k: "del"; key: string; node: string }
  | { k: "mv"; from: string; key: string; h: Holder }
  | { k: "swept"; node: string }
  | RoomNotification;

/** Options of {@linkcode Replica}. */
export interface ReplicaOptions {
  /** Prefix of every key. */
  prefix: string;
  /** The rooms' infos and histories, kept with the names. */
  rooms: RoomReplica;
  /** This node's id now (it changes when the node lost its place). */
  node: () => string;
  /** Whether `node` is a former id of this node. */
  isOldSelf: (node: string) => boolean;
  /** Hands on a room event in the room's order. */
  deliver: (message: RoomMessage) => void;
  /** The room swept this node: it lost its place. */
  lost: () => void;
}

/**
 * A holder as stored in the names hash: its name and place, the rooms it
 * is in, and the member's attributes (those not set are left out).
 */
export function holderJson(holder: Holder): string {
  const { name, transport, address, present, rooms, node, since } = holder;
  const { signedOn, active, user, realName, away } = holder;
  return JSON.stringify({
    name,
    transport,
    address,
    present,
    rooms,
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

/**
 * The other nodes' names and the rooms. Notifications that come while it
 * loads are held back and applied after, in order (each sets or deletes a
 * whole entry, so the replica ends as Redis is).
 */
export class Replica {
  #options: ReplicaOptions;
  #remote = new Map<string, Holder>();
  /** Every room's info and history. */
  readonly rooms: RoomReplica;
  // Notifications held back while the replica is being loaded.
  #buffer: Notification[] | null = null;

  /** An empty replica. */
  constructor(options: ReplicaOptions) {
    this.#options = options;
    this.rooms = options.rooms;
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

  /** Forgets the other nodes' names and the rooms, which would go stale. */
  clearNames(): void {
    this.#remote.clear();
    this.rooms.clear();
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

  /** Loads the names and the rooms, then applies what was held back. */
  async load(client: RedisClient): Promise<void> {
    this.#buffer ??= [];
    try {
      const [names] = await Promise.all([
        client.command(["HGETALL", this.#options.prefix + "names"]),
        this.rooms.load(client),
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
        const kept = historyEntryOf(n.m.event);
        if (kept !== null) this.rooms.add(kept.room, kept.entry, n.id);
        this.#options.deliver(n.m);
        return;
      }
      case "room":
        this.rooms.apply(n);
        return;
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
