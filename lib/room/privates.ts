/**
 * Private messages and CTCPs: to a member of this node at once, or to the
 * node that holds the name through the engine; the log keeps private
 * messages (never CTCPs).
 *
 * @module
 */

import type { EventLog } from "../io/chat_log.ts";
import type { Holder, PrivateMessage, RoomEngine } from "../engine/engine.ts";
import { nameKey } from "./registry.ts";
import { roomKey } from "./room_names.ts";
import type { Session } from "./session.ts";
import { logText } from "./texts.ts";

/** Whether `session` ignores (`/ignore`) the member called `from`. */
export function ignores(session: Session, from: string): boolean {
  return session.ignoring !== null && session.ignoring.has(nameKey(from));
}

/** Options of {@linkcode Privates}. */
export interface PrivatesOptions {
  /** Where names are held. */
  engine: RoomEngine;
  /** Where private messages are recorded. */
  log: EventLog;
  /** Wall clock, ms since the epoch. */
  clock: () => number;
  /** The session of this node for a holder of this node. */
  find: (holder: Holder) => Session | undefined;
  /** The session of this node holding a name. */
  local: (name: string) => Session | undefined;
}

/** Routes private messages and CTCPs. */
export class Privates {
  #engine: RoomEngine;
  #log: EventLog;
  #clock: () => number;
  #find: (holder: Holder) => Session | undefined;
  #local: (name: string) => Session | undefined;

  /** Routes through `options.engine`. */
  constructor(options: PrivatesOptions) {
    this.#engine = options.engine;
    this.#log = options.log;
    this.#clock = options.clock;
    this.#find = options.find;
    this.#local = options.local;
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
    const holder = this.#engine.find(target);
    if (holder === undefined) return null;
    this.#toHolder(holder, {
      type: "ctcp",
      from: name,
      to: holder.name,
      text,
      notice,
      via: session.conn.transport,
    });
    return holder.name;
  }

  /**
   * A CTCP to the members of `room` whose format shows it, but the sender
   * (who must be in the room); false when it is not. It takes the room's
   * order, as the room's lines do, and reaches its members only. Never
   * logged.
   */
  ctcpRoom(
    session: Session,
    name: string,
    text: string,
    notice: boolean,
    room: string,
  ): boolean {
    const to = session.rooms.get(roomKey(room));
    if (!session.entered || to === undefined) return false;
    const via = session.conn.transport;
    const event = { from: name, to: null, room: to, text, notice, via };
    this.#engine.publish({
      event: { type: "ctcp", ...event },
      from: session.id,
      node: this.#engine.node,
    });
    return true;
  }

  /** A private message; the holder's name, or null if no one holds it. */
  tell(
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
    this.#toHolder(holder, event);
    if (session.conn.renderer.echoes !== false) {
      session.send({ ...event, own: true });
    }
    this.#log.record(logText.privateMessage(name, holder.name, text));
    return holder.name;
  }

  // A private event to a holder: rendered for its connection on this node,
  // or sent to its node.
  #toHolder(holder: Holder, event: PrivateMessage["event"]): void {
    if (holder.node === this.#engine.node) {
      // The engine may hand back its own copy of a holder (a replica).
      const target = this.#find(holder);
      if (target !== undefined && !ignores(target, event.from)) {
        target.send(event);
      }
    } else {
      this.#engine.sendPrivate({ event, node: holder.node });
    }
  }

  /** A private message or CTCP from another node for a member of this one. */
  receive(message: PrivateMessage): void {
    const event = message.event;
    if (event.to === null) return;
    const target = this.#local(event.to);
    if (target === undefined) return;
    // Logged as sent, whether or not its recipient ignores the sender.
    if (!ignores(target, event.from)) target.send(event);
    if (event.type === "private") {
      this.#log.record(
        logText.privateMessage(event.from, event.to, event.text),
      );
    }
  }
}
