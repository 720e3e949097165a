/**
 * The chat core: registration, the command language, routing, limits,
 * history and the log, for connections of any transport. A connection here
 * yields lines and takes events; how they look on the wire is the
 * connection's renderer's business.
 *
 * No `Deno.*` here: tests drive it with fake connections.
 *
 * @module
 */

import type { EventLog } from "../io/chat_log.ts";
import { describeError } from "../io/errors.ts";
import { outputBudget, shareBytes } from "../io/outbox.ts";
import { type Line, LINE_TOO_LONG } from "../io/line_reader.ts";
import type {
  HistoryEntry,
  Refusal,
  Rendered,
  Renderer,
  RoomEvent,
} from "./events.ts";
import type {
  ClaimResult,
  EngineSink,
  Holder,
  KickRequest,
  KickResult,
  PrivateMessage,
  RoomEngine,
  RoomMessage,
} from "../engine/engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { Admission, type AdmissionRefusal, type Slot } from "./admission.ts";
import { Followed } from "./followed.ts";
import { Metrics } from "./metrics.ts";
import { type Limits, resolveLimits } from "./limits.ts";
import { isExitWord, parseCommand, stripControls } from "./protocol.ts";
import {
  isReservedName,
  nameKey,
  normalizeName,
  Registry,
} from "./registry.ts";
import { consoleText, endReasonText, logText } from "./texts.ts";
import { type EndReason, isOrdinaryEnd } from "./reasons.ts";

/**
 * A client connection of any transport: it yields lines, takes rendered
 * events and reports when it had to be cut.
 */
export interface ChatConnection {
  /** The peer as `IP:PORT`, for the console and the log. */
  readonly address: string;
  /** The peer's IP address, for the per-address limit. */
  readonly ip: string;
  /** The transport's name, for the console (`tcp`, `web`, `irc`). */
  readonly transport: string;
  /** Turns the room's events into what this connection sends. */
  readonly renderer: Renderer;
  /**
   * Resolves with the next lines (one at least), or null at the end of input;
   * rejects on a transport error, and may reject once `close()` was called.
   */
  readLines(): Promise<Line[] | null>;
  /** Queues rendered output; never awaits, never throws. */
  deliver(output: Rendered): void;
  /** Resolves once queued output is out (or can never be). */
  drain(): Promise<void>;
  /**
   * Closes the connection; safe to call more than once. May resolve once
   * its socket is closed (a TLS close_notify sent first, say).
   */
  close(): void | Promise<void>;
  /**
   * Set by the room: the connection calls it when it must end at once (its
   * send queue overflowed, a write failed, its peer broke a rule).
   */
  onCut: ((reason: EndReason) => void) | null;
  /** The transport's own language; the room's line language if absent. */
  readonly interpreter?: Interpreter;
  /**
   * The web chat's URL as this peer can reach it, or null when the server
   * has no web door; asked when a browser or curl talks to a line door.
   */
  webUrl?(): string | null;
  /**
   * The place its door took for it already (from {@linkcode ChatRoom.admit}),
   * which the room then keeps until the connection is closed.
   */
  readonly slot?: Slot;
}

/** What a claim of a name (or a rename) came to. */
export type { ClaimResult };

/** What the console's kick came to. */
export type KickOutcome = "ok" | "notFound" | "unavailable";

/**
 * The room as a transport with a command language of its own (IRC) sees
 * one of its sessions: its interpreter calls these instead of the room's
 * line language. Texts and numerics for failures are the transport's own.
 */
export interface MemberSession {
  /** The name held, or null before a claim succeeded. */
  readonly name: string | null;
  /** Whether the session is in the room (announced, in `/who`). */
  readonly present: boolean;
  /** Whether `given` is the server's password (true when there is none). */
  checkPassword(given: string): boolean;
  /** Whether the server asks for a password. */
  readonly needsPassword: boolean;
  /**
   * Takes one more flood token for the line being handled (one line that
   * does the work of several, such as a message to several targets): waits
   * as a line would. False once the session is ending: do no more.
   */
  charge(): boolean | Promise<boolean>;
  /**
   * Holds `name` (rules and uniqueness of the room) without entering; with
   * a shared engine the answer may take a round trip.
   */
  claim(name: string): ClaimResult | Promise<ClaimResult>;
  /** Enters the room: history to this session, a join notice to the others. */
  enter(): void;
  /** Leaves the room (announced and logged) but keeps the name. */
  leave(): void;
  /** Says `text` to everyone present. */
  say(text: string): void;
  /** A `/me` action. */
  act(text: string): void;
  /** A private message; the holder's name, or null if no one holds it. */
  tell(target: string, text: string): string | null;
  /** Renames; with a shared engine the answer may take a round trip. */
  rename(to: string): ClaimResult | Promise<ClaimResult>;
  /** Who is present, sorted. */
  who(): MemberInfo[];
  /** Finds who holds `name` (present or not). */
  find(name: string): MemberInfo | undefined;
  /** Ends the session after `notice` (if any) went out. */
  end(reason: EndReason, notice?: RoomEvent): void;
}

