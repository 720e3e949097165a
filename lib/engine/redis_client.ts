/**
 * A small Redis client of our own: pipelined commands, Lua scripts and a
 * pub/sub subscriber, each over one connection that comes back by itself
 * after Redis went away.
 *
 * Speaks RESP2 (see `resp.ts`). Knows nothing of chat.
 *
 * @module
 */

import { concatBytes } from "../io/shared_join.ts";
import { setImmediate } from "node:timers";
import { createHash } from "node:crypto";
import { describeError } from "../io/errors.ts";
import {
  encodeCommand,
  type RespArg,
  RespError,
  RespParser,
  RespPush,
  type RespValue,
} from "./resp.ts";

/** Where a Redis server is and how to log in, from a `redis://` URL. */
export interface RedisEndpoint {
  /** The URL with its password replaced by `***`, for messages. */
  url: string;
  /** Whether the connection uses TLS (`rediss://`). */
  tls: boolean;
  /** The host name or IP address (an IPv6 address in brackets). */
  hostname: string;
  /** The TCP port. Default 6379. */
  port: number;
  /** The ACL user name, if the URL has one. */
  username?: string;
  /** The password, if the URL has one. */
  password?: string;
  /** The database selected after connecting. Default 0. */
  db: number;
}

/**
 * Reads `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` or the same with
 * `rediss://` (TLS). Throws an error quoting the URL (password hidden) if it
 * is not one.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  const shown = redactUrl(url);
  const fail = (why: string): never => {
    throw new Error(`Invalid Redis URL "${shown}": ${why}`);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail("it is not a URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    fail("it must start with redis:// or rediss://");
  }
  if (parsed.hostname === "") fail("it has no host");
  let port = 6379;
  if (parsed.port !== "") {
    port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`the port "${parsed.port}" is not 1-65535`);
    }
  }
  let db = 0;
  const path = parsed.pathname;
  if (path !== "" && path !== "/") {
    if (!/^\/\d+$/.test(path)) {
      fail(`the database "${path.slice(1)}" is not a number`);
    }
    db = Number(path.slice(1));
  }
  const endpoint: RedisEndpoint = {
    url: shown,
    tls: parsed.protocol === "rediss:",
    hostname: parsed.hostname,
    port,
    db,
  };
  if (parsed.username !== "") {
    endpoint.username = decodeURIComponent(parsed.username);
  }
  if (parsed.password !== "") {
    endpoint.password = decodeURIComponent(parsed.password);
  }
  return endpoint;
}

// The URL with whatever is between `//` and `@` hidden but a user name.
function redactUrl(url: string): string {
  return url.replace(
    /^([a-z]+:\/\/)([^@/]*)@/i,
    (_, scheme: string, auth: string) => {
      const colon = auth.indexOf(":");
      return colon === -1
        ? `${scheme}${auth}@`
        : `${scheme}${auth.slice(0, colon)}:***@`;
    },
  );
}

/**
 * The connection to Redis failed, was lost or closed: the error of every
 * command that could not get a reply because of it.
 */
export class RedisConnectionError extends Error {
  /** The short reason, such as `connection refused`. */
  readonly reason: string;

  /** Describes the failure; `reason` is its short cause. */
  constructor(message: string, reason: string) {
    super(message);
    this.name = "RedisConnectionError";
    this.reason = reason;
  }
}

/** Options of {@linkcode RedisClient.connect} and {@linkcode RedisSubscriber.connect}. */
export interface RedisOptions {
  /** `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://` for TLS. */
  url: string;
  /** Sent with `CLIENT SETNAME`, so `CLIENT LIST` shows who is who. */
  clientName?: string;
  /** Longest time to connect, log in and select the database. Default 5000. */
  connectTimeoutMs?: number;
  /** Wait before the first reconnect; it doubles each try. Default 1000. */
  retryInitialMs?: number;
  /** Longest wait between reconnects. Default 30000. */
  retryMaxMs?: number;
  /** Extra root certificates (PEM) trusted for `rediss://`. */
  caCerts?: string[];
  /**
   * Longest wait for a reply before the connection counts as lost, so that
   * a frozen or unreachable server is noticed (TCP alone may take hours).
   * 0 for no limit, the default: blocking commands such as `BLPOP` wait on
   * purpose.
   */
  replyTimeoutMs?: number;
}

