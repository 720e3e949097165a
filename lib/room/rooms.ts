/**
 * Rooms: who is in which, their topics and operators, the limits, and what
 * reaches a room's members on this node. The main room always exists; any
 * other is made by its first join (its maker becomes its operator) and
 * goes, with its history and topic, when its last member leaves.
 *
 * Who is in a room is kept with each member in the engine (`Holder.rooms`),
 * and what a room has besides (`RoomInfo`) by the engine too, so every node
 * answers alike. Room events come back through the engine in the room's one
 * order; this node's members of each room are a {@linkcode FanOut}.
 *
 * @module
 */

import type { Holder, RoomEngine, RoomInfo } from "../engine/engine.ts";
import type {
  RoomEvent,
  RoomProblem,
  RoomScopedEvent,
  RoomSummary,
} from "./events.ts";
import { beforeDelivery, FanOut } from "./fan_out.ts";
import type { Limits } from "./limits.ts";
import { nameKey } from "./registry.ts";
import { normalizeRoomName, roomKey } from "./room_names.ts";
import type { Session } from "./session.ts";

/** What a join came to. */
export type JoinOutcome =
  | { kind: "joined"; room: string; members: number; topic: string | null }
  | { kind: "current"; room: string }
  | RoomRefusal;

/** What a room operation came to. */
export type RoomOutcome = { kind: "ok"; room: string } | RoomRefusal;

/** A room operation refused, and why. */
export interface RoomRefusal {
  /** Refused. */
  kind: "problem";
  /** Why. */
  problem: RoomProblem;
  /** The room it was about, when there was one. */
  room: string | null;
  /** The limit reached, for the limits' problems. */
  limit?: number;
}

/** Options of {@linkcode Rooms}. */
export interface RoomsOptions {
  /** Where rooms and their members are kept. */
  engine: RoomEngine;
  /** The main room's name, with its `#`. */
  mainRoom: string;
  /** The main room's topic at start; none when empty or left out. */
  mainTopic?: string;
  /** `maxRooms` and `maxJoins`. */
  limits: Readonly<Limits>;
  /** Wall clock in ms since the epoch. */
  clock: () => number;
  /** Publishes a room event; it comes back in the room's order. */
  publish: (event: RoomEvent, from: Session | null) => void;
}

/** The rooms of the chat, as this node sees and changes them. */
export class Rooms {
  #engine: RoomEngine;
  #main: string;
  #mainKey: string;
  #mainTopic: string | null;
  #limits: Readonly<Limits>;
  #clock: () => number;
  #publish: (event: RoomEvent, from: Session | null) => void;
  // This node's members of each room, by room key.
  #local = new Map<string, FanOut>();
  #stamp = 0;
  /**
   * Whether `name` is a server operator, who operates every room once
   * logged in (issue 20); set by the room when accounts are kept.
   */
  serverOperator: (name: string) => boolean = () => false;

  /** The rooms of `options.engine`. */
  constructor(options: RoomsOptions) {
    this.#engine = options.engine;
    this.#main = options.mainRoom;
    this.#mainKey = roomKey(options.mainRoom);
    this.#mainTopic = options.mainTopic ? options.mainTopic : null;
    this.#limits = options.limits;
    this.#clock = options.clock;
    this.#publish = options.publish;
  }

  /** The main room's name. */
  get main(): string {
    return this.#main;
  }

  /** Whether `room` is the main room. */
  isMain(room: string): boolean {
    return roomKey(room) === this.#mainKey;
  }

  /** What is kept of a room (the main room's even before anyone set it). */
  info(room: string): RoomInfo | undefined {
    const key = roomKey(room);
    const info = this.#engine.roomInfo(key);
    if (info !== undefined || key !== this.#mainKey) return info;
    return {
      name: this.#main,
      topic: this.#mainTopic,
      topicBy: null,
      topicAt: 0,
      topicLocked: false,
      operators: [],
      createdAt: 0,
    };
  }

  /** Who is in a room, on every node. */
  holders(room: string): Holder[] {
    const key = roomKey(room);
    return this.#engine.present().filter((holder) =>
      holder.rooms?.some((name) => roomKey(name) === key) ?? false
    );
  }

