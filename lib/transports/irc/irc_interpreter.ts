/**
 * The IRC language of one connection: registration (CAP, PASS, NICK,
 * USER), the one channel, messages, queries, and keep-alive PINGs, mapped
 * onto the room's {@linkcode MemberSession}. Away state, PING timers and
 * CTCP are the transport's own; the room never sees them.
 *
 * @module
 */

import { type Line, LINE_TOO_LONG } from "../../io/line_reader.ts";
import type {
  ClaimResult,
  Interpreter,
  MemberInfo,
  MemberSession,
} from "../../room/chat_room.ts";
import type { RoomEvent } from "../../room/events.ts";
import { stripControls } from "../../room/protocol.ts";
import {
  MAX_NAME_LENGTH,
  nameKey,
  normalizeName,
} from "../../room/registry.ts";
import { reasonText } from "../../room/texts.ts";
import { IRC_TRANSPORT, MEMBER_HOST, memberMask } from "./irc_format.ts";
import {
  asciiEqual,
  asciiLower,
  byteLength,
  encodeLines,
  ircLine,
  ircTextLine,
  MAX_LINE_BYTES,
  parseMessage,
  splitText,
} from "./irc_message.ts";
import { NUMERICS } from "./irc_numerics.ts";
import { IRC_VERSION, ircReason, ircText } from "./irc_texts.ts";

/** What every connection of one door shares: its settings. */
export interface IrcContext {
  /** The server's IRC name. */
  readonly serverName: string;
  /** The one channel, with its `#`. */
  readonly channel: string;
  /** The topic, or null for none. */
  readonly topic: string | null;
  /** The message of the day, or null for none (422). */
  readonly motd: readonly string[] | null;
  /** The network's name for 001 and 005. */
  readonly network: string;
  /** When the door started, in ms since the epoch (003, 329). */
  readonly startedAt: number;
  /** Silence after which the server PINGs the client. */
  readonly pingIntervalMs: number;
  /** Silence after which the client is dropped. */
  readonly pingTimeoutMs: number;
  /** Wait before a wrong password's close, so guessing is slow. */
  readonly wrongPasswordDelayMs: number;
}

/** Options of {@linkcode IrcInterpreter}. */
export interface IrcInterpreterOptions {
  /** The door's settings. */
  context: IrcContext;
  /** Queues bytes to this connection. */
  deliver: (bytes: Uint8Array) => void;
  /** Ends the connection at once (before the room gave us a session). */
  cut: (reason: string) => void;
}

/** The longest away message kept, in bytes. */
const AWAY_BYTES = 200;
/** Targets of one PRIVMSG or NOTICE, as 005 says. */
const MAX_TARGETS = 4;
const CHANNEL_LENGTH = 50;

// Rendered by the IRC format as nothing: the interpreter writes its own
// ERROR line first, then ends the session with this as its last notice.
const QUIET_END: RoomEvent = { type: "goodbye", name: null };
const WRONG_PASSWORD: RoomEvent = { type: "wrongPassword" };

// Numerics whose last parameter is a token, not a text: written without
// the trailing `:` (the rest always have it, as clients expect).
const TOKEN_NUMERICS: ReadonlySet<string> = new Set([
  NUMERICS.myInfo.code,
  NUMERICS.umodeIs.code,
  NUMERICS.channelModeIs.code,
  NUMERICS.creationTime.code,
]);

// Commands allowed before registration; the rest get 451.
const BEFORE_REGISTRATION = new Set([
  "CAP",
  "PASS",
  "NICK",
  "USER",
  "PING",
  "PONG",
  "QUIT",
]);

// mIRC formatting: colours (with their digits), hex colours, and the
// toggles. Removed, so that the others read plain text.
const FORMATTING =
  // deno-lint-ignore no-control-regex
  /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** IRC text made plain: formatting codes and control characters removed. */
export function plainText(text: string): string {
  return stripControls(text.replace(FORMATTING, ""));
}

/** A CTCP request or reply: `\x01COMMAND args\x01`. */
interface Ctcp {
  command: string;
  args: string;
}

function parseCtcp(text: string): Ctcp | null {
  if (text.charCodeAt(0) !== 1) return null;
  let body = text.slice(1);
  if (body.endsWith("\x01")) body = body.slice(0, -1);
  const space = body.indexOf(" ");
  return space === -1 ? { command: body.toUpperCase(), args: "" } : {
    command: body.slice(0, space).toUpperCase(),
    args: body.slice(space + 1),
  };
}

// `*` and `?` wildcards, as WHO masks use them, without regard to case.
// Linear backtracking on the last `*` only: a mask of many stars cannot
// make a regular expression run for ever.
function globTest(mask: string, name: string): boolean {
  const p = mask.toLowerCase();
  const s = name.toLowerCase();
  let i = 0, j = 0, star = -1, mark = 0;
  while (i < s.length) {
    if (j < p.length && (p[j] === "?" || p[j] === s[i])) {
      i++;
      j++;
    } else if (j < p.length && p[j] === "*") {
      star = j++;
      mark = i;
    } else if (star !== -1) {
      j = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j] === "*") j++;
  return j === p.length;
}

