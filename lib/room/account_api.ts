/**
 * The account part of the session API (`session_api.ts`): logging in to a
 * registered name (taking it over from an older connection), registering,
 * operators' moderation, kept private messages and mutes. The room mixes
 * it into each session's API; without an account store every name is
 * unregistered and only the console moderates.
 *
 * @module
 */

import type { ClaimResult, RoomEngine } from "../engine/engine.ts";
import type { Accounts, LoginOutcome } from "./accounts.ts";
import { formatStamp, formatUntil } from "./durations.ts";
import type { Ban } from "../engine/accounts.ts";
import type { AccountNotice, HistoryEntry, RoomEvent } from "./events.ts";
import type { Membership } from "./membership.ts";
import {
  accountNotice,
  moderate,
  type ModerationAction,
  type ModerationRoom,
} from "./moderation.ts";
import type { EndReason } from "./reasons.ts";
import { checkName, nameKey, normalizeName } from "./registry.ts";
import { roomKey } from "./room_names.ts";
import type { Session } from "./session.ts";
import { accountText } from "./texts.ts";
import { ignores } from "./privates.ts";
import { IGNORE_LIMIT, INBOX_LIMIT } from "../engine/accounts.ts";

/** The account operations of one session. */
export interface AccountApi {
  /** Whether names can be registered here (an account store is open). */
  readonly accountsKept: boolean;
  /** Whether `name` is registered. */
  isRegistered(name: string): Promise<boolean>;
  /** Whether `name` is an `--operator` name no one registered yet. */
  reservedForOperator(name: string): boolean;
  /** Checks the password of a registered name, limited per address. */
  login(name: string, password: string): Promise<LoginOutcome>;
  /**
   * After a login: holds the name, taking it from an older connection on
   * this node or another (which is closed with "logged in from
   * elsewhere"); `unavailable` when the holder's node cannot be reached.
   */
  takeOver(name: string): Promise<ClaimResult>;
  /** Whether this session logged in to a registered name. */
  readonly loggedIn: boolean;
  /** Registers the name held. */
  register(password: string): Promise<AccountNotice>;
  /** Changes the password of the name held. */
  changePassword(old: string, password: string): Promise<AccountNotice>;
  /** Gives up the registration of the name held. */
  unregister(password: string): Promise<AccountNotice>;
  /** Whether the name held is a server operator, logged in. */
  readonly isServerOperator: boolean;
  /** An operator's action; refused for others. */
  moderate(action: ModerationAction): Promise<AccountNotice>;
  /**
   * The bans in force, for a server operator (IRC's `MODE #chan b`);
   * none for others, or when the store cannot be reached.
   */
  banList(): Promise<readonly Ban[]>;
  /**
   * Why this member may not say anything now (a mute), or null; `to`, a
   * private message's target (an operator hears the muted).
   */
  muted(to?: string): AccountNotice | null;
  /** Keeps a private message for a registered name that is away. */
  keepForOffline(target: string, text: string): Promise<boolean>;
  /**
   * `/ignore NAME` (`on`), `/unignore NAME`, or with `name` null the list:
   * one's own filter of a member's public and private lines, kept with a
   * registered name logged in to, for this session otherwise.
   */
  ignore(name: string | null, on: boolean): Promise<AccountNotice>;
  /**
   * What a registered member back missed of a room's `history` (what was
   * said since it left, at most {@linkcode SINCE_LEFT_LIMIT} lines), the
   * first time it joins that room after its login; null otherwise.
   */
  missed(room: string, history: readonly HistoryEntry[]): HistoryEntry[] | null;
}

/** The account API with what the room's side of a session reads. */
export interface SessionAccounts extends AccountApi {
  /**
   * When the registered name logged in to last left the chat, the first
   * time it is asked for `room` after the login; null after that, when
   * not logged in, or when it never left.
   */
  sinceFor(room: string): number | null;
}

/** What the account API needs of the room. */
export interface AccountApiRoom extends ModerationRoom {
  /** The account store's view, or null without one. */
  accounts: Accounts | null;
  /** Members and rooms. */
  members: Membership;
  /** The shared state: who holds a name on another node. */
  engine: RoomEngine;
  /** Ends a session after a notice. */
  end(session: Session, reason: EndReason, notice: RoomEvent): void;
}

