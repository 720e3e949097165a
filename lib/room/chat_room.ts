/**
 * The chat room: admission, sessions and their read loops, flood control,
 * the engine's events, the log and the console. Languages drive it through
 * the session API (`session_api.ts`); it holds no grammar and builds no
 * bytes: renderers do.
 *
 * No `Deno.*` here: tests drive it with fake connections.
 *
 * @module
 */

import type { EventLog } from "../io/chat_log.ts";
import { describeError } from "../io/errors.ts";
import { outputBudget } from "../io/outbox.ts";
import type { HistoryEntry, Refusal, RoomEvent } from "./events.ts";
import type { RoomEngine } from "../engine/engine.ts";
import { MemoryEngine } from "../engine/memory_engine.ts";
import { Admission, type AdmissionRefusal, type Slot } from "./admission.ts";
import { Membership } from "./membership.ts";
import { holdBroadcasts, releaseBroadcasts } from "./fan_out.ts";
import { Metrics } from "./metrics.ts";
import { type Limits, resolveLimits } from "./limits.ts";
import { Session } from "./session.ts";
import type { Accounts } from "./accounts.ts";
import { type MemberSessionRoom, RoomSession } from "./member_session.ts";
import { bannedNotice } from "./account_api.ts";
import type { Ban } from "../engine/accounts.ts";
import type {
  ChatConnection,
  Doorway,
  KickOutcome,
  MemberInfo,
  MemberSession,
} from "./session_api.ts";
import { consoleText, endReasonText } from "./texts.ts";
import { type EndReason, isOrdinaryEnd } from "./reasons.ts";

export type {
  ChatConnection,
  ClaimResult,
  Doorway,
  Interpreter,
  KickOutcome,
  MemberInfo,
  MemberSession,
} from "./session_api.ts";

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
  /** The main room's name, with its `#`. Default `#chat`. */
  mainRoom?: string;
  /** The main room's topic at start. */
  mainTopic?: string;
  /** Registered names, operators and bans; none when left out. */
  accounts?: Accounts;
}

const encoder = new TextEncoder();

// Longest wait for a refusal notice to go out before the close.
const REFUSAL_WRITE_MS = 1000;

const REGISTRATION_TIMED_OUT: RoomEvent = { type: "registrationTimedOut" };
const SHUTDOWN: RoomEvent = { type: "shutdown" };

/**
 * A chat room: who is online, and where their lines go.
 *
 * @example
 * ```ts
 * const room = new ChatRoom({ onConsole: console.log });
 * // For each connection of a door:
 * room.serve(connection);
 * // Later:
 * await room.shutdown();
 * ```
 */
export class ChatRoom implements Doorway {
  #limits: Limits;
  #password: Uint8Array | null;
  #console: (line: string) => void;
  #now: () => number;
  #clock: () => number;
  #engine: RoomEngine;
  #accounts: Accounts | null;
  #sessions = new Set<Session>();
  // Places taken, in total and per address, by sessions and by doors'
  // connections that are not sessions yet.
  #admission: Admission;
  // Who is in the room, and what reaches them.
  #members: Membership;
  // What every session's API needs of the room, made with the first one.
  #sessionRoom: MemberSessionRoom | null = null;
  // Connections being served, and who waits for there to be none.
  #active = 0;
  #allDone: PromiseWithResolvers<void> | null = null;
  #closing: Promise<void> | null = null;
  /** Counters for `/metrics`; transports add their bytes. */
  readonly metrics: Metrics = new Metrics();

