/**
 * The chat core: registration, routing, limits and the log, for connections
 * of any transport. A connection here is something that yields lines and
 * accepts bytes; TCP (see `chat_server.ts`) is its first kind.
 *
 * No `Deno.*` here: tests drive it with fake connections.
 *
 * @module
 */

import type { EventLog } from "../io/chat_log.ts";
import { describeError } from "../io/errors.ts";
import { type Limits, resolveLimits } from "./limits.ts";
import { type Line, LINE_TOO_LONG } from "../io/line_reader.ts";
import { type ByteWriter, Outbox } from "../io/outbox.ts";
import {
  HELP_LINES,
  isExitWord,
  parseCommand,
  stripControls,
} from "./protocol.ts";
import { normalizeName, Registry } from "./registry.ts";
import { consoleText, logText, reasonText, serverText } from "./texts.ts";

/** A client connection of any transport: it yields lines and takes bytes. */
export interface ChatConnection extends ByteWriter {
  /** The peer as `IP:PORT`, for the console and the log. */
  readonly address: string;
  /** The peer's IP address, for the per-address limit. */
  readonly ip: string;
  /**
   * Resolves with the next lines (one at least), or null at the end of input;
   * rejects on a transport error, and may reject once `close()` was called.
   */
  readLines(): Promise<Line[] | null>;
  /** Closes the connection; safe to call more than once. */
  close(): void;
}

/** Options of {@linkcode ChatRoom}. */
export interface ChatRoomOptions {
  /** Limits; anything left out takes its default. */
  limits?: Partial<Limits>;
  /** Where events are recorded. Default: nowhere. */
  log?: EventLog;
  /** The server password; none when empty or left out. */
  password?: string;
  /** Prints one line on the server console. Default: nothing. */
  onConsole?: (line: string) => void;
  /** Monotonic clock in ms, for flood control. Default `performance.now`. */
  now?: () => number;
}

const encoder = new TextEncoder();

function encodeLines(...lines: string[]): Uint8Array {
  return encoder.encode(lines.join("\n") + "\n");
}

const NAME_PROMPT = encodeLines(serverText.namePrompt);
const NAME_INVALID = encodeLines(serverText.nameInvalid);
const PASSWORD_PROMPT = encodeLines(serverText.passwordPrompt);
const WRONG_PASSWORD = encodeLines(serverText.wrongPassword);
const TOO_MANY_ATTEMPTS = encodeLines(serverText.tooManyAttempts);
const REGISTRATION_TIMED_OUT = encodeLines(serverText.registrationTimedOut);
const GOODBYE_UNNAMED = encodeLines(serverText.goodbyeUnnamed);
const PRIVATE_USAGE = encodeLines(serverText.privateUsage);
const SHUTTING_DOWN = encodeLines(serverText.shuttingDown);
const HELP = encodeLines(...HELP_LINES);

// Longest wait for a refusal notice to go out before the close.
const REFUSAL_WRITE_MS = 1000;

// Reasons after which a client is said to have left rather than been cut.
const ORDINARY_ENDS = new Set<string>([
  reasonText.exit,
  reasonText.closedByPeer,
]);

/** One connection's state in the room. */
class Session {
  readonly conn: ChatConnection;
  readonly outbox: Outbox;
  name: string | null = null;
  /** Its place in the room's list of registered sessions, or -1. */
  index = -1;
  /** A name waiting for its password. */
  pendingName: string | null = null;
  attempts = 0;
  tokens: number;
  refilledAt: number;
  /** Why the session is ending, once something decided it is. */
  ending: string | null = null;
  /** Time to wait before closing, so a password guesser is slowed. */
  lingerMs = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  wake: (() => void) | null = null;

  constructor(
    conn: ChatConnection,
    outbox: Outbox,
    tokens: number,
    now: number,
  ) {
    this.conn = conn;
    this.outbox = outbox;
    this.tokens = tokens;
    this.refilledAt = now;
  }

