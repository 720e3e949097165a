/**
 * The room's session API: the one way in for every language. A door hands
 * the room a {@linkcode ChatConnection} (bytes in and out, with its
 * language and its renderer); the room admits it and gives its language a
 * {@linkcode MemberSession}, whose operations (claim a name, say, tell,
 * act, rename, who, leave, end) answer with typed results. The line
 * protocol and IRC are two languages driving the same operations.
 *
 * No `Deno.*`, no bytes, no grammar here.
 *
 * @module
 */

import type { Line } from "../io/line_reader.ts";
import type { ClaimResult } from "../engine/engine.ts";
import type {
  HistoryEntry,
  Rendered,
  Renderer,
  RoomEvent,
  RoomSummary,
} from "./events.ts";
import type { RoomInfo } from "../engine/engine.ts";
import type { JoinOutcome, RoomOutcome } from "./rooms.ts";
import type { AccountApi } from "./account_api.ts";
import type { Limits } from "./limits.ts";
import type { EndReason } from "./reasons.ts";
import type { AdmissionRefusal, Slot } from "./admission.ts";
import type { Metrics } from "./metrics.ts";

export type { ClaimResult };

/**
 * A client connection of any door: it yields lines, takes rendered events,
 * reports when it had to be cut, and brings the language its lines are in.
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
  /** What this connection's lines mean: one per connection. */
  readonly interpreter: Interpreter;
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
  /**
   * The place its door took for it already (from `ChatRoom.admit`), which
   * the room then keeps until the connection is closed.
   */
  readonly slot?: Slot;
}

/**
 * A language: turns one connection's lines into calls of its
 * {@linkcode MemberSession} and the results into replies. One instance per
 * connection, so it may keep the connection's state (a name waiting for its
 * password, the attempts so far).
 */
export interface Interpreter {
  /** Called once when the room took the connection (a first prompt). */
  start?(session: MemberSession): void;
  /**
   * Handles one line (after flood control), or the too-long marker; the
   * next line waits for a promise it returns.
   */
  handle(line: Line, session: MemberSession): void | Promise<void>;
}

/**
 * One connection's session in the room, as its language drives it. Every
 * operation checks the room's rules; failures come back as typed results,
 * which the language words in its own texts or numerics.
 */
