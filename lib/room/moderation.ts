/**
 * What a member does with its account and what server operators do to
 * others, from any door: register, change the password, give the name up;
 * disconnect, ban, unban, list the bans, mute, unmute. Each answers with
 * an {@linkcode AccountNotice} for the language to word.
 *
 * @module
 */

import type { Ban } from "../engine/accounts.ts";
import {
  MAX_PASSWORD_BYTES,
  MIN_PASSWORD_LENGTH,
} from "../engine/passwords.ts";
import { type AccountOutcome, type Accounts, banTarget } from "./accounts.ts";
import { formatStamp, formatUntil } from "./durations.ts";
import { logText } from "./texts.ts";
import type { AccountNotice } from "./events.ts";
import { parseNetwork } from "./addresses.ts";

/** What an operator asks for. */
export type ModerationAction =
  | { kind: "disconnect"; name: string; reason: string }
  | { kind: "ban"; target: string; durationMs: number | null; reason: string }
  | { kind: "unban"; target: string }
  | { kind: "bans" }
  | { kind: "mute"; name: string; durationMs: number | null }
  | { kind: "unmute"; name: string };

/** What moderation needs of the room. */
export interface ModerationRoom {
  /** Disconnects a member wherever it is; false if no one holds the name. */
  disconnect(name: string, reason: string): Promise<boolean>;
  /** Wall clock. */
  clock(): number;
}

/** The notice for an account operation's outcome. */
export function accountNotice(
  outcome: AccountOutcome,
  name: string,
  done: AccountNotice,
): AccountNotice {
  switch (outcome) {
    case "ok":
      return done;
    case "tooShort":
      return { kind: "passwordTooShort", minimum: MIN_PASSWORD_LENGTH };
    case "tooLong":
      return { kind: "passwordTooLong", maximum: MAX_PASSWORD_BYTES };
    case "wrong":
      return { kind: "wrongOldPassword" };
    case "notRegistered":
      return { kind: "notRegistered", name };
    case "already":
      return { kind: "alreadyRegistered", name };
    case "operatorName":
      return { kind: "operatorName", name };
    case "unavailable":
      return { kind: "unavailable" };
  }
}

/**
 * Carries out an operator's action (`by` is the operator's name, or
 * `console`); the notice to answer with.
 */
export async function moderate(
  accounts: Accounts,
  room: ModerationRoom,
  by: string,
  action: ModerationAction,
): Promise<AccountNotice> {
  const now = room.clock();
  const until = (ms: number | null) => ms === null ? null : now + ms;
  try {
    switch (action.kind) {
      case "disconnect": {
        const found = await room.disconnect(action.name, action.reason);
        if (found) {
          accounts.record(
            logText.disconnectedBy(by, action.name, action.reason),
          );
        }
        return done(
          found
            ? `${action.name} was disconnected.`
            : `No one called "${action.name}" is online.`,
        );
      }
      case "ban": {
        const target = banTarget(action.target);
        const ban: Ban = {
          target,
          until: until(action.durationMs),
          reason: action.reason,
          by,
          at: now,
        };
        await accounts.ban(ban);
        accounts.record(logText.banned(
          by,
          action.target,
          ban.until === null ? null : formatStamp(ban.until),
          ban.reason,
        ));
        return done(`Banned ${describe(ban, now)}.`);
      }
      case "unban": {
        const lifted = await accounts.unban(banTarget(action.target));
        if (lifted !== undefined) {
          accounts.record(logText.unbanned(by, action.target));
        }
        return done(
          lifted === undefined
            ? `${action.target} is not banned.`
            : `${action.target} is no longer banned.`,
        );
      }
      case "bans": {
        const bans = await accounts.bans();
        return done(
          bans.length === 0
            ? "No bans."
            : [`Bans (${bans.length}):`, ...bans.map((b) => describe(b, now))]
              .join("\n"),
        );
      }
      case "mute": {
        const ends = until(action.durationMs);
        await accounts.mute({ name: action.name, until: ends, by, at: now });
        accounts.record(logText.muted(
          by,
          action.name,
          ends === null ? null : formatStamp(ends),
        ));
        return done(
          action.durationMs === null
            ? `${action.name} is muted.`
            : `${action.name} is muted until ${
              formatUntil(now + action.durationMs, now)
            }.`,
        );
      }
      case "unmute": {
        const lifted = await accounts.unmute(action.name);
        if (lifted) accounts.record(logText.unmuted(by, action.name));
        return done(
          lifted
            ? `${action.name} is no longer muted.`
            : `${action.name} is not muted.`,
        );
      }
    }
  } catch {
    return { kind: "unavailable" };
  }
}

/** Whether `text` names an address (or network) rather than a name. */
export function isAddressTarget(text: string): boolean {
  return parseNetwork(text) !== null;
}

function describe(ban: Ban, now: number): string {
  const what = ban.target.kind === "name"
    ? ban.target.name
    : ban.target.network;
  const end = ban.until === null
    ? "until lifted"
    : `until ${formatUntil(ban.until, now)}`;
  return `${what} ${end}, by ${ban.by}${
    ban.reason === "" ? "" : ` (${ban.reason})`
  }`;
}

function done(text: string): AccountNotice {
  return { kind: "done", text };
}
