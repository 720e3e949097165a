/**
 * The line protocol as a language: the name prompt, the password, `/commands`,
 * `@name` and `exit`, turned into calls of the room's session API. TCP, TLS
 * and the web socket speak it; what its replies look like is the renderer's
 * business (lines for TCP, JSON events for the page).
 *
 * @module
 */

import { type Line, LINE_TOO_LONG } from "../../io/line_reader.ts";
import type { ClaimResult } from "../../engine/engine.ts";
import type { RoomEvent } from "../../room/events.ts";
import { isExitWord, parseCommand } from "./protocol.ts";
import { stripControls } from "../../room/sanitize.ts";
import { isReservedName, normalizeName } from "../../room/registry.ts";
import type { Interpreter, MemberSession } from "../../room/session_api.ts";

/** Options of {@linkcode LineLanguage}. */
export interface LineLanguageOptions {
  /**
   * The web chat's URL as the peer can reach it, or null without a web
   * door: the answer to a browser or curl that talks HTTP to a line door.
   */
  webUrl?: () => string | null;
}

const NAME_PROMPT: RoomEvent = { type: "namePrompt" };
const PASSWORD_PROMPT: RoomEvent = { type: "passwordPrompt" };
const NAME_INVALID: RoomEvent = { type: "nameInvalid", retry: true };
const NAME_INVALID_PLAIN: RoomEvent = { type: "nameInvalid", retry: false };
const WRONG_PASSWORD: RoomEvent = { type: "wrongPassword" };
const TOO_MANY_ATTEMPTS: RoomEvent = { type: "tooManyAttempts" };
const HELP: RoomEvent = { type: "help" };
const PRIVATE_USAGE: RoomEvent = { type: "usage", command: "private" };
const ME_USAGE: RoomEvent = { type: "usage", command: "me" };
const NICK_USAGE: RoomEvent = { type: "usage", command: "nick" };
const GOODBYE_UNNAMED: RoomEvent = { type: "goodbye", name: null };
const UNAVAILABLE: RoomEvent = { type: "unavailable" };

// Whether a connection's first line is an HTTP request's (`GET / HTTP/1.1`):
// a browser or curl pointed at the chat port, not a name.
const HTTP_REQUEST_LINE =
  /^(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP\/\d/;

/** The line protocol of one connection (README "The line protocol"). */
export class LineLanguage implements Interpreter {
  #webUrl: () => string | null;
  // A name waiting for its password.
  #pendingName: string | null = null;
  // Whether it gave the right password (asked once, not per name).
  #passwordGiven = false;
  #attempts = 0;
  // Whether it sent a line yet (the first may be an HTTP request's).
  #spoken = false;

  /** A language for one connection. */
  constructor(options: LineLanguageOptions = {}) {
    this.#webUrl = options.webUrl ?? (() => null);
  }

  start(session: MemberSession): void {
    session.reply(NAME_PROMPT);
  }

  handle(line: Line, session: MemberSession): void | Promise<void> {
    if (line === LINE_TOO_LONG) {
      session.reply({
        type: "lineTooLong",
        limit: session.limits.maxLineBytes,
      });
    } else if (session.name === null) {
      return this.#register(session, stripControls(line).trim());
    } else {
      return this.#command(session, session.name, stripControls(line));
    }
  }

  #register(session: MemberSession, text: string): void | Promise<void> {
    if (text === "") return;
    if (!this.#spoken) {
      this.#spoken = true;
      if (HTTP_REQUEST_LINE.test(text)) {
        session.end("wrongDoor", { type: "wrongDoor", webUrl: this.#webUrl() });
        return;
      }
    }
    if (isExitWord(text)) {
      session.end("exit", GOODBYE_UNNAMED);
      return;
    }
    if (this.#pendingName !== null) {
      return this.#checkPassword(session, this.#pendingName, text);
    }
    const name = normalizeName(text);
    // Until the password is right a taken name is answered like a free one:
    // without it no one learns who is online.
    const asking = session.needsPassword && !this.#passwordGiven;
    if (name === null || (!asking && session.find(name) !== undefined)) {
      this.#refuseName(
        session,
        name === null
          ? invalidName(text, true)
          : { type: "nameTaken", name, retry: true },
      );
      return;
    }
    if (asking) {
      this.#pendingName = name;
      session.reply(PASSWORD_PROMPT);
      return;
    }
    return this.#join(session, name);
  }

  #refuseName(session: MemberSession, answer: RoomEvent): void {
    if (++this.#attempts > session.limits.maxNameAttempts) {
      session.end("tooManyAttempts", TOO_MANY_ATTEMPTS);
      return;
    }
    session.reply(answer);
  }

  #checkPassword(
    session: MemberSession,
    name: string,
    given: string,
  ): void | Promise<void> {
    this.#pendingName = null;
    if (!session.checkPassword(given)) {
      session.end("wrongPassword", WRONG_PASSWORD);
      return;
    }
    this.#passwordGiven = true;
    return this.#join(session, name);
  }

  #join(session: MemberSession, name: string): void | Promise<void> {
    const then = (result: ClaimResult) => {
      if (result === "ok") session.enter();
      else if (result === "unavailable") {
        session.reply(UNAVAILABLE);
        session.reply(NAME_PROMPT);
      } else {this.#refuseName(session, {
          type: "nameTaken",
          name,
          retry: true,
        });}
    };
    const result = session.claim(name);
    if (result instanceof Promise) return result.then(then);
    then(result);
  }

  #command(
    session: MemberSession,
    name: string,
    text: string,
  ): void | Promise<void> {
    const command = parseCommand(text);
    switch (command.kind) {
      case "say":
        session.say(command.text);
        return;
      case "action":
        session.act(command.text);
        return;
      case "private":
        if (session.tell(command.target, command.text) === null) {
          session.reply({ type: "notFound", target: command.target });
        }
        return;
      case "nick": {
        const answer = (result: ClaimResult) => {
          if (result === "invalid") {
            session.reply(invalidName(command.name, false));
          } else if (result === "unavailable") session.reply(UNAVAILABLE);
          else if (result === "taken") {
            session.reply({
              type: "nameTaken",
              name: normalizeName(command.name)!,
              retry: false,
            });
          }
        };
        const result = session.rename(command.name);
        if (result instanceof Promise) return result.then(answer);
        answer(result);
        return;
      }
      case "privateUsage":
        session.reply(PRIVATE_USAGE);
        return;
      case "actionUsage":
        session.reply(ME_USAGE);
        return;
      case "nickUsage":
        session.reply(NICK_USAGE);
        return;
      case "who":
        session.reply({
          type: "who",
          names: session.who().map((member) => member.name),
        });
        return;
      case "help":
        session.reply(HELP);
        return;
      case "unknown":
        session.reply({ type: "unknownCommand", word: command.word });
        return;
      case "exit":
        session.end("exit", { type: "goodbye", name });
        return;
      case "empty":
        return;
    }
  }
}

// Why a name that normalizeName refused was refused.
function invalidName(raw: string, retry: boolean): RoomEvent {
  if (!isReservedName(raw)) return retry ? NAME_INVALID : NAME_INVALID_PLAIN;
  return { type: "nameReserved", name: raw.trim(), retry };
}