export interface MemberSession extends AccountApi {
  /** The name held, or null before a claim succeeded. */
  readonly name: string | null;
  /** Whether the session is in the room (announced, in `/who`). */
  readonly present: boolean;
  /** Whether the server asks for a password. */
  readonly needsPassword: boolean;
  /** The limits in force (attempts allowed, the line limit). */
  readonly limits: Readonly<Limits>;
  /** Whether `given` is the server's password (true when there is none). */
  checkPassword(given: string): boolean;
  /**
   * Delivers first what the room holds back for this member (a run of
   * broadcasts): a door's own reply must not overtake it.
   */
  flushHeld(): void;
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
  /**
   * Enters the chat (the welcome). With `joinMain` (the line protocol) it
   * joins the main room too: its history to this session, a join notice
   * to its members. An IRC member joins channels itself.
   */
  enter(options?: { joinMain?: boolean }): void;
  /**
   * Keeps what the member says as it leaves the chat (IRC's QUIT message,
   * `/quit TEXT`): the leave notice and the log carry it.
   */
  farewell(message: string): void;
  /**
   * Says `text` in `room` (one it is in), or in its current room; false
   * when it is in no such room. `notice`: an IRC NOTICE, which IRC shows
   * as one and the other formats as a line.
   */
  say(text: string, room?: string, options?: { notice?: boolean }): boolean;
  /** A `/me` action, as {@linkcode MemberSession.say}. */
  act(text: string, room?: string): boolean;
  /** The main room's name. */
  readonly mainRoom: string;
  /** The room plain text goes to; null for none. */
  readonly current: string | null;
  /** The rooms it is in, in the order it joined them. */
  readonly rooms: readonly string[];
  /**
   * Joins a room (made if need be, its maker its operator), or makes a
   * room it is in its current room. The room's history is for the
   * language to send (see `history`), after its own reply.
   */
  join(room: string): JoinOutcome;
  /** Leaves a room (its current room when null), saying `reason`. */
  part(room: string | null, reason?: string): RoomOutcome;
  /** Sets (null: clears) the topic of a room it is in (null: current). */
  setTopic(room: string | null, topic: string | null): RoomOutcome;
  /** Locks or unlocks the topic of a room it operates. */
  lockTopic(room: string | null, locked: boolean): RoomOutcome;
  /** Makes `name` an operator of a room it operates, or no longer one. */
  setOperator(room: string | null, name: string, op: boolean): RoomOutcome;
  /** Puts `name` out of a room it operates. */
  kickFromRoom(room: string | null, name: string, reason: string): RoomOutcome;
  /** What is kept of a room (by name, any case); undefined when none. */
  roomInfo(room: string): RoomInfo | undefined;
  /** Who is in a room, on every node, sorted; undefined when none. */
  roomMembers(room: string): MemberInfo[] | undefined;
  /** Whether `name` operates `room`. */
  isOperator(room: string, name: string): boolean;
  /** Every room, sorted by name. */
  roomList(): RoomSummary[];
  /** A room's last messages, oldest first. */
  history(room: string): HistoryEntry[];
  /** A private message; the holder's name, or null if no one holds it. */
  tell(target: string, text: string): string | null;
  /** Renames; with a shared engine the answer may take a round trip. */
  rename(to: string): ClaimResult | Promise<ClaimResult>;
  /**
   * Tells what the member says about itself at registration (IRC's USER):
   * kept with its name, so every node sees it.
   */
  setAttributes(attributes: { user?: string; realName?: string }): void;
  /** Marks the member away with `text`, or back with null. */
  setAway(text: string | null): void;
  /** Notes that the member did something, for its idle time. */
  touch(): void;
  /**
   * A CTCP (a request such as `VERSION`, or with `notice` a reply) to the
   * member who holds `target`, on any node: the holder's name, or null if
   * no one holds it. Only formats that know CTCP show it.
   */
  ctcp(target: string, text: string, notice: boolean): string | null;
  /**
   * A CTCP to the members of `room` (one it is in) whose format shows it
   * (see `ctcp`); false when it is not in that room.
   */
  ctcpRoom(text: string, notice: boolean, room: string): boolean;
  /** Who is present (on every node), sorted by name. */
  who(): MemberInfo[];
  /** Finds who holds `name` (present or not). */
  find(name: string): MemberInfo | undefined;
  /** Sends `event` to this connection alone, in its format. */
  reply(event: RoomEvent): void;
  /**
   * Ends the session: after `notice` went out, or at once without one. A
   * wrong password's end waits the room's delay before the close, so a
   * guesser is slowed whatever the door.
   */
  end(reason: EndReason, notice?: RoomEvent): void;
}

/** One member, as the console and the languages see it. */
export interface MemberInfo {
  /** The name. */
  name: string;
  /** The peer's address. */
  address: string;
  /** The transport's name. */
  transport: string;
  /** Whether the member is in the chat (not only holding its name). */
  present: boolean;
  /** The rooms it is in, in the order it joined them. */
  rooms: readonly string[];
  /** When it connected (ms since the epoch); null if its node did not say. */
  since: number | null;
  /** When it claimed its name (ms since the epoch); null if unknown. */
  signedOn: number | null;
  /**
   * How long it has done nothing, in ms: exact for a member of this node,
   * for one of another node up to the engine's sharing of activity more
   * (30 s with Redis); null if unknown.
   */
  idleMs: number | null;
  /** The user name it gave (IRC's USER); null for none. */
  user: string | null;
  /** The real name it gave (IRC's USER); null for none. */
  realName: string | null;
  /** Its away message; null when it is not away. */
  away: string | null;
}

/** What the console's kick came to. */
export type KickOutcome = "ok" | "notFound" | "unavailable";

/**
 * The room as a door sees it: where it hands its connections, and the
 * limits and counters it shares. Every door (TCP, web, IRC) takes this, not
 * the room itself.
 */
export interface Doorway {
  /** Serves one connection until it ends; never rejects. */
  serve(conn: ChatConnection): Promise<void>;
  /**
   * Takes a place for a connection the door holds before it is a session
   * (an HTTP connection), from `ip`, or from a trusted proxy (null).
   */
  admit(ip: string | null): Slot | AdmissionRefusal;
  /** The limits in force. */
  readonly limits: Readonly<Limits>;
  /** Counters for `/metrics`; doors add their bytes. */
  readonly metrics: Metrics;
  /** Whether new connections are still taken (not shutting down). */
  readonly accepting: boolean;
}
