/**
 * What the chat keeps beyond a connection (issue 20): registered names and
 * their password hashes, operators, bans (by name or by address), mutes,
 * private messages kept for registered names while they are away, ignore
 * lists, and when each registered member was last seen.
 *
 * One interface, {@linkcode AccountStore}, two stores: `SqliteStore`
 * (`sqlite_store.ts`, one machine, a file in a data directory) and
 * `RedisStore` (`redis_store.ts`, every node of a room in Redis). Both
 * pass the same contract tests (`tests/accounts_contract_test.ts`).
 *
 * Names are keyed by `nameKey` (`lib/room/registry.ts`), so that a name
 * and its look-alikes are one account; each record keeps the name as it
 * was given, for showing. Address bans are keyed by the network as
 * `formatNetwork(parseNetwork(text))` writes it (`lib/room/addresses.ts`):
 * the caller reads `/ban 10.0.0.7/24` and gives the store `10.0.0.0/24`.
 *
 * Times are milliseconds since the epoch. Every method may reject with a
 * {@linkcode StoreError} (the store cannot be reached or written); none
 * rejects for an ordinary outcome such as a name already registered.
 *
 * ## Changes
 *
 * A change other nodes must act on at once is told to every listener of
 * {@linkcode AccountStore.onChange} on every node (on this node before the
 * call resolves; on the others through Redis pub/sub, within a round
 * trip): `ban` (key from {@linkcode banKey}: disconnect who it holds),
 * `mute` (the name's key), `account` (registered, unregistered, password
 * or operator changed), `ignore` (the owner's key), `inbox` (a message was
 * kept for that name: deliver it if the name is online here). `all` (key
 * `""`) means that changes may have been missed (the link to Redis was
 * lost and is back): read again whatever is cached.
 *
 * @module
 */

import { nameKey } from "../room/registry.ts";
import type { Secret } from "./secret.ts";

/** A registered name. */
export interface Account {
  /** The name as it was registered (its own case and form). */
  name: string;
  /** The password's hash (a PHC string, see `passwords.ts`), hidden. */
  hash: Secret;
  /** When it was registered. */
  created: number;
  /** Whether it is a server operator. */
  operator: boolean;
  /** When its member last left the chat; null before the first time. */
  lastSeen: number | null;
}

/** What a ban holds: a name (any case, any look-alike) or a network. */
export type BanTarget =
  | { kind: "name"; name: string }
  | {
    kind: "address";
    /** Canonical, as `formatNetwork` writes it: `10.0.0.0/24`, `2001:db8::1`. */
    network: string;
  };

/** A ban: who or what may not come in, until when, and why. */
export interface Ban {
  /** What it holds. */
  target: BanTarget;
  /** When it ends; null for when it is lifted. */
  until: number | null;
  /** Why; empty for no reason given. */
  reason: string;
  /** Who banned (an operator's name, or `console`). */
  by: string;
  /** When. */
  at: number;
}

/** A mute: the member's lines reach nobody until it ends. */
export interface Mute {
  /** The name as given. */
  name: string;
  /** When it ends; null for when it is lifted. */
  until: number | null;
  /** Who muted. */
  by: string;
  /** When. */
  at: number;
}

/** A private message kept for a registered name while it was away. */
export interface OfflineMessage {
  /** The sender's name. */
  from: string;
  /** When it was sent. */
  time: number;
  /** The text. */
  text: string;
}

/** What was kept for a name, taken at its login. */
export interface Inbox {
  /** The messages, oldest first. */
  messages: OfflineMessage[];
  /** How many older ones were dropped to keep to the limit. */
  dropped: number;
}

/** What keeping a message came to. */
export type KeepResult = "kept" | "notRegistered";

/** What adding to an ignore list came to. */
export type IgnoreResult = "ok" | "already" | "full" | "notRegistered";

/** What changed (see the module's "Changes"). */
export type ChangeKind =
  | "account"
  | "ban"
  | "mute"
  | "ignore"
  | "inbox"
  | "all";

/** Called with each change, on every node. */
export type ChangeListener = (kind: ChangeKind, key: string) => void;

/** Messages kept per registered name; older ones are dropped. */
export const INBOX_LIMIT = 100;

/** Names on one member's ignore list. */
export const IGNORE_LIMIT = 500;

