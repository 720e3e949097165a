/**
 * The account store of a room served by several nodes: everything in
 * Redis (keys and scripts in `redis_store_scripts.ts`), so that every
 * node agrees, and each change published on one channel so that every
 * node acts on it at once (a ban disconnects the member wherever it is).
 *
 * Redis keeps it in memory: for it to survive a restart of Redis, run
 * Redis with the append-only file (`appendonly yes`, `appendfsync
 * everysec` or `always`); see /tmp/notes/accounts.md and the README.
 *
 * @module
 */

import { nameKey } from "../room/registry.ts";
import {
  type Account,
  type AccountStore,
  type Ban,
  banKey,
  type BanTarget,
  type ChangeKind,
  type ChangeListener,
  ChangeListeners,
  IGNORE_LIMIT,
  type IgnoreResult,
  type Inbox,
  INBOX_LIMIT,
  inForce,
  type KeepResult,
  type Mute,
  type OfflineMessage,
  StoreError,
} from "./accounts.ts";
import {
  parseRedisUrl,
  RedisClient,
  RedisConnectionError,
  type RedisScript,
  RedisSubscriber,
} from "./redis_client.ts";
import type { RespArg, RespValue } from "./resp.ts";
import {
  DELETE_ENTRY,
  IGNORE,
  KEEP,
  LIVE_ENTRIES,
  REGISTER,
  SET_ENTRY,
  SET_FIELD,
  TAKE,
  UNIGNORE,
  UNREGISTER,
} from "./redis_store_scripts.ts";
import { Secret } from "./secret.ts";

/** Options of {@linkcode RedisStore.open}. */
export interface RedisStoreOptions {
  /** `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://`). */
  url: string;
  /** Prefix of every key and of the channel. Default `chat:`. */
  prefix?: string;
  /** The clock, for ends of bans and mutes. Default `Date.now`. */
  now?: () => number;
  /** Messages kept per name. Default {@linkcode INBOX_LIMIT}. */
  inboxLimit?: number;
  /** Names on one ignore list. Default {@linkcode IGNORE_LIMIT}. */
  ignoreLimit?: number;
  /** First wait before reconnecting, doubled each try. Default 250. */
  retryInitialMs?: number;
  /** Longest wait between reconnects. Default 5000. */
  retryMaxMs?: number;
  /** Extra root certificates (PEM) for `rediss://`. */
  caCerts?: string[];
}

const KINDS = new Set<ChangeKind>([
  "account",
  "ban",
  "mute",
  "ignore",
  "inbox",
]);

function text(value: RespValue): string {
  if (typeof value !== "string") throw new Error("unexpected reply");
  return value;
}

// A flat HGETALL reply (or a RESP3 map) as pairs.
function pairs(value: RespValue): [string, string][] {
  const out: [string, string][] = [];
  if (value instanceof Map) {
    for (const [k, v] of value) out.push([text(k), text(v)]);
  } else if (Array.isArray(value)) {
    for (let i = 0; i + 1 < value.length; i += 2) {
      out.push([text(value[i]), text(value[i + 1])]);
    }
  }
  return out;
}

function toAccount(value: RespValue): Account | undefined {
  const fields = new Map(pairs(value));
  const name = fields.get("name");
  const hash = fields.get("hash");
  if (name === undefined || hash === undefined) return undefined;
  const lastSeen = fields.get("lastSeen");
  return {
    name,
    hash: new Secret(hash),
    created: Number(fields.get("created") ?? 0),
    operator: fields.get("operator") === "1",
    lastSeen: lastSeen === undefined ? null : Number(lastSeen),
  };
}

function banJson(ban: Ban): string {
  return JSON.stringify({
    target: ban.target,
    until: ban.until,
    reason: ban.reason,
    by: ban.by,
    at: ban.at,
  });
}

function muteJson(mute: Mute): string {
  return JSON.stringify({
    name: mute.name,
    until: mute.until,
    by: mute.by,
    at: mute.at,
  });
}