  /** Every room with its members and topic, the main room included. */
  summaries(): RoomSummary[] {
    const counts = new Map<string, number>([[this.#mainKey, 0]]);
    for (const holder of this.#engine.present()) {
      for (const name of holder.rooms ?? []) {
        const key = roomKey(name);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    const rooms: RoomSummary[] = [];
    for (const [key, members] of counts) {
      const info = this.info(key);
      if (info === undefined) continue;
      rooms.push({ name: info.name, members, topic: info.topic });
    }
    return rooms.sort((a, b) => {
      const x = roomKey(a.name), y = roomKey(b.name);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }

  /** Whether `name` is an operator of `room`. */
  isOperator(room: string, name: string): boolean {
    const key = nameKey(name);
    return this.info(room)?.operators.some((op) => nameKey(op) === key) ??
      false;
  }

  /**
   * Joins `raw` (made if need be, its maker its operator) and makes it the
   * session's current room; a room it is in already just becomes current.
   */
  join(session: Session, raw: string): JoinOutcome {
    const name = normalizeRoomName(raw);
    if (name === null) return refused("invalidName", null);
    const key = roomKey(name);
    const held = session.rooms.get(key);
    if (held !== undefined) {
      setCurrent(session, held);
      return { kind: "current", room: held };
    }
    const { maxJoins, maxRooms } = this.#limits;
    if (maxJoins > 0 && session.rooms.size >= maxJoins) {
      return refused("tooManyJoins", name, maxJoins);
    }
    let info = this.info(key);
    if (info === undefined) {
      if (maxRooms > 0 && this.summaries().length >= maxRooms) {
        return refused("tooManyRooms", name, maxRooms);
      }
      info = {
        name,
        topic: null,
        topicBy: null,
        topicAt: 0,
        topicLocked: false,
        operators: [session.name!],
        createdAt: this.#clock(),
      };
      this.#engine.setRoomInfo(key, info);
    }
    this.enter(session, info.name);
    return {
      kind: "joined",
      room: info.name,
      members: this.holders(key).length,
      topic: info.topic,
    };
  }

  /**
   * Puts the session in `room` (checked already) as its current room, and
   * tells the room: the main room's join on registration, or a `/join`.
   */
  enter(session: Session, room: string, quiet = false): void {
    const holder = session.holder!;
    const key = roomKey(room);
    session.rooms.set(key, room);
    setCurrent(session, room);
    this.#engine.setRooms(holder, [...session.rooms.values()]);
    if (quiet) {
      // No notice: it hears the room from now on.
      let members = this.#local.get(key);
      if (members === undefined) {
        members = new FanOut();
        this.#local.set(key, members);
      }
      members.add(session);
      return;
    }
    this.#publish({
      type: "join",
      time: this.#clock(),
      name: holder.name,
      via: session.conn.transport,
      address: session.conn.address,
      room,
      main: roomKey(room) === this.#mainKey,
    }, session);
  }

  /** Leaves a room (the current one when `raw` is null), with a reason. */
  part(session: Session, raw: string | null, reason: string): RoomOutcome {
    const key = this.#keyOf(session, raw);
    if (typeof key !== "string") return key;
    const room = session.rooms.get(key)!;
    this.#forget(session, key);
    this.#publish({
      type: "part",
      time: this.#clock(),
      name: session.name!,
      via: session.conn.transport,
      room,
      reason,
    }, session);
    return { kind: "ok", room };
  }

  /**
   * Takes a session out of every room as it leaves the chat: the rooms it
   * was in, whose members the leave notice reaches.
   */
  leaveAll(session: Session, handover = false): string[] {
    const rooms = [...session.rooms.values()];
    for (const key of [...session.rooms.keys()]) {
      this.#forget(session, key, handover);
    }
    return rooms;
  }

  /** Sets (or with null clears) the topic of a room one is in. */
  setTopic(session: Session, raw: string | null, topic: string | null) {
    const key = this.#keyOf(session, raw);
    if (typeof key !== "string") return key;
    const info = this.info(key)!;
    if (info.topicLocked && !this.#operates(session, key)) {
      return refused("notOperator", info.name);
    }
    this.#engine.setRoomInfo(key, {
      ...info,
      topic,
      topicBy: topic === null ? null : session.name,
      topicAt: topic === null ? 0 : this.#clock(),
    });
    this.#publish({
      type: "topic",
      time: this.#clock(),
      name: session.name!,
      via: session.conn.transport,
      room: info.name,
      topic,
    }, session);
    return ok(info.name);
  }

  /** Locks (or unlocks) the topic of a room one operates. */
  lockTopic(session: Session, raw: string | null, locked: boolean) {
    const key = this.#operated(session, raw);
    if (typeof key !== "string") return key;
    const info = this.info(key)!;
    this.#engine.setRoomInfo(key, { ...info, topicLocked: locked });
    this.#publish({
      type: "topicLock",
      time: this.#clock(),
      by: session.name!,
      via: session.conn.transport,
      room: info.name,
      locked,
    }, session);
    return ok(info.name);
  }

  /** Makes a member of a room one operates an operator, or no longer one. */
  setOperator(session: Session, raw: string | null, who: string, op: boolean) {
    const key = this.#operated(session, raw);
    if (typeof key !== "string") return key;
    const info = this.info(key)!;
    const target = this.#memberOf(key, who);
    if (target === undefined) return refused("noSuchMember", info.name);
    const others = info.operators.filter((n) =>
      nameKey(n) !== nameKey(target.name)
    );
    this.#engine.setRoomInfo(key, {
      ...info,
      operators: op ? [...others, target.name] : others,
    });
    this.#publish({
      type: "roomOp",
      time: this.#clock(),
      name: target.name,
      by: session.name!,
      via: session.conn.transport,
      room: info.name,
      op,
    }, session);
    return ok(info.name);
  }

  /** Puts a member out of a room one operates. */
  kick(session: Session, raw: string | null, who: string, reason: string) {
    const key = this.#operated(session, raw);
    if (typeof key !== "string") return key;
    const info = this.info(key)!;
    const target = this.#memberOf(key, who);
    if (target === undefined) return refused("noSuchMember", info.name);
    this.#publish({
      type: "roomKick",
      time: this.#clock(),
      name: target.name,
      by: session.name!,
      via: session.conn.transport,
      room: info.name,
      reason,
    }, session);
    return ok(info.name);
  }

  /**
   * Delivers a room event of the room's order to this node's members of
   * its room, and keeps this node's part of the room's state; `local`
   * finds a session of this node by name. Returns how many it walked.
   */
  receive(
    event: RoomScopedEvent,
    from: Session | null,
    local: (name: string) => Session | undefined,
  ): number {
    const key = roomKey(event.room);
    let members = this.#local.get(key);
    let count = 0;
    if (event.type === "roomKick") {
      const kicked = local(event.name);
      if (kicked !== undefined && kicked.rooms.has(key)) {
        this.#forget(kicked, key);
        kicked.send({
          type: "youWereKicked",
          name: event.name,
          room: event.room,
          by: event.by,
          via: event.via,
          reason: event.reason,
        });
      }
    }
    // The one who acted hears its topic, operator and kick notices too,
    // but not its own join, part or line.
    const except = event.type === "join" || event.type === "part" ||
        event.type === "message" || event.type === "action"
      ? from
      : null;
    if (members !== undefined) count = members.broadcast(event, except);
    if (event.type === "join" && from !== null && from.rooms.has(key)) {
      if (members === undefined) {
        members = new FanOut();
        this.#local.set(key, members);
      }
      members.add(from);
    }
    if (event.type === "part" || event.type === "roomKick") {
      this.vacate([event.room]);
    }
    return count;
  }

  /**
   * Delivers a chat-wide event (a member left the chat or was renamed) to
   * this node's members who share one of `rooms` with it, once each.
   */
  reachSharing(
    event: RoomEvent,
    rooms: readonly string[],
    except: Session | null,
  ): number {
    const stamp = ++this.#stamp;
    let count = 0;
    for (const room of rooms) {
      const members = this.#local.get(roomKey(room));
      if (members !== undefined) {
        count += members.broadcast(event, except, stamp);
      }
    }
    return count;
  }

  /** Renames a member among the operators of the rooms it is in. */
  renamed(session: Session, from: string, to: string): void {
    const key = nameKey(from);
    for (const room of session.rooms.keys()) {
      const info = this.#engine.roomInfo(room);
      if (info === undefined) continue;
      if (!info.operators.some((op) => nameKey(op) === key)) continue;
      this.#engine.setRoomInfo(room, {
        ...info,
        operators: info.operators.map((op) => nameKey(op) === key ? to : op),
      });
    }
  }

  /** Forgets the rooms among `rooms` that no one is in any more. */
  vacate(rooms: readonly string[]): void {
    for (const room of rooms) {
      const key = roomKey(room);
      if (key === this.#mainKey || this.holders(key).length > 0) continue;
      this.#local.delete(key);
      if (this.#engine.roomInfo(key) !== undefined) {
        this.#engine.setRoomInfo(key, null);
      }
    }
  }

  // A room the session is in, by its name or its current room.
  #keyOf(session: Session, raw: string | null): string | RoomRefusal {
    if (raw === null) {
      if (session.current === null) return refused("inNoRoom", null);
      return roomKey(session.current);
    }
    const name = normalizeRoomName(raw);
    if (name === null) return refused("invalidName", null);
    const key = roomKey(name);
    if (!session.rooms.has(key)) return refused("notIn", name);
    return key;
  }

  // A room the session is in and operates.
  #operated(session: Session, raw: string | null): string | RoomRefusal {
    const key = this.#keyOf(session, raw);
    if (typeof key !== "string") return key;
    if (!this.#operates(session, key)) {
      return refused("notOperator", session.rooms.get(key)!);
    }
    return key;
  }

  // The room's operators, and server operators logged in, operate it.
  #operates(session: Session, key: string): boolean {
    const name = session.name!;
    return this.isOperator(key, name) ||
      (session.loggedIn && this.serverOperator(name));
  }

  #memberOf(key: string, name: string): Holder | undefined {
    const wanted = nameKey(name);
    return this.holders(key).find((holder) => nameKey(holder.name) === wanted);
  }

  // Takes a session out of one room here and in the engine; an operator
  // who leaves is one no more.
  #forget(session: Session, key: string, handover = false): void {
    session.rooms.delete(key);
    this.#local.get(key)?.remove(session);
    if (session.current !== null && roomKey(session.current) === key) {
      const rooms = [...session.rooms.values()];
      setCurrent(session, rooms.length > 0 ? rooms[rooms.length - 1] : null);
    }
    const holder = session.holder;
    if (holder !== null) {
      this.#engine.setRooms(holder, [...session.rooms.values()]);
      const info = this.#engine.roomInfo(key);
      const name = nameKey(holder.name);
      // A name taken over by a new connection stays its rooms' operator.
      if (
        !handover && info !== undefined &&
        info.operators.some((op) => nameKey(op) === name)
      ) {
        this.#engine.setRoomInfo(key, {
          ...info,
          operators: info.operators.filter((op) => nameKey(op) !== name),
        });
      }
    }
  }
}

function refused(
  problem: RoomProblem,
  room: string | null,
  limit?: number,
): RoomRefusal {
  return limit === undefined
    ? { kind: "problem", problem, room }
    : { kind: "problem", problem, room, limit };
}

function ok(room: string): RoomOutcome {
  return { kind: "ok", room };
}

// Makes `room` the member's current one. A run held for it goes first: it
// was said while the member's current room was the old one, which decides
// whether its lines are marked as from elsewhere.
function setCurrent(session: Session, room: string | null): void {
  beforeDelivery(session);
  session.current = room;
}
