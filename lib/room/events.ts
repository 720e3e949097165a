/**
 * What the room tells its members: one union of events, and the renderer
 * each transport supplies to turn them into its own bytes or frames.
 *
 * No `Deno.*` and no wire format here.
 *
 * @module
 */

import type { EndReason } from "./reasons.ts";
import type { NameFault } from "./registry.ts";

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

/** A room as `/rooms` and IRC's LIST show it. */
export interface RoomSummary {
  /** Its name, with its `#`. */
  name: string;
  /** Members in it, on every node. */
  members: number;
  /** Its topic; null for none. */
  topic: string | null;
}

/** What a room operation refused, for the member who asked. */
export type RoomProblem =
  | "invalidName"
  | "notIn"
  | "noSuchRoom"
  | "notOperator"
  | "noSuchMember"
  | "tooManyRooms"
  | "tooManyJoins"
  | "inNoRoom";

/** What the chat says to one member about its account or moderation. */
export type AccountNotice =
  | { kind: "registered"; name: string }
  | { kind: "passwordTooShort"; minimum: number }
  | { kind: "passwordTooLong"; maximum: number }
  | { kind: "nameRegistered"; name: string }
  | { kind: "wrongPassword"; name: string }
  | { kind: "loginDelayed"; name: string; seconds: number }
  | { kind: "loginLocked"; name: string; until: string }
  | { kind: "passwordChanged"; name: string }
  | { kind: "unregistered"; name: string }
  | { kind: "notRegistered"; name: string }
  | { kind: "alreadyRegistered"; name: string }
  | { kind: "operatorName"; name: string }
  | { kind: "wrongOldPassword" }
  | { kind: "unavailable" }
  | { kind: "loggedInElsewhere" }
  | { kind: "banned"; until: string | null; reason: string }
  | { kind: "muted"; until: string | null }
  | { kind: "onlyOperators" }
  | { kind: "keptForOffline"; name: string }
  | { kind: "offlineMessage"; from: string; stamp: string; text: string }
  | { kind: "offlineDropped"; count: number; limit: number }
  | { kind: "done"; text: string };

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
  | { type: "nameInvalid"; retry: boolean; fault?: NameFault }
  | { type: "nameReserved"; name: string; retry: boolean }
  /** `name` is free but `holder`, whom it would pass for, is online. */
  | { type: "nameLooksLike"; name: string; holder: string; retry: boolean }
  | { type: "wrongDoor"; webUrl: string | null }
  | { type: "passwordPrompt" }
  | { type: "wrongPassword" }
  | { type: "tooManyAttempts" }
  | { type: "registrationTimedOut" }
  | { type: "refused"; reason: Refusal }
  /** `room`: the main room, which the web page shows first. */
  | { type: "welcome"; name: string; room?: string }
  | { type: "accountPrompt"; name: string }
  | { type: "accountNotice"; notice: AccountNotice }
  /**
   * `room`: whose history it is (the page files it there); `sinceLeft`:
   * what was said since a registered member left, at its login.
   */
  | {
    type: "history";
    entries: readonly HistoryEntry[];
    room?: string;
    sinceLeft?: boolean;
  }
  | {
    type: "join";
    time: number;
    name: string;
    via: string;
    /** The member's address, for the log. */
    address: string;
    /** The room joined. */
    room: string;
    /** Whether it is the main room (its joins read as joining the chat). */
    main: boolean;
    /** Set by the fan-out for a recipient whose current room is another. */
    elsewhere?: boolean;
  }
  | {
    type: "leave";
    time: number;
    name: string;
    via: string;
    /** Why, for the log: `exit`, or why it was cut. */
    reason: EndReason;
    /** What the member said as it left (IRC's QUIT, `/quit TEXT`). */
    message?: string;
    /** The rooms it was in: whom the notice reaches. */
    rooms?: readonly string[];
  }
  | {
    type: "part";
    time: number;
    name: string;
    via: string;
    room: string;
    /** What the member said as it left the room; empty for nothing. */
    reason: string;
    elsewhere?: boolean;
  }
  | {
    type: "topic";
    time: number;
    /** Who set it. */
    name: string;
    /** The transport of the member who acted, for formats that show it. */
    via?: string;
    room: string;
    /** The new topic; null when cleared. */
    topic: string | null;
    elsewhere?: boolean;
  }
  | {
    type: "roomKick";
    time: number;
    /** Who was kicked. */
    name: string;
    /** The operator who kicked. */
    by: string;
    /** The transport of the member who acted, for formats that show it. */
    via?: string;
    room: string;
    reason: string;
    elsewhere?: boolean;
  }
  | {
    type: "roomOp";
    time: number;
    name: string;
    by: string;
    /** The transport of the member who acted, for formats that show it. */
    via?: string;
    room: string;
    /** Made an operator (true) or no longer one. */
    op: boolean;
    elsewhere?: boolean;
  }
  | {
    type: "topicLock";
    time: number;
    by: string;
    /** The transport of the member who acted, for formats that show it. */
    via?: string;
    room: string;
    locked: boolean;
    elsewhere?: boolean;
  }
  | { type: "youJoined"; room: string; members: number; topic: string | null }
  | { type: "youLeft"; room: string; current: string | null }
  | {
    type: "youWereKicked";
    /** The member kicked (the recipient). */
    name: string;
    room: string;
    by: string;
    /** The kicker's transport, for formats that show it. */
    via?: string;
    reason: string;
  }
  | { type: "currentRoom"; room: string }
  | {
    type: "roomProblem";
    problem: RoomProblem;
    room: string | null;
    limit?: number;
  }
  | { type: "rooms"; rooms: readonly RoomSummary[] }
  | {
    type: "roomWho";
    room: string;
    names: readonly string[];
    /** Its operators, when it has any (the page marks them). */
    operators?: readonly string[];
  }
  | { type: "roomTopic"; room: string; topic: string | null }
  | {
    type: "removed";
    time: number;
    name: string;
    via: string;
    /** The console's reason, for the log. */
    reason: string;
    /** The rooms it was in: whom the notice reaches. */
    rooms?: readonly string[];
  }
  | {
    type: "rename";
    time: number;
    from: string;
    to: string;
    via: string;
    /** The rooms the member is in: whom the notice reaches. */
    rooms?: readonly string[];
  }
  | { type: "renamed"; name: string }
  | {
    type: "message";
    time: number;
    from: string;
    text: string;
    own: boolean;
    via: string;
    /** The room it was said in. */
    room: string;
    /** Sent as an IRC NOTICE: IRC shows it as one, the others as a line. */
    notice?: boolean;
    elsewhere?: boolean;
  }
  | {
    type: "action";
    time: number;
    from: string;
    text: string;
    own: boolean;
    via: string;
    /** The room it was said in. */
    room: string;
    elsewhere?: boolean;
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
    /** The room of a request to a channel (`to` null): whom it reaches. */
    room?: string;
    /** The request without its `\x01` marks: `VERSION`, `PING 123`. */
    text: string;
    /** A reply (IRC's NOTICE) rather than a request (PRIVMSG). */
    notice: boolean;
    via: string;
  }
  | { type: "notFound"; target: string }
  | {
    type: "usage";
    command:
      | "private"
      | "me"
      | "nick"
      | "join"
      | "op"
      | "deop"
      | "kick"
      | "topiclock"
      | "register"
      | "password"
      | "unregister"
      | "disconnect"
      | "ban"
      | "unban"
      | "mute"
      | "unmute";
  }
  | { type: "unknownCommand"; word: string }
  | { type: "lineTooLong"; limit: number }
  | {
    type: "who";
    names: readonly string[];
    /** The current room's operators, when it has any. */
    operators?: readonly string[];
  }
  | { type: "help" }
  | { type: "announcement"; time: number; text: string }
  | { type: "kicked"; reason: string }
  | { type: "goodbye"; name: string | null }
  | { type: "unavailable" }
  | { type: "roomStatus"; state: "split" | "whole" | "lostPlace" }
  | { type: "shutdown" };

/** The events said in one room, which reach that room's members. */
export type RoomScopedEvent = Extract<
  RoomEvent,
  {
    type:
      | "join"
      | "part"
      | "message"
      | "action"
      | "topic"
      | "roomKick"
      | "roomOp"
      | "topicLock";
  }
>;

const ROOM_SCOPED: ReadonlySet<string> = new Set([
  "join",
  "part",
  "message",
  "action",
  "topic",
  "roomKick",
  "roomOp",
  "topicLock",
]);

/** Whether an event was said in one room (and reaches its members). */
export function isRoomScoped(event: RoomEvent): event is RoomScopedEvent {
  return ROOM_SCOPED.has(event.type);
}

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
  /**
   * True when the format shows a room's line differently to a member whose
   * current room is another (the line protocol's `[#room] ` prefix): the
   * fan-out then renders such events a second time with `elsewhere` set.
   */
  readonly marksElsewhere?: boolean;
}
