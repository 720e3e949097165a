/**
 * What a line from the server is: a message, a private message, an action,
 * a notice about someone joining, leaving or being renamed, the answer to
 * `/who`, a history line. The client colours lines and follows who is online
 * by this; the texts are the protocol's (README "Protocol").
 *
 * @module
 */

/** A server line, sorted by what it means to the client. */
export type ServerLine =
  | { kind: "message"; from: string; text: string }
  | { kind: "private"; from: string; text: string }
  | { kind: "action"; from: string; text: string }
  | { kind: "joined"; name: string }
  | { kind: "left"; name: string }
  | { kind: "renamed"; from: string; to: string }
  | { kind: "renamedSelf"; name: string }
  | { kind: "welcome"; name: string }
  | { kind: "online"; names: string[] }
  | { kind: "history" }
  | { kind: "historyEnd" }
  | { kind: "notice" }
  | { kind: "other" };

// Names hold neither spaces, `*` nor `:` (README "Registration").
const NAME = "[^\\s*:]+";
const PATTERNS: readonly [RegExp, (m: RegExpMatchArray) => ServerLine][] = [
  [
    new RegExp(`^Private message from (${NAME}): (.*)$`, "s"),
    (m) => ({ kind: "private", from: m[1], text: m[2] }),
  ],
  [
    new RegExp(`^\\*\\*\\* (${NAME}) has joined the chat\\.$`),
    (m) => ({ kind: "joined", name: m[1] }),
  ],
  [
    new RegExp(
      `^\\*\\*\\* (${NAME}) (?:has left|was removed from) the chat\\.$`,
    ),
    (m) => ({ kind: "left", name: m[1] }),
  ],
  [
    new RegExp(`^\\*\\*\\* (${NAME}) is now known as (${NAME})\\.$`),
    (m) => ({ kind: "renamed", from: m[1], to: m[2] }),
  ],
  [
    /^\*\*\* End of history \(\d+ messages?\)\.$/,
    () => ({ kind: "historyEnd" }),
  ],
  [/^\*\*\* /, () => ({ kind: "notice" })],
  [
    new RegExp(`^You are now known as (${NAME})\\.$`),
    (m) => ({ kind: "renamedSelf", name: m[1] }),
  ],
  [
    new RegExp(`^Welcome (${NAME})!$`),
    (m) => ({ kind: "welcome", name: m[1] }),
  ],
  [
    /^Online \(\d+\): (.*)$/,
    (m) => ({
      kind: "online",
      names: m[1].split(", ").filter((n) => n !== ""),
    }),
  ],
  [/^\[\d\d:\d\d\] /, () => ({ kind: "history" })],
  [
    new RegExp(`^\\* (${NAME}) (.*)$`, "s"),
    (m) => ({ kind: "action", from: m[1], text: m[2] }),
  ],
  [
    new RegExp(`^(${NAME}): (.*)$`, "s"),
    (m) => ({ kind: "message", from: m[1], text: m[2] }),
  ],
];

/** Sorts one line from the server. */
export function parseServerLine(line: string): ServerLine {
  for (const [pattern, build] of PATTERNS) {
    const match = line.match(pattern);
    if (match === null) continue;
    const parsed = build(match);
    // The server's own `Usage: ...` answer looks like a message.
    if (parsed.kind === "message" && parsed.from === "Usage") break;
    return parsed;
  }
  return { kind: "other" };
}
