/**
 * The line protocol as a language: the name prompt, the password, `/commands`,
 * `@name` and `exit`, turned into calls of the room's session API. TCP, TLS
 * and the web socket speak it; what its replies look like is the renderer's
 * business (lines for TCP, JSON events for the page).
 *
 * @module
 */

import { formatUntil } from "../../room/durations.ts";
import { normalizeRoomName } from "../../room/room_names.ts";
import type { RoomOutcome, RoomRefusal } from "../../room/rooms.ts";
import { type Line, LINE_TOO_LONG } from "../../io/line_reader.ts";
import type { ClaimResult } from "../../engine/engine.ts";
import type { AccountNotice, RoomEvent } from "../../room/events.ts";
import { isExitWord, parseCommand } from "./protocol.ts";
import { stripControls } from "../../room/sanitize.ts";
import {
  checkName,
  nameKey,
  type NameRefusal,
  sameButCase,
} from "../../room/registry.ts";
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
  // A registered name waiting for its own password, and whether the name
  // waiting for the server's password is a registered one.
  #pendingAccount: string | null = null;
  #registeredName = false;
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
    if (this.#pendingAccount !== null) {
      return this.#login(session, this.#pendingAccount, text);
    }
    const { name, refusal } = checkName(text);
    // Until the password is right a taken name is answered like a free one:
    // without it no one learns who is online.
    const asking = session.needsPassword && !this.#passwordGiven;
    if (session.accountsKept && refusal === null) {
      return this.#withAccounts(session, name, asking);
    }
    const refused = nameRefused(session, name, refusal, !asking, true);
    if (refused !== null) {
      this.#refuseName(session, refused);
      return;
    }
    if (asking) {
      this.#pendingName = name;
      session.reply(PASSWORD_PROMPT);
      return;
    }
    return this.#join(session, name);
  }

  // A valid name where names can be registered: a registered one (held or
  // not: a ghost is taken over) is asked its password, the rest go on as
  // without accounts.
  async #withAccounts(
    session: MemberSession,
    name: string,
    asking: boolean,
  ): Promise<void> {
    if (session.reservedForOperator(name)) {
      this.#refuseName(session, { type: "nameReserved", name, retry: true });
      return;
    }
    if (!(await session.isRegistered(name))) {
      const refused = nameRefused(session, name, null, !asking, true);
      if (refused !== null) this.#refuseName(session, refused);
      else if (asking) {
        this.#pendingName = name;
        session.reply(PASSWORD_PROMPT);
      } else await this.#join(session, name);
      return;
    }
    if (asking) {
      this.#pendingName = name;
      this.#registeredName = true;
      session.reply(PASSWORD_PROMPT);
      return;
    }
    this.#pendingAccount = name;
    session.reply({ type: "accountPrompt", name });
  }

  // The password of a registered name: logged in, it takes the name (from
  // an older connection if need be); wrong, the name prompt again.
  async #login(
    session: MemberSession,
    name: string,
    password: string,
  ): Promise<void> {
    this.#pendingAccount = null;
    const outcome = await session.login(name, password);
    if (outcome.kind === "ok") {
      const claimed = await session.takeOver(name);
      if (claimed === "ok") session.enter({ joinMain: true });
      else if (claimed === "unavailable") {
        session.reply(UNAVAILABLE);
        session.reply(NAME_PROMPT);
      } else {this.#refuseName(session, {
          type: "nameTaken",
          name,
          retry: true,
        });}
      return;
    }
    const notice: AccountNotice = outcome.kind === "wrong"
      ? { kind: "wrongPassword", name }
      : outcome.kind === "wait"
      ? { kind: "loginDelayed", name, seconds: Math.ceil(outcome.ms / 1000) }
      : outcome.kind === "locked"
      ? {
        kind: "loginLocked",
        name,
        until: formatUntil(outcome.until, Date.now()),
      }
      : { kind: "unavailable" };
    session.reply({ type: "accountNotice", notice });
    if (++this.#attempts > session.limits.maxNameAttempts) {
      session.end("tooManyAttempts", TOO_MANY_ATTEMPTS);
      return;
    }
    session.reply(NAME_PROMPT);
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
    if (this.#registeredName) {
      this.#registeredName = false;
      this.#pendingAccount = name;
      session.reply({ type: "accountPrompt", name });
      return;
    }
    return this.#join(session, name);
  }

  #join(session: MemberSession, name: string): void | Promise<void> {
    const then = (result: ClaimResult) => {
      if (result === "ok") session.enter({ joinMain: true });
      else if (result === "unavailable") {
        session.reply(UNAVAILABLE);
        session.reply(NAME_PROMPT);
      } else {
        this.#refuseName(
          session,
          takenAnswer(session, name, true) ??
            { type: "nameTaken", name, retry: true },
        );
      }
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
        if (!session.say(command.text)) session.reply(IN_NO_ROOM);
        return;
      case "action":
        if (!session.act(command.text)) session.reply(IN_NO_ROOM);
        return;
      case "roomSay":
        if (!session.say(command.text, command.room)) {
          session.reply(notIn(command.room));
        }
        return;
      case "join":
        return this.#joinRoom(session, command.room);
      case "part": {
        const parted = session.part(command.room, command.reason);
        if (parted.kind === "problem") session.reply(problem(parted));
        else {
          session.reply({
            type: "youLeft",
            room: parted.room,
            current: session.current,
          });
        }
        return;
      }
      case "rooms":
        session.reply({ type: "rooms", rooms: session.roomList() });
        return;
      case "topic": {
        const room = session.current;
        if (room === null) session.reply(IN_NO_ROOM);
        else if (command.text === null) {
          const info = session.roomInfo(room);
          session.reply({
            type: "roomTopic",
            room,
            topic: info?.topic ?? null,
          });
        } else {
          answerRoom(session, session.setTopic(null, command.text));
        }
        return;
      }
      case "op":
        answerRoom(
          session,
          session.setOperator(null, command.name, command.op),
        );
        return;
      case "kick":
        answerRoom(
          session,
          session.kickFromRoom(null, command.name, command.reason),
        );
        return;
      case "topicLock":
        answerRoom(session, session.lockTopic(null, command.locked));
        return;
      case "usage":
        session.reply({ type: "usage", command: command.command });
        return;
      case "register":
        return this.#answer(session, session.register(command.password));
      case "password":
        return this.#answer(
          session,
          session.changePassword(command.old, command.password),
        );
      case "unregister":
        return this.#answer(session, session.unregister(command.password));
      case "moderate":
        return this.#answer(session, session.moderate(command.action));
      case "ignore":
        return this.#answer(session, session.ignore(command.name, command.on));
      case "private":
        if (session.tell(command.target, command.text) === null) {
          return this.#keep(session, command.target, command.text);
        }
        return;
      case "nick": {
        const answer = (result: ClaimResult) => {
          if (result === "ok") return;
          if (result === "unavailable") {
            session.reply(UNAVAILABLE);
            return;
          }
          const { name, refusal } = checkName(command.name);
          session.reply(
            nameRefused(session, name, refusal, true, false) ??
              (result === "invalid"
                ? { type: "nameInvalid", retry: false }
                : { type: "nameTaken", name, retry: false }),
          );
        };
        if (session.accountsKept) {
          return this.#renameChecked(session, name, command.name, answer);
        }
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
        this.#who(session, command.room);
        return;
      case "help":
        session.reply(HELP);
        return;
      case "unknown":
        session.reply({ type: "unknownCommand", word: command.word });
        return;
      case "exit":
        if (command.message !== "") session.farewell(command.message);
        session.end("exit", { type: "goodbye", name });
        return;
      case "empty":
        return;
    }
  }

  #joinRoom(session: MemberSession, raw: string): void {
    const joined = session.join(raw);
    if (joined.kind === "problem") {
      session.reply(problem(joined));
    } else if (joined.kind === "current") {
      session.reply({ type: "currentRoom", room: joined.room });
    } else {
      session.reply({
        type: "youJoined",
        room: joined.room,
        members: joined.members,
        topic: joined.topic,
      });
      const history = session.history(joined.room);
      const missed = session.missed(joined.room, history);
      if (missed !== null) {
        session.reply({
          type: "history",
          entries: missed,
          room: joined.room,
          sinceLeft: true,
        });
      } else if (history.length > 0) {
        session.reply({
          type: "history",
          entries: history,
          room: joined.room,
        });
      }
    }
  }

  // `/nick` where names can be registered: a registered name other than
  // one's own is had only by logging in to it, never by a rename.
  async #renameChecked(
    session: MemberSession,
    held: string,
    wanted: string,
    answer: (result: ClaimResult) => void,
  ): Promise<void> {
    if (
      nameKey(wanted) !== nameKey(held) && await session.isRegistered(wanted)
    ) {
      session.reply({
        type: "accountNotice",
        notice: { kind: "nameRegistered", name: wanted.trim() },
      });
      return;
    }
    answer(await session.rename(wanted));
  }

  // Replies with the notice an account operation came to.
  async #answer(
    session: MemberSession,
    notice: Promise<AccountNotice>,
  ): Promise<void> {
    session.reply({ type: "accountNotice", notice: await notice });
  }

  // A private message to no one online: kept for a registered name.
  async #keep(
    session: MemberSession,
    target: string,
    text: string,
  ): Promise<void> {
    if (await session.keepForOffline(target, text)) {
      session.reply({
        type: "accountNotice",
        notice: { kind: "keptForOffline", name: target },
      });
    } else session.reply({ type: "notFound", target });
  }

  // `/who` (the current room's members, or everyone online in no room) or
  // `/who #room`.
  #who(session: MemberSession, raw: string | null): void {
    if (raw !== null) {
      const room = normalizeRoomName(raw);
      const members = room === null ? undefined : session.roomMembers(room);
      if (room === null || members === undefined) {
        session.reply({
          type: "roomProblem",
          problem: room === null ? "invalidName" : "noSuchRoom",
          room,
        });
        return;
      }
      session.reply({
        type: "roomWho",
        room: session.roomInfo(room)?.name ?? room,
        names: members.map((member) => member.name),
        operators: session.roomInfo(room)?.operators ?? [],
      });
      return;
    }
    const room = session.current;
    if (room === null) {
      session.reply({
        type: "who",
        names: session.who().map((member) => member.name),
      });
      return;
    }
    const names = (session.roomMembers(room) ?? []).map((m) => m.name);
    const operators = session.roomInfo(room)?.operators ?? [];
    session.reply(
      operators.length === 0
        ? { type: "who", names }
        : { type: "who", names, operators },
    );
  }
}