// Only the fields a ban has, whatever else the JSON held.
function parseBan(json: string): Ban {
  const raw = JSON.parse(json) as Ban;
  const target: BanTarget = raw.target.kind === "name"
    ? { kind: "name", name: String(raw.target.name) }
    : { kind: "address", network: String(raw.target.network) };
  return {
    target,
    until: raw.until ?? null,
    reason: String(raw.reason ?? ""),
    by: String(raw.by ?? ""),
    at: Number(raw.at ?? 0),
  };
}

function parseMute(json: string): Mute {
  const raw = JSON.parse(json) as Mute;
  return {
    name: String(raw.name),
    until: raw.until ?? null,
    by: String(raw.by ?? ""),
    at: Number(raw.at ?? 0),
  };
}

function parseMessage(json: string): OfflineMessage {
  const raw = JSON.parse(json) as OfflineMessage;
  return {
    from: String(raw.from),
    time: Number(raw.time),
    text: String(raw.text),
  };
}

/** A change a script publishes, and how to tell from its reply that it did. */
interface Told {
  kind: ChangeKind;
  key: string;
  if: (reply: RespValue) => boolean;
}

const isOne = (reply: RespValue) => reply === 1;
const isText = (reply: RespValue) => typeof reply === "string";

const byAt = (a: { at: number }, b: { at: number }) => a.at - b.at;

/**
 * The account store in Redis, shared by every node that opens it with the
 * same URL and prefix. Changes made on any node reach every node's
 * {@linkcode RedisStore.onChange} listeners (through pub/sub); after the
 * link to Redis was lost and is back, listeners get `all`, since changes
 * published meanwhile were missed.
 *
 * While Redis cannot be reached, every method rejects at once with a
 * {@linkcode StoreError}; the connections come back by themselves.
 *
 * @example
 * ```ts
 * await using store = await RedisStore.open({ url: "redis://127.0.0.1:6379" });
 * store.onChange((kind, key) => { if (kind === "ban") reloadBans(); });
 * ```
 */
export class RedisStore implements AccountStore {
  readonly location: string;
  #client: RedisClient;
  #subscriber: RedisSubscriber;
  #prefix: string;
  #id = crypto.randomUUID();
  #now: () => number;
  #inboxLimit: number;
  #ignoreLimit: number;
  #changes = new ChangeListeners();
  #unlisten: () => void;
  #closed = false;

  private constructor(
    location: string,
    client: RedisClient,
    subscriber: RedisSubscriber,
    options: RedisStoreOptions,
  ) {
    this.location = location;
    this.#client = client;
    this.#subscriber = subscriber;
    this.#prefix = options.prefix ?? "chat:";
    this.#now = options.now ?? Date.now;
    this.#inboxLimit = Math.max(1, options.inboxLimit ?? INBOX_LIMIT);
    this.#ignoreLimit = Math.max(1, options.ignoreLimit ?? IGNORE_LIMIT);
    // Back after a loss: what was published meanwhile is lost. Told when
    // either connection is back, so that a reload tried while the other
    // was still down is tried again once it is up.
    const back = () => this.#changes.emit("all", "");
    const stops = [subscriber.on("up", back), client.on("up", back)];
    this.#unlisten = () => stops.forEach((stop) => stop());
  }

