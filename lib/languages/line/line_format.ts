/**
 * The TCP line protocol's format: the room's events as the lines `nc`,
 * telnet and our client see, each ending in `\n`.
 *
 * @module
 */

import type {
  HistoryEntry,
  Rendered,
  Renderer,
  RoomEvent,
  RoomProblem,
} from "../../room/events.ts";
import { HELP_LINES } from "./protocol.ts";
import { writeUtf8 } from "../../io/utf8.ts";
import {
  accountNoticeText,
  accountText,
  serverText,
} from "../../room/texts.ts";

const encoder = new TextEncoder();

function lines(...texts: string[]): Uint8Array {
  return encoder.encode(texts.join("\n") + "\n");
}

// Small lines sent one at a time (a private message) are encoded into a
// slab shared by all of them, not each into an ArrayBuffer of its own: an
// ArrayBuffer is the dearest part of encoding a short line (its backing
// store, and the garbage collector's work on it afterwards). The slab is
// small because a view queued to a slow reader keeps all of it alive.
const SLAB_BYTES = 1024;
// Longer lines are encoded on their own.
const SLAB_LINE_CHARS = SLAB_BYTES >> 3;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

// Where `bytes` more can be written in the slab (a new slab when they do
// not fit in this one).
function slabFor(bytes: number): number {
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  return slabUsed;
}

// `text` and a `\n`, encoded: a view of the slab, never written again.
function line(text: string): Uint8Array {
  const length = text.length;
  // A UTF-16 unit is at most three bytes of UTF-8.
  if (length > SLAB_LINE_CHARS) return encoder.encode(text + "\n");
  const start = slabFor(length * 3 + 1);
  let at = writeUtf8(text, slab, start);
  slab[at++] = 0x0a;
  slabUsed = at;
  return slab.subarray(start, at);
}

// A private message's line around its sender's name and its text, encoded
// once (the text itself is texts.ts's): the line is put together from its
// parts as bytes, not as a string encoded afterwards.
const PRIVATE_PARTS = serverText.privateMessage("\uE000", "\uE001")
  .split(/[\uE000\uE001]/).map((part) => encoder.encode(part));

// Its parts, if texts.ts's line has them in that order.
const PRIVATE_SPLIT = PRIVATE_PARTS.length === 3;
const PRIVATE_BEFORE = PRIVATE_SPLIT ? PRIVATE_PARTS[0] : new Uint8Array(0);
const PRIVATE_BETWEEN = PRIVATE_SPLIT ? PRIVATE_PARTS[1] : new Uint8Array(0);
const PRIVATE_AFTER = PRIVATE_SPLIT ? PRIVATE_PARTS[2] : new Uint8Array(0);
const PRIVATE_FIXED = PRIVATE_BEFORE.length + PRIVATE_BETWEEN.length +
  PRIVATE_AFTER.length;

// Copies `bytes` into `buffer` at `at`; where it ends. A loop: for a few
// bytes it is quicker than `set`.
function put(buffer: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buffer[at++] = bytes[i];
  return at;
}

// A private message's line, as a view of the slab.
function privateLine(from: string, text: string): Uint8Array {
  const chars = from.length + text.length;
  if (!PRIVATE_SPLIT || PRIVATE_FIXED + chars > SLAB_LINE_CHARS) {
    return line(serverText.privateMessage(from, text));
  }
  const start = slabFor(PRIVATE_FIXED + chars * 3 + 1);
  const buffer = slab;
  let at = put(buffer, start, PRIVATE_BEFORE);
  at = writeUtf8(from, buffer, at);
  at = put(buffer, at, PRIVATE_BETWEEN);
  at = writeUtf8(text, buffer, at);
  at = put(buffer, at, PRIVATE_AFTER);
  buffer[at++] = 0x0a;
  slabUsed = at;
  return buffer.subarray(start, at);
}

