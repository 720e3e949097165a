/**
 * The IRC format: the room's events as IRC lines. One instance serves a
 * whole door, so a broadcast is rendered once for every IRC user: nothing
 * here depends on who receives a line. Replies that name their recipient
 * (numerics, echoes) are the interpreter's.
 *
 * @module
 */

import type { Rendered, Renderer, RoomEvent } from "../../room/events.ts";
import { accountNoticeText, serverText } from "../../room/texts.ts";
import { historyNotices } from "./irc_history.ts";
import {
  clampLine,
  encodeLines,
  fitLines,
  ircLine,
  ircTextLine,
} from "./irc_message.ts";
import { ircText } from "./irc_texts.ts";

/** The transport name of IRC connections, and their user part. */
export const IRC_TRANSPORT = "irc";

/** The host every member shows with: `nick!tcp@chat`, `nick!irc@chat`. */
export const MEMBER_HOST = "chat";

/** `nick!transport@chat`: how a member of any transport shows on IRC. */
export function memberMask(nick: string, transport: string): string {
  return `${nick}!${transport}@${MEMBER_HOST}`;
}

const CTCP = "\x01";

/** Options of {@linkcode IrcFormat}. */
export interface IrcFormatOptions {
  /** The server's IRC name, the source of its notices. */
  serverName: string;
  /** The main room, with its `#`: where the server's notices go. */
  channel: string;
}

/** Renders the room's events as IRC lines, CRLF-terminated. */
export class IrcFormat implements Renderer {
  readonly #server: string;
  readonly #channel: string;
  readonly #shutdown: Uint8Array;
  readonly #timedOut: Uint8Array;
  readonly #wrongPassword: Uint8Array;
  readonly #refused: Record<"full" | "perIp" | "shuttingDown", Uint8Array>;

