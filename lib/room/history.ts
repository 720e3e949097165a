/**
 * The room's memory of recent public messages, replayed to newcomers.
 *
 * @module
 */

import type { HistoryEntry } from "./events.ts";

/**
 * A ring of the last `limit` public messages. Memory is bounded by `limit`
 * and by the line limit, since every text it holds was one line.
 *
 * @example
 * ```ts
 * const history = new History({ limit: 2 });
 * history.add({ time: 0, from: "ann", text: "a", action: false });
 * history.add({ time: 1, from: "bob", text: "b", action: false });
 * history.add({ time: 2, from: "ann", text: "c", action: false });
 * history.entries().map((e) => e.text); // ["b", "c"]
 * ```
 */
export class History {
  #limit: number;
  #ring: HistoryEntry[] = [];
  #next = 0;

  /** Creates an empty history keeping at most `limit` messages (0: none). */
  constructor(options: { limit: number }) {
    this.#limit = Math.max(0, Math.floor(options.limit));
  }

  /** How many messages it holds. */
  get size(): number {
    return this.#ring.length;
  }

  /** Keeps one message, forgetting the oldest when full. */
  add(entry: HistoryEntry): void {
    if (this.#limit === 0) return;
    if (this.#ring.length < this.#limit) {
      this.#ring.push(entry);
    } else {
      this.#ring[this.#next] = entry;
      this.#next = (this.#next + 1) % this.#limit;
    }
  }

  /** The messages, oldest first. */
  entries(): HistoryEntry[] {
    return this.#ring.slice(this.#next).concat(this.#ring.slice(0, this.#next));
  }
}
