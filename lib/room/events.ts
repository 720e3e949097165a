/**
 * What the room tells its members: one union of events, and the renderer
 * each transport supplies to turn them into its own bytes or frames.
 *
 * No `Deno.*` and no wire format here.
 *
 * @module
 */

import type { EndReason } from "./reasons.ts";

/** One public message kept for newcomers. */
export interface HistoryEntry {
  /** When it was said, in ms since the epoch. */
  time: number;
  /** Who said it. */
  from: string;
  /** What was said. */
  text: string;
  /** Whether it was a `/me` action. */
  action: boolean;
}

/** Why a connection was refused before it got a session. */
export type Refusal = "full" | "perIp" | "shuttingDown";

/**
 * Everything the room sends to a member, whatever its transport. `via` is
 * the transport of the member an event is about (`tcp`, `web`, `irc`), for
 * formats that show it; `own` marks the copy a sender gets of its own line.
 */
export type RoomEvent =
  | { type: "namePrompt" }
  | { type: "nameTaken"; name: string; retry: boolean }
  | { type: "nameInvalid"; retry: boolean }
  | { type: "nameReserved"; name: string; retry: boolean }
  | { type: "wrongDoor"; webUrl: string | null }
  | { type: "passwordPrompt" }
  | { type: "wrongPassword" }
  | { type: "tooManyAttempts" }
  | { type: "registrationTimedOut" }
  | { type: "refused"; reason: Refusal }
  | { type: "welcome"; name: string }
  | { type: "history"; entries: readonly HistoryEntry[] }
  | {
    type: "join";
    time: number;
    name: string;
    via: string;
    /** The member's address, for the log. */
    address: string;
  }
  | {
    type: "leave";
    time: number;
    name: string;
    via: string;
    /** Why, for the log: `exit`, or why it was cut. */
    reason: EndReason;
  }
  | {
    type: "removed";
    time: number;
    name: string;
    via: string;
    /** The console's reason, for the log. */
    reason: string;
  }
  | { type: "rename"; time: number; from: string; to: string; via: string }
  | { type: "renamed"; name: string }
  | {
    type: "message";
    time: number;
    from: string;
    text: string;
    own: boolean;
    via: string;
  }
  | {
    type: "action";
    time: number;
    from: string;
    text: string;
    own: boolean;
    via: string;
  }
  | {
    type: "private";
    time: number;
    from: string;
    to: string;
    text: string;
    own: boolean;
    via: string;
  }
  | {
    /**
     * A client-to-client request (IRC's CTCP: VERSION, PING...) to one
     * member (`to`) or to the channel (`to` null). Only formats that know
     * it show it; the others render nothing. Never logged.
     */
    type: "ctcp";
    from: string;
    to: string | null;
    /** The request without its `\x01` marks: `VERSION`, `PING 123`. */
    text: string;
    /** A reply (IRC's NOTICE) rather than a request (PRIVMSG). */
    notice: boolean;
    via: string;
  }
  | { type: "notFound"; target: string }
  | { type: "usage"; command: "private" | "me" | "nick" }
  | { type: "unknownCommand"; word: string }
  | { type: "lineTooLong"; limit: number }
  | { type: "who"; names: readonly string[] }
  | { type: "help" }
  | { type: "announcement"; time: number; text: string }
  | { type: "kicked"; reason: string }
  | { type: "goodbye"; name: string | null }
  | { type: "unavailable" }
  | { type: "roomStatus"; state: "split" | "whole" | "lostPlace" }
  | { type: "shutdown" };

/** What a renderer makes of an event: bytes, a text frame, or several. */
export type Rendered = Uint8Array | string | readonly string[];

/**
 * A transport's format. `render` returns null for an event the format does
 * not show (a TCP sender gets no copy of its own message). For an event that
 * goes to many members it is called once per format, so it must not depend
 * on the recipient.
 */
export interface Renderer {
  /** Renders one event. */
  render(event: RoomEvent): Rendered | null;
  /**
   * False when the format never shows a sender its own message (`own`
   * events render as null), so the room need not make them.
   */
  readonly echoes?: boolean;
}