/** What {@linkcode RedisClient.on} and {@linkcode RedisSubscriber.on} tell. */
export interface RedisEvents {
  /**
   * The connection was lost; it is being made again. Every command in flight
   * has been rejected with `error`.
   */
  down: (error: RedisConnectionError) => void;
  /** The connection is back, logged in: re-assert what Redis may have lost. */
  up: () => void;
}

type Listeners = { [E in keyof RedisEvents]: Set<RedisEvents[E]> };

interface Pending {
  resolve(value: RespValue): void;
  reject(error: Error): void;
  // When it was sent (performance.now()), with a reply timeout.
  sentAt?: number;
}

// What a client or subscriber adds to the one connection they each have.
interface LinkHooks {
  // Runs on every new connection before it counts as up.
  handshake(): Promise<void>;
  // Takes an out-of-band value (a pub/sub message); false if it is a reply.
  takeUnasked(value: RespValue): boolean;
  onDown(error: RedisConnectionError): void;
  onUp(): void;
}

// A first-in first-out queue that does not copy on every shift.
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}

type LinkState = "connecting" | "up" | "down" | "closed";

const READ_BYTES = 64 * 1024;

// One connection to Redis at a time: connects, logs in, pipelines requests
// and matches replies in order, and after a loss connects again with
// exponential back-off.
class Link {
  readonly endpoint: RedisEndpoint;
  readonly label: string;
  #hooks: LinkHooks;
  #connectTimeout: number;
  #retryInitial: number;
  #retryMax: number;
  #caCerts: string[] | undefined;
  #replyTimeout: number;
  #replyTimer: ReturnType<typeof setTimeout> | undefined;
  #state: LinkState = "connecting";
  #conn: Deno.Conn | null = null;
  #pending = new Fifo<Pending>();
  #queued: Uint8Array[] = [];
  #flushScheduled = false;
  #writing: Promise<void> | null = null;
  #reading: Promise<void> | null = null;
  #opening: Promise<void> | null = null;
  #abort: AbortController | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #attempt = 0;
  #closing: Promise<void> | null = null;

  constructor(options: RedisOptions, hooks: LinkHooks) {
    this.endpoint = parseRedisUrl(options.url);
    this.label = `${this.endpoint.hostname}:${this.endpoint.port}`;
    this.#hooks = hooks;
    this.#connectTimeout = options.connectTimeoutMs ?? 5000;
    this.#retryInitial = options.retryInitialMs ?? 1000;
    this.#retryMax = Math.max(this.#retryInitial, options.retryMaxMs ?? 30000);
    this.#caCerts = options.caCerts;
    this.#replyTimeout = options.replyTimeoutMs ?? 0;
  }