// The IRC state of a member, for other IRC sessions that look at it.
function ircPeer(info: MemberInfo): IrcInterpreter | null {
  const interpreter = info.connection?.interpreter;
  return interpreter instanceof IrcInterpreter ? interpreter : null;
}

/** Interprets the lines of one IRC connection. */
export class IrcInterpreter implements Interpreter {
  /** The away message, or null when not away. */
  away: string | null = null;
  /** The real name given with USER. */
  realname = "";
  /** When the session registered, in seconds since the epoch. */
  signonSeconds = 0;
  /** When the user last spoke, in ms (performance clock), for WHOIS idle. */
  lastSpokeAt: number = performance.now();
  #context: IrcContext;
  #deliver: (bytes: Uint8Array) => void;
  #cut: (reason: string) => void;
  #session: MemberSession | null = null;
  #nick: string | null = null;
  #user: string | null = null;
  #password: string | null = null;
  // Whether the right password was given: until then a taken nick is not
  // told (433), or anyone could list who is online.
  #passwordOk = false;
  #negotiating = false;
  #invisible = false;
  #heardAt = performance.now();
  #pinged = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  // Set once a wrong password was given: nothing more is read.
  #rejected = false;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates the interpreter of one connection and starts its PING timer. */
  constructor(options: IrcInterpreterOptions) {
    this.#context = options.context;
    this.#deliver = options.deliver;
    this.#cut = options.cut;
    this.#schedule(this.#context.pingIntervalMs);
  }