  /** Creates an empty room; throws a `RangeError` for a bad limit. */
  constructor(options: ChatRoomOptions = {}) {
    this.#limits = resolveLimits(options.limits);
    this.#admission = new Admission(this.#limits);
    this.#password = options.password ? encoder.encode(options.password) : null;
    this.#console = options.onConsole ?? (() => {});
    this.#now = options.now ?? (() => performance.now());
    this.#clock = options.clock ?? Date.now;
    this.#engine = options.engine ?? new MemoryEngine({
      historyLimit: this.#limits.historyMessages,
      history: options.history,
      mainRoom: options.mainRoom,
    });
    this.#accounts = options.accounts ?? null;
    if (this.#accounts !== null) {
      this.#accounts.onBan = (ban) => this.#banned(ban);
      const log = options.log;
      if (log !== undefined) {
        this.#accounts.record = (line) => log.record(line);
      }
    }
    this.#members = new Membership({
      engine: this.#engine,
      log: options.log ?? { record() {} },
      onConsole: this.#console,
      clock: this.#clock,
      metrics: this.metrics,
      endSession: (session, reason, notice) =>
        this.#end(session, reason, notice),
      mainRoom: options.mainRoom,
      mainTopic: options.mainTopic,
      limits: this.#limits,
    });
    const accounts = this.#accounts;
    if (accounts !== null) {
      this.#members.rooms.serverOperator = (name) => accounts.isOperator(name);
    }
  }

  /**
   * Connects the room to its engine; until then nothing is delivered.
   * Rejects when the engine's shared state is unreachable.
   */
  start(): Promise<void> {
    return this.#members.start();
  }

  /** The engine, for the server that closes it after the room. */
  get engine(): RoomEngine {
    return this.#engine;
  }

  /** Registered names, operators and bans; null when none are kept. */
  get accounts(): Accounts | null {
    return this.#accounts;
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

  /** Members present in the room on this node. */
  get memberCount(): number {
    return this.#members.size;
  }

  /** Every name present, sorted without regard to case. */
  names(): string[] {
    return this.members().map((member) => member.name);
  }

  /** Who is present (on every node), sorted by name. */
  members(): MemberInfo[] {
    return this.#members.members();
  }

  /** Sends `*** Announcement: TEXT` to everyone and logs it. */
  announce(text: string): void {
    this.#members.announce(text);
  }

  /**
   * Disconnects the member called `name` (any case), on this node or on
   * another, with the reason: `notFound` if no one is called so,
   * `unavailable` if the member's node cannot be reached now. A member of
   * another node is looked up by the engine, which may take a round trip.
   */
  kick(name: string, reason = ""): KickOutcome | Promise<KickOutcome> {
    return this.#members.kick(name, reason);
  }

  /** Whether new connections are still taken (not shutting down). */
  get accepting(): boolean {
    return this.#closing === null;
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
      const ban = this.#accounts?.banOf(null, conn.ip);
      if (ban !== undefined) {
        await this.#refuse(conn, bannedNotice(ban));
        return;
      }
      const limits = this.#limits;
      const session = new Session(
        conn,
        Math.max(1, limits.floodBurst),
        this.#now(),
      );
      session.connectedAt = this.#clock();
      const api = this.#memberSession(session);
      conn.onCut = (reason) => this.#cut(session, reason);
      this.#sessions.add(session);
      this.#console(consoleText.accepted(conn.address));
      if (limits.registrationTimeoutMs > 0) {
        session.timer = setTimeout(() => {
          if (session.name === null) {
            this.#end(session, "registrationTimeout", REGISTRATION_TIMED_OUT);
          }
        }, limits.registrationTimeoutMs);
      }
      conn.interpreter.start?.(api);
      const reason = await this.#read(session, api);
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

  // The read loop: lines to the language, one at a time, after push-back
  // and flood control. Returns why the input ended.
  async #read(session: Session, api: MemberSession): Promise<EndReason> {
    const conn = session.conn;
    const floodRate = this.#limits.floodRate;
    try {
      while (session.ending === null) {
        const lines = await conn.readLines();
        if (lines === null) break;
        this.metrics.linesIn += lines.length;
        // The messages of one read go out as runs (see holdBroadcasts);
        // what is held is released before every wait.
        const hold = lines.length > 1;
        for (const line of lines) {
          if (session.ending !== null) break;
          if (hold) holdBroadcasts();
          // Push-back: while the server's output is over its bound, no
          // line is handled (from anyone), so senders wait in their own
          // sockets and the queues stay bounded however slow the readers.
          for (let held; (held = outputBudget.whenFits()) !== null;) {
            releaseBroadcasts();
            await session.until(held);
            if (session.ending !== null) return "closedByPeer";
          }
          if (floodRate > 0) {
            const wait = this.#takeToken(session);
            // Fake lag: the line waits, and so does reading this connection,
            // so a flooder's bytes stay in its own socket buffers.
            if (wait > 0) {
              releaseBroadcasts();
              this.metrics.floodDelays++;
              await session.sleep(wait);
            }
            if (session.ending !== null) break;
          }
          const handled = conn.interpreter.handle(line, api);
          if (handled !== undefined) {
            releaseBroadcasts();
            await handled;
          }
        }
        releaseBroadcasts();
      }
    } catch (error) {
      return { error: describeError(error) };
    } finally {
      releaseBroadcasts();
    }
    return "closedByPeer";
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
      this.#members.closing = true;
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

  async #refuse(
    conn: ChatConnection,
    refusal: Refusal | RoomEvent,
  ): Promise<void> {
    const output = conn.renderer.render(
      typeof refusal === "string"
        ? { type: "refused", reason: refusal }
        : refusal,
    );
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

  // The session API a language drives (session_api.ts).
  // One object for every session, so a session holds no closures of it.
  #memberSession(session: Session): MemberSession {
    this.#sessionRoom ??= {
      members: this.#members,
      accounts: this.#accounts,
      engine: this.#engine,
      limits: this.#limits,
      metrics: this.metrics,
      checkPassword: (given) =>
        this.#password === null ||
        sameBytes(this.#password, encoder.encode(given)),
      needsPassword: this.#password !== null,
      takeToken: (session) => this.#takeToken(session),
      end: (older, reason, notice) => this.#end(older, reason, notice),
      cut: (session, reason) => this.#cut(session, reason),
      clock: () => this.#clock(),
      disconnect: async (name, reason) =>
        (await this.kick(name, reason)) === "ok",
    };
    return new RoomSession(session, this.#sessionRoom);
  }

  // A ban came in force: whoever it holds here goes.
  #banned(ban: Ban): void {
    for (const session of this.#sessions) {
      const holds = ban.target.kind === "name"
        ? session.name !== null &&
          this.#accounts?.banOf(session.name, null) !== undefined
        : this.#accounts?.banOf(null, session.conn.ip) !== undefined;
      if (holds) {
        this.#end(session, "banned", bannedNotice(ban));
      }
    }
  }

  // Ends a session from outside its read loop, after a last notice. Closing
  // the connection (once the notice is out, and after the wrong-password
  // delay) ends the loop, which then finishes the session.
  #end(session: Session, reason: EndReason, notice: RoomEvent): void {
    if (session.ending !== null) return;
    session.ending = reason;
    session.send(notice);
    // The notice is the last line: a language's reply to what it was doing
    // (a name refused after a ban) would only confuse.
    session.said = true;
    session.wake?.();
    const linger = this.#lingerMs(reason);
    this.#drain(session)
      .then(() => linger > 0 ? delay(linger) : undefined)
      .then(() => session.conn.close());
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

  // A wrong password's close waits, so that a guesser is slowed.
  #lingerMs(reason: EndReason): number {
    return reason === "wrongPassword" ? this.#limits.wrongPasswordDelayMs : 0;
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
      if (session.loggedIn && session.entered) {
        this.#accounts?.setLastSeen(name, this.#clock());
      }
      this.#members.leave(session, reason, session.farewell);
      this.#members.release(session);
    } else if (!ordinary) {
      this.#console(
        consoleText.connectionClosed(
          session.conn.address,
          endReasonText(reason),
        ),
      );
    }

    const linger = this.#lingerMs(session.ending ?? reason);
    if (linger > 0) await session.sleep(linger);
    await this.#drain(session);
    await session.conn.close();
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Compares in time that depends on the length of `expected` only.
function sameBytes(expected: Uint8Array, given: Uint8Array): boolean {
  let difference = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i++) {
    difference |= expected[i] ^ (given[i % (given.length || 1)] ?? 0);
  }
  return difference === 0;
}
