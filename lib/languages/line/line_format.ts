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
} from "../../room/events.ts";
import { HELP_LINES } from "./protocol.ts";
import { serverText } from "../../room/texts.ts";

const encoder = new TextEncoder();

function lines(...texts: string[]): Uint8Array {
  return encoder.encode(texts.join("\n") + "\n");
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

function historyLines(entries: readonly HistoryEntry[]): Uint8Array {
  const now = Date.now();
  const out = entries.map((entry) =>
    serverText.historyLine(
      historyStamp(entry.time, now),
      entry.action
        ? serverText.action(entry.from, entry.text)
        : serverText.broadcast(entry.from, entry.text),
    )
  );
  out.push(serverText.historyEnd(entries.length));
  return lines(...out);
}

/** Renders the room's events as lines of the TCP protocol. */
export const lineFormat: Renderer = {
  echoes: false,
  render(event: RoomEvent): Rendered | null {
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
        return event.retry ? NAME_INVALID : NAME_INVALID_PLAIN;
      case "nameReserved":
        return lines(
          event.retry
            ? serverText.nameReserved(event.name)
            : serverText.nameReservedPlain(event.name),
        );
      case "wrongDoor":
        return lines(serverText.wrongDoor(event.webUrl));
      case "passwordPrompt":
        return PASSWORD_PROMPT;
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
        return historyLines(event.entries);
      case "join":
        return lines(serverText.joined(event.name));
      case "leave":
        return lines(serverText.left(event.name));
      case "removed":
        return lines(serverText.removed(event.name));
      case "rename":
        return lines(serverText.renamedNotice(event.from, event.to));
      case "renamed":
        return lines(serverText.renamed(event.name));
      case "message":
        // A TCP sender gets no copy of its own line.
        return event.own
          ? null
          : encoder.encode(`${serverText.broadcast(event.from, event.text)}\n`);
      case "action":
        return event.own
          ? null
          : lines(serverText.action(event.from, event.text));
      case "private":
        return event.own
          ? null
          : lines(serverText.privateMessage(event.from, event.text));
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
        return lines(serverText.online(event.names));
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
