/**
 * The chat's line protocol: cleaning a received line and parsing it into a
 * command, and the table of commands that `/help` is generated from.
 *
 * Knows nothing of sockets or the registry.
 *
 * @module
 */

import { parseDuration } from "../../room/durations.ts";
import type { ModerationAction } from "../../room/moderation.ts";

/** What a registered client's line asks for. */
export type Command =
  | { kind: "empty" }
  | { kind: "exit"; message: string }
  | { kind: "who"; room: string | null }
  | { kind: "help" }
  | { kind: "unknown"; word: string }
  | { kind: "private"; target: string; text: string }
  | { kind: "privateUsage" }
  | { kind: "action"; text: string }
  | { kind: "actionUsage" }
  | { kind: "nick"; name: string }
  | { kind: "nickUsage" }
  | { kind: "say"; text: string }
  | { kind: "roomSay"; room: string; text: string }
  | { kind: "join"; room: string }
  | { kind: "part"; room: string | null; reason: string }
  | { kind: "rooms" }
  | { kind: "topic"; text: string | null }
  | { kind: "op"; name: string; op: boolean }
  | { kind: "kick"; name: string; reason: string }
  | { kind: "topicLock"; locked: boolean }
  | { kind: "register"; password: string }
  | { kind: "password"; old: string; password: string }
  | { kind: "unregister"; password: string }
  | { kind: "moderate"; action: ModerationAction }
  | { kind: "ignore"; name: string | null; on: boolean }
  | {
    kind: "usage";
    command: UsageCommand;
  };

/** The commands whose usage line a member may need. */
export type UsageCommand =
  | "join"
  | "op"
  | "deop"
  | "kick"
  | "topiclock"
  | "register"
  | "password"
  | "unregister"
  | "disconnect"
  | "ban"
  | "unban"
  | "mute"
  | "unmute";

/** One row of the command table. */
export interface CommandInfo {
  /** How it is typed, as shown by `/help`. */
  usage: string;
  /** What it does, as shown by `/help`. */
  summary: string;
  /** The command it parses to. */
  kind: Command["kind"];
}

/** Every command a registered client can use; `/help` lists them in order. */
export const COMMANDS: readonly CommandInfo[] = [
  { usage: "<message>", summary: "send to your current room", kind: "say" },
  {
    usage: "@<client_name> <message>",
    summary: "send to one person only",
    kind: "private",
  },
  {
    usage: "/msg <client_name> <message>",
    summary: "the same as @<client_name>",
    kind: "private",
  },
  { usage: "/me <action>", summary: "say what you are doing", kind: "action" },
  { usage: "/nick <new_name>", summary: "change your name", kind: "nick" },
  { usage: "/who [#room]", summary: "list who is in a room", kind: "who" },
  {
    usage: "/join #room",
    summary: "join a room, or switch to it",
    kind: "join",
  },
  {
    usage: "/part [#room] [reason]",
    summary: "leave a room (the current one)",
    kind: "part",
  },
  { usage: "/rooms", summary: "list the rooms", kind: "rooms" },
  {
    usage: "/msg #room <message>",
    summary: "say something in another room you are in",
    kind: "roomSay",
  },
  { usage: "/topic [text]", summary: "show or set the topic", kind: "topic" },
  {
    usage: "/op, /deop <client_name>",
    summary: "make or unmake a room operator",
    kind: "op",
  },
  {
    usage: "/kick <client_name> [reason]",
    summary: "put someone out of the room",
    kind: "kick",
  },
  {
    usage: "/topiclock on|off",
    summary: "only operators set the topic",
    kind: "topicLock",
  },
  {
    usage: "/register <password>",
    summary: "register your name",
    kind: "register",
  },
  {
    usage: "/password <old> <new>",
    summary: "change your name's password",
    kind: "password",
  },
  {
    usage: "/unregister <password>",
    summary: "give your name up",
    kind: "unregister",
  },
  {
    usage: "/ignore, /unignore <client_name>",
    summary: "hide or show someone's lines to you (/ignore lists)",
    kind: "ignore",
  },
  {
    usage: "/ban, /unban <client_name>",
    summary: "operators: keep a name or an address out (/bans lists)",
    kind: "moderate",
  },
  {
    usage: "/mute, /unmute, /disconnect <client_name>",
    summary: "operators: silence or remove someone",
    kind: "moderate",
  },
  { usage: "/help", summary: "show this list", kind: "help" },
  { usage: "exit, /quit, /exit", summary: "leave the chat", kind: "exit" },
];

/** The lines `/help` answers with, generated from {@linkcode COMMANDS}. */
export const HELP_LINES: readonly string[] = (() => {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
  ];
})();

const SLASH_COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ["/help", { kind: "help" }],
  ["/rooms", { kind: "rooms" }],
  ["/exit", { kind: "exit", message: "" }],
]);

const EXIT: Command = { kind: "exit", message: "" };
const EMPTY: Command = { kind: "empty" };
const PRIVATE_USAGE: Command = { kind: "privateUsage" };
const ACTION_USAGE: Command = { kind: "actionUsage" };
const NICK_USAGE: Command = { kind: "nickUsage" };
const WHITESPACE = /\s/;

/** Whether a trimmed line means leaving: `exit` (any case), `/quit`, `/exit`. */
export function isExitWord(trimmed: string): boolean {
  if (trimmed.length !== 4 && trimmed.length !== 5) return false;
  const lower = trimmed.toLowerCase();
  return lower === "exit" || lower === "/quit" || lower === "/exit";
}

