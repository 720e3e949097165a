/**
 * What a line from the server is: a message, a private message, an action,
 * a notice about someone joining, leaving or being renamed, the answer to
 * `/who`, a history line, an answer about the user's rooms, a registered
 * name's password asked, refused or set, or a line of another room the
 * user is in (`[#room] ...`). The client colours lines
 * and follows who is online and which rooms the user is in by this; the
 * patterns are made from the texts the server sends (`../room/texts.ts`),
 * so the two cannot drift apart.
 *
 * @module
 */

import { accountNoticeText, accountText, serverText } from "../room/texts.ts";

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
  | { kind: "other" }
  // A registered name's login (README "Registered names").
  | { kind: "accountPrompt"; name: string }
  | { kind: "loginRefused"; name: string }
  | { kind: "accountSet"; name: string }
  | { kind: "accountGone"; name: string }
  // The user's rooms (README "Rooms").
  | { kind: "youJoined"; room: string }
  | { kind: "currentRoom"; room: string }
  | { kind: "youLeft"; room: string; current: string | null }
  | { kind: "youWereKicked"; room: string; by: string }
  | { kind: "joinedRoom"; name: string; room: string }
  | { kind: "leftRoom"; name: string; room: string }
  | { kind: "roomsHeader" }
  | { kind: "roomLine"; room: string }
  | { kind: "onlineIn"; room: string; names: string[] }
  | { kind: "roomTopic"; room: string }
  | { kind: "noSuchRoom"; room: string }
  | { kind: "notInRoom"; room: string }
  | { kind: "inNoRoom" }
  | { kind: "inRoom"; room: string; line: ServerLine };

// Names hold neither spaces, `*` nor `:` (README "Registration").
const NAME = "[^\\s*:]+";
const ANY = "[^]*";
// `#` and 1-32 letters, digits, `_` or `-` (README "Rooms").
const ROOM = "#[A-Za-z0-9_-]{1,32}";
const COUNT = "\\d+";

/**
 * The pattern of the lines `template` makes: its arguments become the
 * capture groups `groups`, the rest must match as it is. So the client
 * reads the server's lines by the very texts the server sends them with.
 * A count is given as a slot too (a text with a count of one, `1 member`,
 * is a pattern of its own).
 */
