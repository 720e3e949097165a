/**
 * Registered names, operators and moderation, as the room uses them: logins
 * checked against slow hashes and limited per name and address, bans and
 * mutes answered at once from a copy kept in step with the store (on every
 * node, through its changes), operators from `--operator` and the store.
 *
 * The store (`lib/engine/accounts.ts`) keeps everything; this module holds
 * no socket and builds no bytes.
 *
 * @module
 */

import type {
  Account,
  AccountStore,
  Ban,
  BanTarget,
  IgnoreResult,
  Inbox,
  KeepResult,
  Mute,
  OfflineMessage,
} from "../engine/accounts.ts";
import { banKey, inForce } from "../engine/accounts.ts";
import { PasswordHasher, passwordProblem } from "../engine/passwords.ts";
import { LoginLimiter } from "../engine/login_limiter.ts";
import { Secret } from "../engine/secret.ts";
import { formatNetwork, parseNetwork, sourceKey } from "./addresses.ts";
import { BanList } from "./ban_list.ts";
import { nameKey } from "./registry.ts";

/**
 * What a login came to; a login that went through tells when the name's
 * member last left (null before the first time).
 */
export type LoginOutcome =
  | { kind: "ok"; lastSeen: number | null }
  | { kind: "wrong" }
  | { kind: "wait"; ms: number }
  | { kind: "locked"; until: number }
  | { kind: "unavailable" };

/** What registering, or changing a password, came to. */
export type AccountOutcome =
  | "ok"
  | "tooShort"
  | "tooLong"
  | "wrong"
  | "notRegistered"
  | "already"
  | "operatorName"
  | "unavailable";

/** Options of {@linkcode Accounts}. */
export interface AccountsOptions {
  /** Where accounts, bans and the rest are kept. */
  store: AccountStore;
  /** The names given with `--operator`. */
  operators?: readonly string[];
  /** Wall clock, ms since the epoch. */
  clock?: () => number;
  /** Hashes passwords; a default one when left out. */
  hasher?: PasswordHasher;
  /** Limits wrong passwords; a default one when left out. */
  limiter?: LoginLimiter;
}

/** The room's view of the account store. */
export class Accounts {
  #store: AccountStore;
  #clock: () => number;
  #hasher: PasswordHasher;
  #limiter: LoginLimiter;
  // `--operator` names, by key.
  #flagged: Set<string>;
  // Copies of what must be answered at once, by key.
  #operators = new Set<string>();
  #bans: BanList;
  // The bans told of so far (by `banKey`), and whether to tell new ones:
  // not those found at start.
  #banKeys = new Set<string>();
  #telling = false;
  #mutes = new Map<string, Mute>();
  #stop: (() => void) | null = null;
  #stopBans: (() => void) | null = null;
  /** Called when a ban came in force (here or on another node). */
  onBan: (ban: Ban) => void = () => {};
  /** Writes a line to the chat log: who banned, muted or disconnected whom. */
  record: (line: string) => void = () => {};

  /** Accounts kept in `options.store`. */
  constructor(options: AccountsOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? Date.now;
    this.#hasher = options.hasher ?? new PasswordHasher();
    this.#limiter = options.limiter ??
      new LoginLimiter({ now: this.#clock });
    this.#flagged = new Set((options.operators ?? []).map(nameKey));
    this.#bans = new BanList(this.#store, {
      now: this.#clock,
      onLoad: (bans) => this.#loaded(bans),
    });
  }

  /** Where they are kept, for the console. */
  get location(): string {
    return this.#store.location;
  }