// Lines that never change, encoded once.
const NAME_PROMPT = lines(serverText.namePrompt);
const NAME_INVALID = lines(serverText.nameInvalid);
const NAME_INVALID_PLAIN = lines(serverText.nameInvalidPlain);
const PASSWORD_PROMPT = lines(serverText.passwordPrompt);
const WRONG_PASSWORD = lines(serverText.wrongPassword);
const TOO_MANY_ATTEMPTS = lines(serverText.tooManyAttempts);
const REGISTRATION_TIMED_OUT = lines(serverText.registrationTimedOut);
const GOODBYE_UNNAMED = lines(serverText.goodbyeUnnamed);
const SHUTTING_DOWN = lines(serverText.shuttingDown);
const HELP = lines(...HELP_LINES);
const USAGE = {
  private: lines(serverText.privateUsage),
  me: lines(serverText.meUsage),
  nick: lines(serverText.nickUsage),
  join: lines(serverText.joinUsage),
  op: lines(serverText.opUsage),
  deop: lines(serverText.deopUsage),
  kick: lines(serverText.kickUsage),
  topiclock: lines(serverText.topiclockUsage),
  register: lines(serverText.registerUsage),
  password: lines(serverText.passwordUsage),
  unregister: lines(serverText.unregisterUsage),
  disconnect: lines(serverText.disconnectUsage),
  ban: lines(serverText.banUsage),
  unban: lines(serverText.unbanUsage),
  mute: lines(serverText.muteUsage),
  unmute: lines(serverText.unmuteUsage),
};
const UNAVAILABLE = lines(serverText.unavailable);
const ROOM_STATUS = {
  split: lines(serverText.roomSplit),
  whole: lines(serverText.roomWhole),
  lostPlace: lines(serverText.lostPlace),
};
const REFUSED = {
  full: lines(serverText.serverFull),
  perIp: lines(serverText.tooManyFromAddress),
  shuttingDown: SHUTTING_DOWN,
};

