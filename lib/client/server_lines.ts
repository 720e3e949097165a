/**
 * What a line from the server is: a message, a private message, an action,
 * a notice about someone joining, leaving or being renamed, the answer to
 * `/who`, a history line. The client colours lines and follows who is online
 * by this; the patterns are made from the texts the server sends
 * (`../room/texts.ts`), so the two cannot drift apart.
 *
 * @module
 */

import { serverText } from "../room/texts.ts";

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
const ANY = "[^]*";

/**
 * The pattern of the lines `template` makes: its arguments become the
 * capture groups `groups`, the rest must match as it is. So the client
 * reads the server's lines by the very texts the server sends them with.
 */
function shaped(
  template: (...args: string[]) => string,
  ...groups: string[]
): RegExp {
  const slots = groups.map((_, i) => `\u0000${i}\u0000`);
  let source = escape(template(...slots));
  groups.forEach((group, i) => {
    source = source.replace(slots[i], () => `(${group})`);
  });
  return new RegExp(`^${source}$`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The two texts with a count keep a pattern of their own; the test of this
// module checks them against the server's texts.
const ONLINE = /^Online \(\d+\): (.*)$/;
const HISTORY_END = /^\*\*\* End of history \(\d+ messages?\)\.$/;
// Every notice starts so: a join's, an announcement, a split.
const NOTICE = /^\*\*\* /;

const PATTERNS: readonly [RegExp, (m: RegExpMatchArray) => ServerLine][] = [
  [
    shaped(serverText.privateMessage, NAME, ANY),
    (m) => ({ kind: "private", from: m[1], text: m[2] }),
  ],
  [shaped(serverText.joined, NAME), (m) => ({ kind: "joined", name: m[1] })],
  [shaped(serverText.left, NAME), (m) => ({ kind: "left", name: m[1] })],
  [shaped(serverText.removed, NAME), (m) => ({ kind: "left", name: m[1] })],
  [
    shaped(serverText.renamedNotice, NAME, NAME),
    (m) => ({ kind: "renamed", from: m[1], to: m[2] }),
  ],
  [HISTORY_END, () => ({ kind: "historyEnd" })],
  [NOTICE, () => ({ kind: "notice" })],
  [
    shaped(serverText.renamed, NAME),
    (m) => ({ kind: "renamedSelf", name: m[1] }),
  ],
  [
    shaped((name) => serverText.welcome(name)[0], NAME),
    (m) => ({ kind: "welcome", name: m[1] }),
  ],
  [
    ONLINE,
    (m) => ({
      kind: "online",
      names: m[1].split(", ").filter((n) => n !== ""),
    }),
  ],
  [
    shaped(serverText.historyLine, "\\d\\d:\\d\\d", ANY),
    () => ({ kind: "history" }),
  ],
  [
    shaped(serverText.action, NAME, ANY),
    (m) => ({ kind: "action", from: m[1], text: m[2] }),
  ],
  [
    shaped(serverText.broadcast, NAME, ANY),
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
