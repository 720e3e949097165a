/**
 * The room's shared state behind one interface: who holds which name,
 * who is present, the order of the room's events, and its history. The
 * memory engine keeps it in this process; the Redis engine shares it
 * between processes, so that several servers serve one room.
 *
 * No `Deno.*` and no wire format here.
 *
 * @module
 */

import type { HistoryEntry, RoomEvent } from "../room/events.ts";

/** What a claim of a name (or a rename) came to. */
export type ClaimResult = "ok" | "taken" | "invalid" | "unavailable";

/**
 * What a member tells about itself, kept with its name and seen alike on
 * every node. A field left out is not set (a line-protocol member has no
 * real name; a member who is back has no away message).
 */
export interface MemberAttributes {
  /** The user name its language gave (IRC's USER). */
  user?: string;
  /** The real name its language gave (IRC's USER). */
  realName?: string;
  /** Its away message, while it is away. */
  away?: string;
}

/** One holder of a name, on this node or another. */
export interface Holder extends MemberAttributes {
  /** The name as held (NFC, its own case). */
  name: string;
  /** The holder's transport (`tcp`, `web`, `irc`). */
  transport: string;
  /** The holder's address, `IP:PORT`. */
  address: string;
  /** Whether it is in the chat (announced, in `/who`) or only holds the name. */
  present: boolean;
  /** The rooms it is in, in the order it joined them. */
  rooms?: string[];
  /** The node (server process) it is connected to. */
  node: string;
  /** When it connected (ms since the epoch), for the console's `who`. */
  since?: number;
  /** When it claimed its name (ms since the epoch): IRC's sign-on time. */
  signedOn?: number;
  /**
   * When it was last active (ms since the epoch), for idle times: exact on
   * its own node, as of {@linkcode RoomEngine.touch} on the others.
   */
  active?: number;
}

/** What a room keeps besides its members, on every node alike. */
export interface RoomInfo {
  /** The room's name, with its `#`, as first given. */
  name: string;
  /** Its topic; null for none. */
  topic: string | null;
  /** Who set the topic, and when (ms since the epoch). */
  topicBy: string | null;
  /** When the topic was set; 0 for never. */
  topicAt: number;
  /** Whether only operators may set the topic. */
  topicLocked: boolean;
  /** Its operators, by name as held. */
  operators: string[];
  /** When it was made (ms since the epoch). */
  createdAt: number;
}

/** An event for everyone present in the room, with where it came from. */
export interface RoomMessage {
  /** The event. */
  event: RoomEvent;
  /** The sending session on its node, for its own copy; null for none. */
  from: string | null;
  /** The node that published it. */
  node: string;
}

/**
 * A private message, or a CTCP to one member, on its way to the node that
 * holds its target.
 */
export interface PrivateMessage {
  /** The `private` event (with `own: false`), or a `ctcp` to a member. */
  event: Extract<RoomEvent, { type: "private" | "ctcp" }>;
  /** The node that holds the target. */
  node: string;
}

/** The console's removal of a member, on its way to the member's node. */
export interface KickRequest {
  /** The name (any case). */
  name: string;
  /** The console's reason; empty for none. */
  reason: string;
  /**
   * A login to the registered name from elsewhere takes it over: the
   * holder is told so and goes without a word to the others.
   */
  ghost?: boolean;
}

/**
 * What a kick came to: `sent` to the node of the holder (`name` as held),
 * `notFound` when no one holds the name, `unavailable` when the holder's
 * node cannot be reached now.
 */
export type KickResult =
  | { kind: "sent"; name: string }
  | { kind: "notFound" }
  | { kind: "unavailable" };

/**
 * Why an engine stops hearing the other nodes: `idle` (no member on this
 * node for a while) or `shutdown`.
 */
export type Unfollowing = "idle" | "shutdown";

/** How the engine hands the room what it must deliver. */
export interface EngineSink {
  /**
   * A room-wide event, in the room's one order: delivered to this node's
   * members present (and as its own copy to `from` when it is on this node).
   */
  receive(message: RoomMessage): void;
  /** A private message for a holder on this node. */
  receivePrivate(message: PrivateMessage): void;
  /** A console's kick of a holder on this node. */
  receiveKick(request: KickRequest): void;
  /**
   * The engine's link to the rest of the room changed: `split` (only this
   * node's users hear each other), `whole` again, or `lostPlace` (this
   * node's users must reconnect).
   */
  status(state: "split" | "whole" | "lostPlace"): void;
  /**
   * The engine began (or began again) to hear the room's events from the
   * other nodes: `present` is who of theirs is in the room now. An engine
   * of one node never calls it.
   */
  following(present: Holder[]): void;
  /** The engine stopped hearing the other nodes. */
  unfollowing(why: Unfollowing): void;
}

/**
 * The room's shared state. Reads are synchronous (a replica on each node);
 * a claim or a rename may have to ask another process and so may return a
 * promise.
 */
export interface RoomEngine {
  /** This node's id. */
  readonly node: string;
  /** Starts delivering to `sink`; rejects when the shared state is unreachable. */
  start(sink: EngineSink): Promise<void>;
  /** Stops; releases this node's names. */
  close(): Promise<void>;
  /** Claims `holder.name` (already checked against the name rules). */
  claim(holder: Holder): ClaimResult | Promise<ClaimResult>;
  /** Moves a holder to a new name (checked); `taken` if someone holds it. */
  rename(holder: Holder, to: string): ClaimResult | Promise<ClaimResult>;
  /** Frees a name this node holds. */
  release(holder: Holder): void;
  /** Records that a holder entered or left the chat. */
  setPresent(holder: Holder, present: boolean): void;
  /** Records the rooms a holder is in now (it joined or left one). */
  setRooms(holder: Holder, rooms: string[]): void;
  /** What is kept of a room (by name, any case); undefined when none. */
  roomInfo(room: string): RoomInfo | undefined;
  /**
   * Keeps what a room has besides its members; null forgets the room with
   * its history (it has no members left).
   */
  setRoomInfo(room: string, info: RoomInfo | null): void;
  /**
   * Sets a holder's attributes to `attributes` (those left out are unset):
   * the other nodes see them as they see a rename.
   */
  update(holder: Holder, attributes: MemberAttributes): void;
  /**
   * Notes that a holder was active at `time` (ms since the epoch). Its own
   * node has it at once; a shared engine may tell the others only now and
   * then (the Redis engine: at most once in `activeShareMs`), so that a
   * message costs no write of its own.
   */
  touch(holder: Holder, time: number): void;
  /** Who holds `name` (any case), on any node. */
  find(name: string): Holder | undefined;
  /** Everyone present, in no particular order. */
  present(): Holder[];
  /** The last public messages of a room (the main room's by default), oldest first. */
  history(room?: string): HistoryEntry[];
  /** Publishes a room-wide event; it comes back through `receive`. */
  publish(message: RoomMessage): void;
  /** Sends a private message to the node that holds its target. */
  sendPrivate(message: PrivateMessage): void;
  /**
   * Hands a kick to the node that holds its name, wherever it is: looked
   * up in the shared state itself, so it works on a node that does not
   * follow the room.
   */
  kick(request: KickRequest): KickResult | Promise<KickResult>;
}
