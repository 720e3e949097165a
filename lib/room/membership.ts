/**
 * Who is in the room and what reaches them: names held on this node, the
 * engine's events (the room's order), broadcasts, private messages, the
 * log's lines and the console's. The sessions' side (reading, limits,
 * ending) is `chat_room.ts`.
 *
 * No `Deno.*` here.
 *
 * @module
 */

import type { EventLog } from "../io/chat_log.ts";
import type {
  ClaimResult,
  EngineSink,
  Holder,
  KickRequest,
  KickResult,
  MemberAttributes,
  RoomEngine,
  RoomMessage,
} from "../engine/engine.ts";
import { isRoomScoped, type RoomEvent } from "./events.ts";
import { FanOut } from "./fan_out.ts";
import { sinceLeft } from "./account_api.ts";
import { memberInfo, sortedByName } from "./member_info.ts";
import type { Limits } from "./limits.ts";
import { roomKey } from "./room_names.ts";
import { Privates } from "./privates.ts";
import { Rooms } from "./rooms.ts";
import { Followed } from "./followed.ts";
import { logLineOf } from "./log_lines.ts";
import type { Metrics } from "./metrics.ts";
import { normalizeName, Registry } from "./registry.ts";
import { stripControls } from "./sanitize.ts";
import type { Session } from "./session.ts";
import type { KickOutcome, MemberInfo } from "./session_api.ts";
import { consoleText, endReasonText, logText } from "./texts.ts";
import { type EndReason, isOrdinaryEnd } from "./reasons.ts";

/** Options of {@linkcode Membership}. */
export interface MembershipOptions {
  /** The room's shared state. */
  engine: RoomEngine;
  /** Where events are recorded. */
  log: EventLog;
  /** Prints one line on the server console. */
  onConsole: (line: string) => void;
  /** Wall clock in ms since the epoch, for events. */
  clock: () => number;
  /** Counters for `/metrics`. */
  metrics: Metrics;
  /** Ends a session after a last notice (a kick, a lost place). */
  endSession: (session: Session, reason: EndReason, notice: RoomEvent) => void;
  /** The main room's name, with its `#`. Default `#chat`. */
  mainRoom?: string;
  /** The main room's topic at start. */
  mainTopic?: string;
  /** `maxRooms` and `maxJoins`. */
  limits: Readonly<Limits>;
}

const LOST_PLACE: RoomEvent = { type: "roomStatus", state: "lostPlace" };
const LOGGED_IN_ELSEWHERE: RoomEvent = {
  type: "accountNotice",
  notice: { kind: "loggedInElsewhere" },
};

