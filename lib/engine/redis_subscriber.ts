/**
 * A Redis pub/sub subscriber over its own connection, which subscribes
 * again to every channel after a reconnect.
 *
 * @module
 */

import {
  addListener,
  emit,
  Link,
  type Listeners,
  logIn,
  type Pending,
  RedisConnectionError,
  type RedisEvents,
  type RedisOptions,
} from "./redis_link.ts";
import { RespError, RespPush, type RespValue } from "./resp.ts";

/** Called with each message published on a subscribed channel. */
export type MessageHandler = (message: string, channel: string) => void;

/**
 * A pub/sub subscriber over its own connection (a subscribed connection can
 * run no other commands). Subscriptions survive reconnects: after a lost
 * connection it subscribes to every channel again, then emits `up`.
 * Messages published while it was down are lost, as Redis pub/sub goes.
 *
 * @example
 * ```ts
 * await using subscriber = await RedisSubscriber.connect({ url });
 * await subscriber.subscribe("room:lobby", (message) => console.log(message));
 * ```
 */
export class RedisSubscriber implements AsyncDisposable {
  #link: Link;
  #listeners: Listeners = { down: new Set(), up: new Set() };
  #handlers = new Map<string, MessageHandler>();
  #upWaiters: Pending[] = [];
  #resubscribed: string[] = [];

  private constructor(options: RedisOptions) {
    this.#link = new Link(options, {
      handshake: () =>
        logIn(
          this.#link,
          options,
          () => {
            this.#resubscribed = [...this.#handlers.keys()];
            return this.#resubscribed.map((channel) =>
              this.#link.request(["SUBSCRIBE", channel])
            );
          },
        ),
      takeUnasked: (value) => this.#deliver(value),
      onDown: (error) => emit(this.#listeners, "down", error),
      onUp: () => {
        // Unsubscribed from while the reconnect was subscribing again.
        for (const channel of this.#resubscribed.splice(0)) {
          if (!this.#handlers.has(channel)) {
            this.#link.request(["UNSUBSCRIBE", channel]).catch(() => {});
          }
        }
        for (const waiter of this.#upWaiters.splice(0)) waiter.resolve(null);
        emit(this.#listeners, "up");
      },
    });
  }

  /** Connects and logs in, as {@linkcode RedisClient.connect}. */
  static async connect(options: RedisOptions): Promise<RedisSubscriber> {
    const subscriber = new RedisSubscriber(options);
    await subscriber.#link.start();
    return subscriber;
  }

  /** Whether the connection is up now (false while reconnecting or closed). */
  get connected(): boolean {
    return this.#link.state === "up";
  }

  /** The channels subscribed to (or to be, once the connection is back). */
  get channels(): string[] {
    return [...this.#handlers.keys()];
  }

  /**
   * Subscribes to `channel`, replacing its handler if it had one. Resolves
   * once Redis confirmed it; while the connection is down, once it is back
   * and subscribed again. Rejects if the subscriber is closed first or Redis
   * refuses.
   */
  async subscribe(channel: string, onMessage: MessageHandler): Promise<void> {
    if (this.#link.state === "closed") return this.#link.refuse();
    this.#handlers.set(channel, onMessage);
    for (;;) {
      if (this.#link.state === "up") {
        try {
          await this.#link.request(["SUBSCRIBE", channel]);
          return;
        } catch (error) {
          if (error instanceof RespError) {
            if (this.#handlers.get(channel) === onMessage) {
              this.#handlers.delete(channel);
            }
            throw error;
          }
          if (this.#link.closed) throw error;
          // Lost: the reconnect subscribes again.
        }
      }
      await new Promise((resolve, reject) =>
        this.#upWaiters.push({ resolve, reject })
      );
      // The reconnect may have started before this call: subscribe again
      // (harmless if it did), unless it was unsubscribed meanwhile.
      if (this.#handlers.get(channel) !== onMessage) return;
    }
  }

  /** Unsubscribes from `channel`: its handler is not called any more. */
  async unsubscribe(channel: string): Promise<void> {
    if (!this.#handlers.delete(channel)) return;
    if (this.#link.state !== "up") return;
    try {
      await this.#link.request(["UNSUBSCRIBE", channel]);
    } catch (error) {
      // A lost connection unsubscribes from everything anyway.
      if (error instanceof RespError) throw error;
    }
  }

  /** Listens to `down` or `up`; returns the function that stops listening. */
  on<E extends keyof RedisEvents>(
    event: E,
    listener: RedisEvents[E],
  ): () => void {
    return addListener(this.#listeners, event, listener);
  }

  /** Closes the connection and stops reconnecting; harmless to repeat. */
  async close(): Promise<void> {
    await this.#link.close();
    for (const waiter of this.#upWaiters.splice(0)) {
      waiter.reject(
        new RedisConnectionError(
          `The Redis connection to "${this.#link.label}" was closed`,
          "closed",
        ),
      );
    }
  }

  /** Same as {@linkcode RedisSubscriber.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #deliver(value: RespValue): boolean {
    const items = value instanceof RespPush
      ? value.items
      : Array.isArray(value)
      ? value
      : null;
    if (items === null || items[0] !== "message" || items.length !== 3) {
      return value instanceof RespPush;
    }
    const [, channel, message] = items;
    if (typeof channel !== "string" || typeof message !== "string") return true;
    const handler = this.#handlers.get(channel);
    if (handler === undefined) return true;
    try {
      handler(message, channel);
    } catch (error) {
      reportError(error);
    }
    return true;
  }
}