  /**
   * Connects (a command connection and a pub/sub one) and subscribes to
   * the changes. Rejects with a {@linkcode StoreError} of one line naming
   * the URL (password hidden) if Redis cannot be reached.
   */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    let location = options.url;
    try {
      location = parseRedisUrl(options.url).url;
    } catch (error) {
      throw new StoreError(
        error instanceof Error ? error.message : String(error),
      );
    }
    const connection = {
      url: options.url,
      retryInitialMs: options.retryInitialMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 5_000,
      caCerts: options.caCerts,
      connectTimeoutMs: 5_000,
      replyTimeoutMs: 5_000,
    };
    let client: RedisClient | undefined;
    let subscriber: RedisSubscriber | undefined;
    try {
      client = await RedisClient.connect({
        ...connection,
        clientName: "chat-accounts",
      });
      subscriber = await RedisSubscriber.connect({
        ...connection,
        clientName: "chat-accounts-sub",
      });
      const store = new RedisStore(location, client, subscriber, options);
      await subscriber.subscribe(
        `${store.#prefix}account-changes`,
        (message) => store.#heard(message),
      );
      return store;
    } catch (error) {
      await subscriber?.close();
      await client?.close();
      throw RedisStore.#wrap(location, error);
    }
  }

  async account(name: string): Promise<Account | undefined> {
    return toAccount(
      await this.#command(["HGETALL", this.#key("account:", name)]),
    );
  }

  async register(
    name: string,
    hash: Secret,
    options: { operator?: boolean; created?: number } = {},
  ): Promise<boolean> {
    const key = nameKey(name);
    const created = options.created ?? this.#now();
    return await this.#script(REGISTER, [
      key,
      name,
      hash.reveal(),
      created,
      options.operator ? "1" : "0",
    ], { kind: "account", key, if: isOne }) === 1;
  }

  async setHash(name: string, hash: Secret): Promise<boolean> {
    const key = nameKey(name);
    return await this.#script(
      SET_FIELD,
      [key, "hash", hash.reveal(), "1"],
      { kind: "account", key, if: isOne },
    ) === 1;
  }

  async unregister(name: string): Promise<boolean> {
    const key = nameKey(name);
    return await this.#script(UNREGISTER, [key], {
      kind: "account",
      key,
      if: isOne,
    }) === 1;
  }

  async setOperator(name: string, operator: boolean): Promise<boolean> {
    const key = nameKey(name);
    return await this.#script(
      SET_FIELD,
      [key, "operator", operator ? "1" : "0", "1"],
      { kind: "account", key, if: isOne },
    ) === 1;
  }

  async operators(): Promise<Account[]> {
    const keys = await this.#command(["SMEMBERS", `${this.#prefix}operators`]);
    const sorted = (Array.isArray(keys) ? keys.map(text) : []).sort();
    const accounts = await Promise.all(
      sorted.map((key) =>
        this.#command(["HGETALL", `${this.#prefix}account:${key}`])
      ),
    );
    return accounts.map(toAccount).filter((a): a is Account =>
      a !== undefined && a.operator
    );
  }

  async setLastSeen(name: string, time: number): Promise<void> {
    await this.#script(SET_FIELD, [nameKey(name), "lastSeen", time, "0"]);
  }

  async ban(ban: Ban): Promise<void> {
    const key = banKey(ban.target);
    await this.#script(SET_ENTRY, ["bans", key, banJson(ban), "ban"], {
      kind: "ban",
      key,
      if: () => true,
    });
  }

  async unban(target: BanTarget): Promise<Ban | undefined> {
    const key = banKey(target);
    const json = await this.#script(
      DELETE_ENTRY,
      ["bans", key, this.#now(), "ban"],
      { kind: "ban", key, if: isText },
    );
    return typeof json === "string" ? parseBan(json) : undefined;
  }

  async banOf(target: BanTarget): Promise<Ban | undefined> {
    const json = await this.#command([
      "HGET",
      `${this.#prefix}bans`,
      banKey(target),
    ]);
    if (typeof json !== "string") return undefined;
    const ban = parseBan(json);
    return inForce(ban, this.#now()) ? ban : undefined;
  }

  async bans(): Promise<Ban[]> {
    const list = await this.#script(LIVE_ENTRIES, ["bans", this.#now()]);
    return (Array.isArray(list) ? list : []).map((v) => parseBan(text(v)))
      .sort(byAt);
  }

  async mute(mute: Mute): Promise<void> {
    const key = nameKey(mute.name);
    await this.#script(SET_ENTRY, ["mutes", key, muteJson(mute), "mute"], {
      kind: "mute",
      key,
      if: () => true,
    });
  }

  async unmute(name: string): Promise<boolean> {
    const key = nameKey(name);
    const json = await this.#script(
      DELETE_ENTRY,
      ["mutes", key, this.#now(), "mute"],
      { kind: "mute", key, if: isText },
    );
    return typeof json === "string";
  }

  async muteOf(name: string): Promise<Mute | undefined> {
    const json = await this.#command([
      "HGET",
      `${this.#prefix}mutes`,
      nameKey(name),
    ]);
    if (typeof json !== "string") return undefined;
    const mute = parseMute(json);
    return inForce(mute, this.#now()) ? mute : undefined;
  }

  async mutes(): Promise<Mute[]> {
    const list = await this.#script(LIVE_ENTRIES, ["mutes", this.#now()]);
    return (Array.isArray(list) ? list : []).map((v) => parseMute(text(v)))
      .sort(byAt);
  }

  async keepMessage(to: string, message: OfflineMessage): Promise<KeepResult> {
    const json = JSON.stringify({
      from: message.from,
      time: message.time,
      text: message.text,
    });
    const key = nameKey(to);
    const result = await this.#script(KEEP, [key, json, this.#inboxLimit], {
      kind: "inbox",
      key,
      if: isOne,
    });
    return result === 1 ? "kept" : "notRegistered";
  }

  async takeInbox(name: string): Promise<Inbox> {
    const reply = await this.#script(TAKE, [nameKey(name)]);
    if (!Array.isArray(reply) || !Array.isArray(reply[0])) {
      return { messages: [], dropped: 0 };
    }
    return {
      messages: reply[0].map((v) => parseMessage(text(v))),
      dropped: Number(reply[1] ?? 0),
    };
  }

  async ignore(owner: string, name: string): Promise<IgnoreResult> {
    const key = nameKey(owner);
    const result = await this.#script(
      IGNORE,
      [key, nameKey(name), name, this.#ignoreLimit],
      { kind: "ignore", key, if: (reply) => reply === "ok" },
    );
    return text(result) as IgnoreResult;
  }

  async unignore(owner: string, name: string): Promise<boolean> {
    const key = nameKey(owner);
    return await this.#script(UNIGNORE, [key, nameKey(name)], {
      kind: "ignore",
      key,
      if: isOne,
    }) === 1;
  }

  async ignored(owner: string): Promise<string[]> {
    const list = pairs(
      await this.#command(["HGETALL", this.#key("ignore:", owner)]),
    );
    return list.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([, name]) => name);
  }

  onChange(listener: ChangeListener): () => void {
    return this.#changes.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    this.#changes.clear();
    await Promise.all([this.#subscriber.close(), this.#client.close()]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #key(kind: string, name: string): string {
    return `${this.#prefix}${kind}${nameKey(name)}`;
  }

  // A notification from any node; this store's own were told already.
  #heard(message: string): void {
    let parsed: { o?: unknown; k?: unknown; key?: unknown };
    try {
      parsed = JSON.parse(message);
    } catch {
      return;
    }
    if (parsed.o === this.#id) return;
    const kind = parsed.k as ChangeKind;
    if (!KINDS.has(kind) || typeof parsed.key !== "string") return;
    this.#changes.emit(kind, parsed.key);
  }

  async #command(args: readonly RespArg[]): Promise<RespValue> {
    if (this.#closed) throw this.#closedError();
    try {
      return await this.#client.command(args);
    } catch (error) {
      throw RedisStore.#wrap(this.location, error);
    }
  }

  // Runs a script. When `told` says from its reply that it changed
  // something (and so published it), this node's listeners are told now.
  async #script(
    script: RedisScript,
    args: readonly RespArg[],
    told?: Told,
  ): Promise<RespValue> {
    if (this.#closed) throw this.#closedError();
    let reply: RespValue;
    try {
      reply = await this.#client.evalScript(
        script,
        [],
        [this.#prefix, this.#id, ...args],
      );
    } catch (error) {
      throw RedisStore.#wrap(this.location, error);
    }
    if (told !== undefined && told.if(reply)) {
      this.#changes.emit(told.kind, told.key);
    }
    return reply;
  }

  #closedError(): StoreError {
    return new StoreError(`The account store at ${this.location} is closed.`);
  }

  static #wrap(location: string, error: unknown): StoreError {
    if (error instanceof StoreError) return error;
    const why = error instanceof RedisConnectionError
      ? error.reason
      : error instanceof Error
      ? error.message
      : String(error);
    return new StoreError(
      `Cannot use the account store in Redis at ${location}: ${why}.`,
      { cause: error },
    );
  }
}