  /** Waits `ms`, or less if the session ends meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}

/**
 * A chat room: who is online, what their lines mean, and where they go.
 *
 * @example
 * ```ts
 * const room = new ChatRoom({ onConsole: console.log });
 * // For each connection of a transport:
 * room.serve(connection);
 * // Later:
 * await room.shutdown();
 * ```
 */
export class ChatRoom {
  #limits: Limits;
  #log: EventLog;
  #password: Uint8Array | null;
  #console: (line: string) => void;
  #now: () => number;
  #sessions = new Set<Session>();
  #perIp = new Map<string, number>();
  #registry = new Registry<Session>();
  // The registered sessions again, as an array: a broadcast walks it.
  #members: Session[] = [];
  // Connections being served, and who waits for there to be none.
  #active = 0;
  #allDone: PromiseWithResolvers<void> | null = null;
  #closing: Promise<void> | null = null;
  #tooLong: Uint8Array;

  /** Creates an empty room; throws a `RangeError` for a bad limit. */
  constructor(options: ChatRoomOptions = {}) {
    this.#limits = resolveLimits(options.limits);
    this.#log = options.log ?? { record() {} };
    this.#password = options.password ? encoder.encode(options.password) : null;
    this.#console = options.onConsole ?? (() => {});
    this.#now = options.now ?? (() => performance.now());
    this.#tooLong = encodeLines(
      serverText.lineTooLong(this.#limits.maxLineBytes),
    );
  }

  /** The limits in force. */
  get limits(): Readonly<Limits> {
    return this.#limits;
  }

  /** Connections in the room, registered or not. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** Every registered name, sorted without regard to case. */
  names(): string[] {
    return this.#registry.names();
  }

  /**
   * Serves one connection until it ends. Never rejects: whatever happens on
   * the connection ends that connection only.
   */
  async serve(conn: ChatConnection): Promise<void> {
    this.#active++;
    try {
      const refusal = this.#refusal(conn.ip);
      if (refusal !== null) {
        await this.#refuse(conn, refusal);
        return;
      }
      const limits = this.#limits;
      const session: Session = new Session(
        conn,
        new Outbox({
          writer: conn,
          maxQueuedBytes: limits.maxSendqBytes,
          onOverflow: () => this.#cut(session, reasonText.sendQueue),
          onError: (error) => this.#cut(session, describeError(error)),
        }),
        Math.max(1, limits.floodBurst),
        this.#now(),
      );
      this.#sessions.add(session);
      this.#perIp.set(conn.ip, (this.#perIp.get(conn.ip) ?? 0) + 1);
      this.#console(consoleText.accepted(conn.address));
      if (limits.registrationTimeoutMs > 0) {
        session.timer = setTimeout(() => {
          if (session.name === null) {
            this.#end(
              session,
              reasonText.registrationTimeout,
              REGISTRATION_TIMED_OUT,
            );
          }
        }, limits.registrationTimeoutMs);
      }
      session.outbox.send(NAME_PROMPT);

      let reason: string = reasonText.closedByPeer;
      try {
        reading: while (session.ending === null) {
          const lines = await conn.readLines();
          if (lines === null) break;
          for (const line of lines) {
            if (session.ending !== null) break reading;
            if (limits.floodRate > 0) {
              const wait = this.#takeToken(session);
              // Fake lag: the line waits, and so does reading this connection,
              // so a flooder's bytes stay in its own socket buffers.
              if (wait > 0) await session.sleep(wait);
              if (session.ending !== null) break reading;
            }
            this.#handle(session, line);
          }
        }
      } catch (error) {
        reason = describeError(error);
      }
      await this.#finish(session, session.ending ?? reason);
    } catch (error) {
      // A bug, not a client's doing; still, it must not take the room down.
      this.#console(
        consoleText.connectionClosed(conn.address, describeError(error)),
      );
      conn.close();
    } finally {
      if (--this.#active === 0) this.#allDone?.resolve();
    }
  }