const WAIT_FOR_GHOST_MS = 3000;
const GHOST_POLL_MS = 20;
// A ghost on a node that died: longer than the Redis engine's default
// lease (10 s) and the sweep after it; a try is a round trip to Redis.
const WAIT_FOR_DEAD_NODE_MS = 15_000;
const DEAD_NODE_POLL_MS = 250;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The account operations of `session` in `room`. */
export function accountApi(
  session: Session,
  room: AccountApiRoom,
): SessionAccounts {
  const accounts = room.accounts;
  const members = room.members;
  const held = () => session.name ?? "";
  const source = session.conn.ip;
  let lastSeen: number | null = null;
  // The rooms (by key) whose missed lines were replayed since the login.
  const replayed = new Set<string>();
  const sinceFor = (name: string): number | null => {
    const key = roomKey(name);
    if (!session.loggedIn || lastSeen === null || replayed.has(key)) {
      return null;
    }
    replayed.add(key);
    return lastSeen;
  };
  return {
    sinceFor,
    missed(name, history) {
      const since = sinceFor(name);
      return since === null ? null : sinceLeft(history, since);
    },
    accountsKept: accounts !== null,
    get loggedIn() {
      return session.loggedIn;
    },
    get isServerOperator() {
      return session.loggedIn && session.name !== null &&
        (accounts?.isOperator(session.name) ?? false);
    },
    async isRegistered(name) {
      if (accounts === null) return false;
      try {
        return (await accounts.account(name)) !== undefined;
      } catch {
        return false;
      }
    },
    reservedForOperator: (name) => accounts?.reservedForOperator(name) ?? false,
    async login(name, password) {
      if (accounts === null) return { kind: "wrong" };
      const outcome = await accounts.login(name, password, source);
      if (outcome.kind === "ok") {
        session.loggedIn = true;
        lastSeen = outcome.lastSeen;
        replayed.clear();
      }
      return outcome;
    },
    async takeOver(name) {
      // A banned name is not had by logging in to it either.
      const ban = accounts?.banOf(name, null);
      if (ban !== undefined) {
        room.end(session, "banned", bannedNotice(ban));
        return "taken";
      }
      const older = members.localSession(name);
      if (older !== undefined && older !== session) {
        const rooms = [...older.rooms.values()];
        room.end(older, "ghosted", {
          type: "accountNotice",
          notice: { kind: "loggedInElsewhere" },
        });
        session.adopted = rooms;
        const until = room.clock() + WAIT_FOR_GHOST_MS;
        while (members.find(name) !== undefined && room.clock() < until) {
          await delay(GHOST_POLL_MS);
        }
        return await members.claimName(session, name);
      }
      const first = await members.claimName(session, name);
      const normal = normalizeName(name);
      if (first !== "taken" || older === session || normal === null) {
        return first;
      }
      // Held on another node (which this one may not know of: a node
      // with no members does not follow the others). Its node ends the
      // holder as this one would; a node that died frees its names when
      // its lease ends. Meanwhile each try asks the engine itself.
      const holder = room.engine.find(name);
      const kicked = await room.engine.kick({ name, reason: "", ghost: true });
      if (kicked.kind === "sent" && holder?.present === true) {
        session.adopted = [...(holder.rooms ?? [])];
      }
      const gone = kicked.kind === "sent";
      const until = room.clock() +
        (gone ? WAIT_FOR_GHOST_MS : WAIT_FOR_DEAD_NODE_MS);
      while (room.clock() < until && session.ending === null) {
        await delay(gone ? GHOST_POLL_MS : DEAD_NODE_POLL_MS);
        const claimed = await members.claim(session, normal);
        if (claimed !== "taken") return claimed;
      }
      session.adopted = null;
      return "taken";
    },
    async register(password) {
      if (accounts === null) return { kind: "unavailable" };
      const name = held();
      const outcome = await accounts.register(name, password);
      if (outcome === "ok") session.loggedIn = true;
      return accountNotice(outcome, name, { kind: "registered", name });
    },
    async changePassword(old, password) {
      if (accounts === null) return { kind: "unavailable" };
      const name = held();
      const outcome = await accounts.changePassword(name, old, password);
      return accountNotice(outcome, name, { kind: "passwordChanged", name });
    },
    async unregister(password) {
      if (accounts === null) return { kind: "unavailable" };
      const name = held();
      const outcome = await accounts.unregister(name, password);
      if (outcome === "ok") session.loggedIn = false;
      return accountNotice(outcome, name, { kind: "unregistered", name });
    },
    moderate(action) {
      if (accounts === null || !this.isServerOperator) {
        return Promise.resolve({ kind: "onlyOperators" });
      }
      return moderate(accounts, room, held(), action);
    },
    async banList() {
      if (accounts === null || !this.isServerOperator) return [];
      try {
        return await accounts.bans();
      } catch {
        return [];
      }
    },
    muted(to) {
      const name = session.name;
      if (accounts === null || name === null) return null;
      const mute = accounts.muteOf(name);
      if (mute === undefined) return null;
      if (to !== undefined && accounts.isOperator(to)) return null;
      const now = room.clock();
      return {
        kind: "muted",
        until: mute.until === null ? null : formatUntil(mute.until, now),
      };
    },
    ignore: (name, on) => ignore(session, accounts, name, on),
    async keepForOffline(target, text) {
      if (accounts === null) return false;
      try {
        const kept = await accounts.keep(target, {
          from: held(),
          time: room.clock(),
          text,
        });
        return kept === "kept";
      } catch {
        return false;
      }
    },
  };
}