  /** Creates the format of one door. */
  constructor(options: IrcFormatOptions) {
    this.#server = options.serverName;
    this.#channel = options.channel;
    this.#shutdown = error(ircText.shuttingDown);
    this.#timedOut = error(ircText.registrationTimedOut);
    this.#wrongPassword = error(ircText.wrongPassword);
    this.#refused = {
      full: error(ircText.serverFull),
      perIp: error(ircText.tooManyFromAddress),
      shuttingDown: this.#shutdown,
    };
  }

  /** IRC offers no echo-message: a sender never sees its own line. */
  readonly echoes = false;

  /**
   * Renders one event; null for what IRC does not show or the interpreter
   * writes.
   */
  render(event: RoomEvent): Rendered | null {
    switch (event.type) {
      case "message":
        // No echo-message capability: a sender gets no copy.
        return event.own ? null : this.#say(
          memberMask(event.from, event.via),
          event.room,
          event.text,
          false,
          event.notice === true ? "NOTICE" : "PRIVMSG",
        );
      case "action":
        return event.own ? null : this.#say(
          memberMask(event.from, event.via),
          event.room,
          event.text,
          true,
        );
      case "private":
        return event.own ? null : this.#say(
          memberMask(event.from, event.via),
          event.to,
          event.text,
          false,
        );
      case "ctcp":
        // One line, cut to the limit (a CTCP is not split).
        return oneLine(
          ircTextLine(
            memberMask(event.from, event.via),
            event.notice ? "NOTICE" : "PRIVMSG",
            event.to ?? event.room ?? this.#channel,
            `${CTCP}${event.text}${CTCP}`,
          ),
        );
      case "join":
        return oneLine(
          ircLine(memberMask(event.name, event.via), "JOIN", event.room),
        );
      case "part":
        return oneLine(
          event.reason === ""
            ? ircLine(memberMask(event.name, event.via), "PART", event.room)
            : ircTextLine(
              memberMask(event.name, event.via),
              "PART",
              event.room,
              event.reason,
            ),
        );
      case "topic":
        return oneLine(
          ircTextLine(
            memberMask(event.name, event.via ?? IRC_TRANSPORT),
            "TOPIC",
            event.room,
            event.topic ?? "",
          ),
        );
      case "roomKick":
      case "youWereKicked":
        // Without a reason, the kicker's nick (RFC 2812).
        return oneLine(
          ircTextLine(
            memberMask(event.by, event.via ?? IRC_TRANSPORT),
            "KICK",
            event.room,
            event.name,
            event.reason === "" ? event.by : event.reason,
          ),
        );
      case "roomOp":
        return oneLine(
          ircLine(
            memberMask(event.by, event.via ?? IRC_TRANSPORT),
            "MODE",
            event.room,
            event.op ? "+o" : "-o",
            event.name,
          ),
        );
      case "topicLock":
        return oneLine(
          ircLine(
            memberMask(event.by, event.via ?? IRC_TRANSPORT),
            "MODE",
            event.room,
            event.locked ? "+t" : "-t",
          ),
        );
      case "leave":
        return oneLine(
          ircTextLine(
            memberMask(event.name, event.via),
            "QUIT",
            event.message ?? ircText.leftQuit,
          ),
        );
      case "removed":
        return oneLine(
          ircTextLine(
            memberMask(event.name, event.via),
            "QUIT",
            ircText.removedQuit,
          ),
        );
      case "rename":
        return oneLine(
          ircLine(memberMask(event.from, event.via), "NICK", event.to),
        );
      case "history":
        return encodeLines(
          historyNotices(
            this.#server,
            event.room ?? this.#channel,
            event.entries,
          ),
        );
      case "announcement":
        return this.#notice(ircText.announcement(event.text));
      case "kicked":
        return error(ircText.kicked(event.reason));
      case "shutdown":
        return this.#shutdown;
      case "registrationTimedOut":
        return this.#timedOut;
      case "wrongPassword":
        return this.#wrongPassword;
      case "refused":
        return this.#refused[event.reason];
      case "unavailable":
        return this.#notice(serverText.unavailable);
      case "accountNotice": {
        const text = accountNoticeText(event.notice);
        const kind = event.notice.kind;
        // The last words before the server closes the link: ERROR too.
        if (kind === "loggedInElsewhere" || kind === "banned") {
          return encodeLines([
            ...this.#noticeLines(text),
            ircTextLine(null, "ERROR", ircText.closingLink(text)),
          ]);
        }
        return this.#notice(text);
      }
      case "accountPrompt":
        // IRC logs in with SASL before registering: never asked.
        return null;
      case "roomStatus":
        return event.state === "lostPlace"
          ? error(serverText.lostPlace)
          : this.#notice(
            event.state === "split"
              ? serverText.roomSplit
              : serverText.roomWhole,
          );
      // The interpreter answers these itself, with numerics naming the
      // recipient: the welcome (001...), NICK and ERROR on QUIT (goodbye).
      case "welcome":
      case "renamed":
      case "goodbye":
      // The room's line language only: an IRC session never gets them.
      case "namePrompt":
      case "nameTaken":
      case "nameInvalid":
      case "nameReserved":
      // Room replies of the line language; IRC answers with numerics.
      case "youJoined":
      case "youLeft":
      case "currentRoom":
      case "roomProblem":
      case "rooms":
      case "roomWho":
      case "roomTopic":
      case "nameLooksLike":
      case "wrongDoor":
      case "passwordPrompt":
      case "tooManyAttempts":
      case "notFound":
      case "usage":
      case "unknownCommand":
      case "lineTooLong":
      case "who":
      case "help":
        return null;
    }
  }

  // PRIVMSGs (or NOTICEs) from `source` to `target`, as many as the text
  // needs to fit.
  #say(
    source: string,
    target: string,
    text: string,
    action: boolean,
    command = "PRIVMSG",
  ): Uint8Array {
    const head = `${ircLine(source, command, target)} :`;
    return encodeLines(
      action
        ? fitLines(`${head}${CTCP}ACTION `, text, CTCP)
        : fitLines(head, text),
    );
  }

  #notice(text: string): Uint8Array {
    return encodeLines(this.#noticeLines(text));
  }

  #noticeLines(text: string): string[] {
    return fitLines(
      `${ircLine(this.#server, "NOTICE", this.#channel)} :`,
      text,
    );
  }
}

// One line, cut to the limit: a text from another door (a topic, a
// reason, a quit message) may be longer than IRC allows.
function oneLine(line: string): Uint8Array {
  return encodeLines([clampLine(line)]);
}

function error(reason: string): Uint8Array {
  return encodeLines([ircTextLine(null, "ERROR", ircText.closingLink(reason))]);
}
