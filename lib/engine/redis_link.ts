/**
 * One connection to Redis at a time, for the client and the subscriber:
 * connecting and logging in, pipelining requests and matching replies in
 * order, noticing a lost or frozen server, and connecting again with
 * back-off. Speaks RESP2 (see `resp.ts`). Knows nothing of chat.
 *
 * @module
 */

import { concatBytes } from "../io/shared_join.ts";
import { setImmediate } from "node:timers";
import { describeError } from "../io/errors.ts";
import { parseRedisUrl, type RedisEndpoint } from "./redis_url.ts";
import {
  encodeCommand,
  type RespArg,
  RespError,
  RespParser,
  type RespValue,
} from "./resp.ts";

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

/** Options of `RedisClient.connect` and `RedisSubscriber.connect`. */
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

/** What `RedisClient.on` and `RedisSubscriber.on` tell. */
export interface RedisEvents {
  /**
   * The connection was lost; it is being made again. Every command in flight
   * has been rejected with `error`.
   */
  down: (error: RedisConnectionError) => void;
  /** The connection is back, logged in: re-assert what Redis may have lost. */
  up: () => void;
}

/** The listeners of a client's or subscriber's `down` and `up`. */
export type Listeners = { [E in keyof RedisEvents]: Set<RedisEvents[E]> };

/** A request waiting for its reply. */
export interface Pending {
  /** Called with the reply. */
  resolve(value: RespValue): void;
  /** Called with an error reply or the connection's loss. */
  reject(error: Error): void;
  /** When it was sent (`performance.now()`), with a reply timeout. */
  sentAt?: number;
}

/** What a client or subscriber adds to the one connection they each have. */
export interface LinkHooks {
  /** Runs on every new connection before it counts as up. */
  handshake(): Promise<void>;
  /** Takes an out-of-band value (a pub/sub message); false if it is a reply. */
  takeUnasked(value: RespValue): boolean;
  /** The connection was lost while up. */
  onDown(error: RedisConnectionError): void;
  /** The connection is back, after the handshake. */
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

/** Where a link is: connecting the first time, up, down (reconnecting) or closed. */
export type LinkState = "connecting" | "up" | "down" | "closed";

const READ_BYTES = 64 * 1024;

/**
 * One connection to Redis at a time: connects, logs in, pipelines requests
 * and matches replies in order, and after a loss connects again with
 * exponential back-off.
 */
export class Link {
  /** The server, from the URL. */
  readonly endpoint: RedisEndpoint;
  /** `host:port`, for messages. */
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

  /** A link not yet connected; `start()` connects. */
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

  /** Where the link is. */
  get state(): LinkState {
    return this.#state;
  }

  /** Whether it was closed for good. */
  get closed(): boolean {
    return this.#state === "closed";
  }

  /** The first connection: on failure, one clear error and nothing left open. */
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

  /** The rejection of a request made while there is no connection. */
  refuse(): Promise<never> {
    return Promise.reject(
      this.#state === "closed" ? this.#closedError() : this.#downError(),
    );
  }

  /**
   * Sends a command; resolves with its reply, rejects with an error reply
   * (RespError) or when the connection is lost (RedisConnectionError).
   */
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

  /** Closes for good; resolves once nothing of the link runs. */
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

/** AUTH and SELECT (and CLIENT SETNAME), pipelined, then the owner's own. */
export async function logIn(
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

/** Adds a listener; returns the function that removes it. */
export function addListener<E extends keyof RedisEvents>(
  listeners: Listeners,
  event: E,
  listener: RedisEvents[E],
): () => void {
  const set = listeners[event] as Set<RedisEvents[E]>;
  set.add(listener);
  return () => set.delete(listener);
}

/** Calls every listener of `event`; a listener that throws is reported. */
export function emit<E extends keyof RedisEvents>(
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