/**
 * The store cannot be opened, reached or written. Its message is one line
 * that names the place (a directory, a Redis URL without its password)
 * and the cause, for the console: at start, the server prints it and
 * exits with status 2.
 */
export class StoreError extends Error {
  /** Wraps a one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
  }
}

/** The key of a ban's target, as the `ban` change gives it. */
export function banKey(target: BanTarget): string {
  return target.kind === "name"
    ? `name:${nameKey(target.name)}`
    : `address:${target.network}`;
}

/**
 * Registered names, operators, bans, mutes, kept messages, ignore lists
 * and last-seen times, shared by every node that opens the same store.
 */
export interface AccountStore extends AsyncDisposable {
  /** Where it is kept, for the console: a path, or a Redis URL (no password). */
  readonly location: string;

  /** The account of `name` (any case), if registered. */
  account(name: string): Promise<Account | undefined>;
  /**
   * Registers `name`; false (and nothing changed) if it is registered
   * already.
   */
  register(
    name: string,
    hash: Secret,
    options?: { operator?: boolean; created?: number },
  ): Promise<boolean>;
  /** Replaces the password hash; false if `name` is not registered. */
  setHash(name: string, hash: Secret): Promise<boolean>;
  /**
   * Gives the name up: the account, its kept messages and its ignore list
   * go; bans and mutes of the name stay. False if it was not registered.
   */
  unregister(name: string): Promise<boolean>;
  /** Makes `name` an operator or not; false if it is not registered. */
  setOperator(name: string, operator: boolean): Promise<boolean>;
  /** The accounts that are operators, sorted by key. */
  operators(): Promise<Account[]>;
  /** Records when the member of a registered name left; ignored otherwise. */
  setLastSeen(name: string, time: number): Promise<void>;

  /** Bans a name or a network, replacing its earlier ban. */
  ban(ban: Ban): Promise<void>;
  /** Lifts a ban; the ban lifted, or undefined if there was none in force. */
  unban(target: BanTarget): Promise<Ban | undefined>;
  /** The ban of a target in force now, if any. */
  banOf(target: BanTarget): Promise<Ban | undefined>;
  /** Every ban in force now (ended ones are removed on the way). */
  bans(): Promise<Ban[]>;

  /** Mutes a name, replacing its earlier mute. */
  mute(mute: Mute): Promise<void>;
  /** Lifts a mute; false if there was none in force. */
  unmute(name: string): Promise<boolean>;
  /** The mute of a name in force now, if any. */
  muteOf(name: string): Promise<Mute | undefined>;
  /** Every mute in force now (ended ones are removed on the way). */
  mutes(): Promise<Mute[]>;

  /**
   * Keeps a private message for a registered name, dropping its oldest
   * beyond {@linkcode INBOX_LIMIT} (counted for the next `takeInbox`).
   */
  keepMessage(to: string, message: OfflineMessage): Promise<KeepResult>;
  /** Takes (and removes) what was kept for `name`. */
  takeInbox(name: string): Promise<Inbox>;

  /** Adds `name` to the ignore list of the registered name `owner`. */
  ignore(owner: string, name: string): Promise<IgnoreResult>;
  /** Removes `name` from `owner`'s list; false if it was not on it. */
  unignore(owner: string, name: string): Promise<boolean>;
  /** The names `owner` ignores, as given, sorted by key. */
  ignored(owner: string): Promise<string[]>;

  /**
   * Calls `listener` with each change, made here or on another node;
   * returns the function that stops it.
   */
  onChange(listener: ChangeListener): () => void;
  /** Closes the store; harmless to repeat. */
  close(): Promise<void>;
}

/** The listeners of a store's changes; a listener that throws is reported. */
export class ChangeListeners {
  #listeners = new Set<ChangeListener>();

  /** Adds a listener; returns the function that removes it. */
  add(listener: ChangeListener): () => void {
    // A wrapper, so that the same function added twice is called twice.
    const entry: ChangeListener = (kind, key) => listener(kind, key);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Tells every listener. */
  emit(kind: ChangeKind, key: string): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(kind, key);
      } catch (error) {
        reportError(error);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#listeners.clear();
  }
}

/** Whether a ban or mute is in force at `now`. */
export function inForce(entry: { until: number | null }, now: number): boolean {
  return entry.until === null || entry.until > now;
}