  /** Stops the PING timer; the connection closed. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
  }

  /** Handles one line from the client. */
  handle(line: Line, session: MemberSession): void | Promise<void> {
    this.#session = session;
    if (this.#rejected) return;
    this.#heardAt = performance.now();
    this.#pinged = false;
    if (line === LINE_TOO_LONG) {
      this.#send(
        this.#numeric(NUMERICS.inputTooLong, NUMERICS.inputTooLong.text),
      );
      return;
    }
    const message = parseMessage(line);
    if (message === null) return;
    const { command, params } = message;
    if (session.name === null && !BEFORE_REGISTRATION.has(command)) {
      this.#send(
        this.#numeric(NUMERICS.notRegistered, NUMERICS.notRegistered.text),
      );
      return;
    }
    switch (command) {
      case "CAP":
        return this.#cap(params);
      case "PASS":
        return this.#pass(params);
      case "NICK":
        return this.#nickCommand(params);
      case "USER":
        return this.#userCommand(params);
      case "PING":
        return this.#ping(params);
      case "PONG":
        return;
      case "QUIT":
        return this.#quit(params[0] ?? "");
      case "JOIN":
        return this.#join(params);
      case "PART":
        return this.#part(params);
      case "PRIVMSG":
      case "NOTICE":
        return this.#message(command, params);
      case "MODE":
        return this.#mode(params);
      case "WHO":
        return this.#who(params);
      case "WHOIS":
        return this.#whois(params);
      case "NAMES":
        return this.#names(params);
      case "LIST":
        return this.#list(params);
      case "TOPIC":
        return this.#topic(params);
      case "AWAY":
        return this.#awayCommand(params);
      case "ISON":
        return this.#ison(params);
      case "USERHOST":
        return this.#userhost(params);
      case "MOTD":
        return this.#send(...this.#motd());
      default:
        this.#send(
          this.#numeric(
            NUMERICS.unknownCommand,
            command,
            NUMERICS.unknownCommand.text,
          ),
        );
    }
  }

  // --- Output -------------------------------------------------------------

  get #me(): string {
    return this.#session?.name ?? "*";
  }

  get #mask(): string {
    return memberMask(this.#me, IRC_TRANSPORT);
  }

  // A numeric reply to this client: `:server CODE nick params...`.
  #numeric(numeric: { code: string }, ...params: string[]): string {
    const write = TOKEN_NUMERICS.has(numeric.code) ? ircLine : ircTextLine;
    return write(this.#context.serverName, numeric.code, this.#me, ...params);
  }

  // Queues lines, each cut to the limit if a client's long parameter (a
  // nick that does not exist, say) would make it longer.
  #send(...lines: string[]): void {
    if (lines.length === 0) return;
    this.#deliver(encodeLines(lines.map(clampLine)));
  }

  // Lines `head` + items joined by spaces, as many as fit.
  #packed(head: string, items: readonly string[]): string[] {
    const room = MAX_LINE_BYTES - byteLength(head);
    const lines: string[] = [];
    let current = "";
    let bytes = 0;
    for (const item of items) {
      const size = byteLength(item);
      if (current !== "" && bytes + 1 + size > room) {
        lines.push(head + current);
        current = "";
        bytes = 0;
      }
      current = current === "" ? item : `${current} ${item}`;
      bytes += (bytes === 0 ? 0 : 1) + size;
    }
    lines.push(head + current);
    return lines;
  }

  // --- Registration -------------------------------------------------------

  #cap(params: string[]): void | Promise<void> {
    const sub = (params[0] ?? "").toUpperCase();
    const registered = this.#session!.name !== null;
    switch (sub) {
      case "":
        this.#send(
          this.#numeric(
            NUMERICS.needMoreParams,
            "CAP",
            NUMERICS.needMoreParams.text,
          ),
        );
        return;
      case "LS":
      case "LIST":
        // No capabilities: an empty list, and registration waits for END.
        if (sub === "LS" && !registered) this.#negotiating = true;
        this.#send(
          ircTextLine(this.#context.serverName, "CAP", this.#me, sub, ""),
        );
        return;
      case "REQ":
        if (!registered) this.#negotiating = true;
        this.#send(
          ircTextLine(
            this.#context.serverName,
            "CAP",
            this.#me,
            "NAK",
            params[1] ?? "",
          ),
        );
        return;
      case "END":
        if (!registered) {
          this.#negotiating = false;
          return this.#register();
        }
        return;
      default:
        this.#send(
          this.#numeric(
            NUMERICS.invalidCapCmd,
            params[0],
            NUMERICS.invalidCapCmd.text,
          ),
        );
    }
  }

  #pass(params: string[]): void {
    if (this.#session!.name !== null) {
      this.#send(
        this.#numeric(
          NUMERICS.alreadyRegistered,
          NUMERICS.alreadyRegistered.text,
        ),
      );
    } else if (params.length === 0) {
      this.#send(
        this.#numeric(
          NUMERICS.needMoreParams,
          "PASS",
          NUMERICS.needMoreParams.text,
        ),
      );
    } else {
      this.#password = params[0];
      this.#passwordOk = this.#session!.checkPassword(params[0]);
    }
  }

  #nickCommand(params: string[]): void | Promise<void> {
    const session = this.#session!;
    const wanted = params[0] ?? "";
    if (wanted === "") {
      this.#send(
        this.#numeric(NUMERICS.noNicknameGiven, NUMERICS.noNicknameGiven.text),
      );
      return;
    }
    const name = normalizeName(wanted);
    if (name === null) {
      this.#send(
        this.#numeric(
          NUMERICS.erroneousNickname,
          wanted,
          NUMERICS.erroneousNickname.text,
        ),
      );
      return;
    }
    if (session.name === null) {
      const told = !session.needsPassword || this.#passwordOk;
      if (told && session.find(name) !== undefined) {
        this.#send(
          this.#numeric(
            NUMERICS.nicknameInUse,
            name,
            NUMERICS.nicknameInUse.text,
          ),
        );
        return;
      }
      // Held only once registration completes (and the password is right).
      this.#nick = name;
      return this.#register();
    }
    const before = this.#mask;
    if (name === session.name) return;
    const renamed = session.rename(name);
    if (renamed instanceof Promise) {
      return renamed.then((result) =>
        this.#afterRename(before, name, wanted, result)
      );
    }
    this.#afterRename(before, name, wanted, renamed);
  }

  #afterRename(
    before: string,
    name: string,
    wanted: string,
    result: ClaimResult,
  ): void {
    const session = this.#session!;
    if (result === "ok") {
      this.#send(ircLine(before, "NICK", session.name ?? name));
    } else if (result === "taken") {
      this.#send(
        this.#numeric(
          NUMERICS.nicknameInUse,
          name,
          NUMERICS.nicknameInUse.text,
        ),
      );
    } else {
      this.#send(
        this.#numeric(
          NUMERICS.erroneousNickname,
          wanted,
          NUMERICS.erroneousNickname.text,
        ),
      );
    }
  }

  #userCommand(params: string[]): void | Promise<void> {
    if (this.#session!.name !== null) {
      this.#send(
        this.#numeric(
          NUMERICS.alreadyRegistered,
          NUMERICS.alreadyRegistered.text,
        ),
      );
      return;
    }
    if (params.length < 4 || params[0] === "") {
      this.#send(
        this.#numeric(
          NUMERICS.needMoreParams,
          "USER",
          NUMERICS.needMoreParams.text,
        ),
      );
      return;
    }
    this.#user = params[0];
    this.realname = plainText(params[3]).slice(0, 100);
    return this.#register();
  }

  // Completes registration once NICK, USER and CAP END (if CAP began) came.
  #register(): void | Promise<void> {
    const session = this.#session!;
    const nick = this.#nick;
    if (
      session.name !== null || nick === null || this.#user === null ||
      this.#negotiating
    ) {
      return;
    }
    if (session.needsPassword && !session.checkPassword(this.#password ?? "")) {
      this.#send(
        this.#numeric(NUMERICS.passwdMismatch, NUMERICS.passwdMismatch.text),
      );
      // As on TCP: the close waits a little, so a guesser is slowed.
      this.#rejected = true;
      this.#lingerTimer = setTimeout(() => {
        this.#lingerTimer = undefined;
        session.end(reasonText.wrongPassword, WRONG_PASSWORD);
      }, this.#context.wrongPasswordDelayMs);
      return;
    }
    this.#passwordOk = true;
    const claimed = session.claim(nick);
    if (claimed instanceof Promise) {
      return claimed.then((result) => this.#afterClaim(nick, result));
    }
    this.#afterClaim(nick, claimed);
  }

  #afterClaim(nick: string, result: ClaimResult): void {
    if (result !== "ok") {
      // Someone took it since NICK: the client picks another.
      this.#nick = null;
      this.#send(
        result === "taken"
          ? this.#numeric(
            NUMERICS.nicknameInUse,
            nick,
            NUMERICS.nicknameInUse.text,
          )
          : this.#numeric(
            NUMERICS.erroneousNickname,
            nick,
            NUMERICS.erroneousNickname.text,
          ),
      );
      return;
    }
    this.signonSeconds = Math.floor(Date.now() / 1000);
    this.#send(...this.#welcome());
  }

  #welcome(): string[] {
    const context = this.#context;
    const server = context.serverName;
    const created = new Date(context.startedAt).toUTCString();
    const tokens = [
      "AWAYLEN=" + AWAY_BYTES,
      "CASEMAPPING=ascii",
      "CHANLIMIT=#:1",
      "CHANMODES=b,,,nt",
      "CHANNELLEN=" + CHANNEL_LENGTH,
      "CHANTYPES=#",
      "NETWORK=" + context.network,
      "NICKLEN=" + MAX_NAME_LENGTH,
      "PREFIX=",
      `TARGMAX=PRIVMSG:${MAX_TARGETS},NOTICE:${MAX_TARGETS},WHOIS:1`,
      "TOPICLEN=390",
    ];
    const lines = [
      this.#numeric(
        NUMERICS.welcome,
        NUMERICS.welcome.text(context.network, this.#mask),
      ),
      this.#numeric(
        NUMERICS.yourHost,
        NUMERICS.yourHost.text(server, IRC_VERSION),
      ),
      this.#numeric(NUMERICS.created, NUMERICS.created.text(created)),
      this.#numeric(NUMERICS.myInfo, server, IRC_VERSION, "i", "bnt"),
    ];
    // At most 13 tokens a line, as the 005 draft asks.
    for (let i = 0; i < tokens.length; i += 13) {
      lines.push(
        this.#numeric(
          NUMERICS.isupport,
          ...tokens.slice(i, i + 13),
          NUMERICS.isupport.text,
        ),
      );
    }
    // The hint before the MOTD: clients take the MOTD's end as the end of
    // registration, and scripts often wait for it.
    lines.push(
      ircTextLine(
        server,
        "NOTICE",
        this.#me,
        ircText.joinHint(context.channel),
      ),
    );
    lines.push(...this.#motd());
    return lines;
  }

  #motd(): string[] {
    const { motd, serverName } = this.#context;
    if (motd === null || motd.length === 0) {
      return [this.#numeric(NUMERICS.noMotd, NUMERICS.noMotd.text)];
    }
    const lines = [
      this.#numeric(NUMERICS.motdStart, NUMERICS.motdStart.text(serverName)),
    ];
    const head = this.#numeric(NUMERICS.motd, "- x");
    const headBytes = byteLength(head) - 1;
    for (const text of motd) {
      for (
        const piece of splitText(plainText(text), MAX_LINE_BYTES - headBytes)
      ) {
        lines.push(this.#numeric(NUMERICS.motd, `- ${piece}`));
      }
    }
    lines.push(this.#numeric(NUMERICS.endOfMotd, NUMERICS.endOfMotd.text));
    return lines;
  }

  // --- Keep-alive ---------------------------------------------------------

  #ping(params: string[]): void {
    const token = params[0];
    if (token === undefined || token === "") {
      this.#send(this.#numeric(NUMERICS.noOrigin, NUMERICS.noOrigin.text));
      return;
    }
    const server = this.#context.serverName;
    this.#send(ircTextLine(server, "PONG", server, token));
  }

  #schedule(ms: number): void {
    if (this.#disposed) return;
    this.#timer = setTimeout(() => this.#check(), Math.max(1, ms));
  }

  // Any line counts as an answer; a silent client is PINGed, then dropped.
  #check(): void {
    this.#timer = undefined;
    const { pingIntervalMs, pingTimeoutMs, serverName } = this.#context;
    const silent = performance.now() - this.#heardAt;
    if (silent >= pingTimeoutMs) {
      const session = this.#session;
      if (session === null) {
        this.#cut(ircReason.pingTimeout);
        return;
      }
      this.#send(
        ircTextLine(
          null,
          "ERROR",
          ircText.closingLink(
            ircText.pingTimeout(Math.round(pingTimeoutMs / 1000)),
          ),
        ),
      );
      session.end(ircReason.pingTimeout, QUIET_END);
      return;
    }
    if (silent >= pingIntervalMs) {
      if (!this.#pinged) {
        this.#pinged = true;
        this.#send(ircLine(null, "PING", serverName));
      }
      this.#schedule(pingTimeoutMs - silent);
      return;
    }
    this.#schedule(pingIntervalMs - silent);
  }

  #quit(message: string): void {
    const reason = ircText.quitReason(plainText(message));
    this.#send(
      ircTextLine(
        null,
        "ERROR",
        ircText.closingLink(`${this.#me} (${reason})`),
      ),
    );
    this.#session!.end(reasonText.exit, QUIET_END);
  }

  // --- The channel --------------------------------------------------------

  #isChannel(name: string): boolean {
    return asciiEqual(name, this.#context.channel);
  }

  #noSuchChannel(name: string): string {
    return this.#numeric(
      NUMERICS.noSuchChannel,
      name,
      NUMERICS.noSuchChannel.text,
    );
  }

  #needMore(command: string): string {
    return this.#numeric(
      NUMERICS.needMoreParams,
      command,
      NUMERICS.needMoreParams.text,
    );
  }

  #join(params: string[]): void {
    const list = params[0] ?? "";
    if (list === "") {
      this.#send(this.#needMore("JOIN"));
      return;
    }
    if (list === "0") {
      this.#leaveChannel(ircText.partDefault);
      return;
    }
    for (const name of list.split(",")) {
      if (name === "") continue;
      if (this.#isChannel(name)) this.#enterChannel();
      else this.#send(this.#noSuchChannel(name));
    }
  }

  #enterChannel(): void {
    const session = this.#session!;
    if (session.present) return;
    const { channel, topic } = this.#context;
    const names = session.who().map((member) => member.name);
    names.push(session.name!);
    const lines = [ircLine(this.#mask, "JOIN", channel)];
    if (topic !== null) {
      lines.push(this.#numeric(NUMERICS.topic, channel, topic));
    }
    lines.push(...this.#namesLines(names));
    // Before entering: the room sends history next, and it must follow
    // the JOIN, or the client shows it outside the channel.
    this.#send(...lines);
    session.enter();
  }

  #namesLines(names: readonly string[]): string[] {
    const channel = this.#context.channel;
    // The head with an empty trailing parameter, names appended to it.
    const head = this.#numeric(NUMERICS.namReply, "=", channel, "");
    return [
      ...this.#packed(head, names),
      this.#numeric(NUMERICS.endOfNames, channel, NUMERICS.endOfNames.text),
    ];
  }

  #part(params: string[]): void {
    const list = params[0] ?? "";
    if (list === "") {
      this.#send(this.#needMore("PART"));
      return;
    }
    for (const name of list.split(",")) {
      if (name === "") continue;
      if (!this.#isChannel(name)) {
        this.#send(this.#noSuchChannel(name));
      } else if (!this.#session!.present) {
        this.#send(
          this.#numeric(
            NUMERICS.notOnChannel,
            name,
            NUMERICS.notOnChannel.text,
          ),
        );
      } else {
        this.#leaveChannel(plainText(params[1] ?? ""));
      }
    }
  }

  #leaveChannel(reason: string): void {
    const session = this.#session!;
    if (!session.present) return;
    const channel = this.#context.channel;
    this.#send(
      reason === ""
        ? ircTextLine(this.#mask, "PART", channel)
        : ircTextLine(this.#mask, "PART", channel, reason),
    );
    session.leave();
  }

  // --- Messages -----------------------------------------------------------

  #message(command: string, params: string[]): void | Promise<void> {
    const targets = params[0] ?? "";
    const text = params[1] ?? "";
    if (targets === "") {
      this.#send(
        this.#numeric(NUMERICS.noRecipient, NUMERICS.noRecipient.text(command)),
      );
      return;
    }
    if (text === "") {
      this.#send(
        this.#numeric(NUMERICS.noTextToSend, NUMERICS.noTextToSend.text),
      );
      return;
    }
    this.lastSpokeAt = performance.now();
    return this.#eachTarget(command, distinctTargets(targets), text, 0);
  }

  // Sends to targets[i...]: the line paid for the first, each other one
  // takes a flood token of its own, and waits for it as a line would.
  #eachTarget(
    command: string,
    targets: readonly string[],
    text: string,
    from: number,
  ): void | Promise<void> {
    for (let i = from; i < targets.length; i++) {
      if (i > 0) {
        const paid = this.#session!.charge();
        if (paid instanceof Promise) {
          return paid.then((going) => {
            if (!going) return;
            this.#toTarget(command, targets[i], text);
            return this.#eachTarget(command, targets, text, i + 1);
          });
        }
        if (!paid) return;
      }
      this.#toTarget(command, targets[i], text);
    }
  }

  #toTarget(command: string, target: string, text: string): void {
    if (target.startsWith("#")) this.#toChannel(command, target, text);
    else this.#toNick(command, target, text);
  }

  #toChannel(command: string, target: string, text: string): void {
    const session = this.#session!;
    if (!this.#isChannel(target)) {
      this.#send(this.#noSuchChannel(target));
      return;
    }
    if (!session.present) {
      this.#send(
        this.#numeric(
          NUMERICS.cannotSendToChan,
          target,
          NUMERICS.cannotSendToChan.text,
        ),
      );
      return;
    }
    const ctcp = parseCtcp(text);
    if (ctcp === null) {
      const plain = plainText(text);
      if (plain.trim() === "") {
        this.#send(
          this.#numeric(NUMERICS.noTextToSend, NUMERICS.noTextToSend.text),
        );
        return;
      }
      // NOTICE to the channel reads the same as PRIVMSG elsewhere.
      session.say(plain);
      return;
    }
    if (ctcp.command === "ACTION") {
      const plain = plainText(ctcp.args);
      if (plain.trim() !== "") session.act(plain);
      return;
    }
    // Other CTCPs are client machinery: only the channel's IRC users see them.
    const bytes = encodeLines([
      clampLine(
        ircTextLine(this.#mask, command, this.#context.channel, ctcpText(ctcp)),
      ),
    ]);
    for (const member of session.who()) {
      if (member.name !== session.name && ircPeer(member) !== null) {
        member.connection?.deliver(bytes);
      }
    }
  }

  #toNick(command: string, target: string, text: string): void {
    const session = this.#session!;
    const found = session.find(target);
    if (found === undefined) {
      this.#send(
        this.#numeric(NUMERICS.noSuchNick, target, NUMERICS.noSuchNick.text),
      );
      return;
    }
    const peer = ircPeer(found);
    const ctcp = parseCtcp(text);
    if (ctcp !== null && ctcp.command !== "ACTION") {
      this.#ctcpTo(command, found, peer, ctcp);
      return;
    }
    const plain = ctcp === null
      ? plainText(text)
      : ircText.privateAction(session.name!, plainText(ctcp.args));
    if (plain.trim() === "") {
      this.#send(
        this.#numeric(NUMERICS.noTextToSend, NUMERICS.noTextToSend.text),
      );
      return;
    }
    if (command === "PRIVMSG" && peer?.away != null) {
      this.#send(this.#numeric(NUMERICS.away, found.name, peer.away));
    }
    if (session.tell(found.name, plain) === null) {
      this.#send(
        this.#numeric(NUMERICS.noSuchNick, target, NUMERICS.noSuchNick.text),
      );
    }
  }

  // A CTCP to one member: passed on to an IRC client, answered by the server
  // for a member of another transport (VERSION, PING), refused otherwise.
  #ctcpTo(
    command: string,
    found: MemberInfo,
    peer: IrcInterpreter | null,
    ctcp: Ctcp,
  ): void {
    if (peer !== null) {
      found.connection?.deliver(
        encodeLines([
          clampLine(
            ircTextLine(this.#mask, command, found.name, ctcpText(ctcp)),
          ),
        ]),
      );
      return;
    }
    // A reply (NOTICE) is never answered, or two servers could loop.
    if (command !== "PRIVMSG") return;
    const source = memberMask(found.name, found.transport);
    if (ctcp.command === "VERSION") {
      this.#send(
        ircTextLine(
          source,
          "NOTICE",
          this.#me,
          ctcpText({
            command: "VERSION",
            args: ircText.versionReply(found.transport),
          }),
        ),
      );
    } else if (ctcp.command === "PING") {
      this.#send(ircTextLine(source, "NOTICE", this.#me, ctcpText(ctcp)));
    } else {
      this.#send(
        ircTextLine(
          this.#context.serverName,
          "NOTICE",
          this.#me,
          ircText.ctcpNotDelivered(found.name, ctcp.command),
        ),
      );
    }
  }

  // --- Queries ------------------------------------------------------------

  #mode(params: string[]): void {
    const session = this.#session!;
    const target = params[0] ?? "";
    const modes = params[1] ?? "";
    if (target === "") {
      this.#send(this.#needMore("MODE"));
      return;
    }
    if (target.startsWith("#")) {
      if (!this.#isChannel(target)) {
        this.#send(this.#noSuchChannel(target));
      } else if (modes === "") {
        const channel = this.#context.channel;
        this.#send(
          this.#numeric(NUMERICS.channelModeIs, channel, "+nt"),
          this.#numeric(
            NUMERICS.creationTime,
            channel,
            String(Math.floor(this.#context.startedAt / 1000)),
          ),
        );
      } else if (/^[+-]?b+$/.test(modes) && params.length === 2) {
        this.#send(
          this.#numeric(
            NUMERICS.endOfBanList,
            this.#context.channel,
            NUMERICS.endOfBanList.text,
          ),
        );
      } else {
        this.#send(
          this.#numeric(
            NUMERICS.chanOpPrivsNeeded,
            this.#context.channel,
            NUMERICS.chanOpPrivsNeeded.text,
          ),
        );
      }
      return;
    }
    if (nameKey(target) !== nameKey(session.name!)) {
      this.#send(
        session.find(target) === undefined
          ? this.#numeric(NUMERICS.noSuchNick, target, NUMERICS.noSuchNick.text)
          : this.#numeric(
            NUMERICS.usersDontMatch,
            NUMERICS.usersDontMatch.text,
          ),
      );
      return;
    }
    if (modes === "") {
      this.#send(this.#numeric(NUMERICS.umodeIs, this.#invisible ? "+i" : "+"));
      return;
    }
    let adding = true;
    let unknown = false;
    const before = this.#invisible;
    for (const flag of modes) {
      if (flag === "+") adding = true;
      else if (flag === "-") adding = false;
      else if (flag === "i") this.#invisible = adding;
      else unknown = true;
    }
    const lines: string[] = [];
    if (this.#invisible !== before) {
      lines.push(
        ircLine(
          session.name!,
          "MODE",
          session.name!,
          this.#invisible ? "+i" : "-i",
        ),
      );
    }
    if (unknown) {
      lines.push(
        this.#numeric(
          NUMERICS.umodeUnknownFlag,
          NUMERICS.umodeUnknownFlag.text,
        ),
      );
    }
    this.#send(...lines);
  }

  #whoLine(member: MemberInfo, channel: string): string {
    const peer = ircPeer(member);
    const flag = peer?.away != null ? "G" : "H";
    return this.#numeric(
      NUMERICS.whoReply,
      channel,
      member.transport,
      MEMBER_HOST,
      this.#context.serverName,
      member.name,
      flag,
      `0 ${peer === null ? member.name : peer.realname || member.name}`,
    );
  }

  #who(params: string[]): void {
    const session = this.#session!;
    const mask = params[0] ?? "*";
    const channel = this.#context.channel;
    const lines: string[] = [];
    if (this.#isChannel(mask) || mask === "*" || mask === "0") {
      for (const member of session.who()) {
        lines.push(this.#whoLine(member, channel));
      }
    } else if (!mask.startsWith("#")) {
      if (/[*?]/.test(mask)) {
        for (const member of session.who()) {
          if (globTest(mask, member.name)) {
            lines.push(this.#whoLine(member, channel));
          }
        }
      } else {
        const found = session.find(mask);
        if (found !== undefined) {
          lines.push(this.#whoLine(found, found.present ? channel : "*"));
        }
      }
    }
    lines.push(this.#numeric(NUMERICS.endOfWho, mask, NUMERICS.endOfWho.text));
    this.#send(...lines);
  }

  #whois(params: string[]): void {
    const session = this.#session!;
    // `WHOIS nick` or `WHOIS server nick` (irssi's /whois nick nick).
    const target = (params.length >= 2 ? params[1] : params[0] ?? "")
      .split(",")[0];
    if (target === "") {
      this.#send(
        this.#numeric(NUMERICS.noNicknameGiven, NUMERICS.noNicknameGiven.text),
      );
      return;
    }
    const found = session.find(target);
    const end = this.#numeric(
      NUMERICS.endOfWhois,
      found?.name ?? target,
      NUMERICS.endOfWhois.text,
    );
    if (found === undefined) {
      this.#send(
        this.#numeric(NUMERICS.noSuchNick, target, NUMERICS.noSuchNick.text),
        end,
      );
      return;
    }
    const peer = ircPeer(found);
    const name = found.name;
    const lines = [
      this.#numeric(
        NUMERICS.whoisUser,
        name,
        found.transport,
        MEMBER_HOST,
        "*",
        peer === null ? name : peer.realname || name,
      ),
    ];
    if (found.present) {
      lines.push(
        this.#numeric(NUMERICS.whoisChannels, name, this.#context.channel),
      );
    }
    lines.push(
      this.#numeric(
        NUMERICS.whoisServer,
        name,
        this.#context.serverName,
        ircText.serverInfo,
      ),
    );
    if (peer === null) {
      lines.push(
        this.#numeric(
          NUMERICS.whoisSpecial,
          name,
          NUMERICS.whoisSpecial.text(found.transport),
        ),
      );
    } else {
      if (peer.away !== null) {
        lines.push(this.#numeric(NUMERICS.away, name, peer.away));
      }
      lines.push(
        this.#numeric(
          NUMERICS.whoisIdle,
          name,
          String(Math.floor((performance.now() - peer.lastSpokeAt) / 1000)),
          String(peer.signonSeconds),
          NUMERICS.whoisIdle.text,
        ),
      );
    }
    lines.push(end);
    this.#send(...lines);
  }

  #names(params: string[]): void {
    const list = params[0] ?? this.#context.channel;
    const lines: string[] = [];
    for (const name of list.split(",")) {
      if (name === "") continue;
      if (this.#isChannel(name)) {
        lines.push(
          ...this.#namesLines(
            this.#session!.who().map((member) => member.name),
          ),
        );
      } else {
        lines.push(
          this.#numeric(NUMERICS.endOfNames, name, NUMERICS.endOfNames.text),
        );
      }
    }
    this.#send(...lines);
  }

  #list(params: string[]): void {
    const { channel, topic } = this.#context;
    const wanted = params[0] ?? "";
    const lines = [
      this.#numeric(NUMERICS.listStart, "Channel", NUMERICS.listStart.text),
    ];
    if (
      wanted === "" || wanted.split(",").some((name) => this.#isChannel(name))
    ) {
      lines.push(
        this.#numeric(
          NUMERICS.list,
          channel,
          String(this.#session!.who().length),
          topic ?? "",
        ),
      );
    }
    lines.push(this.#numeric(NUMERICS.listEnd, NUMERICS.listEnd.text));
    this.#send(...lines);
  }

  #topic(params: string[]): void {
    const target = params[0] ?? "";
    const { channel, topic } = this.#context;
    if (target === "") {
      this.#send(this.#needMore("TOPIC"));
    } else if (!this.#isChannel(target)) {
      this.#send(this.#noSuchChannel(target));
    } else if (params.length >= 2) {
      this.#send(
        this.#numeric(
          NUMERICS.chanOpPrivsNeeded,
          channel,
          NUMERICS.chanOpPrivsNeeded.text,
        ),
      );
    } else if (topic === null) {
      this.#send(
        this.#numeric(NUMERICS.noTopic, channel, NUMERICS.noTopic.text),
      );
    } else {
      this.#send(this.#numeric(NUMERICS.topic, channel, topic));
    }
  }

  #awayCommand(params: string[]): void {
    const message = plainText(params[0] ?? "").trim();
    if (message === "") {
      this.away = null;
      this.#send(this.#numeric(NUMERICS.unaway, NUMERICS.unaway.text));
    } else {
      this.away = splitText(message, AWAY_BYTES)[0];
      this.#send(this.#numeric(NUMERICS.nowAway, NUMERICS.nowAway.text));
    }
  }

  // Nicks in middle parameters, or several in one trailing parameter.
  #nickList(params: string[]): string[] {
    return params.flatMap((param) => param.split(" ")).filter((nick) =>
      nick !== ""
    );
  }

  #ison(params: string[]): void {
    const nicks = this.#nickList(params);
    if (nicks.length === 0) {
      this.#send(this.#needMore("ISON"));
      return;
    }
    const online: string[] = [];
    for (const nick of nicks) {
      const found = this.#session!.find(nick);
      if (found !== undefined) online.push(found.name);
    }
    this.#send(...this.#packed(this.#numeric(NUMERICS.ison, ""), online));
  }

  #userhost(params: string[]): void {
    const nicks = this.#nickList(params).slice(0, 5);
    if (nicks.length === 0) {
      this.#send(this.#needMore("USERHOST"));
      return;
    }
    const replies: string[] = [];
    for (const nick of nicks) {
      const found = this.#session!.find(nick);
      if (found === undefined) continue;
      const away = ircPeer(found)?.away != null ? "-" : "+";
      replies.push(`${found.name}=${away}${found.transport}@${MEMBER_HOST}`);
    }
    this.#send(...this.#packed(this.#numeric(NUMERICS.userhost, ""), replies));
  }
}

// The targets of a PRIVMSG or NOTICE, each once (a nick without regard to
// case, a channel by the ascii case mapping), at most TARGMAX of them.
function distinctTargets(list: string): string[] {
  const seen = new Set<string>();
  const targets: string[] = [];
  for (const target of list.split(",")) {
    if (target === "") continue;
    const key = target.startsWith("#") ? asciiLower(target) : nameKey(target);
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push(target);
    if (targets.length === MAX_TARGETS) break;
  }
  return targets;
}

function ctcpText(ctcp: Ctcp): string {
  const body = ctcp.args === "" ? ctcp.command : `${ctcp.command} ${ctcp.args}`;
  return `\x01${stripControls(body)}\x01`;
}

// A line cut to the limit at a character boundary.
function clampLine(line: string): string {
  if (byteLength(line) <= MAX_LINE_BYTES) return line;
  return splitText(line, MAX_LINE_BYTES)[0];
}
