/**
 * A small Redis client of our own: pipelined commands and Lua scripts
 * over one connection that comes back by itself after Redis went away.
 * The pub/sub subscriber is in `redis_subscriber.ts`, the connection in
 * `redis_link.ts`; both are exported from here too.
 *
 * Speaks RESP2 (see `resp.ts`). Knows nothing of chat.
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  addListener,
  emit,
  Link,
  type Listeners,
  logIn,
  type RedisEvents,
  type RedisOptions,
} from "./redis_link.ts";
import { type RespArg, RespError, RespPush, type RespValue } from "./resp.ts";

export { parseRedisUrl, type RedisEndpoint } from "./redis_url.ts";
export {
  RedisConnectionError,
  type RedisEvents,
  type RedisOptions,
} from "./redis_link.ts";
export { type MessageHandler, RedisSubscriber } from "./redis_subscriber.ts";

/**
 * A Lua script run with {@linkcode RedisClient.evalScript}. Its SHA-1 is
 * computed once, so that Redis is sent the hash and not the source.
 */
export class RedisScript {
  /** The Lua source. */
  readonly source: string;
  /** The SHA-1 of the source in hex, as `EVALSHA` wants it. */
  readonly sha1: string;

  /** Wraps a Lua source. */
  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash("sha1").update(source).digest("hex");
  }
}

/**
 * A pipelined Redis client over one connection: any number of commands in
 * flight, replies matched in order, everything queued in one turn of the
 * event loop sent in one write.
 *
 * When the connection is lost, every command in flight rejects with a
 * {@linkcode RedisConnectionError}, `down` is emitted and the client connects
 * again with back-off (1 s, 2 s, 4 s... up to 30 s, jittered), then emits
 * `up`. Commands sent while it is down reject at once: nothing is queued
 * blindly for later.
 *
 * @example
 * ```ts
 * await using redis = await RedisClient.connect({ url: "redis://127.0.0.1:6379" });
 * await redis.command(["SET", "greeting", "hello"]);
 * const value = await redis.command(["GET", "greeting"]); // "hello"
 * ```
 */
export class RedisClient implements AsyncDisposable {
  #link: Link;
  #listeners: Listeners = { down: new Set(), up: new Set() };
  // Scripts this connection has been sent the source of.
  #loaded = new Set<string>();

  private constructor(options: RedisOptions) {
    this.#link = new Link(options, {
      handshake: () => {
        this.#loaded.clear();
        return logIn(this.#link, options);
      },
      // Client-side caching pushes are not used; nothing else comes unasked.
      takeUnasked: (value) => value instanceof RespPush,
      onDown: (error) => emit(this.#listeners, "down", error),
      onUp: () => emit(this.#listeners, "up"),
    });
  }

  /**
   * Connects, logs in (AUTH) and selects the URL's database. Rejects with one
   * {@linkcode RedisConnectionError} naming the server if that fails; it
   * does not retry the first connection.
   */
  static async connect(options: RedisOptions): Promise<RedisClient> {
    const client = new RedisClient(options);
    await client.#link.start();
    return client;
  }

  /** `host:port` of the server, for messages. */
  get server(): string {
    return this.#link.label;
  }

  /** Whether the connection is up now (false while reconnecting or closed). */
  get connected(): boolean {
    return this.#link.state === "up";
  }

  /**
   * Sends one command, such as `["HSET", key, field, value]`. Resolves with
   * the reply; rejects with a `RespError` for an error reply, or a
   * {@linkcode RedisConnectionError}.
   */
  command(args: readonly RespArg[]): Promise<RespValue> {
    if (this.#link.state !== "up") return this.#link.refuse();
    return this.#link.request(args);
  }

  /**
   * Runs a Lua script: `EVALSHA`, or `EVAL` the first time on a connection
   * (so that it runs in its place in the pipeline, not after a failed
   * round trip) and after `NOSCRIPT` (Redis lost its script cache).
   */
  async evalScript(
    script: RedisScript,
    keys: readonly RespArg[],
    args: readonly RespArg[],
  ): Promise<RespValue> {
    const tail = [keys.length, ...keys, ...args];
    if (!this.#loaded.has(script.sha1) && this.connected) {
      this.#loaded.add(script.sha1);
      return await this.command(["EVAL", script.source, ...tail]);
    }
    try {
      return await this.command(["EVALSHA", script.sha1, ...tail]);
    } catch (error) {
      if (!(error instanceof RespError) || error.code !== "NOSCRIPT") {
        throw error;
      }
      return await this.command(["EVAL", script.source, ...tail]);
    }
  }

  /** Listens to `down` or `up`; returns the function that stops listening. */
  on<E extends keyof RedisEvents>(
    event: E,
    listener: RedisEvents[E],
  ): () => void {
    return addListener(this.#listeners, event, listener);
  }

  /**
   * Closes the connection and stops reconnecting. Commands in flight reject.
   * Resolves when nothing of the client is left running; calling it again
   * is harmless.
   */
  close(): Promise<void> {
    return this.#link.close();
  }

  /** Same as {@linkcode RedisClient.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
