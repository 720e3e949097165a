/**
 * The browser's format: the room's events as JSON text frames, one object
 * per event, with `type`, `time` (ISO 8601 UTC) and the event's fields;
 * never HTML. README "The socket protocol" lists every object.
 *
 * @module
 */

import type {
  Rendered,
  Renderer,
  RoomEvent,
  RoomSummary,
} from "../room/events.ts";
import { COMMANDS, HELP_LINES } from "../languages/line/protocol.ts";
import { roomProblemText } from "../languages/line/line_format.ts";
import { accountNoticeText, accountText, serverText } from "../room/texts.ts";

type Json =
  | string
  | number
  | boolean
  | null
  | readonly Json[]
  | { readonly [key: string]: Json };
type Fields = Record<string, Json | undefined>;

function frame(type: string, time: number, fields: Fields = {}): string {
  return JSON.stringify({
    type,
    time: isoTime(time),
    ...fields,
  });
}

// Many events of a busy room share their millisecond.
let lastTime = NaN;
let lastIso = "";

function isoTime(time: number): string {
  if (time !== lastTime) {
    lastIso = new Date(time).toISOString();
    lastTime = time;
  }
  return lastIso;
}

// A chat line, rendered for every recipient of every message: written out
// instead of building an object for JSON.stringify, with the same text (its
// strings quoted by JSON.stringify, the fields in the same order).
function chatFrame(
  type: "message" | "action",
  time: number,
  from: string,
  text: string,
  own: boolean,
  room: string,
): string {
  return `{"type":"${type}","time":"${isoTime(time)}","from":${
    JSON.stringify(from)
  },"text":${JSON.stringify(text)},"own":${own},"room":${
    JSON.stringify(room)
  }}`;
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
  join: serverText.joinUsage,
  op: serverText.opUsage,
  deop: serverText.deopUsage,
  kick: serverText.kickUsage,
  topiclock: serverText.topiclockUsage,
  register: serverText.registerUsage,
  password: serverText.passwordUsage,
  unregister: serverText.unregisterUsage,
  disconnect: serverText.disconnectUsage,
  ban: serverText.banUsage,
  unban: serverText.unbanUsage,
  mute: serverText.muteUsage,
  unmute: serverText.unmuteUsage,
};

