/**
 * The IRC format: the room's events as IRC lines. One instance serves a
 * whole door, so a broadcast is rendered once for every IRC user: nothing
 * here depends on who receives a line. Replies that name their recipient
 * (numerics, echoes) are the interpreter's.
 *
 * @module
 */

import type {
  HistoryEntry,
  Rendered,
  Renderer,
  RoomEvent,
} from "../../room/events.ts";
import { accountNoticeText, serverText } from "../../room/texts.ts";
import { historyStamp } from "../line/line_format.ts";
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

/** The user part that history's authors show with (their transport is gone). */
const HISTORY_USER = "chat";

/** `nick!transport@chat`: how a member of any transport shows on IRC. */
export function memberMask(nick: string, transport: string): string {
  return `${nick}!${transport}@${MEMBER_HOST}`;
}

const CTCP = "\x01";

/** Options of {@linkcode IrcFormat}. */
export interface IrcFormatOptions {
  /** The server's IRC name, the source of its notices. */
  serverName: string;
  /** The one channel, with its `#`. */
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
        return encodeLines([
          clampLine(
            ircTextLine(
              memberMask(event.from, event.via),
              event.notice ? "NOTICE" : "PRIVMSG",
              event.to ?? this.#channel,
              `${CTCP}${event.text}${CTCP}`,
            ),
          ),
        ]);
      case "join":
        return encodeLines([
          ircLine(memberMask(event.name, event.via), "JOIN", event.room),
        ]);
      case "part":
        return encodeLines([
          event.reason === ""
            ? ircLine(memberMask(event.name, event.via), "PART", event.room)
            : ircTextLine(
              memberMask(event.name, event.via),
              "PART",
              event.room,
              event.reason,
            ),
        ]);
      case "topic":
        return encodeLines([
          ircTextLine(
            memberMask(event.name, "irc"),
            "TOPIC",
            event.room,
            event.topic ?? "",
          ),
        ]);
      case "roomKick":
        return encodeLines([
          ircTextLine(
            memberMask(event.by, "irc"),
            "KICK",
            event.room,
            event.name,
            event.reason === "" ? event.name : event.reason,
          ),
        ]);
      case "roomOp":
        return encodeLines([
          ircLine(
            memberMask(event.by, "irc"),
            "MODE",
            event.room,
            event.op ? "+o" : "-o",
            event.name,
          ),
        ]);
      case "topicLock":
        return encodeLines([
          ircLine(
            memberMask(event.by, "irc"),
            "MODE",
            event.room,
            event.locked ? "+t" : "-t",
          ),
        ]);
      case "youWereKicked":
        return encodeLines([
          ircTextLine(
            memberMask(event.by, "irc"),
            "KICK",
            event.room,
            event.name,
            event.reason === "" ? event.name : event.reason,
          ),
        ]);
      case "leave":
        return encodeLines([
          ircTextLine(
            memberMask(event.name, event.via),
            "QUIT",
            event.message ?? ircText.leftQuit,
          ),
        ]);
      case "removed":
        return encodeLines([
          ircTextLine(
            memberMask(event.name, event.via),
            "QUIT",
            ircText.removedQuit,
          ),
        ]);
      case "rename":
        return encodeLines([
          ircLine(memberMask(event.from, event.via), "NICK", event.to),
        ]);
      case "history":
        return this.#history(event.entries);
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
      case "accountNotice":
        return this.#notice(accountNoticeText(event.notice));
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

  // PRIVMSGs from `source` to `target`, as many as the text needs to fit.
  #say(
    source: string,
    target: string,
    text: string,
    action: boolean,
  ): Uint8Array {
    const head = `${ircLine(source, "PRIVMSG", target)} :`;
    return encodeLines(
      action
        ? fitLines(`${head}${CTCP}ACTION `, text, CTCP)
        : fitLines(head, text),
    );
  }

  #notice(text: string): Uint8Array {
    return encodeLines(
      fitLines(`${ircLine(this.#server, "NOTICE", this.#channel)} :`, text),
    );
  }

  #history(entries: readonly HistoryEntry[]): Uint8Array {
    const now = Date.now();
    const lines: string[] = [];
    for (const entry of entries) {
      const stamp = historyStamp(entry.time, now);
      const head = `${
        ircLine(memberMask(entry.from, HISTORY_USER), "PRIVMSG", this.#channel)
      } :`;
      lines.push(
        ...fitLines(
          head,
          entry.action
            ? ircText.historyAction(stamp, entry.from, entry.text)
            : ircText.historyLine(stamp, entry.text),
        ),
      );
    }
    lines.push(
      ...fitLines(
        `${ircLine(this.#server, "NOTICE", this.#channel)} :`,
        ircText.historyEnd(entries.length),
      ),
    );
    return encodeLines(lines);
  }
}

function error(reason: string): Uint8Array {
  return encodeLines([ircTextLine(null, "ERROR", ircText.closingLink(reason))]);
}
