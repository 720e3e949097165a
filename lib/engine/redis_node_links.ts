/**
 * A node's two connections to Redis (commands, and pub/sub) and what goes
 * over them: the engine's Lua scripts, called with the key prefix, the
 * node's id and the time; the room's events channel; and the node's
 * private channel, which carries private messages and the console's kicks.
 *
 * See `redis_scripts.ts` for the keys and the channels.
 *
 * @module
 */

import type {
  EngineSink,
  KickRequest,
  KickResult,
  PrivateMessage,
} from "./engine.ts";
import {
  RedisClient,
  type RedisScript,
  RedisSubscriber,
} from "./redis_client.ts";
import type { RespArg, RespValue } from "./resp.ts";
import { KICK } from "./redis_scripts.ts";

/** Options of {@linkcode NodeLinks.connect}. */
export interface NodeLinksOptions {
  /** `redis://...` or `rediss://...`. */
  url: string;
  /** Prefix of every key and channel. */
  prefix: string;
  /** The node's id, for the connections' names. */
  node: string;
  /** The main room's key, which the scripts never forget. */
  mainRoom: string;
  /** Where the node's private channel delivers. */
  privates: Pick<EngineSink, "receivePrivate" | "receiveKick">;
  /** Longest wait for a reply before the connection counts as lost. */
  replyTimeoutMs: number;
  /** First wait before reconnecting, doubled each try. */
  retryInitialMs: number;
  /** Longest wait between reconnects. */
  retryMaxMs: number;
  /** Extra root certificates (PEM) for `rediss://`. */
  caCerts?: string[];
}

/** What comes on a node's private channel. */
export type PrivateDelivery =
  | { kind: "private"; message: PrivateMessage }
  | { kind: "kick"; request: KickRequest };

// A kick on a node's private channel; see `KICK` in redis_scripts.ts.
interface PrivateKick {
  k: "kick";
  name: string;
  reason: string;
  ghost?: boolean;
}

/**
 * Reads a message of a private channel: a PrivateMessage's JSON, or a
 * kick (`{"k":"kick","name","reason"}`); null for anything else.
 */
export function parsePrivate(text: string): PrivateDelivery | null {
  let parsed: PrivateMessage | PrivateKick;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  if (!("k" in parsed)) return { kind: "private", message: parsed };
  if (
    parsed.k === "kick" && typeof parsed.name === "string" &&
    typeof parsed.reason === "string"
  ) {
    return {
      kind: "kick",
      request: {
        name: parsed.name,
        reason: parsed.reason,
        ghost: parsed.ghost === true,
      },
    };
  }
  return null;
}

/** Rejects with `Redis timed out` if `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis timed out")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A node's client and subscriber, both connected. */
export class NodeLinks {
  /** The command connection. */
  readonly client: RedisClient;
  /** The pub/sub connection. */
  readonly subscriber: RedisSubscriber;
  #prefix: string;
  #mainRoom: string;
  #privates: NodeLinksOptions["privates"];

  private constructor(
    client: RedisClient,
    subscriber: RedisSubscriber,
    options: NodeLinksOptions,
  ) {
    this.client = client;
    this.subscriber = subscriber;
    this.#prefix = options.prefix;
    this.#mainRoom = options.mainRoom;
    this.#privates = options.privates;
  }

  /**
   * Connects both; rejects with one clear error (and nothing left open)
   * when Redis cannot be reached.
   */
  static async connect(options: NodeLinksOptions): Promise<NodeLinks> {
    const common = {
      url: options.url,
      retryInitialMs: options.retryInitialMs,
      retryMaxMs: options.retryMaxMs,
      caCerts: options.caCerts,
      connectTimeoutMs: 5_000,
    };
    const client = await RedisClient.connect({
      ...common,
      clientName: `chat-node-${options.node}`,
      replyTimeoutMs: options.replyTimeoutMs,
    });
    try {
      const subscriber = await RedisSubscriber.connect({
        ...common,
        clientName: `chat-node-${options.node}-sub`,
      });
      return new NodeLinks(client, subscriber, options);
    } catch (error) {
      await client.close();
      throw error;
    }
  }

  /** Whether both connections are up. */
  get connected(): boolean {
    return this.client.connected && this.subscriber.connected;
  }

  /** Listens to both connections' `down` and `up`; returns the unlisteners. */
  watch(onDown: () => void, onUp: () => void): (() => void)[] {
    return [this.client, this.subscriber].flatMap((link) => [
      link.on("down", onDown),
      link.on("up", onUp),
    ]);
  }

  /**
   * Runs a script for `node` (the prefix, node, time and main room go
   * first).
   */
  run(
    script: RedisScript,
    node: string,
    args: readonly RespArg[],
  ): Promise<RespValue> {
    return this.client.evalScript(script, [], [
      this.#prefix,
      node,
      Date.now(),
      this.#mainRoom,
      ...args,
    ]);
  }

  /** The private channel of `node`. */
  privateChannel(node: string): string {
    return `${this.#prefix}node:${node}:private`;
  }

  /** Subscribes to the room's events and to `node`'s private channel. */
  async follow(node: string, onEvent: (text: string) => void): Promise<void> {
    await Promise.all([
      this.subscriber.subscribe(this.#prefix + "events", onEvent),
      this.subscriber.subscribe(this.privateChannel(node), this.#onPrivate),
    ]);
  }

  /** Moves the private channel from a former id of the node to its new. */
  async movePrivate(from: string, to: string): Promise<void> {
    await this.subscriber.unsubscribe(this.privateChannel(from));
    await withTimeout(
      this.subscriber.subscribe(this.privateChannel(to), this.#onPrivate),
      5_000,
    );
  }

  // A private message, or a console's kick.
  #onPrivate = (text: string): void => {
    const delivery = parsePrivate(text);
    try {
      if (delivery?.kind === "private") {
        this.#privates.receivePrivate(delivery.message);
      } else if (delivery?.kind === "kick") {
        this.#privates.receiveKick(delivery.request);
      }
    } catch {
      // Not ours to read (a message of another shape).
    }
  };

  /** Unsubscribes from every channel. */
  unfollow(): void {
    for (const channel of this.subscriber.channels) {
      this.subscriber.unsubscribe(channel).catch(() => {});
    }
  }

  /** Publishes a private message to the node that holds its target. */
  sendPrivate(message: PrivateMessage): Promise<RespValue> {
    return this.client.command([
      "PUBLISH",
      this.privateChannel(message.node),
      JSON.stringify(message),
    ]);
  }

  /**
   * Hands a console's kick to the node that holds the name key, as `node`:
   * `sent` (with the name as held), `notFound`, or `unavailable` when that
   * node does not listen now or Redis did not answer.
   */
  kick(
    node: string,
    key: string,
    reason: string,
    ghost = false,
  ): Promise<KickResult> {
    return this.run(KICK, node, [key, reason, ghost ? "1" : ""]).then(
      (reply): KickResult => {
        if (!Array.isArray(reply)) return { kind: "unavailable" };
        if (reply[0] === "none") return { kind: "notFound" };
        if (reply[0] === "sent" && typeof reply[1] === "string") {
          return { kind: "sent", name: reply[1] };
        }
        return { kind: "unavailable" };
      },
      (): KickResult => ({ kind: "unavailable" }),
    );
  }

  /** Closes both connections. */
  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber.close(), this.client.close()]);
  }
}
