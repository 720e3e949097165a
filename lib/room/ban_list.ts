/**
 * The bans in force, held in memory for the checks that must not wait: an
 * address at every accept, a name at every claim. Loaded from the account
 * store and loaded again when the store tells of a `ban` change (from
 * this node or another) or of `all` (changes may have been missed).
 *
 * Pure: no `Deno.*`. The store is the truth; this is its cache.
 *
 * @module
 */

import type { AccountStore, Ban } from "../engine/accounts.ts";
import { nameKey } from "./registry.ts";
import { NetworkMap, parseNetwork, parsePeerIp } from "./addresses.ts";

/** Options of {@linkcode BanList}. */
export interface BanListOptions {
  /** The clock, to let bans end between loads. Default `Date.now`. */
  now?: () => number;
  /** Called when a load failed (the store is unreachable); the old list stays. */
  onError?: (error: unknown) => void;
  /** Called after each load with the bans in force. */
  onLoad?: (bans: readonly Ban[]) => void;
}

/**
 * The bans in force, by name and by network, answered at once.
 *
 * @example
 * ```ts
 * const bans = new BanList(store);
 * await bans.load();
 * const stop = bans.follow(); // reloads on every ban change, on any node
 * bans.ofAddress("10.0.0.7"); // the ban holding it, or undefined
 * ```
 */
export class BanList {
  #store: AccountStore;
  #now: () => number;
  #onError: (error: unknown) => void;
  #onLoad: (bans: readonly Ban[]) => void;
  #names = new Map<string, Ban>();
  #networks = new NetworkMap<Ban>();
  // A load in flight, and whether another must follow it.
  #loading: Promise<void> | null = null;
  #again = false;

  /** Creates an empty list; call {@linkcode BanList.load}. */
  constructor(store: AccountStore, options: BanListOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    this.#onLoad = options.onLoad ?? (() => {});
  }

  /** How many bans are held (ended ones too, until the next load). */
  get size(): number {
    return this.#names.size + this.#networks.size;
  }

  /**
   * Reads the bans from the store. Loads asked for while one runs are
   * joined into one more after it. Rejects if the store fails (the old
   * list stays).
   */
  load(): Promise<void> {
    if (this.#loading !== null) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        do {
          this.#again = false;
          this.#replace(await this.#store.bans());
        } while (this.#again);
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }

  /**
   * Loads again on every `ban` or `all` change of the store; returns the
   * function that stops it. A failed load goes to `onError`.
   */
  follow(): () => void {
    return this.#store.onChange((kind) => {
      if (kind === "ban" || kind === "all") {
        this.load().catch((error) => this.#onError(error));
      }
    });
  }

  /** The ban in force on `name` (any case, any look-alike), if any. */
  ofName(name: string): Ban | undefined {
    return this.#live(this.#names.get(nameKey(name)));
  }

  /**
   * The ban in force on the most specific network holding `ip` (as a
   * socket gives it: `10.0.0.7`, `::ffff:10.0.0.7`, `[::1]`), if any.
   */
  ofAddress(ip: string): Ban | undefined {
    const address = parsePeerIp(ip);
    if (address === null) return undefined;
    return this.#live(this.#networks.match(address));
  }

  #live(ban: Ban | undefined): Ban | undefined {
    if (ban === undefined) return undefined;
    return ban.until === null || ban.until > this.#now() ? ban : undefined;
  }

  #replace(bans: readonly Ban[]): void {
    this.#names.clear();
    this.#networks.clear();
    for (const ban of bans) {
      if (ban.target.kind === "name") {
        this.#names.set(nameKey(ban.target.name), ban);
      } else {
        const network = parseNetwork(ban.target.network);
        if (network !== null) this.#networks.set(network, ban);
      }
    }
    this.#onLoad(bans);
  }
}