function shaped(
  template: (...args: never[]) => string,
  ...groups: string[]
): RegExp {
  const slots = groups.map((_, i) => `\u0000${i}\u0000`);
  let source = escape(template(...(slots as never[])));
  groups.forEach((group, i) => {
    source = source.replace(slots[i], () => `(${group})`);
  });
  return new RegExp(`^${source}$`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The texts with a list of names keep a pattern of their own; the test of
// this module checks them against the server's texts.
const ONLINE = /^Online \(\d+\): (.*)$/;
const ONLINE_IN = new RegExp(`^Online in (${ROOM}) \\(\\d+\\): (.*)$`);
// Or "since you left", at a registered member's login.
const HISTORY_END =
  /^\*\*\* End of history \(\d+ messages?(?: since you left)?\)\.$/;
// Every notice starts so: a join's, an announcement, a split.
const NOTICE = /^\*\*\* /;

type Build = (m: RegExpMatchArray) => ServerLine;

function names(list: string): string[] {
  return list.split(", ").filter((n) => n !== "");
}

const youJoined: Build = (m) => ({ kind: "youJoined", room: m[1] });
const youWereKicked: Build = (m) => ({
  kind: "youWereKicked",
  room: m[1],
  by: m[2],
});
const leftRoom: Build = (m) => ({ kind: "leftRoom", name: m[1], room: m[2] });
const roomLine: Build = (m) => ({ kind: "roomLine", room: m[1] });
const roomTopic: Build = (m) => ({ kind: "roomTopic", room: m[1] });

// The answers about the user's rooms and others' comings and goings in
// them: notices all, so they come before NOTICE.
const ROOM_NOTICES: readonly [RegExp, Build][] = [
  [
    shaped((room: string) => serverText.youJoined(room, 1, null), ROOM),
    youJoined,
  ],
  [
    shaped(
      (room: string, n: number) => serverText.youJoined(room, n, null),
      ROOM,
      COUNT,
    ),
    youJoined,
  ],
  [
    shaped(
      (room: string, topic: string) => serverText.youJoined(room, 1, topic),
      ROOM,
      ANY,
    ),
    youJoined,
  ],
  [
    shaped(
      (room: string, n: number, topic: string) =>
        serverText.youJoined(room, n, topic),
      ROOM,
      COUNT,
      ANY,
    ),
    youJoined,
  ],
  [
    shaped(serverText.currentRoom, ROOM),
    (m) => ({ kind: "currentRoom", room: m[1] }),
  ],
  [
    shaped(serverText.youLeft, ROOM, ROOM),
    (m) => ({ kind: "youLeft", room: m[1], current: m[2] }),
  ],
  [
    shaped((room: string) => serverText.youLeft(room, null), ROOM),
    (m) => ({ kind: "youLeft", room: m[1], current: null }),
  ],
  [
    shaped(
      (room: string, by: string) => serverText.youWereKicked(room, by, ""),
      ROOM,
      NAME,
    ),
    youWereKicked,
  ],
  [shaped(serverText.youWereKicked, ROOM, NAME, ANY), youWereKicked],
  [
    shaped(serverText.joinedRoom, NAME, ROOM),
    (m) => ({ kind: "joinedRoom", name: m[1], room: m[2] }),
  ],
  [
    shaped(
      (name: string, room: string) => serverText.leftRoom(name, room, ""),
      NAME,
      ROOM,
    ),
    leftRoom,
  ],
  [shaped(serverText.leftRoom, NAME, ROOM, ANY), leftRoom],
  // Leaving the chat with a reason is leaving it all the same.
  [
    shaped(serverText.leftChatSaying, NAME, ANY),
    (m) => ({ kind: "left", name: m[1] }),
  ],
];

// The answers about rooms that are not notices.
const ROOM_ANSWERS: readonly [RegExp, Build][] = [
  [
    ONLINE_IN,
    (m) => ({ kind: "onlineIn", room: m[1], names: names(m[2]) }),
  ],
  [shaped(serverText.roomsHeader, COUNT), () => ({ kind: "roomsHeader" })],
  [
    shaped(
      (room: string, n: number) => serverText.roomLine(room, n, null),
      ROOM,
      COUNT,
    ),
    roomLine,
  ],
  [shaped(serverText.roomLine, ROOM, COUNT, ANY), roomLine],
  [shaped(serverText.topicOf, ROOM, ANY), roomTopic],
  [shaped(serverText.noTopic, ROOM), roomTopic],
  [
    shaped(serverText.noSuchRoom, ROOM),
    (m) => ({ kind: "noSuchRoom", room: m[1] }),
  ],
  [
    shaped(serverText.notInRoom, ROOM),
    (m) => ({ kind: "notInRoom", room: m[1] }),
  ],
  [shaped(() => serverText.inNoRoom), () => ({ kind: "inNoRoom" })],
];

const loginRefused: Build = (m) => ({ kind: "loginRefused", name: m[1] });

// A registered name's password asked, refused, set or given up.
const ACCOUNT_ANSWERS: readonly [RegExp, Build][] = [
  [
    shaped(accountText.passwordPrompt, NAME),
    (m) => ({ kind: "accountPrompt", name: m[1] }),
  ],
  [shaped(accountText.wrongPassword, NAME), loginRefused],
  [
    shaped((name: string) => accountText.loginDelayed(name, 1), NAME),
    loginRefused,
  ],
  [shaped(accountText.loginDelayed, NAME, COUNT), loginRefused],
  [shaped(accountText.loginLocked, NAME, ANY), loginRefused],
  [
    shaped(accountText.registered, NAME),
    (m) => ({ kind: "accountSet", name: m[1] }),
  ],
  [
    shaped(
      (name: string) => accountNoticeText({ kind: "passwordChanged", name }),
      NAME,
    ),
    (m) => ({ kind: "accountSet", name: m[1] }),
  ],
  [
    shaped(
      (name: string) => accountNoticeText({ kind: "unregistered", name }),
      NAME,
    ),
    (m) => ({ kind: "accountGone", name: m[1] }),
  ],
];

const PATTERNS: readonly [RegExp, Build][] = [
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
  ...ROOM_NOTICES,
  [NOTICE, () => ({ kind: "notice" })],
  [
    shaped(serverText.renamed, NAME),
    (m) => ({ kind: "renamedSelf", name: m[1] }),
  ],
  [
    shaped((name: string) => serverText.welcome(name)[0], NAME),
    (m) => ({ kind: "welcome", name: m[1] }),
  ],
  [ONLINE, (m) => ({ kind: "online", names: names(m[1]) })],
  ...ROOM_ANSWERS,
  ...ACCOUNT_ANSWERS,
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

const IN_ROOM = shaped(serverText.inRoom, ROOM, ANY);

/** Sorts one line from the server. */
export function parseServerLine(line: string): ServerLine {
  // A line of another room: the line inside is sorted as any, but once (a
  // server cannot nest rooms, so `[#a] [#b] ...` is no deeper).
  const inRoom = line.match(IN_ROOM);
  if (inRoom !== null) {
    return { kind: "inRoom", room: inRoom[1], line: sortLine(inRoom[2]) };
  }
  return sortLine(line);
}

function sortLine(line: string): ServerLine {
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