// The reply to a refused room operation.
function problem(refusal: RoomRefusal): RoomEvent {
  return refusal.limit === undefined
    ? { type: "roomProblem", problem: refusal.problem, room: refusal.room }
    : {
      type: "roomProblem",
      problem: refusal.problem,
      room: refusal.room,
      limit: refusal.limit,
    };
}

// Nothing to say when a room operation went through: its notice reaches
// the room, the asker included.
function answerRoom(session: MemberSession, outcome: RoomOutcome): void {
  if (outcome.kind === "problem") session.reply(problem(outcome));
}

function notIn(raw: string): RoomEvent {
  const room = normalizeRoomName(raw);
  return room === null
    ? { type: "roomProblem", problem: "invalidName", room: null }
    : { type: "roomProblem", problem: "notIn", room };
}

const IN_NO_ROOM: RoomEvent = {
  type: "roomProblem",
  problem: "inNoRoom",
  room: null,
};

// The answer to a name that may not be had, or null if it may: reserved
// first, then (when `ask` allows asking the room) held by someone it would
// pass for, then the rule it breaks. A name whose skeleton someone holds is
// answered so even when it breaks a rule (`аlice` with a Cyrillic `а`):
// that it is someone else's is what the person needs to know.
function nameRefused(
  session: MemberSession,
  name: string,
  refusal: NameRefusal | null,
  ask: boolean,
  retry: boolean,
): RoomEvent | null {
  if (refusal?.rule === "reserved") {
    return { type: "nameReserved", name, retry };
  }
  const taken = ask ? takenAnswer(session, name, retry) : null;
  if (taken !== null) return taken;
  if (refusal === null) return null;
  return { type: "nameInvalid", fault: refusal, retry };
}

// Who else holds `name` or a look-alike of it, as an answer: taken (the
// same name in another case) or looks like; null if no one else does.
function takenAnswer(
  session: MemberSession,
  name: string,
  retry: boolean,
): RoomEvent | null {
  const holder = session.find(name);
  if (holder === undefined) return null;
  if (session.name !== null && nameKey(holder.name) === nameKey(session.name)) {
    return null;
  }
  return sameButCase(holder.name, name)
    ? { type: "nameTaken", name, retry }
    : { type: "nameLooksLike", name, holder: holder.name, retry };
}
