/**
 * The rooms the user is in and the current one, followed from the server's
 * answers (`*** You joined #games ...`, `*** Your current room is ...`,
 * `*** You left ...`, `*** You were kicked from ...`), and every room name
 * the client has seen, for Tab. The line protocol never names the main
 * room on registration (its welcome is today's), so the book knows it as
 * "the main room" until a line names it: the answer to a `/topic` asked
 * in it, or the first room the server says the user is in that the user
 * never joined.
 *
 * @module
 */

import { roomKey } from "../room/room_names.ts";
import type { ServerLine } from "./server_lines.ts";

/** The main room while its name is not known. */
export const MAIN_ROOM: unique symbol = Symbol("main room");

/** A room of the book: a name, or the main room whose name is not known. */
export type BookRoom = string | typeof MAIN_ROOM;

/** Where the user was: what `--reconnect` rejoins. */
export interface RoomsSnapshot {
  /** The rooms the user is in, in the order joined. */
  rooms: readonly BookRoom[];
  /** The current room; null when in no room. */
  current: BookRoom | null;
  /** The main room's name, when known. */
  main: string | null;
}

/** The rooms the user is in, the current one, and the rooms seen. */
export class RoomBook {
  // In the order joined, as the server keeps them: when the current room
  // is left by a kick, the server makes the last of them current.
  #rooms: BookRoom[] = [MAIN_ROOM];
  #current: BookRoom | null = MAIN_ROOM;
  #main: string | null = null;
  #known = new Map<string, string>();

  /** The current room: a name, the main room unnamed yet, or null (none). */
  get current(): BookRoom | null {
    return this.#current;
  }

  /** The main room's name, once a line named it. */
  get main(): string | null {
    return this.#main;
  }

  /** Whether the user is in the main room and in no other (as at start). */
  get onlyMain(): boolean {
    return this.#rooms.length === 1 && this.#isMain(this.#rooms[0]);
  }

  /** The names of the rooms the user is in, in the order joined. */
  get joined(): string[] {
    return this.#rooms.filter((r): r is string => typeof r === "string");
  }

  /** Every room name seen (the user's rooms first), for completion. */
  get known(): string[] {
    const mine = this.joined;
    const keys = new Set(mine.map(roomKey));
    const others = [...this.#known.values()]
      .filter((room) => !keys.has(roomKey(room)))
      .sort();
    return [...mine, ...others];
  }

  /** Whether the user is in `room`. */
  isIn(room: string): boolean {
    return this.#indexOf(room) >= 0;
  }

  /** Where the user is now, for a later rejoin. */
  snapshot(): RoomsSnapshot {
    return {
      rooms: [...this.#rooms],
      current: this.#current,
      main: this.#main,
    };
  }

  /** Follows one server line. */
  follow(line: ServerLine): void {
    switch (line.kind) {
      case "welcome":
        // A new registration: in the main room only, as the server puts
        // every line member; the main room of this server may be another.
        this.#rooms = [MAIN_ROOM];
        this.#current = MAIN_ROOM;
        this.#main = null;
        break;
      case "youJoined":
        this.#see(line.room);
        if (this.#indexOf(line.room) < 0) this.#rooms.push(line.room);
        this.#current = this.#inRoom(line.room);
        break;
      case "currentRoom":
        this.#see(line.room);
        this.#current = this.#inRoom(line.room);
        break;
      case "youLeft":
        this.#see(line.room);
        this.#leave(line.room);
        if (line.current === null) {
          this.#current = null;
        } else {
          this.#see(line.current);
          this.#current = this.#inRoom(line.current);
        }
        break;
      case "youWereKicked": {
        this.#see(line.room);
        const room = this.#inRoom(line.room);
        const wasCurrent = this.#current === room;
        this.#leave(line.room);
        // The server's rule, as for a part: the room joined last.
        if (wasCurrent) this.#current = this.#rooms.at(-1) ?? null;
        break;
      }
      case "inRoom":
        // A line of a room the user is in, not the current one.
        this.#see(line.room);
        this.#inRoom(line.room);
        this.follow(line.line);
        break;
      case "roomTopic":
        // `/topic` answers for the current room: it names the main room.
        this.#see(line.room);
        if (this.#current === MAIN_ROOM) this.#inRoom(line.room);
        break;
      case "joinedRoom":
      case "leftRoom":
      case "roomLine":
      case "onlineIn":
        this.#see(line.room);
        break;
      case "roomsHeader":
        // The whole list follows: rooms that are gone are forgotten.
        this.#known.clear();
        break;
      case "noSuchRoom":
        if (!this.isIn(line.room)) this.#known.delete(roomKey(line.room));
        break;
    }
  }

  #see(room: string): void {
    this.#known.set(roomKey(room), room);
  }

  #isMain(room: BookRoom): boolean {
    return room === MAIN_ROOM ||
      (this.#main !== null && roomKey(room) === roomKey(this.#main));
  }

  #indexOf(room: string): number {
    const key = roomKey(room);
    return this.#rooms.findIndex((r) =>
      typeof r === "string" && roomKey(r) === key
    );
  }

  /**
   * The book's entry for `room`, which the server says the user is in: a
   * room the user never joined while still in the unnamed main room is the
   * main room, now named.
   */
  #inRoom(room: string): BookRoom {
    const index = this.#indexOf(room);
    if (index >= 0) return this.#rooms[index];
    const main = this.#rooms.indexOf(MAIN_ROOM);
    if (main >= 0) {
      this.#main = room;
      this.#rooms[main] = room;
      if (this.#current === MAIN_ROOM) this.#current = room;
      return room;
    }
    // Not a room the book knew of (a line it missed): the user is in it.
    this.#rooms.push(room);
    return room;
  }

  #leave(room: string): void {
    const entry = this.#inRoom(room);
    this.#rooms = this.#rooms.filter((r) => r !== entry);
  }
}

/**
 * The lines that put a new connection where `snapshot` was: `/join` for
 * each room besides the main room (which the server joins on its own), the
 * current one last so that it stays current, then `/part` of the main room
 * if the user had left it.
 */
export function rejoinCommands(snapshot: RoomsSnapshot): string[] {
  const { main, current } = snapshot;
  const isMain = (room: BookRoom) =>
    room === MAIN_ROOM || (main !== null && roomKey(room) === roomKey(main));
  const inMain = snapshot.rooms.some(isMain);
  const others = snapshot.rooms.filter((r): r is string => !isMain(r));
  const commands: string[] = [];
  const last = current !== null && typeof current === "string" ? current : null;
  for (const room of others) {
    if (last === null || roomKey(room) !== roomKey(last)) {
      commands.push(`/join ${room}`);
    }
  }
  if (last !== null && (!isMain(last) || others.length > 0)) {
    commands.push(`/join ${last}`);
  }
  if (!inMain && main !== null) commands.push(`/part ${main}`);
  return commands;
}
