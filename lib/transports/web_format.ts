/**
 * The browser's format: the room's events as JSON text frames, one object
 * per event, with `type`, `time` (ISO 8601 UTC) and the event's fields;
 * never HTML. README "The socket protocol" lists every object.
 *
 * @module
 */

import type { Rendered, Renderer, RoomEvent } from "../room/events.ts";
import { COMMANDS, HELP_LINES } from "../languages/line/protocol.ts";
import { serverText } from "../room/texts.ts";

type Fields = Record<
  string,
  | string
  | number
  | boolean
  | readonly string[]
  | readonly Readonly<Record<string, string>>[]
>;

function frame(type: string, time: number, fields: Fields = {}): string {
  return JSON.stringify({
    type,
    time: new Date(time).toISOString(),
    ...fields,
  });
}

// `/help` as rows, so that the page can show a table; `lines` stay for
// clients that show text.
const HELP_COMMANDS = COMMANDS.map(({ usage, summary }) => ({
  usage,
  summary,
}));

const USAGE = {
  private: serverText.privateUsage,
  me: serverText.meUsage,
  nick: serverText.nickUsage,
};
const REFUSED = {
  full: serverText.serverFull,
  perIp: serverText.tooManyFromAddress,
  shuttingDown: serverText.shuttingDown,
};

/** A notice frame, for what the web door says itself (binary frames). */
export function webNotice(text: string): string {
  return frame("notice", Date.now(), { text });
}

/** Renders the room's events as the browser's JSON frames. */
export const webFormat: Renderer = {
  render(event: RoomEvent): Rendered | null {
    const now = Date.now();
    switch (event.type) {
      case "namePrompt":
        return frame("prompt", now, {
          prompt: "name",
          text: serverText.namePrompt,
        });
      case "nameTaken":
        return event.retry
          ? frame("prompt", now, {
            prompt: "name",
            text: serverText.nameTaken(event.name),
            error: serverText.nameTakenPlain(event.name),
          })
          : frame("notice", now, {
            text: serverText.nameTakenPlain(event.name),
          });
      case "nameInvalid":
        return event.retry
          ? frame("prompt", now, {
            prompt: "name",
            text: serverText.nameInvalid,
            error: serverText.nameInvalidPlain,
          })
          : frame("notice", now, { text: serverText.nameInvalidPlain });
      case "nameReserved":
        return event.retry
          ? frame("prompt", now, {
            prompt: "name",
            text: serverText.nameReserved(event.name),
            error: serverText.nameReservedPlain(event.name),
          })
          : frame("notice", now, {
            text: serverText.nameReservedPlain(event.name),
          });
      case "wrongDoor":
        // A line door's answer to an HTTP request; never on a web socket.
        return null;
      case "passwordPrompt":
        return frame("prompt", now, {
          prompt: "password",
          text: serverText.passwordPrompt,
        });
      case "wrongPassword":
        return frame("error", now, { text: serverText.wrongPassword });
      case "tooManyAttempts":
        return frame("error", now, { text: serverText.tooManyAttempts });
      case "registrationTimedOut":
        return frame("error", now, { text: serverText.registrationTimedOut });
      case "refused":
        return event.reason === "shuttingDown"
          ? frame("shutdown", now, { text: REFUSED.shuttingDown })
          : frame("error", now, { text: REFUSED[event.reason] });
      case "welcome":
        return frame("welcome", now, {
          name: event.name,
          lines: serverText.welcome(event.name),
        });
      case "history": {
        const frames = event.entries.map((entry) =>
          frame("history", entry.time, {
            from: entry.from,
            text: entry.text,
            action: entry.action,
            history: true,
          })
        );
        frames.push(frame("historyEnd", now, { count: event.entries.length }));
        return frames;
      }
      case "join":
        return frame("join", event.time, {
          name: event.name,
          text: serverText.joined(event.name),
        });
      case "leave":
        return frame("leave", event.time, {
          name: event.name,
          text: serverText.left(event.name),
        });
      case "removed":
        return frame("leave", event.time, {
          name: event.name,
          text: serverText.removed(event.name),
        });
      case "rename":
        return frame("rename", event.time, {
          from: event.from,
          to: event.to,
          text: serverText.renamedNotice(event.from, event.to),
        });
      case "renamed":
        return frame("renamed", now, {
          name: event.name,
          text: serverText.renamed(event.name),
        });
      case "message":
      case "action":
        return frame(event.type, event.time, {
          from: event.from,
          text: event.text,
          own: event.own,
        });
      case "private":
        return frame("private", event.time, {
          from: event.from,
          to: event.to,
          text: event.text,
          own: event.own,
        });
      case "ctcp":
        // IRC's client machinery: the server answers for this member.
        return null;
      case "notFound":
        return frame("notice", now, {
          text: serverText.notFound(event.target),
        });
      case "usage":
        return frame("notice", now, { text: USAGE[event.command] });
      case "unknownCommand":
        return frame("notice", now, {
          text: serverText.unknownCommand(event.word),
        });
      case "lineTooLong":
        return frame("notice", now, {
          text: serverText.lineTooLong(event.limit),
        });
      case "who":
        return frame("who", now, { names: event.names });
      case "help":
        return frame("help", now, {
          lines: HELP_LINES,
          commands: HELP_COMMANDS,
        });
      case "announcement":
        return frame("notice", event.time, {
          text: serverText.announcement(event.text),
        });
      case "kicked":
        return frame("error", now, { text: serverText.kicked(event.reason) });
      case "goodbye":
        return frame("goodbye", now, {
          text: event.name === null
            ? serverText.goodbyeUnnamed
            : serverText.goodbye(event.name),
        });
      case "unavailable":
        return frame("notice", now, { text: serverText.unavailable });
      case "roomStatus":
        return event.state === "lostPlace"
          ? frame("error", now, { text: serverText.lostPlace })
          : frame("notice", now, {
            text: event.state === "split"
              ? serverText.roomSplit
              : serverText.roomWhole,
          });
      case "shutdown":
        return frame("shutdown", now, { text: serverText.shuttingDown });
    }
  },
};