function pad(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/**
 * `HH:MM` in the server's local time, with the date before it when `time`
 * is not from today.
 */
export function historyStamp(time: number, now = Date.now()): string {
  const when = new Date(time);
  const today = new Date(now);
  const hhmm = `${pad(when.getHours())}:${pad(when.getMinutes())}`;
  if (
    when.getFullYear() === today.getFullYear() &&
    when.getMonth() === today.getMonth() &&
    when.getDate() === today.getDate()
  ) {
    return hhmm;
  }
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${
    pad(when.getDate())
  } ${hhmm}`;
}

function historyLines(
  entries: readonly HistoryEntry[],
  sinceLeft: boolean,
): Uint8Array {
  const now = Date.now();
  const out = entries.map((entry) =>
    serverText.historyLine(
      historyStamp(entry.time, now),
      entry.action
        ? serverText.action(entry.from, entry.text)
        : serverText.broadcast(entry.from, entry.text),
    )
  );
  out.push(
    sinceLeft
      ? accountText.historySinceEnd(entries.length)
      : serverText.historyEnd(entries.length),
  );
  return lines(...out);
}

// A room's line, prefixed `[#room] ` for a member whose current room is
// another.
function inRoom(
  event: { room: string; elsewhere?: boolean },
  line: string,
): Uint8Array {
  return lines(
    event.elsewhere === true ? serverText.inRoom(event.room, line) : line,
  );
}

/** The line for a refused room operation. */
export function roomProblemText(
  problem: RoomProblem,
  room: string | null,
  limit = 0,
): string {
  switch (problem) {
    case "invalidName":
      return serverText.invalidRoomName;
    case "notIn":
      return serverText.notInRoom(room ?? "");
    case "noSuchRoom":
      return serverText.noSuchRoom(room ?? "");
    case "notOperator":
      return serverText.onlyOperatorsOf(room ?? "");
    case "noSuchMember":
      return serverText.notInRoomMember(room ?? "");
    case "tooManyRooms":
      return serverText.tooManyRooms(limit);
    case "tooManyJoins":
      return serverText.tooManyJoins(limit);
    case "inNoRoom":
      return serverText.inNoRoom;
  }
}

/** Renders the room's events as lines of the TCP protocol. */
export const lineFormat: Renderer = {
  echoes: false,
  marksElsewhere: true,
  render(event: RoomEvent): Rendered | null {
    // The commonest event first, before the switch's string comparisons.
    if (event.type === "private") {
      return event.own ? null : privateLine(event.from, event.text);
    }
    switch (event.type) {
      case "namePrompt":
        return NAME_PROMPT;
      case "nameTaken":
        return lines(
          event.retry
            ? serverText.nameTaken(event.name)
            : serverText.nameTakenPlain(event.name),
        );
      case "nameInvalid":
        if (event.fault !== undefined && event.fault.rule !== "form") {
          return lines(
            event.retry
              ? serverText.nameInvalidFor(event.fault)
              : serverText.nameInvalidPlainFor(event.fault),
          );
        }
        return event.retry ? NAME_INVALID : NAME_INVALID_PLAIN;
      case "nameReserved":
        return lines(
          event.retry
            ? serverText.nameReserved(event.name)
            : serverText.nameReservedPlain(event.name),
        );
      case "nameLooksLike":
        return lines(
          event.retry
            ? serverText.nameLooksLike(event.name, event.holder)
            : serverText.nameLooksLikePlain(event.name, event.holder),
        );
      case "wrongDoor":
        return lines(serverText.wrongDoor(event.webUrl));
      case "passwordPrompt":
        return PASSWORD_PROMPT;
      case "accountPrompt":
        return lines(accountText.passwordPrompt(event.name));
      case "accountNotice":
        return lines(accountNoticeText(event.notice));
      case "wrongPassword":
        return WRONG_PASSWORD;
      case "tooManyAttempts":
        return TOO_MANY_ATTEMPTS;
      case "registrationTimedOut":
        return REGISTRATION_TIMED_OUT;
      case "refused":
        return REFUSED[event.reason];
      case "welcome":
        return lines(...serverText.welcome(event.name));
      case "history":
        return historyLines(event.entries, event.sinceLeft === true);
      case "join":
        return inRoom(
          event,
          event.main
            ? serverText.joined(event.name)
            : serverText.joinedRoom(event.name, event.room),
        );
      case "leave":
        return lines(
          event.message === undefined
            ? serverText.left(event.name)
            : serverText.leftChatSaying(event.name, event.message),
        );
      case "removed":
        return lines(serverText.removed(event.name));
      case "rename":
        return lines(serverText.renamedNotice(event.from, event.to));
      case "renamed":
        return lines(serverText.renamed(event.name));
      case "message":
        // A TCP sender gets no copy of its own line.
        if (event.own) return null;
        return event.elsewhere === true
          ? inRoom(event, serverText.broadcast(event.from, event.text))
          : encoder.encode(`${serverText.broadcast(event.from, event.text)}\n`);
      case "action":
        return event.own
          ? null
          : inRoom(event, serverText.action(event.from, event.text));
      case "part":
        return inRoom(
          event,
          serverText.leftRoom(event.name, event.room, event.reason),
        );
      case "topic":
        return inRoom(
          event,
          event.topic === null
            ? serverText.topicCleared(event.name, event.room)
            : serverText.topicSet(event.name, event.room, event.topic),
        );
      case "roomKick":
        return inRoom(
          event,
          serverText.wasKicked(event.name, event.room, event.by, event.reason),
        );
      case "roomOp":
        return inRoom(
          event,
          event.op
            ? serverText.opped(event.by, event.name, event.room)
            : serverText.deopped(event.by, event.name, event.room),
        );
      case "topicLock":
        return inRoom(
          event,
          serverText.topicLocked(event.by, event.room, event.locked),
        );
      case "youJoined":
        return lines(
          serverText.youJoined(event.room, event.members, event.topic),
        );
      case "youLeft":
        return lines(serverText.youLeft(event.room, event.current));
      case "youWereKicked":
        return lines(
          serverText.youWereKicked(event.room, event.by, event.reason),
        );
      case "currentRoom":
        return lines(serverText.currentRoom(event.room));
      case "roomProblem":
        return lines(roomProblemText(event.problem, event.room, event.limit));
      case "rooms":
        return lines(
          serverText.roomsHeader(event.rooms.length),
          ...event.rooms.map((room) =>
            serverText.roomLine(room.name, room.members, room.topic)
          ),
        );
      case "roomWho":
        return lines(serverText.onlineIn(event.room, event.names));
      case "roomTopic":
        return lines(
          event.topic === null
            ? serverText.noTopic(event.room)
            : serverText.topicOf(event.room, event.topic),
        );
      case "ctcp":
        // IRC's client machinery: the server answers for this member.
        return null;
      case "notFound":
        return lines(serverText.notFound(event.target));
      case "usage":
        return USAGE[event.command];
      case "unknownCommand":
        return lines(serverText.unknownCommand(event.word));
      case "lineTooLong":
        return lines(serverText.lineTooLong(event.limit));
      case "who":
        return event.operators === undefined || event.operators.length === 0
          ? lines(serverText.online(event.names))
          : lines(
            serverText.online(event.names),
            serverText.operators(event.operators),
          );
      case "help":
        return HELP;
      case "announcement":
        return lines(serverText.announcement(event.text));
      case "kicked":
        return lines(serverText.kicked(event.reason));
      case "goodbye":
        return event.name === null
          ? GOODBYE_UNNAMED
          : lines(serverText.goodbye(event.name));
      case "unavailable":
        return UNAVAILABLE;
      case "roomStatus":
        return ROOM_STATUS[event.state];
      case "shutdown":
        return SHUTTING_DOWN;
    }
  },
};
