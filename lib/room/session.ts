/**
 * One connection's state in the room: its name and holder, its flood
 * tokens, how it is ending. The room's own bookkeeping; languages see it
 * only through the session API.
 *
 * @module
 */

import type { Holder, MemberAttributes } from "../engine/engine.ts";
import type { RoomEvent } from "./events.ts";
import { beforeDelivery } from "./fan_out.ts";
import type { EndReason } from "./reasons.ts";
import type { ChatConnection } from "./session_api.ts";

let sessionIds = 0;

/** One connection's state in the room. */
export class Session {
  /** The connection. */
  readonly conn: ChatConnection;
  /** Unique on this node, for the engine's messages. */
  readonly id: string = String(++sessionIds);
  /** The name held, once a claim succeeded. */
  name: string | null = null;
  /** What the engine knows of it, once it holds a name. */
  holder: Holder | null = null;
  /** The rooms it is in (by room key), in the order it joined them. */
  rooms: Map<string, string> = new Map();
  /** The room its plain text goes to (a room's name); null for none. */
  current: string | null = null;
  /** The last broadcast that reached it, so one reaching many rooms comes once. */
  seen = 0;
  /**
   * Whether it entered the room. Broadcasts reach it once its own join has
   * come back from the engine (`index` is then set), so it hears what the
   * room's order puts after its join, and nothing from before.
   */
  entered = false;
  /** When it connected, by the room's clock (ms since the epoch). */
  connectedAt = 0;
  /** What it told about itself before it held a name (IRC's USER). */
  attributes: MemberAttributes = {};
  /** Flood tokens left, and when they were last refilled. */
  tokens: number;
  /** When the tokens were last refilled (the room's monotonic clock). */
  refilledAt: number;
  /** Why the session is ending, once something decided it is. */
  ending: EndReason | null = null;
  /** Whether it logged in to a registered name. */
  loggedIn = false;
  /**
   * Whose lines it does not want (`/ignore`): name key to the name as
   * given. Null for no one, so that a broadcast looks nothing up for most
   * members.
   */
  ignoring: Map<string, string> | null = null;
  /**
   * The rooms of the older connection it took its name over from: it goes
   * on in them without a word to their members.
   */
  adopted: string[] | null = null;
  /** What it said as it left the chat (a quit message); empty for none. */
  farewell = "";
  /** Whether its last notice went out: nothing more is sent. */
  said = false;
  /** The console's reason when it was removed. */
  removedFor = "";
  /** The registration deadline. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Ends a wait of the read loop early (the session is ending). */
  wake: (() => void) | null = null;

  /** The state of a connection just admitted. */
  constructor(conn: ChatConnection, tokens: number, now: number) {
    this.conn = conn;
    this.tokens = tokens;
    this.refilledAt = now;
  }

  /** Renders `event` in this connection's format and queues it. */
  send(event: RoomEvent): void {
    if (this.said) return;
    const output = this.conn.renderer.render(event);
    if (output === null) return;
    // A run of broadcasts held for this member goes first.
    beforeDelivery(this);
    this.conn.deliver(output);
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