/** The room's members and the routing of its events. */
export class Membership {
  #engine: RoomEngine;
  #log: EventLog;
  // The other nodes' members this node's log follows.
  #followed: Followed;
  #console: (line: string) => void;
  #clock: () => number;
  #metrics: Metrics;
  #endSession: (
    session: Session,
    reason: EndReason,
    notice: RoomEvent,
  ) => void;
  // The names held on this node, and their sessions by id.
  #local = new Registry<Session>();
  #byId = new Map<string, Session>();
  #byHolder = new Map<Holder, Session>();
  // This node's members in the chat: whom an announcement reaches.
  #members = new FanOut();
  /** The rooms, and this node's members of each. */
  readonly rooms: Rooms;
  // Private messages and CTCPs, to this node's members or another node.
  #privates: Privates;
  /** Set at shutdown: leaves are logged, nobody is told. */
  closing = false;

  /** Members of a room kept by `options.engine`. */
  constructor(options: MembershipOptions) {
    this.#engine = options.engine;
    this.#log = options.log;
    this.#followed = new Followed(options.log);
    this.#console = options.onConsole;
    this.#clock = options.clock;
    this.#metrics = options.metrics;
    this.#endSession = options.endSession;
    this.#privates = new Privates({
      engine: options.engine,
      log: options.log,
      clock: options.clock,
      find: (holder) =>
        this.#byHolder.get(holder) ?? this.#local.find(holder.name)?.member,
      local: (name) => this.#local.find(name)?.member,
    });
    this.rooms = new Rooms({
      engine: options.engine,
      mainRoom: options.mainRoom ?? "#chat",
      mainTopic: options.mainTopic,
      limits: options.limits,
      clock: options.clock,
      publish: (event, from) => this.#publish(event, from),
    });
  }

  /** Connects to the engine; rejects when its shared state is unreachable. */
  start(): Promise<void> {
    const sink: EngineSink = {
      receive: (message) => this.#receive(message),
      receivePrivate: (message) => this.#privates.receive(message),
      receiveKick: (request) => this.#receiveKick(request),
      status: (state) => this.#status(state),
      following: (present) => this.#followed.follow(present),
      unfollowing: (why) => this.#followed.unfollow(why),
    };
    return this.#engine.start(sink);
  }

  /** Members present on this node. */
  get size(): number {
    return this.#members.size;
  }

  /** Who is present (on every node), sorted by name. */
  members(): MemberInfo[] {
    return sortedByName(this.#engine.present()).map((holder) =>
      this.info(holder)
    );
  }

  /** Who is in a room, on every node, sorted; undefined when none. */
  roomMembers(room: string): MemberInfo[] | undefined {
    if (this.rooms.info(room) === undefined) return undefined;
    return sortedByName(this.rooms.holders(room)).map((holder) =>
      this.info(holder)
    );
  }

  /** The session of this node that holds `name`, if any. */
  localSession(name: string): Session | undefined {
    return this.#local.find(name)?.member;
  }

  /** Who holds `name` (present or not, on any node). */
  find(name: string): MemberInfo | undefined {
    const holder = this.#engine.find(name);
    return holder === undefined ? undefined : this.info(holder);
  }

  /**
   * A claim under the room's rules: `invalid` for a name against them,
   * `taken` when held (or when the session holds one already).
   */
  claimName(
    session: Session,
    wanted: string,
  ): ClaimResult | Promise<ClaimResult> {
    if (session.name !== null) return "taken";
    const name = normalizeName(wanted);
    if (name === null) return "invalid";
    if (this.#engine.find(name) !== undefined) return "taken";
    return this.claim(session, name);
  }

  /** Gives up what a finished session held: its name, here and shared. */
  release(session: Session): void {
    if (session.name !== null) this.#local.release(session.name, session);
    this.#byId.delete(session.id);
    if (session.holder !== null) {
      this.#byHolder.delete(session.holder);
      this.#engine.release(session.holder);
    }
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
    this.#endSession(session, "removed", { type: "kicked", reason });
  }

  // Another node's console kicks a member of this one, or a login there
  // takes its registered name over (a ghost: no word to the others).
  #receiveKick(request: KickRequest): void {
    const found = this.#local.find(request.name);
    if (found === undefined) return;
    if (request.ghost === true) {
      this.#endSession(found.member, "ghosted", LOGGED_IN_ELSEWHERE);
      return;
    }
    this.#kickHere(found.member, stripControls(request.reason).trim());
  }

  /** Asks the engine for `name`; on success the session holds it. */
  claim(session: Session, name: string): ClaimResult | Promise<ClaimResult> {
    const conn = session.conn;
    const holder: Holder = {
      name,
      transport: conn.transport,
      address: conn.address,
      present: false,
      node: this.#engine.node,
      since: session.connectedAt,
      signedOn: this.#clock(),
      active: session.connectedAt,
      ...session.attributes,
    };
    const told = session.attributes;
    const settle = (result: ClaimResult): ClaimResult => {
      if (result !== "ok") return result;
      if (session.ending !== null || session.holder !== null) {
        // It ended (or claimed another) while the engine was asked.
        this.#engine.release(holder);
        return "taken";
      }
      // It told more about itself while the engine was asked.
      if (session.attributes !== told) {
        this.#engine.update(holder, session.attributes);
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

  /**
   * Enters the chat: the welcome; with `joinMain` (the line protocol) the
   * main room too, with its history (what was said since `since`, when a
   * registered member is back), and a join notice to its members.
   */
  enter(session: Session, joinMain: boolean, since: number | null = null) {
    const name = session.name;
    const holder = session.holder;
    if (name === null || holder === null || session.entered) return;
    session.entered = true;
    this.#members.add(session);
    session.send({ type: "welcome", name, room: this.rooms.main });
    this.#engine.setPresent(holder, true);
    if (session.adopted !== null) {
      // A name taken over: it goes on in its rooms without a word.
      for (const room of session.adopted) this.rooms.enter(session, room, true);
    } else if (joinMain) {
      const main = this.rooms.main;
      const history = this.#engine.history(main);
      if (since !== null) {
        const entries = sinceLeft(history, since);
        session.send({ type: "history", entries, room: main, sinceLeft: true });
      } else if (history.length > 0) {
        session.send({ type: "history", entries: history, room: main });
      }
      this.rooms.enter(session, main);
    }
    this.#console(consoleText.clientJoined(name));
  }

  /**
   * Leaves the chat, keeping the name: announced to those who shared a
   * room with it, logged, on the console. `message` is what it said as it
   * left (IRC's QUIT, `/quit TEXT`).
   */
  leave(session: Session, reason: EndReason, message = ""): void {
    const name = session.name;
    if (name === null || !session.entered) return;
    session.entered = false;
    this.#members.remove(session);
    // A ghost goes on under its new connection: to the engine it stays
    // present until released, so that no node tells its leave.
    if (session.holder !== null && reason !== "ghosted") {
      this.#engine.setPresent(session.holder, false);
    }
    const rooms = this.rooms.leaveAll(session, reason === "ghosted");
    const removed = reason === "removed";
    const time = this.#clock();
    const via = session.conn.transport;
    const event: RoomEvent = removed
      ? { type: "removed", time, name, via, reason: session.removedFor, rooms }
      : message === ""
      ? { type: "leave", time, name, via, reason, rooms }
      : { type: "leave", time, name, via, reason, rooms, message };
    // Nobody is told of a member whose name was taken over: it goes on.
    if (!this.closing && reason !== "ghosted") this.#publish(event, session);
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

  /**
   * A public message (or a `/me` action) from `name` to a room it is in
   * (its current room when `room` is null); false when it is in no such
   * room. `notice`: an IRC NOTICE, which IRC shows as one.
   */
  say(
    session: Session,
    name: string,
    text: string,
    action: boolean,
    room: string | null,
    notice = false,
  ): boolean {
    const to = room === null
      ? session.current
      : session.rooms.get(roomKey(room)) ?? null;
    if (to === null) return false;
    const said = {
      time: this.#clock(),
      from: name,
      text,
      own: false,
      via: session.conn.transport,
      room: to,
    };
    this.#publish(
      action
        ? { type: "action", ...said }
        : { type: "message", ...said, ...(notice ? { notice } : {}) },
      session,
    );
    return true;
  }

  /**
   * Changes what the member tells about itself (`null` unsets, a field
   * left out stays): kept with its name once it holds one, so every node
   * sees it.
   */
  describe(
    session: Session,
    change: { [K in keyof MemberAttributes]?: string | null },
  ): void {
    const holder = session.holder;
    const next: MemberAttributes = holder === null
      ? { ...session.attributes }
      : { user: holder.user, realName: holder.realName, away: holder.away };
    for (const key of ["user", "realName", "away"] as const) {
      const value = change[key];
      if (value === null) delete next[key];
      else if (value !== undefined) next[key] = value;
    }
    if (holder === null) session.attributes = next;
    else this.#engine.update(holder, next);
  }

  /** Notes that the member did something, for its idle time. */
  touch(session: Session): void {
    if (session.holder !== null) {
      this.#engine.touch(session.holder, this.#clock());
    }
  }

  /** A CTCP to the members of a room (see `Privates.ctcpRoom`). */
  ctcpRoom(
    session: Session,
    name: string,
    text: string,
    notice: boolean,
    room: string,
  ): boolean {
    return this.#privates.ctcpRoom(session, name, text, notice, room);
  }

  /**
   * A CTCP to the member called `target` (any case), on any node. Never
   * logged. The holder's name, or null if no one holds it.
   */
  ctcp(
    session: Session,
    name: string,
    target: string,
    text: string,
    notice: boolean,
  ): string | null {
    return this.#privates.ctcp(session, name, target, text, notice);
  }

  /** A private message; the holder's name, or null if no one holds it. */
  tell(
    session: Session,
    name: string,
    target: string,
    text: string,
  ): string | null {
    return this.#privates.tell(session, name, target, text);
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
    this.#deliver(event, from);
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
      for (const session of this.#byId.values()) {
        if (session.holder !== null) {
          this.#endSession(session, "lostPlace", LOST_PLACE);
        }
      }
      return;
    }
    // A join lost with the link never came back: those who entered are
    // members again whatever happened to it.
    for (const session of this.#byId.values()) this.#members.add(session);
    this.#broadcast({ type: "roomStatus", state }, null);
  }

  // Queues `event` to every member present on this node but `except`.
  #broadcast(event: RoomEvent, except: Session | null): void {
    this.#metrics.eventsOut += this.#members.broadcast(event, except);
  }

  // Queues a room-wide event to whom it concerns on this node: a room's
  // event to that room's members, a leave or a rename to those who shared
  // a room with the member, the rest to everyone.
  #deliver(event: RoomEvent, from: Session | null): void {
    if (isRoomScoped(event)) {
      this.#metrics.eventsOut += this.rooms.receive(
        event,
        from,
        (name) => this.#local.find(name)?.member,
      );
      return;
    }
    if (
      event.type === "leave" || event.type === "removed" ||
      event.type === "rename" || event.type === "ctcp"
    ) {
      // A CTCP to a channel reaches that room's members only.
      const rooms = event.type === "ctcp"
        ? (event.room === undefined ? [] : [event.room])
        : event.rooms ?? [];
      this.#metrics.eventsOut += this.rooms.reachSharing(event, rooms, from);
      if (event.type === "leave" || event.type === "removed") {
        this.rooms.vacate(rooms);
      }
      return;
    }
    this.#broadcast(event, from);
  }

  // The log's line for a room-wide event.
  #record(event: RoomEvent): void {
    const line = logLineOf(event, this.rooms.main);
    if (line !== null) this.#log.record(line);
  }

  /** What the console and the languages see of a holder. */
  info(holder: Holder): MemberInfo {
    return memberInfo(holder, this.#clock());
  }

  /** Renames; the renamed session is told, the others if it is present. */
  rename(
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
      this.rooms.renamed(session, from, to);
      const event: RoomEvent = {
        type: "rename",
        time: this.#clock(),
        from,
        to,
        via: session.conn.transport,
        rooms: [...session.rooms.values()],
      };
      if (session.entered) this.#publish(event, session);
      else this.#record(event);
      this.#console(consoleText.clientRenamed(from, to));
      return "ok";
    };
    const result = this.#engine.rename(holder, to);
    return result instanceof Promise ? result.then(settle) : settle(result);
  }
}
