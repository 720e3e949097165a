/**
 * The other nodes' members a node's log follows: a node records the
 * messages of the room while its engine follows the room, so its log also
 * records when those members come into its sight (they joined, or were in
 * the room when it began to follow) and when they go out of it (they left,
 * or it stopped following), and every name that speaks in its log is seen
 * come and go.
 *
 * @module
 */

import type { EventLog } from "../io/chat_log.ts";
import type { Holder, RoomMessage, Unfollowing } from "../engine/engine.ts";
import { nameKey } from "./registry.ts";
import { logText, reasonText } from "./texts.ts";

const WHY: Record<Unfollowing | "unheard", string> = {
  idle: reasonText.idle,
  shutdown: reasonText.shutdown,
  unheard: reasonText.unheard,
};

/**
 * The other nodes' members present in this node's log, by name key.
 * Bounded by the room's size.
 */
export class Followed {
  #log: EventLog;
  #names = new Map<string, string>();

  /** Follows no one yet. */
  constructor(log: EventLog) {
    this.#log = log;
  }

  /**
   * Notes a room-wide event that `node` (this node's id) received, after
   * the room logged it: another node's member joined, left or was renamed.
   */
  observe(message: RoomMessage, node: string): void {
    const event = message.event;
    switch (event.type) {
      case "join":
        if (message.node !== node) {
          this.#names.set(nameKey(event.name), event.name);
        }
        return;
      case "leave":
      case "removed":
        this.#names.delete(nameKey(event.name));
        return;
      case "rename": {
        const from = nameKey(event.from);
        if (!this.#names.has(from)) return;
        this.#names.delete(from);
        this.#names.set(nameKey(event.to), event.to);
        return;
      }
    }
  }

  /**
   * The engine (again) follows the room; `present` is who of the other
   * nodes is in it now. Who is new here is logged as in the room, who
   * left unheard (while the link was lost) as no longer followed.
   */
  follow(present: readonly Holder[]): void {
    const now = new Map<string, Holder>();
    for (const holder of present) now.set(nameKey(holder.name), holder);
    for (const [key, name] of this.#names) {
      if (now.get(key)?.name === name) continue;
      this.#names.delete(key);
      this.#log.record(logText.unfollowed(name, WHY.unheard));
    }
    for (const [key, holder] of now) {
      if (this.#names.has(key)) continue;
      this.#names.set(key, holder.name);
      this.#log.record(logText.inRoomElsewhere(holder.name, holder.address));
    }
  }

  /** The engine stops following the room: everyone followed goes. */
  unfollow(why: Unfollowing): void {
    for (const name of this.#names.values()) {
      this.#log.record(logText.unfollowed(name, WHY[why]));
    }
    this.#names.clear();
  }
}