/** Reads the lines of a connection whose transport has its own language. */
export interface Interpreter {
  /**
   * Handles one line (after flood control), or the too-long marker; the
   * next line waits for a promise it returns.
   */
  handle(line: Line, session: MemberSession): void | Promise<void>;
}

/** One registered member, as the console sees it. */
export interface MemberInfo {
  /** The name. */
  name: string;
  /** The peer's address. */
  address: string;
  /** The transport's name. */
  transport: string;
  /** Whether the member is in the room (not only holding its name). */
  present: boolean;
  /** When it connected (ms since the epoch); null if its node did not say. */
  since: number | null;
  /**
   * The member's connection when it is on this server, for a transport
   * that looks at its own; null for a member of another node.
   */
  connection: ChatConnection | null;
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
  /** Wall clock in ms since the epoch, for events. Default `Date.now`. */
  clock?: () => number;
  /** Messages said before this room started (from the log), oldest first. */
  history?: readonly HistoryEntry[];
  /** The room's shared state; default a {@linkcode MemoryEngine}. */
  engine?: RoomEngine;
}

const encoder = new TextEncoder();

// Longest wait for a refusal notice to go out before the close.
const REFUSAL_WRITE_MS = 1000;

const NAME_PROMPT: RoomEvent = { type: "namePrompt" };
const PASSWORD_PROMPT: RoomEvent = { type: "passwordPrompt" };
const NAME_INVALID: RoomEvent = { type: "nameInvalid", retry: true };
const NAME_INVALID_PLAIN: RoomEvent = { type: "nameInvalid", retry: false };
const WRONG_PASSWORD: RoomEvent = { type: "wrongPassword" };
const TOO_MANY_ATTEMPTS: RoomEvent = { type: "tooManyAttempts" };
const REGISTRATION_TIMED_OUT: RoomEvent = { type: "registrationTimedOut" };
const SHUTDOWN: RoomEvent = { type: "shutdown" };
const HELP: RoomEvent = { type: "help" };
const PRIVATE_USAGE: RoomEvent = { type: "usage", command: "private" };
const ME_USAGE: RoomEvent = { type: "usage", command: "me" };
const NICK_USAGE: RoomEvent = { type: "usage", command: "nick" };
const GOODBYE_UNNAMED: RoomEvent = { type: "goodbye", name: null };
const UNAVAILABLE: RoomEvent = { type: "unavailable" };
const LOST_PLACE: RoomEvent = { type: "roomStatus", state: "lostPlace" };

let sessionIds = 0;

/** One connection's state in the room. */
class Session {
  readonly conn: ChatConnection;
  /** Unique on this node, for the engine's messages. */
  readonly id = String(++sessionIds);
  name: string | null = null;
  /** What the engine knows of it, once it holds a name. */
  holder: Holder | null = null;
  /** Its place in the list of members broadcasts reach, or -1. */
  index = -1;
  /**
   * Whether it entered the room. Broadcasts reach it once its own join has
   * come back from the engine (`index` is then set), so it hears what the
   * room's order puts after its join, and nothing from before.
   */
  entered = false;
  /** The interpreter's view of it, for a transport with its own language. */
  handle: MemberSession | null = null;
  /** A name waiting for its password. */
  pendingName: string | null = null;
  /** When it connected, by the room's clock (ms since the epoch). */
  connectedAt = 0;
  /** Whether it gave the right password (asked once, not per name). */
  passwordGiven = false;
  attempts = 0;
  /** Whether it sent a line yet (the first may be an HTTP request's). */
  spoken = false;
  tokens: number;
  refilledAt: number;
  /** Why the session is ending, once something decided it is. */
  ending: EndReason | null = null;
  /** The console's reason when it was removed. */
  removedFor = "";
  /** Time to wait before closing, so a password guesser is slowed. */
  lingerMs = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  wake: (() => void) | null = null;

  constructor(conn: ChatConnection, tokens: number, now: number) {
    this.conn = conn;
    this.tokens = tokens;
    this.refilledAt = now;
  }

  /** Renders `event` in this connection's format and queues it. */
  send(event: RoomEvent): void {
    const output = this.conn.renderer.render(event);
    if (output !== null) this.conn.deliver(output);
  }