  /**
   * Tells every connection the server is shutting down, lets their output
   * out (for up to `shutdownTimeoutMs`) and closes them. Safe to call twice.
   */
  shutdown(): Promise<void> {
    this.#closing ??= (async () => {
      for (const session of this.#sessions) {
        this.#end(session, reasonText.shutdown, SHUTTING_DOWN);
      }
      if (this.#active > 0) {
        this.#allDone = Promise.withResolvers();
        await this.#allDone.promise;
      }
    })();
    return this.#closing;
  }

  async #refuse(conn: ChatConnection, refusal: string): Promise<void> {
    // Bounded: a peer that never reads (or never finishes a TLS handshake)
    // must not keep a refused connection, or shutdown, waiting.
    await withDeadline(
      conn.write(encodeLines(refusal)).catch(() => 0),
      REFUSAL_WRITE_MS,
    );
    conn.close();
  }

  #refusal(ip: string): string | null {
    const { maxClients, maxPerIp } = this.#limits;
    if (this.#closing !== null) return serverText.shuttingDown;
    if (maxClients > 0 && this.#sessions.size >= maxClients) {
      return serverText.serverFull;
    }
    if (maxPerIp > 0 && (this.#perIp.get(ip) ?? 0) >= maxPerIp) {
      return serverText.tooManyFromAddress;
    }
    return null;
  }

  // Token bucket: returns how long to wait before the next line, in ms.
  #takeToken(session: Session): number {
    const { floodRate, floodBurst } = this.#limits;
    const now = this.#now();
    session.tokens = Math.min(
      Math.max(1, floodBurst),
      session.tokens + (now - session.refilledAt) * floodRate / 1000,
    );
    session.refilledAt = now;
    session.tokens -= 1;
    return session.tokens >= 0 ? 0 : -session.tokens * 1000 / floodRate;
  }

  #handle(session: Session, line: Line): void {
    if (line === LINE_TOO_LONG) {
      session.outbox.send(this.#tooLong);
    } else if (session.name === null) {
      this.#register(session, stripControls(line).trim());
    } else {
      this.#command(session, session.name, stripControls(line));
    }
  }

  #register(session: Session, text: string): void {
    if (text === "") return;
    if (isExitWord(text)) {
      session.outbox.send(GOODBYE_UNNAMED);
      session.ending = reasonText.exit;
      return;
    }
    if (session.pendingName !== null) {
      this.#checkPassword(session, session.pendingName, text);
      return;
    }
    const name = normalizeName(text);
    if (name === null || this.#registry.has(name)) {
      if (++session.attempts > this.#limits.maxNameAttempts) {
        session.outbox.send(TOO_MANY_ATTEMPTS);
        session.ending = reasonText.tooManyAttempts;
        return;
      }
      session.outbox.send(
        name === null ? NAME_INVALID : encodeLines(serverText.nameTaken(name)),
      );
      return;
    }
    if (this.#password !== null) {
      session.pendingName = name;
      session.outbox.send(PASSWORD_PROMPT);
      return;
    }
    this.#join(session, name);
  }

  #checkPassword(session: Session, name: string, given: string): void {
    session.pendingName = null;
    if (!sameBytes(this.#password!, encoder.encode(given))) {
      session.outbox.send(WRONG_PASSWORD);
      session.lingerMs = this.#limits.wrongPasswordDelayMs;
      session.ending = reasonText.wrongPassword;
      return;
    }
    // The name was free when asked for; someone may have taken it since.
    if (this.#registry.has(name)) {
      session.outbox.send(encodeLines(serverText.nameTaken(name)));
      return;
    }
    this.#join(session, name);
  }

  #join(session: Session, name: string): void {
    this.#registry.claim(name, session);
    session.name = name;
    session.index = this.#members.push(session) - 1;
    clearTimeout(session.timer);
    session.timer = undefined;
    session.outbox.send(encodeLines(...serverText.welcome(name)));
    this.#broadcast(encodeLines(serverText.joined(name)), session);
    this.#log.record(logText.joined(name, session.conn.address));
    this.#console(consoleText.clientJoined(name));
  }

  #command(session: Session, name: string, text: string): void {
    const command = parseCommand(text);
    switch (command.kind) {
      case "say":
        this.#broadcast(
          encoder.encode(`${serverText.broadcast(name, command.text)}\n`),
          session,
        );
        this.#log.record(logText.message(name, command.text));
        return;
      case "private": {
        const target = this.#registry.find(command.target);
        if (target === undefined) {
          session.outbox.send(
            encodeLines(serverText.notFound(command.target)),
          );
          return;
        }
        target.member.outbox.send(
          encodeLines(serverText.privateMessage(name, command.text)),
        );
        this.#log.record(
          logText.privateMessage(name, target.name, command.text),
        );
        return;
      }
      case "privateUsage":
        session.outbox.send(PRIVATE_USAGE);
        return;
      case "who":
        session.outbox.send(
          encodeLines(serverText.online(this.#registry.names())),
        );
        return;
      case "help":
        session.outbox.send(HELP);
        return;
      case "unknown":
        session.outbox.send(
          encodeLines(serverText.unknownCommand(command.word)),
        );
        return;
      case "exit":
        session.outbox.send(encodeLines(serverText.goodbye(name)));
        session.ending = reasonText.exit;
        return;
      case "empty":
        return;
    }
  }

  // The same bytes go to every registered client but `except`.
  #broadcast(bytes: Uint8Array, except: Session): void {
    const members = this.#members;
    for (let i = 0; i < members.length; i++) {
      const member = members[i];
      if (member !== except) member.outbox.send(bytes);
    }
  }

  #removeMember(session: Session): void {
    const members = this.#members;
    const last = members.pop()!;
    if (last !== session) {
      members[session.index] = last;
      last.index = session.index;
    }
    session.index = -1;
  }

  // Ends a session from outside its read loop, after a last notice. Closing
  // the connection (once the notice is out) ends the loop, which then
  // finishes the session.
  #end(session: Session, reason: string, notice: Uint8Array): void {
    if (session.ending !== null) return;
    session.ending = reason;
    session.outbox.send(notice);
    session.wake?.();
    this.#drain(session).then(() => session.conn.close());
  }

  // Ends a session at once: nothing more can reach it.
  #cut(session: Session, reason: string): void {
    if (session.ending !== null && session.outbox.closed) return;
    session.ending ??= reason;
    session.outbox.close();
    session.wake?.();
    session.conn.close();
  }

  #drain(session: Session): Promise<void> {
    return withDeadline(
      session.outbox.drain(),
      this.#limits.shutdownTimeoutMs,
    );
  }

  async #finish(session: Session, reason: string): Promise<void> {
    session.ending ??= reason;
    clearTimeout(session.timer);
    session.timer = undefined;
    this.#sessions.delete(session);
    const ip = session.conn.ip;
    const count = (this.#perIp.get(ip) ?? 1) - 1;
    if (count > 0) this.#perIp.set(ip, count);
    else this.#perIp.delete(ip);

    const name = session.name;
    const ordinary = ORDINARY_ENDS.has(reason);
    if (name !== null) {
      this.#registry.release(name, session);
      this.#removeMember(session);
      if (this.#closing === null) {
        this.#broadcast(encodeLines(serverText.left(name)), session);
      }
      this.#log.record(
        reason === reasonText.exit
          ? logText.left(name)
          : logText.disconnected(name, reason),
      );
      this.#console(
        ordinary
          ? consoleText.clientLeft(name)
          : consoleText.clientCut(name, reason),
      );
    } else if (!ordinary) {
      this.#console(consoleText.connectionClosed(session.conn.address, reason));
    }

    if (session.lingerMs > 0) await session.sleep(session.lingerMs);
    await this.#drain(session);
    session.outbox.close();
    session.conn.close();
  }
}

// Waits for `promise`, but no longer than `ms` (0: no limit).
function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  if (ms === 0) return promise.then(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.then(() => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
  ]).finally(() => clearTimeout(timer));
}

// Compares in time that depends on the length of `expected` only.
function sameBytes(expected: Uint8Array, given: Uint8Array): boolean {
  let difference = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) {
    difference |= expected[i] ^ (given[i % (given.length || 1)] ?? 0);
  }
  return difference === 0;
}