/** Parses a registered client's line, already cleaned of controls. */
export function parseCommand(text: string): Command {
  // Fast path for the common case: text that starts and ends with a visible
  // ASCII character other than `@` and `/` is too long to be a command word.
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  if (
    text.length > 5 && first > 0x20 && first < 0x7f && first !== 0x40 &&
    first !== 0x2f && last > 0x20 && last < 0x7f
  ) {
    return { kind: "say", text };
  }
  const trimmed = text.trim();
  if (trimmed === "") return EMPTY;
  if (isExitWord(trimmed)) return EXIT;
  if (trimmed.startsWith("@")) return parsePrivate(trimmed);
  if (trimmed.startsWith("/")) {
    const space = trimmed.search(WHITESPACE);
    const word = space === -1 ? trimmed : trimmed.slice(0, space);
    const lower = word.toLowerCase();
    const rest = space === -1 ? "" : trimmed.slice(space + 1).trimStart();
    switch (lower) {
      case "/msg":
        return rest === "" ? PRIVATE_USAGE : parsePrivate("@" + rest);
      case "/me":
        return rest === "" ? ACTION_USAGE : { kind: "action", text: rest };
      case "/nick":
        return rest === "" ? NICK_USAGE : { kind: "nick", name: rest };
      case "/quit":
        return { kind: "exit", message: rest };
      case "/who":
        return { kind: "who", room: rest === "" ? null : firstWord(rest)[0] };
      case "/join":
        return rest === ""
          ? { kind: "usage", command: "join" }
          : { kind: "join", room: firstWord(rest)[0] };
      case "/part": {
        if (!rest.startsWith("#")) {
          return { kind: "part", room: null, reason: rest };
        }
        const [room, reason] = firstWord(rest);
        return { kind: "part", room, reason };
      }
      case "/topic":
        return { kind: "topic", text: rest === "" ? null : rest };
      case "/op":
      case "/deop":
        return rest === ""
          ? { kind: "usage", command: lower === "/op" ? "op" : "deop" }
          : { kind: "op", name: firstWord(rest)[0], op: lower === "/op" };
      case "/kick": {
        if (rest === "") return { kind: "usage", command: "kick" };
        const [name, reason] = firstWord(rest);
        return { kind: "kick", name, reason };
      }
      case "/ignore":
      case "/unignore":
        return {
          kind: "ignore",
          name: rest === "" ? null : firstWord(rest)[0],
          on: lower === "/ignore",
        };
      case "/register":
        return rest === ""
          ? { kind: "usage", command: "register" }
          : { kind: "register", password: rest };
      case "/unregister":
        return rest === ""
          ? { kind: "usage", command: "unregister" }
          : { kind: "unregister", password: rest };
      case "/password": {
        const [old, password] = firstWord(rest);
        return old === "" || password === ""
          ? { kind: "usage", command: "password" }
          : { kind: "password", old, password };
      }
      case "/disconnect":
      case "/ban":
      case "/unban":
      case "/bans":
      case "/mute":
      case "/unmute":
        return parseModeration(lower.slice(1), rest);
      case "/topiclock": {
        const value = rest.toLowerCase();
        return value === "on" || value === "off"
          ? { kind: "topicLock", locked: value === "on" }
          : { kind: "usage", command: "topiclock" };
      }
    }
    return SLASH_COMMANDS.get(lower) ?? { kind: "unknown", word };
  }
  return { kind: "say", text };
}

function parsePrivate(trimmed: string): Command {
  const space = firstSpace(trimmed);
  if (space === -1) return PRIVATE_USAGE;
  const target = trimmed.slice(1, space);
  const message = trimmed.slice(space + 1).trimStart();
  if (target === "" || message === "") return PRIVATE_USAGE;
  // `/msg #room text` says something in a room; names never start with `#`.
  if (target.startsWith("#")) {
    return { kind: "roomSay", room: target, text: message };
  }
  return { kind: "private", target, text: message };
}

// Where `text` has its first white space (as `\s` has it), or -1: a loop
// rather than a regular expression, for every private message.
function firstSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0x20 || (unit >= 0x09 && unit <= 0x0d)) return i;
    if (unit >= 0x80 && WHITESPACE.test(text[i])) return i;
  }
  return -1;
}

// An operator's command: `/ban TARGET [DURATION] [reason]` and the rest.
function parseModeration(word: string, rest: string): Command {
  if (word === "bans") return { kind: "moderate", action: { kind: "bans" } };
  const [target, more] = firstWord(rest);
  if (target === "") {
    return { kind: "usage", command: word as UsageCommand };
  }
  const [first, after] = firstWord(more);
  const duration = first === "" ? null : parseDuration(first);
  switch (word) {
    case "disconnect":
      return {
        kind: "moderate",
        action: { kind: "disconnect", name: target, reason: more },
      };
    case "ban":
      return {
        kind: "moderate",
        action: {
          kind: "ban",
          target,
          durationMs: duration,
          reason: duration === null ? more : after,
        },
      };
    case "unban":
      return { kind: "moderate", action: { kind: "unban", target } };
    case "mute":
      return {
        kind: "moderate",
        action: { kind: "mute", name: target, durationMs: duration },
      };
    default:
      return { kind: "moderate", action: { kind: "unmute", name: target } };
  }
}

// The first word of `text` and the rest, trimmed.
function firstWord(text: string): [string, string] {
  const space = text.search(WHITESPACE);
  if (space === -1) return [text, ""];
  return [text.slice(0, space), text.slice(space + 1).trim()];
}
