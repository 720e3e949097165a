/**
 * The chat's line protocol: cleaning a received line and parsing it into a
 * command, and the table of commands that `/help` is generated from.
 *
 * Knows nothing of sockets or the registry.
 *
 * @module
 */

/** What a registered client's line asks for. */
export type Command =
  | { kind: "empty" }
  | { kind: "exit" }
  | { kind: "who" }
  | { kind: "help" }
  | { kind: "unknown"; word: string }
  | { kind: "private"; target: string; text: string }
  | { kind: "privateUsage" }
  | { kind: "action"; text: string }
  | { kind: "actionUsage" }
  | { kind: "nick"; name: string }
  | { kind: "nickUsage" }
  | { kind: "say"; text: string };

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
  { usage: "<message>", summary: "send to everyone", kind: "say" },
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
  { usage: "/who", summary: "list who is online", kind: "who" },
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
  ["/who", { kind: "who" }],
  ["/help", { kind: "help" }],
  ["/quit", { kind: "exit" }],
  ["/exit", { kind: "exit" }],
]);

const EXIT: Command = { kind: "exit" };
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
    }
    return SLASH_COMMANDS.get(lower) ?? { kind: "unknown", word };
  }
  return { kind: "say", text };
}

function parsePrivate(trimmed: string): Command {
  const space = trimmed.search(WHITESPACE);
  if (space === -1) return PRIVATE_USAGE;
  const target = trimmed.slice(1, space);
  const message = trimmed.slice(space + 1).trimStart();
  if (target === "" || message === "") return PRIVATE_USAGE;
  return { kind: "private", target, text: message };
}
