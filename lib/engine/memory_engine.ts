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
import type {
  ClaimResult,
  EngineSink,
  Holder,
  KickRequest,
  KickResult,
  MemberAttributes,
  PrivateMessage,
  RoomEngine,
  RoomMessage,
} from "./engine.ts";

/** Options of {@linkcode MemoryEngine}. */
export interface MemoryEngineOptions {
  /** Messages kept for newcomers. */
  historyLimit: number;
  /** Messages from before the start (the log's tail), oldest first. */
  history?: readonly HistoryEntry[];
}

/** The room's state in memory: one process, one room. */
export class MemoryEngine implements RoomEngine {
  readonly node = "local";
  #registry = new Registry<Holder>();
  #present = new Set<Holder>();
  #history: History;
  #sink: EngineSink | null = null;

  /** Creates an empty room state. */
  constructor(options: MemoryEngineOptions) {
    this.#history = new History({ limit: options.historyLimit });
    for (const entry of options.history ?? []) this.#history.add(entry);
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

  history(): HistoryEntry[] {
    return this.#history.entries();
  }

  publish(message: RoomMessage): void {
    const event = message.event;
    if (event.type === "message" || event.type === "action") {
      this.#history.add({
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
    this.#sink?.receiveKick({ name: holder.name, reason: request.reason });
    return { kind: "sent", name: holder.name };
  }
}