  /** Waits for `promise`, or less if the session ends meanwhile. */
  until(promise: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.wake === done) this.wake = null;
        resolve();
      };
      this.wake = done;
      promise.then(done);
    });
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
  // The other nodes' members this node's log follows.
  #followed: Followed;
  #password: Uint8Array | null;
  #console: (line: string) => void;
  #now: () => number;
  #clock: () => number;
  #engine: RoomEngine;
  #sessions = new Set<Session>();
  // Places taken, in total and per address, by sessions and by doors'
  // connections that are not sessions yet.
  #admission: Admission;
  // The names held on this node, and their sessions by id.
  #local = new Registry<Session>();
  #byId = new Map<string, Session>();
  #byHolder = new Map<Holder, Session>();
  // This node's members present, as an array: a broadcast walks it.
  #members: Session[] = [];
  // Connections being served, and who waits for there to be none.
  #active = 0;
  #allDone: PromiseWithResolvers<void> | null = null;
  #closing: Promise<void> | null = null;
  #tooLong: RoomEvent;
  /** Counters for `/metrics`; transports add their bytes. */
  readonly metrics: Metrics = new Metrics();

  /** Creates an empty room; throws a `RangeError` for a bad limit. */
  constructor(options: ChatRoomOptions = {}) {
    this.#limits = resolveLimits(options.limits);
    this.#admission = new Admission(this.#limits);
    this.#log = options.log ?? { record() {} };
    this.#followed = new Followed(this.#log);
    this.#password = options.password ? encoder.encode(options.password) : null;
    this.#console = options.onConsole ?? (() => {});
    this.#now = options.now ?? (() => performance.now());
    this.#clock = options.clock ?? Date.now;
    this.#engine = options.engine ?? new MemoryEngine({
      historyLimit: this.#limits.historyMessages,
      history: options.history,
    });
    this.#tooLong = {
      type: "lineTooLong",
      limit: this.#limits.maxLineBytes,
    };
  }

  /**
   * Connects the room to its engine; until then nothing is delivered.
   * Rejects when the engine's shared state is unreachable.
   */
  start(): Promise<void> {
    const sink: EngineSink = {
      receive: (message) => this.#receive(message),
      receivePrivate: (message) => this.#receivePrivate(message),
      receiveKick: (request) => this.#receiveKick(request),
      status: (state) => this.#status(state),
      following: (present) => this.#followed.follow(present),
      unfollowing: (why) => this.#followed.unfollow(why),
    };
    return this.#engine.start(sink);
  }

  /** The engine, for the server that closes it after the room. */
  get engine(): RoomEngine {
    return this.#engine;
  }

  /** The limits in force. */
  get limits(): Readonly<Limits> {
    return this.#limits;
  }

  /** Connections in the room, registered or not. */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Connections counted toward the limits: sessions, and doors'
   * connections that are not sessions yet (HTTP ones).
   */
  get admitted(): number {
    return this.#admission.total;
  }

  /** Open connections by transport, registered or not. */
  connectionsByTransport(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const session of this.#sessions) {
      const transport = session.conn.transport;
      counts.set(transport, (counts.get(transport) ?? 0) + 1);
    }
    return counts;
  }

  /** Members present in the room. */
  get memberCount(): number {
    return this.#members.length;
  }

  /** Every name present, sorted without regard to case. */
  names(): string[] {
    return this.#presentNames();
  }

  /** Who is present (on every node), sorted by name. */
  members(): MemberInfo[] {
    return sortedByName(this.#engine.present()).map((holder) =>
      this.#info(holder)
    );
  }

  /** Whether new connections are still taken (not shutting down). */
  get accepting(): boolean {
    return this.#closing === null;
  }

  /** Sends `*** Announcement: TEXT` to everyone and logs it. */
  announce(text: string): void {
    const clean = stripControls(text).trim();
    if (clean === "") return;
    this.#publish(
      { type: "announcement", time: this.#clock(), text: clean },
      null,
    );
  }

  /**
   * Disconnects the member called `name` (any case), on this node or on
   * another, with the reason: `notFound` if no one is called so,
   * `unavailable` if the member's node cannot be reached now. A member of
   * another node is looked up by the engine, which may take a round trip.
   */
  kick(name: string, reason = ""): KickOutcome | Promise<KickOutcome> {
    const clean = stripControls(reason).trim();
    const found = this.#local.find(name);
    if (found !== undefined) {
      this.#kickHere(found.member, clean);
      return "ok";
    }
    // Its node prints the same line for its member.
    const answer = (result: KickResult): KickOutcome => {
      if (result.kind !== "sent") return result.kind;
      this.#console(consoleText.clientRemoved(result.name, clean));
      return "ok";
    };
    const result = this.#engine.kick({ name, reason: clean });
    return result instanceof Promise ? result.then(answer) : answer(result);
  }

  #kickHere(session: Session, reason: string): void {
    session.removedFor = reason;
    this.#end(session, "removed", { type: "kicked", reason });
  }

  // Another node's console kicks a member of this one.
  #receiveKick(request: KickRequest): void {
    const found = this.#local.find(request.name);
    if (found === undefined) return;
    this.#kickHere(found.member, stripControls(request.reason).trim());
  }

  /**
   * Serves one connection until it ends. Never rejects: whatever happens on
   * the connection ends that connection only.
   */
  async serve(conn: ChatConnection): Promise<void> {
    this.#active++;
    let slot: Slot | null = null;
    try {
      const taken = this.#admitSession(conn);
      if (typeof taken === "string") {
        await this.#refuse(conn, taken);
        return;
      }
      slot = taken;
      const limits = this.#limits;
      const session = new Session(
        conn,
        Math.max(1, limits.floodBurst),
        this.#now(),
      );
      session.connectedAt = this.#clock();
      conn.onCut = (reason) => this.#cut(session, reason);
      this.#sessions.add(session);
      this.#console(consoleText.accepted(conn.address));
      if (limits.registrationTimeoutMs > 0) {
        session.timer = setTimeout(() => {
          if (session.name === null) {
            this.#end(
              session,
              "registrationTimeout",
              REGISTRATION_TIMED_OUT,
            );
          }
        }, limits.registrationTimeoutMs);
      }
      session.send(NAME_PROMPT);

      let reason: EndReason = "closedByPeer";
      try {
        reading: while (session.ending === null) {
          const lines = await conn.readLines();
          if (lines === null) break;
          this.metrics.linesIn += lines.length;
          for (const line of lines) {
            if (session.ending !== null) break reading;
            // Push-back: while the server's output is over its bound, no
            // line is handled (from anyone), so senders wait in their own
            // sockets and the queues stay bounded however slow the readers.
            for (let held; (held = outputBudget.whenFits()) !== null;) {
              await session.until(held);
              if (session.ending !== null) break reading;
            }
            if (limits.floodRate > 0) {
              const wait = this.#takeToken(session);
              // Fake lag: the line waits, and so does reading this connection,
              // so a flooder's bytes stay in its own socket buffers.
              if (wait > 0) {
                this.metrics.floodDelays++;
                await session.sleep(wait);
              }
              if (session.ending !== null) break reading;
            }
            const handled = this.#handle(session, line);
            if (handled !== undefined) await handled;
          }
        }
      } catch (error) {
        reason = { error: describeError(error) };
      }
      await this.#finish(session, session.ending ?? reason);
    } catch (error) {
      // A bug, not a client's doing; still, it must not take the room down.
      this.#console(
        consoleText.connectionClosed(conn.address, describeError(error)),
      );
      await conn.close();
    } finally {
      // Released once the connection is closed: until then it holds a
      // descriptor, and counts.
      slot?.release();
      if (--this.#active === 0) this.#allDone?.resolve();
    }
  }

  /**
   * Takes a place for a connection a door holds before it is a session
   * (an HTTP connection), from `ip`, or from a trusted proxy (null: it
   * counts toward the total only); the door releases it, or hands it to
   * the session as {@linkcode ChatConnection.slot}. Not refused while
   * shutting down: the door answers that itself.
   */
  admit(ip: string | null): Slot | AdmissionRefusal {
    return this.#admission.take(ip);
  }

  /**
   * Tells every connection the server is shutting down, lets their output
   * out (for up to `shutdownTimeoutMs`) and closes them. Safe to call twice.
   */
  shutdown(): Promise<void> {
    this.#closing ??= (async () => {
      for (const session of this.#sessions) {
        this.#end(session, "shutdown", SHUTDOWN);
      }
      if (this.#active > 0) {
        this.#allDone = Promise.withResolvers();
        await this.#allDone.promise;
      }
    })();
    return this.#closing;
  }

  async #refuse(conn: ChatConnection, refusal: Refusal): Promise<void> {
    const output = conn.renderer.render({ type: "refused", reason: refusal });
    if (output !== null) conn.deliver(output);
    // Bounded: a peer that never reads (or never finishes a TLS handshake)
    // must not keep a refused connection, or shutdown, waiting.
    await withDeadline(conn.drain(), REFUSAL_WRITE_MS);
    await conn.close();
  }

  // The session's place: the one its door took (counted against its own
  // address once a proxy named it), or a new one.
  #admitSession(conn: ChatConnection): Slot | Refusal {
    const held = conn.slot;
    let refusal: Refusal | null = this.#closing === null
      ? null
      : "shuttingDown";
    if (held === undefined) {
      if (refusal !== null) return refusal;
      return this.#admission.take(conn.ip);
    }
    if (refusal === null && !this.#admission.assign(held, conn.ip)) {
      refusal = "perIp";
    }
    if (refusal === null) return held;
    held.release();
    return refusal;
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

  // Returns a promise when the engine must be asked (a claim or a rename):
  // the connection's next line waits for it.
  #handle(session: Session, line: Line): void | Promise<void> {
    const interpreter = session.conn.interpreter;
    if (interpreter !== undefined) {
      session.handle ??= this.#memberSession(session);
      return interpreter.handle(line, session.handle);
    } else if (line === LINE_TOO_LONG) {
      session.send(this.#tooLong);
    } else if (session.name === null) {
      return this.#register(session, stripControls(line).trim());
    } else {
      return this.#command(session, session.name, stripControls(line));
    }
  }

  #register(session: Session, text: string): void | Promise<void> {
    if (text === "") return;
    if (!session.spoken) {
      session.spoken = true;
      if (HTTP_REQUEST_LINE.test(text)) {
        const webUrl = session.conn.webUrl?.() ?? null;
        session.send({ type: "wrongDoor", webUrl });
        session.ending = "wrongDoor";
        return;
      }
    }
    if (isExitWord(text)) {
      session.send(GOODBYE_UNNAMED);
      session.ending = "exit";
      return;
    }
    if (session.pendingName !== null) {
      this.#checkPassword(session, session.pendingName, text);
      return;
    }
    const name = normalizeName(text);
    // Until the password is right a taken name is answered like a free one:
    // without it no one learns who is online.
    const asking = this.#password !== null && !session.passwordGiven;
    if (
      name === null || (!asking && this.#engine.find(name) !== undefined)
    ) {
      this.#refuseName(
        session,
        name === null
          ? invalidName(text, true)
          : { type: "nameTaken", name, retry: true },
      );
      return;
    }
    if (asking) {
      session.pendingName = name;
      session.send(PASSWORD_PROMPT);
      return;
    }
    return this.#join(session, name);
  }

  #refuseName(session: Session, answer: RoomEvent): void {
    if (++session.attempts > this.#limits.maxNameAttempts) {
      session.send(TOO_MANY_ATTEMPTS);
      session.ending = "tooManyAttempts";
      return;
    }
    session.send(answer);
  }

  #checkPassword(
    session: Session,
    name: string,
    given: string,
  ): void | Promise<void> {
    session.pendingName = null;
    if (!sameBytes(this.#password!, encoder.encode(given))) {
      session.send(WRONG_PASSWORD);
      session.lingerMs = this.#limits.wrongPasswordDelayMs;
      session.ending = "wrongPassword";
      return;
    }
    session.passwordGiven = true;
    return this.#join(session, name);
  }

  #join(session: Session, name: string): void | Promise<void> {
    const result = this.#claim(session, name);
    const then = (result: ClaimResult) => {
      if (result === "ok") this.#enter(session);
      else if (result === "unavailable") {
        session.send(UNAVAILABLE);
        session.send(NAME_PROMPT);
      } else {this.#refuseName(session, {
          type: "nameTaken",
          name,
          retry: true,
        });}
    };
    if (result instanceof Promise) return result.then(then);
    then(result);
  }

  // Asks the engine for `name`; on success the session holds it.
  #claim(session: Session, name: string): ClaimResult | Promise<ClaimResult> {
    const conn = session.conn;
    const holder: Holder = {
      name,
      transport: conn.transport,
      address: conn.address,
      present: false,
      node: this.#engine.node,
      since: session.connectedAt,
    };
    const settle = (result: ClaimResult): ClaimResult => {
      if (result !== "ok") return result;
      if (session.ending !== null || session.holder !== null) {
        // It ended (or claimed another) while the engine was asked.
        this.#engine.release(holder);
        return "taken";
      }
      session.holder = holder;
      session.name = name;
      this.#local.claim(name, session);
      this.#byId.set(session.id, session);
      this.#byHolder.set(holder, session);
      clearTimeout(session.timer);
      session.timer = undefined;
      return "ok";
    };
    const result = this.#engine.claim(holder);
    return result instanceof Promise ? result.then(settle) : settle(result);
  }

  #enter(session: Session): void {
    const name = session.name;
    const holder = session.holder;
    if (name === null || holder === null || session.entered) return;
    session.entered = true;
    session.send({ type: "welcome", name });
    const history = this.#engine.history();
    if (history.length > 0) session.send({ type: "history", entries: history });
    this.#engine.setPresent(holder, true);
    this.#publish({
      type: "join",
      time: this.#clock(),
      name,
      via: session.conn.transport,
      address: session.conn.address,
    }, session);
    this.#console(consoleText.clientJoined(name));
  }

  // Leaves the room, keeping the name: announced, logged, on the console.
  #leave(session: Session, reason: EndReason): void {
    const name = session.name;
    if (name === null || !session.entered) return;
    session.entered = false;
    this.#removeMember(session);
    if (session.holder !== null) {
      this.#engine.setPresent(session.holder, false);
    }
    const removed = reason === "removed";
    const time = this.#clock();
    const via = session.conn.transport;
    const event: RoomEvent = removed
      ? { type: "removed", time, name, via, reason: session.removedFor }
      : { type: "leave", time, name, via, reason };
    if (this.#closing === null) this.#publish(event, session);
    // At shutdown nobody is told, but the log keeps every leave.
    else this.#record(event);
    if (removed) {
      this.#console(consoleText.clientRemoved(name, session.removedFor));
    } else {
      this.#console(
        isOrdinaryEnd(reason)
          ? consoleText.clientLeft(name)
          : consoleText.clientCut(name, endReasonText(reason)),
      );
    }
  }

  #presentNames(): string[] {
    return sortedByName(this.#engine.present()).map((holder) => holder.name);
  }

  #say(session: Session, name: string, text: string, action: boolean): void {
    const time = this.#clock();
    this.#publish({
      type: action ? "action" : "message",
      time,
      from: name,
      text,
      own: false,
      via: session.conn.transport,
    }, session);
  }

  #tell(
    session: Session,
    name: string,
    target: string,
    text: string,
  ): string | null {
    const holder = this.#engine.find(target);
    if (holder === undefined) return null;
    const event = {
      type: "private" as const,
      time: this.#clock(),
      from: name,
      to: holder.name,
      text,
      own: false,
      via: session.conn.transport,
    };
    if (holder.node === this.#engine.node) {
      // The engine may hand back its own copy of a holder (a replica).
      (this.#byHolder.get(holder) ?? this.#local.find(holder.name)?.member)
        ?.send(event);
    } else {
      this.#engine.sendPrivate({ event, node: holder.node });
    }
    if (session.conn.renderer.echoes !== false) {
      session.send({ ...event, own: true });
    }
    this.#log.record(logText.privateMessage(name, holder.name, text));
    return holder.name;
  }

  // Publishes a room-wide event; it is delivered when it comes back.
  #publish(event: RoomEvent, from: Session | null): void {
    this.#engine.publish({
      event,
      from: from?.id ?? null,
      node: this.#engine.node,
    });
  }

  // A room-wide event in the room's order: to this node's members present,
  // a sender's own copy, and the log.
  #receive(message: RoomMessage): void {
    const event = message.event;
    const from = message.node === this.#engine.node && message.from !== null
      ? this.#byId.get(message.from) ?? null
      : null;
    this.#broadcast(event, from);
    if (event.type === "join" && from !== null) this.#addMember(from);
    if (
      from !== null && from.entered &&
      from.conn.renderer.echoes !== false &&
      (event.type === "message" || event.type === "action")
    ) {
      from.send({ ...event, own: true });
    }
    this.#record(event);
    this.#followed.observe(message, this.#engine.node);
  }

  #receivePrivate(message: PrivateMessage): void {
    const target = this.#local.find(message.event.to);
    if (target === undefined) return;
    target.member.send(message.event);
    const { from, to, text } = message.event;
    this.#log.record(logText.privateMessage(from, to, text));
  }

  #status(state: "split" | "whole" | "lostPlace"): void {
    this.#console(
      state === "split"
        ? consoleText.roomSplit
        : state === "whole"
        ? consoleText.roomWhole
        : consoleText.lostPlace,
    );
    this.#log.record(
      state === "split"
        ? logText.roomSplit
        : state === "whole"
        ? logText.roomWhole
        : logText.lostPlace,
    );
    if (state === "lostPlace") {
      for (const session of this.#sessions) {
        if (session.holder !== null) {
          this.#end(session, "lostPlace", LOST_PLACE);
        }
      }
      return;
    }
    // A join lost with the link never came back: those who entered are
    // members again whatever happened to it.
    for (const session of this.#sessions) this.#addMember(session);
    this.#broadcast({ type: "roomStatus", state }, null);
  }

  // The log's line for a room-wide event.
  #record(event: RoomEvent): void {
    switch (event.type) {
      case "join":
        this.#log.record(logText.joined(event.name, event.address));
        return;
      case "leave":
        this.#log.record(
          event.reason === "exit"
            ? logText.left(event.name)
            : logText.disconnected(event.name, endReasonText(event.reason)),
        );
        return;
      case "removed":
        this.#log.record(logText.removed(event.name, event.reason));
        return;
      case "rename":
        this.#log.record(logText.renamed(event.from, event.to));
        return;
      case "message":
        this.#log.record(logText.message(event.from, event.text));
        return;
      case "action":
        this.#log.record(logText.action(event.from, event.text));
        return;
      case "announcement":
        this.#log.record(logText.announcement(event.text));
        return;
    }
  }

  #info(holder: Holder): MemberInfo {
    const local = holder.node === this.#engine.node
      ? this.#local.find(holder.name)?.member.conn ?? null
      : null;
    return {
      name: holder.name,
      address: holder.address,
      transport: holder.transport,
      present: holder.present,
      since: holder.since ?? null,
      connection: local,
    };
  }

  #memberSession(session: Session): MemberSession {
    const named = () => {
      if (session.name === null) throw new Error("No name claimed yet");
      return session.name;
    };
    return {
      get name() {
        return session.name;
      },
      get present() {
        return session.entered;
      },
      needsPassword: this.#password !== null,
      checkPassword: (given) =>
        this.#password === null ||
        sameBytes(this.#password, encoder.encode(given)),
      charge: () => {
        if (this.#limits.floodRate <= 0) return session.ending === null;
        const wait = this.#takeToken(session);
        if (wait <= 0) return session.ending === null;
        this.metrics.floodDelays++;
        return session.sleep(wait).then(() => session.ending === null);
      },
      claim: (wanted) => {
        if (session.name !== null) return "taken";
        const name = normalizeName(wanted);
        if (name === null) return "invalid";
        if (this.#engine.find(name) !== undefined) return "taken";
        return this.#claim(session, name);
      },
      enter: () => this.#enter(session),
      leave: () => this.#leave(session, "exit"),
      say: (text) => {
        if (session.entered) this.#say(session, named(), text, false);
      },
      act: (text) => {
        if (session.entered) this.#say(session, named(), text, true);
      },
      tell: (target, text) => this.#tell(session, named(), target, text),
      rename: (to) => this.#rename(session, named(), to),
      who: () => this.members(),
      find: (name) => {
        const holder = this.#engine.find(name);
        return holder === undefined ? undefined : this.#info(holder);
      },
      end: (reason, notice) => {
        if (notice === undefined) this.#cut(session, reason);
        else this.#end(session, reason, notice);
      },
    };
  }

  #command(
    session: Session,
    name: string,
    text: string,
  ): void | Promise<void> {
    const command = parseCommand(text);
    switch (command.kind) {
      case "say":
      case "action":
        this.#say(session, name, command.text, command.kind === "action");
        return;
      case "private":
        if (this.#tell(session, name, command.target, command.text) === null) {
          session.send({ type: "notFound", target: command.target });
        }
        return;
      case "nick": {
        const answer = (result: ClaimResult) => {
          if (result === "invalid") {
            session.send(invalidName(command.name, false));
          } else if (result === "unavailable") session.send(UNAVAILABLE);
          else if (result === "taken") {
            session.send({
              type: "nameTaken",
              name: normalizeName(command.name)!,
              retry: false,
            });
          }
        };
        const result = this.#rename(session, name, command.name);
        if (result instanceof Promise) return result.then(answer);
        answer(result);
        return;
      }
      case "privateUsage":
        session.send(PRIVATE_USAGE);
        return;
      case "actionUsage":
        session.send(ME_USAGE);
        return;
      case "nickUsage":
        session.send(NICK_USAGE);
        return;
      case "who":
        session.send({ type: "who", names: this.#presentNames() });
        return;
      case "help":
        session.send(HELP);
        return;
      case "unknown":
        session.send({ type: "unknownCommand", word: command.word });
        return;
      case "exit":
        session.send({ type: "goodbye", name });
        session.ending = "exit";
        return;
      case "empty":
        return;
    }
  }

  // Renames; the renamed session is told, the others only if it is present.
  #rename(
    session: Session,
    from: string,
    wanted: string,
  ): ClaimResult | Promise<ClaimResult> {
    const to = normalizeName(wanted);
    const holder = session.holder;
    if (to === null) return "invalid";
    if (holder === null) return "taken";
    if (to === from) {
      session.send({ type: "renamed", name: to });
      return "ok";
    }
    const settle = (result: ClaimResult): ClaimResult => {
      if (result !== "ok" || session.name !== from) return result;
      this.#local.rename(from, to, session);
      session.name = to;
      session.send({ type: "renamed", name: to });
      const event: RoomEvent = {
        type: "rename",
        time: this.#clock(),
        from,
        to,
        via: session.conn.transport,
      };
      if (session.entered) this.#publish(event, session);
      else this.#record(event);
      this.#console(consoleText.clientRenamed(from, to));
      return "ok";
    };
    const result = this.#engine.rename(holder, to);
    return result instanceof Promise ? result.then(settle) : settle(result);
  }

  // Renders `event` once per format and queues the same output to every
  // registered member but `except`.
  #broadcast(event: RoomEvent, except: Session | null): void {
    const members = this.#members;
    // Most rooms have one format: it is checked first, without a lookup. A
    // room has a handful of formats at most: a short list beats a Map.
    let first: Renderer | null = null;
    let firstOutput: Rendered | null = null;
    let renderers: Renderer[] | null = null;
    let outputs: (Rendered | null)[] | null = null;
    for (let i = 0; i < members.length; i++) {
      const member = members[i];
      if (member === except) continue;
      const conn = member.conn;
      const renderer = conn.renderer;
      let output: Rendered | null;
      if (renderer === first) {
        output = firstOutput;
      } else if (first === null) {
        first = renderer;
        output = firstOutput = render(renderer, event);
      } else {
        renderers ??= [];
        outputs ??= [];
        let at = renderers.indexOf(renderer);
        if (at === -1) {
          at = renderers.push(renderer) - 1;
          outputs.push(render(renderer, event));
        }
        output = outputs[at];
      }
      if (output !== null) conn.deliver(output);
    }
    this.metrics.eventsOut += members.length;
  }

  #addMember(session: Session): void {
    if (session.entered && session.index === -1) {
      session.index = this.#members.push(session) - 1;
    }
  }

  #removeMember(session: Session): void {
    if (session.index === -1) return;
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
  #end(session: Session, reason: EndReason, notice: RoomEvent): void {
    if (session.ending !== null) return;
    session.ending = reason;
    session.send(notice);
    session.wake?.();
    this.#drain(session).then(() => session.conn.close());
  }

  // Ends a session at once: nothing more can reach it.
  #cut(session: Session, reason: EndReason): void {
    if (reason === "sendQueue" && session.ending === null) {
      this.metrics.sendqCuts++;
    }
    session.ending ??= reason;
    session.wake?.();
    session.conn.close();
  }

  #drain(session: Session): Promise<void> {
    return withDeadline(
      session.conn.drain(),
      this.#limits.shutdownTimeoutMs,
    );
  }

  async #finish(session: Session, reason: EndReason): Promise<void> {
    session.ending ??= reason;
    clearTimeout(session.timer);
    session.timer = undefined;
    this.#sessions.delete(session);

    const name = session.name;
    const ordinary = isOrdinaryEnd(reason);
    if (name !== null) {
      this.#leave(session, reason);
      this.#local.release(name, session);
      this.#byId.delete(session.id);
      if (session.holder !== null) {
        this.#byHolder.delete(session.holder);
        this.#engine.release(session.holder);
      }
    } else if (!ordinary) {
      this.#console(
        consoleText.connectionClosed(
          session.conn.address,
          endReasonText(reason),
        ),
      );
    }

    if (session.lingerMs > 0) await session.sleep(session.lingerMs);
    await this.#drain(session);
    await session.conn.close();
  }
}

// Why a name that normalizeName refused was refused.
function invalidName(raw: string, retry: boolean): RoomEvent {
  if (!isReservedName(raw)) return retry ? NAME_INVALID : NAME_INVALID_PLAIN;
  return { type: "nameReserved", name: raw.trim(), retry };
}

// Whether a connection's first line is an HTTP request's (`GET / HTTP/1.1`):
// a browser or curl pointed at the chat port, not a name.
const HTTP_REQUEST_LINE =
  /^(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP\/\d/;

// Renders once for a broadcast. Shared bytes: each recipient's outbox
// extends one range instead of queueing a chunk per event.
function render(renderer: Renderer, event: RoomEvent): Rendered | null {
  const output = renderer.render(event);
  return output instanceof Uint8Array ? shareBytes(output) : output;
}

function sortedByName(holders: Holder[]): Holder[] {
  const keys = new Map(holders.map((h) => [h, nameKey(h.name)]));
  return holders.sort((a, b) => {
    const x = keys.get(a)!, y = keys.get(b)!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
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