// `/ignore` and `/unignore` (see AccountApi.ignore).
async function ignore(
  session: Session,
  accounts: Accounts | null,
  wanted: string | null,
  on: boolean,
): Promise<AccountNotice> {
  const own = session.name ?? "";
  const kept = accounts !== null && session.loggedIn;
  const list = session.ignoring;
  if (wanted === null) {
    return done(
      on
        ? accountText.ignoreList([...(list?.values() ?? [])])
        : accountText.unignoreUsage,
    );
  }
  const { name, refusal } = checkName(wanted);
  if (refusal !== null) return done(accountText.ignoreInvalid(name));
  const key = nameKey(name);
  if (key === nameKey(own)) return done(accountText.ignoreSelf);
  if (on && list?.has(key)) return done(accountText.alreadyIgnoring(name));
  if (!on && !list?.has(key)) return done(accountText.notIgnoring(name));
  if (on && !kept && (list?.size ?? 0) >= IGNORE_LIMIT) {
    return done(accountText.ignoreFull(IGNORE_LIMIT));
  }
  if (kept) {
    let result;
    try {
      result = await accounts.ignore(own, name, on);
    } catch {
      return { kind: "unavailable" };
    }
    if (result === "full") return done(accountText.ignoreFull(IGNORE_LIMIT));
  }
  if (on) {
    session.ignoring ??= new Map();
    session.ignoring.set(key, name);
    return done(accountText.ignoring(name, kept));
  }
  session.ignoring?.delete(key);
  if (session.ignoring?.size === 0) session.ignoring = null;
  return done(accountText.unignored(name));
}

function done(text: string): AccountNotice {
  return { kind: "done", text };
}

/**
 * At a registered member's login: its ignore list, then what was kept for
 * it while it was away (but from whom it ignores).
 */
export async function welcomeBack(
  session: Session,
  accounts: Accounts,
): Promise<void> {
  const name = session.name;
  if (name === null) return;
  try {
    const names = await accounts.ignored(name);
    if (names.length > 0) {
      session.ignoring ??= new Map();
      for (const ignored of names) {
        session.ignoring.set(nameKey(ignored), ignored);
      }
    }
  } catch {
    // Without its list for now: the store will be there next time.
  }
  await deliverInbox(session, accounts);
}

/** The most lines "since you left" replays (issue 20). */
export const SINCE_LEFT_LIMIT = 200;

/**
 * What a registered member missed of a room's history: its entries newer
 * than `since`, the last {@linkcode SINCE_LEFT_LIMIT} of them. The history
 * holds `--history` lines, so that is as far back as it goes.
 */
export function sinceLeft(
  history: readonly HistoryEntry[],
  since: number,
): HistoryEntry[] {
  const missed = history.filter((entry) => entry.time > since);
  return missed.slice(-SINCE_LEFT_LIMIT);
}

/** Sends a registered member what was kept for it while it was away. */
export async function deliverInbox(
  session: Session,
  accounts: Accounts,
): Promise<void> {
  const name = session.name;
  if (name === null) return;
  let inbox;
  try {
    inbox = await accounts.takeInbox(name);
  } catch {
    return;
  }
  if (inbox.dropped > 0) {
    session.send({
      type: "accountNotice",
      notice: {
        kind: "offlineDropped",
        count: inbox.dropped,
        limit: INBOX_LIMIT,
      },
    });
  }
  for (const message of inbox.messages) {
    if (ignores(session, message.from)) continue;
    session.send({
      type: "accountNotice",
      notice: {
        kind: "offlineMessage",
        from: message.from,
        stamp: formatStamp(message.time),
        text: message.text,
      },
    });
  }
}

/** The notice a banned member gets before it is closed. */
export function bannedNotice(ban: Ban): RoomEvent {
  return {
    type: "accountNotice",
    notice: {
      kind: "banned",
      until: ban.until === null ? null : formatStamp(ban.until),
      reason: ban.reason,
    },
  };
}
