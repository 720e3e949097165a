/**
 * The room's shared state in this process: the default engine, with
 * nothing to install. Every call is synchronous and a published event is
 * delivered before `publish` returns.
 *
 * @module
 */

import type { HistoryEntry } from "../room/events.ts";
import { History } from "../room/history.ts";
import { Registry } from "../room/registry.ts";
import { roomKey } from "../room/room_names.ts";
import type {
  ClaimResult,
  EngineSink,
  Holder,
  KickRequest,
  KickResult,
  MemberAttributes,
  PrivateMessage,
  RoomEngine,
  RoomInfo,
  RoomMessage,
} from "./engine.ts";

/** Options of {@linkcode MemoryEngine}. */
export interface MemoryEngineOptions {
  /** Messages kept for newcomers. */
  historyLimit: number;
  /** Messages from before the start (the log's tail), oldest first. */
  history?: readonly HistoryEntry[];
  /** The main room's name, whose history `history()` gives. Default `#chat`. */
  mainRoom?: string;
}

/** The room's state in memory: one process, one room. */
export class MemoryEngine implements RoomEngine {
  readonly node = "local";
  #registry = new Registry<Holder>();
  #present = new Set<Holder>();
  #historyLimit: number;
  #mainRoom: string;
  // Each room's history, by room key.
  #histories = new Map<string, History>();
  #rooms = new Map<string, RoomInfo>();
  #sink: EngineSink | null = null;

  /** Creates an empty room state. */
  constructor(options: MemoryEngineOptions) {
    this.#historyLimit = options.historyLimit;
    this.#mainRoom = roomKey(options.mainRoom ?? "#chat");
    const main = this.#historyOf(this.#mainRoom);
    for (const entry of options.history ?? []) main.add(entry);
  }

  start(sink: EngineSink): Promise<void> {
    this.#sink = sink;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#sink = null;
    return Promise.resolve();
  }

  claim(holder: Holder): ClaimResult {
    return this.#registry.claim(holder.name, holder) ? "ok" : "taken";
  }

  rename(holder: Holder, to: string): ClaimResult {
    if (!this.#registry.rename(holder.name, to, holder)) return "taken";
    holder.name = to;
    return "ok";
  }

  release(holder: Holder): void {
    this.#registry.release(holder.name, holder);
    this.#present.delete(holder);
  }

  setPresent(holder: Holder, present: boolean): void {
    holder.present = present;
    if (present) this.#present.add(holder);
    else this.#present.delete(holder);
  }

  update(holder: Holder, attributes: MemberAttributes): void {
    holder.user = attributes.user;
    holder.realName = attributes.realName;
    holder.away = attributes.away;
  }

  touch(holder: Holder, time: number): void {
    holder.active = time;
  }

  find(name: string): Holder | undefined {
    return this.#registry.find(name)?.member;
  }

  present(): Holder[] {
    return [...this.#present];
  }

  setRooms(holder: Holder, rooms: string[]): void {
    holder.rooms = rooms;
  }

  roomInfo(room: string): RoomInfo | undefined {
    return this.#rooms.get(roomKey(room));
  }

  setRoomInfo(room: string, info: RoomInfo | null): void {
    const key = roomKey(room);
    if (info !== null) {
      this.#rooms.set(key, info);
      return;
    }
    this.#rooms.delete(key);
    if (key !== this.#mainRoom) this.#histories.delete(key);
  }

  history(room?: string): HistoryEntry[] {
    const key = room === undefined ? this.#mainRoom : roomKey(room);
    return this.#histories.get(key)?.entries() ?? [];
  }

  publish(message: RoomMessage): void {
    const event = message.event;
    if (event.type === "message" || event.type === "action") {
      this.#historyOf(roomKey(event.room)).add({
        time: event.time,
        from: event.from,
        text: event.text,
        action: event.type === "action",
      });
    }
    this.#sink?.receive(message);
  }

  sendPrivate(message: PrivateMessage): void {
    this.#sink?.receivePrivate(message);
  }

  kick(request: KickRequest): KickResult {
    const holder = this.find(request.name);
    if (holder === undefined) return { kind: "notFound" };
    this.#sink?.receiveKick({
      name: holder.name,
      reason: request.reason,
      ghost: request.ghost === true,
    });
    return { kind: "sent", name: holder.name };
  }

  #historyOf(key: string): History {
    let history = this.#histories.get(key);
    if (history === undefined) {
      history = new History({ limit: this.#historyLimit });
      this.#histories.set(key, history);
    }
    return history;
  }
}