  /**
   * Loads the copies and follows the store's changes; the `--operator`
   * names registered already become operators.
   */
  async start(): Promise<void> {
    this.#stop = this.#store.onChange((kind) => {
      if (kind === "mute" || kind === "all") this.#loadMutes();
      if (kind === "account" || kind === "all") this.#loadOperators();
    });
    for (const key of this.#flagged) {
      const account = await this.#store.account(key);
      if (account !== undefined && !account.operator) {
        await this.#store.setOperator(key, true);
      }
    }
    this.#stopBans = this.#bans.follow();
    await Promise.all([
      this.#bans.load(),
      this.#loadMutes(),
      this.#loadOperators(),
    ]);
    this.#telling = true;
  }

  /** Stops following the store and closes it. */
  async close(): Promise<void> {
    this.#stop?.();
    this.#stopBans?.();
    await this.#store.close();
  }

  /** Whether `name` is an `--operator` name no one registered yet. */
  reservedForOperator(name: string): boolean {
    const key = nameKey(name);
    return this.#flagged.has(key) && !this.#operators.has(key);
  }

  /** Whether `name` is a server operator (it acts once logged in). */
  isOperator(name: string): boolean {
    return this.#operators.has(nameKey(name));
  }

  /** The account of `name`, if registered. */
  account(name: string): Promise<Account | undefined> {
    return this.#store.account(name);
  }

  /**
   * Checks `password` for the registered `name`, limited per name and
   * `source` (the peer's IP address: an IPv6 one counts as its /64).
   */
  async login(
    name: string,
    password: string,
    source: string,
  ): Promise<LoginOutcome> {
    const verdict = this.#limiter.begin(name, sourceKey(source));
    if (verdict.kind === "wait") return verdict;
    if (verdict.kind === "locked") return verdict;
    const attempt = verdict.attempt;
    try {
      const account = await this.#store.account(name);
      if (account === undefined) {
        attempt.abandoned();
        return { kind: "wrong" };
      }
      const given = new Secret(password);
      if (!(await this.#hasher.verify(given, account.hash.reveal()))) {
        attempt.failed();
        return { kind: "wrong" };
      }
      attempt.succeeded();
      if (this.#hasher.needsRehash(account.hash.reveal())) {
        await this.#store.setHash(
          name,
          new Secret(await this.#hasher.hash(given)),
        );
      }
      return { kind: "ok", lastSeen: account.lastSeen };
    } catch {
      attempt.abandoned();
      return { kind: "unavailable" };
    }
  }

  /**
   * Registers `name` with `password`; an `--operator` name only from the
   * console (`console: true`), which makes it an operator.
   */
  async register(
    name: string,
    password: string,
    options: { console?: boolean } = {},
  ): Promise<AccountOutcome> {
    const problem = passwordProblem(new Secret(password));
    if (problem !== null) return problem;
    const flagged = this.#flagged.has(nameKey(name));
    if (flagged && options.console !== true) return "operatorName";
    try {
      const hash = new Secret(await this.#hasher.hash(new Secret(password)));
      const done = await this.#store.register(name, hash, {
        operator: flagged,
        created: this.#clock(),
      });
      return done ? "ok" : "already";
    } catch {
      return "unavailable";
    }
  }

  /**
   * Sets a new password: checked against the old one, or (`old` null) a
   * console's reset.
   */
  async changePassword(
    name: string,
    old: string | null,
    password: string,
  ): Promise<AccountOutcome> {
    const problem = passwordProblem(new Secret(password));
    if (problem !== null) return problem;
    try {
      const account = await this.#store.account(name);
      if (account === undefined) return "notRegistered";
      if (
        old !== null &&
        !(await this.#hasher.verify(new Secret(old), account.hash.reveal()))
      ) {
        return "wrong";
      }
      const hash = new Secret(await this.#hasher.hash(new Secret(password)));
      return (await this.#store.setHash(name, hash)) ? "ok" : "notRegistered";
    } catch {
      return "unavailable";
    }
  }

  /** Gives a name up: checked against its password, or (null) the console. */
  async unregister(name: string, password: string | null) {
    try {
      const account = await this.#store.account(name);
      if (account === undefined) return "notRegistered";
      if (
        password !== null &&
        !(await this.#hasher.verify(
          new Secret(password),
          account.hash.reveal(),
        ))
      ) {
        return "wrong";
      }
      return (await this.#store.unregister(name)) ? "ok" : "notRegistered";
    } catch {
      return "unavailable";
    }
  }

  /** Makes a registered name an operator, or no longer one. */
  async setOperator(name: string, operator: boolean): Promise<boolean> {
    return await this.#store.setOperator(name, operator);
  }

  /** The ban that holds `name` or the address `ip` now, if any. */
  banOf(name: string | null, ip: string | null): Ban | undefined {
    return (name === null ? undefined : this.#bans.ofName(name)) ??
      (ip === null ? undefined : this.#bans.ofAddress(ip));
  }

  /** Bans a name or an address (`ADDRESS[/PREFIX]`). */
  async ban(ban: Ban): Promise<void> {
    await this.#store.ban(ban);
  }

  /** Lifts a ban; the ban lifted, if there was one. */
  unban(target: BanTarget): Promise<Ban | undefined> {
    return this.#store.unban(target);
  }

  /** Every ban in force. */
  bans(): Promise<Ban[]> {
    return this.#store.bans();
  }

  /** The mute of `name` now, if any. */
  muteOf(name: string): Mute | undefined {
    // Asked before every private message: no key made while no one is muted.
    if (this.#mutes.size === 0) return undefined;
    const mute = this.#mutes.get(nameKey(name));
    return mute !== undefined && inForce(mute, this.#clock())
      ? mute
      : undefined;
  }

  /** Mutes a name. */
  mute(mute: Mute): Promise<void> {
    return this.#store.mute(mute);
  }

  /** Lifts a mute; false if there was none. */
  unmute(name: string): Promise<boolean> {
    return this.#store.unmute(name);
  }

  /** Keeps a private message for a registered name that is away. */
  keep(to: string, message: OfflineMessage): Promise<KeepResult> {
    return this.#store.keepMessage(to, message);
  }

  /** Takes what was kept for `name`. */
  takeInbox(name: string): Promise<Inbox> {
    return this.#store.takeInbox(name);
  }

  /** Records when a registered member left. */
  async setLastSeen(name: string, time: number): Promise<void> {
    try {
      await this.#store.setLastSeen(name, time);
    } catch {
      // Only the "since you left" history is at stake.
    }
  }

  /** Adds to (or with `on` false takes from) `owner`'s ignore list. */
  async ignore(
    owner: string,
    name: string,
    on: boolean,
  ): Promise<IgnoreResult | "notIgnored"> {
    return on
      ? await this.#store.ignore(owner, name)
      : (await this.#store.unignore(owner, name))
      ? "ok"
      : "notIgnored";
  }

  /** The names `owner` ignores. */
  ignored(owner: string): Promise<string[]> {
    return this.#store.ignored(owner);
  }

  // Each load of the bans: one not told of before is told (a network's
  // every time: whoever it now holds goes), so that it takes effect here.
  #loaded(bans: readonly Ban[]): void {
    if (this.#telling) {
      for (const ban of bans) {
        if (
          ban.target.kind === "address" ||
          !this.#banKeys.has(banKey(ban.target))
        ) {
          this.onBan(ban);
        }
      }
    }
    this.#banKeys = new Set(bans.map((ban) => banKey(ban.target)));
  }

  async #loadMutes(): Promise<void> {
    try {
      const mutes = await this.#store.mutes();
      this.#mutes = new Map(mutes.map((m) => [nameKey(m.name), m]));
    } catch {
      // Kept as it was until the store answers.
    }
  }

  async #loadOperators(): Promise<void> {
    try {
      const operators = await this.#store.operators();
      this.#operators = new Set(operators.map((a) => nameKey(a.name)));
    } catch {
      // Kept as it was until the store answers.
    }
  }
}

/** A ban target from what an operator typed: an address, or else a name. */
export function banTarget(text: string): BanTarget {
  const network = parseNetwork(text);
  return network === null
    ? { kind: "name", name: text }
    : { kind: "address", network: formatNetwork(network) };
}