// A room as `rooms` lists it: plain fields, `topic` null for none.
function summary(room: RoomSummary): Json {
  return { name: room.name, members: room.members, topic: room.topic };
}

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
      case "nameInvalid": {
        const fault = event.fault ?? { rule: "form" };
        return event.retry
          ? frame("prompt", now, {
            prompt: "name",
            text: serverText.nameInvalidFor(fault),
            error: serverText.nameInvalidPlainFor(fault),
          })
          : frame("notice", now, {
            text: serverText.nameInvalidPlainFor(fault),
          });
      }
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
      case "nameLooksLike":
        return event.retry
          ? frame("prompt", now, {
            prompt: "name",
            text: serverText.nameLooksLike(event.name, event.holder),
            error: serverText.nameLooksLikePlain(event.name, event.holder),
          })
          : frame("notice", now, {
            text: serverText.nameLooksLikePlain(event.name, event.holder),
          });
      case "wrongDoor":
        // A line door's answer to an HTTP request; never on a web socket.
        return null;
      case "passwordPrompt":
        return frame("prompt", now, {
          prompt: "password",
          text: serverText.passwordPrompt,
        });
      case "accountPrompt":
        return frame("prompt", now, {
          prompt: "password",
          name: event.name,
          text: accountText.passwordPrompt(event.name),
        });
      case "accountNotice":
        return frame("notice", now, { text: accountNoticeText(event.notice) });
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
          room: event.room,
        });
      case "history": {
        const frames = event.entries.map((entry) =>
          frame("history", entry.time, {
            from: entry.from,
            text: entry.text,
            action: entry.action,
            history: true,
            room: event.room,
          })
        );
        frames.push(
          event.sinceLeft === true
            ? frame("historyEnd", now, {
              count: event.entries.length,
              room: event.room,
              sinceLeft: true,
              text: accountText.historySinceEnd(event.entries.length),
            })
            : frame("historyEnd", now, {
              count: event.entries.length,
              room: event.room,
            }),
        );
        return frames;
      }
      case "join":
        return frame("join", event.time, {
          name: event.name,
          text: event.main
            ? serverText.joined(event.name)
            : serverText.joinedRoom(event.name, event.room),
          room: event.room,
        });
      case "leave":
        return frame("leave", event.time, {
          name: event.name,
          text: event.message === undefined || event.message === ""
            ? serverText.left(event.name)
            : serverText.leftChatSaying(event.name, event.message),
          rooms: event.rooms,
        });
      case "removed":
        return frame("leave", event.time, {
          name: event.name,
          text: serverText.removed(event.name),
          rooms: event.rooms,
        });
      case "rename":
        return frame("rename", event.time, {
          from: event.from,
          to: event.to,
          text: serverText.renamedNotice(event.from, event.to),
          rooms: event.rooms,
        });
      case "renamed":
        return frame("renamed", now, {
          name: event.name,
          text: serverText.renamed(event.name),
        });
      case "message":
      case "action":
        // The general way when a field is not as typed (from another node).
        if (typeof event.own !== "boolean" || typeof event.room !== "string") {
          return frame(event.type, event.time, {
            from: event.from,
            text: event.text,
            own: event.own,
            room: event.room,
          });
        }
        return chatFrame(
          event.type,
          event.time,
          event.from,
          event.text,
          event.own,
          event.room,
        );
      case "part":
        return frame("part", event.time, {
          name: event.name,
          room: event.room,
          reason: event.reason,
          text: serverText.leftRoom(event.name, event.room, event.reason),
        });
      case "topic":
        return frame("topic", event.time, {
          name: event.name,
          room: event.room,
          topic: event.topic,
          text: event.topic === null
            ? serverText.topicCleared(event.name, event.room)
            : serverText.topicSet(event.name, event.room, event.topic),
        });
      case "roomKick":
        return frame("roomKick", event.time, {
          name: event.name,
          by: event.by,
          room: event.room,
          reason: event.reason,
          text: serverText.wasKicked(
            event.name,
            event.room,
            event.by,
            event.reason,
          ),
        });
      case "roomOp":
        return frame("roomOp", event.time, {
          name: event.name,
          by: event.by,
          room: event.room,
          op: event.op,
          text: event.op
            ? serverText.opped(event.by, event.name, event.room)
            : serverText.deopped(event.by, event.name, event.room),
        });
      case "topicLock":
        return frame("topicLock", event.time, {
          by: event.by,
          room: event.room,
          locked: event.locked,
          text: serverText.topicLocked(event.by, event.room, event.locked),
        });
      case "youJoined":
        return frame("youJoined", now, {
          room: event.room,
          members: event.members,
          topic: event.topic,
          text: serverText.youJoined(event.room, event.members, event.topic),
        });
      case "youLeft":
        return frame("youLeft", now, {
          room: event.room,
          current: event.current,
          text: serverText.youLeft(event.room, event.current),
        });
      case "youWereKicked":
        return frame("youWereKicked", now, {
          room: event.room,
          by: event.by,
          reason: event.reason,
          text: serverText.youWereKicked(event.room, event.by, event.reason),
        });
      case "currentRoom":
        return frame("currentRoom", now, {
          room: event.room,
          text: serverText.currentRoom(event.room),
        });
      case "roomProblem":
        return frame("roomProblem", now, {
          problem: event.problem,
          room: event.room,
          limit: event.limit,
          text: roomProblemText(event.problem, event.room, event.limit),
        });
      case "rooms":
        return frame("rooms", now, {
          rooms: event.rooms.map(summary),
          lines: [
            serverText.roomsHeader(event.rooms.length),
            ...event.rooms.map((room) =>
              serverText.roomLine(room.name, room.members, room.topic)
            ),
          ],
        });
      case "roomWho":
        return frame("roomWho", now, {
          room: event.room,
          names: event.names,
          operators: event.operators,
          text: serverText.onlineIn(event.room, event.names),
        });
      case "roomTopic":
        return frame("roomTopic", now, {
          room: event.room,
          topic: event.topic,
          text: event.topic === null
            ? serverText.noTopic(event.room)
            : serverText.topicOf(event.room, event.topic),
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
        return frame("who", now, {
          names: event.names,
          operators: event.operators,
        });
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
