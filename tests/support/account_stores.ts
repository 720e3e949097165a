/**
 * The account stores under test, each on its own backing (a temporary
 * data directory, or a real `redis-server`), for the contract tests that
 * every store must pass.
 *
 * @module
 */

import type { AccountStore } from "../../lib/engine/accounts.ts";
import { RedisStore } from "../../lib/engine/redis_store.ts";
import { SqliteStore } from "../../lib/engine/sqlite_store.ts";
import { RedisServer } from "./redis_server.ts";

/** Options a test may give the stores it opens. */
export interface StoreTestOptions {
  /** Messages kept per name. */
  inboxLimit?: number;
  /** Names on one ignore list. */
  ignoreLimit?: number;
}

/** One backing and the stores opened on it, closed at the end. */
export interface StoreKit extends AsyncDisposable {
  /** The clock every store of the kit reads; tests move `clock.now`. */
  clock: { now: number };
  /**
   * Opens a store on the kit's backing: a second one is another node (on
   * Redis) or the same data opened again after the first closed (SQLite).
   */
  open(options?: StoreTestOptions): Promise<AccountStore>;
}

/** How to make a kit of one kind of store. */
export interface StoreKind {
  /** `sqlite` or `redis`. */
  name: string;
  /** A fresh, empty backing. */
  kit(): Promise<StoreKit>;
}

/** A start time for the clocks: 2026-12-08 09:00 UTC. */
export const START = Date.UTC(2026, 11, 8, 9, 0);

function kitOf(
  openOn: (
    clock: { now: number },
    options: StoreTestOptions,
  ) => Promise<AccountStore>,
  cleanup: () => Promise<void>,
): StoreKit {
  const clock = { now: START };
  const opened: AccountStore[] = [];
  return {
    clock,
    async open(options = {}) {
      const store = await openOn(clock, options);
      opened.push(store);
      return store;
    },
    async [Symbol.asyncDispose]() {
      await Promise.allSettled(opened.map((store) => store.close()));
      await cleanup();
    },
  };
}

/** The SQLite store, in a temporary directory. */
export const sqliteKind: StoreKind = {
  name: "sqlite",
  async kit() {
    const dir = await Deno.makeTempDir({ prefix: "accounts_test_" });
    return kitOf(
      (clock, options) =>
        SqliteStore.open({
          dir: `${dir}/chat-data`,
          now: () => clock.now,
          ...options,
        }),
      () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    );
  },
};

/** The Redis store, on a real `redis-server` of its own. */
export const redisKind: StoreKind = {
  name: "redis",
  async kit() {
    const server = await RedisServer.start();
    return kitOf(
      (clock, options) =>
        RedisStore.open({
          url: server.url,
          now: () => clock.now,
          retryInitialMs: 20,
          retryMaxMs: 200,
          ...options,
        }),
      () => server.stop(),
    );
  },
};

/** Both kinds, for the contract tests. */
export const STORE_KINDS: readonly StoreKind[] = [sqliteKind, redisKind];