  get state(): LinkState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#state === "closed";
  }

  // The first connection: on failure, one clear error and nothing left open.
  async start(): Promise<void> {
    const opening = this.#open();
    this.#opening = opening;
    let failure: RedisConnectionError | null = null;
    try {
      await opening;
    } catch (error) {
      failure = error instanceof RedisConnectionError
        ? error
        : new RedisConnectionError(String(error), String(error));
    }
    // Before close(), which waits for the opening to be over.
    this.#opening = null;
    if (failure !== null) {
      await this.close();
      throw failure;
    }
    if (this.#state === "closed") throw this.#closedError();
    this.#state = "up";
  }

  // The rejection of a request made while there is no connection.
  refuse(): Promise<never> {
    return Promise.reject(
      this.#state === "closed" ? this.#closedError() : this.#downError(),
    );
  }

  // Sends a command; resolves with its reply, rejects with an error reply
  // (RespError) or when the connection is lost (RedisConnectionError).
  request(args: readonly RespArg[]): Promise<RespValue> {
    if (this.#conn === null) return this.refuse();
    let bytes: Uint8Array;
    try {
      bytes = encodeCommand(args);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<RespValue>((resolve, reject) => {
      if (this.#replyTimeout > 0) {
        this.#pending.push({ resolve, reject, sentAt: performance.now() });
        this.#replyTimer ??= setTimeout(
          () => this.#checkReplies(),
          this.#replyTimeout,
        );
      } else {
        this.#pending.push({ resolve, reject });
      }
      this.#queued.push(bytes);
      this.#scheduleFlush();
    });
  }

  // Runs only while replies are awaited: drops the connection if the oldest
  // has waited too long, or looks again when it would have.
  #checkReplies(): void {
    this.#replyTimer = undefined;
    const oldest = this.#pending.peek();
    if (oldest === undefined || this.#conn === null) return;
    const waited = performance.now() - (oldest.sentAt ?? 0);
    if (waited >= this.#replyTimeout) {
      this.#lost(this.#conn, `no reply within ${this.#replyTimeout} ms`);
      return;
    }
    this.#replyTimer = setTimeout(
      () => this.#checkReplies(),
      this.#replyTimeout - waited,
    );
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#state = "closed";
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#abort?.abort();
    if (this.#conn !== null) this.#lost(this.#conn, "closed");
    // Each of these ends soon once the connection is closed.
    while (
      this.#opening !== null || this.#reading !== null ||
      this.#writing !== null || this.#flushScheduled
    ) {
      await Promise.allSettled([
        this.#opening,
        this.#reading,
        this.#writing,
        new Promise((resolve) => setImmediate(resolve)),
      ]);
    }
  }

  #closedError(): RedisConnectionError {
    return new RedisConnectionError(
      `The Redis connection to "${this.label}" was closed`,
      "closed",
    );
  }

  #downError(): RedisConnectionError {
    return new RedisConnectionError(
      `Not connected to Redis at "${this.label}"; reconnecting`,
      "reconnecting",
    );
  }

  // One write per turn of the event loop, of everything queued meanwhile.
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#writing !== null) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      if (this.#writing === null && this.#queued.length > 0) {
        this.#writing = this.#writeQueued();
      }
    });
  }

  async #writeQueued(): Promise<void> {
    try {
      while (this.#queued.length > 0 && this.#conn !== null) {
        const conn = this.#conn;
        const bytes = concatBytes(this.#queued);
        this.#queued = [];
        try {
          let offset = 0;
          while (offset < bytes.length) {
            offset += await conn.write(bytes.subarray(offset));
          }
        } catch (error) {
          this.#lost(conn, describeError(error));
        }
      }
    } finally {
      this.#writing = null;
      // Queued for a new connection while the old one's write failed.
      if (this.#queued.length > 0) this.#scheduleFlush();
    }
  }

  async #read(conn: Deno.Conn): Promise<void> {
    const parser = new RespParser();
    const buffer = new Uint8Array(READ_BYTES);
    const values: RespValue[] = [];
    try {
      for (;;) {
        const count = await conn.read(buffer);
        if (this.#conn !== conn) return;
        if (count === null) {
          this.#lost(conn, "closed by the server");
          return;
        }
        values.length = 0;
        parser.push(buffer.subarray(0, count), values);
        for (const value of values) {
          if (this.#conn !== conn) return;
          if (this.#hooks.takeUnasked(value)) continue;
          const pending = this.#pending.shift();
          if (pending === undefined) {
            this.#lost(conn, "a reply came that no command asked for");
            return;
          }
          if (value instanceof RespError) pending.reject(value);
          else pending.resolve(value);
        }
      }
    } catch (error) {
      this.#lost(conn, describeError(error));
    }
  }

  // Drops `conn` if it is still the connection: rejects what waits on it
  // and, if it was up, tells the owner and starts reconnecting.
  #lost(conn: Deno.Conn, reason: string): void {
    if (conn !== this.#conn) return;
    this.#conn = null;
    try {
      conn.close();
    } catch {
      // Already closed by Deno after an error.
    }
    this.#queued = [];
    clearTimeout(this.#replyTimer);
    this.#replyTimer = undefined;
    const closed = this.#state === "closed";
    const error = closed ? this.#closedError() : new RedisConnectionError(
      `Lost the connection to Redis at "${this.label}" (${reason}); ` +
        "the command may or may not have run",
      reason,
    );
    for (const pending of this.#pending.drain()) pending.reject(error);
    if (closed) return;
    const wasUp = this.#state === "up";
    this.#state = "down";
    if (wasUp) {
      this.#hooks.onDown(error);
      this.#scheduleReconnect();
    }
  }

  #scheduleReconnect(): void {
    if (this.#state === "closed") return;
    // 1, 2, 4... times the first wait, capped, each ±25% so that many
    // servers that lost Redis together do not come back in step.
    const base = Math.min(
      this.#retryMax,
      this.#retryInitial * 2 ** Math.min(this.#attempt, 30),
    );
    const delay = Math.min(this.#retryMax, base * (0.75 + Math.random() / 2));
    this.#attempt++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#opening = this.#reconnect().finally(() => {
        this.#opening = null;
      });
    }, delay);
  }

  async #reconnect(): Promise<void> {
    try {
      await this.#open();
    } catch {
      this.#scheduleReconnect();
      return;
    }
    if (this.#state === "closed") return;
    this.#attempt = 0;
    this.#state = "up";
    this.#hooks.onUp();
  }

  // Connects and runs the handshake, within the connect timeout.
  async #open(): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    const timeoutReason = `no answer within ${this.#connectTimeout} ms`;
    let conn: Deno.Conn | null = null;
    const onAbort = () => {
      if (conn !== null) this.#lost(conn, timeoutReason);
    };
    const timer = setTimeout(() => abort.abort(), this.#connectTimeout);
    abort.signal.addEventListener("abort", onAbort);
    try {
      const { hostname, port } = this.endpoint;
      const tcp = await Deno.connect({ hostname, port, signal: abort.signal });
      conn = tcp;
      // Closed or timed out while connecting; the catch closes it.
      if (abort.signal.aborted) throw new Error(timeoutReason);
      tcp.setKeepAlive(true);
      if (this.endpoint.tls) {
        // The TLS handshake happens with the first write, in the handshake
        // below, so it is bounded by the same timeout.
        conn = await Deno.startTls(tcp, {
          hostname: hostname.replace(/^\[|\]$/g, ""),
          caCerts: this.#caCerts,
        });
      }
      this.#conn = conn;
      const reading = this.#read(conn);
      this.#reading = reading;
      reading.then(() => {
        if (this.#reading === reading) this.#reading = null;
      });
      await this.#hooks.handshake();
      if (this.#conn !== conn) throw new Error("closed by the server");
    } catch (error) {
      if (conn !== null) {
        if (this.#conn === conn) this.#lost(conn, describeError(error));
        else if (this.#conn === null) closeQuietly(conn);
      }
      await this.#reading;
      const reason = this.#state === "closed"
        ? "closed"
        : abort.signal.aborted
        ? timeoutReason
        : error instanceof RedisConnectionError
        ? error.reason
        : describeError(error);
      throw new RedisConnectionError(
        `Cannot connect to Redis at "${this.label}": ${reason}`,
        reason,
      );
    } finally {
      clearTimeout(timer);
      abort.signal.removeEventListener("abort", onAbort);
      if (this.#abort === abort) this.#abort = null;
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

// AUTH and SELECT (and CLIENT SETNAME), pipelined, then the owner's own.
async function logIn(
  link: Link,
  options: RedisOptions,
  then: () => Promise<unknown>[] = () => [],
): Promise<void> {
  const { username, password, db } = link.endpoint;
  const steps: [string, Promise<RespValue>][] = [];
  if (password !== undefined) {
    steps.push([
      "AUTH",
      link.request(
        username === undefined
          ? ["AUTH", password]
          : ["AUTH", username, password],
      ),
    ]);
  }
  if (db !== 0) steps.push(["SELECT", link.request(["SELECT", db])]);
  if (options.clientName !== undefined) {
    steps.push([
      "CLIENT SETNAME",
      link.request(["CLIENT", "SETNAME", options.clientName]),
    ]);
  }
  // Proves the server speaks RESP even when there is nothing to log in to.
  steps.push(["PING", link.request(["PING"])]);
  const results = await Promise.allSettled([
    ...steps.map(([, reply]) => reply),
    // After the log-in in the pipeline, which it needs.
    ...then(),
  ]);
  for (let i = 0; i < results.length; i++) {
    const result = results[i];
    if (result.status === "fulfilled") continue;
    const error = result.reason;
    if (error instanceof RespError && i < steps.length) {
      throw new Error(`${steps[i][0]} was refused: ${error.message}`);
    }
    throw error;
  }
}

function addListener<E extends keyof RedisEvents>(
  listeners: Listeners,
  event: E,
  listener: RedisEvents[E],
): () => void {
  const set = listeners[event] as Set<RedisEvents[E]>;
  set.add(listener);
  return () => set.delete(listener);
}

function emit<E extends keyof RedisEvents>(
  listeners: Listeners,
  event: E,
  ...args: Parameters<RedisEvents[E]>
): void {
  for (const listener of listeners[event]) {
    try {
      (listener as (...args: Parameters<RedisEvents[E]>) => void)(...args);
    } catch (error) {
      // A listener's bug must not break the connection, nor go unseen.
      reportError(error);
    }
  }
}

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
