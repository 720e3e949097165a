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

/** One holder of a name, on this node or another. */
export interface Holder {
  /** The name as held (NFC, its own case). */
  name: string;
  /** The holder's transport (`tcp`, `web`, `irc`). */
  transport: string;
  /** The holder's address, `IP:PORT`. */
  address: string;
  /** Whether it is in the room (announced, in `/who`) or only holds the name. */
  present: boolean;
  /** The node (server process) it is connected to. */
  node: string;
  /** When it connected (ms since the epoch), for the console's `who`. */
  since?: number;
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

/** A private message on its way to the node that holds its target. */
export interface PrivateMessage {
  /** The `private` event (with `own: false`). */
  event: Extract<RoomEvent, { type: "private" }>;
  /** The node that holds the target. */
  node: string;
}

/** How the engine hands the room what it must deliver. */
export interface EngineSink {
  /**
   * A room-wide event, in the room's one order: delivered to this node's
   * members present (and as its own copy to `from` when it is on this node).
   */
  receive(message: RoomMessage): void;
  /** A private message for a holder on this node. */
  receivePrivate(message: PrivateMessage): void;
  /**
   * The engine's link to the rest of the room changed: `split` (only this
   * node's users hear each other), `whole` again, or `lostPlace` (this
   * node's users must reconnect).
   */
  status(state: "split" | "whole" | "lostPlace"): void;
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
  /** Records that a holder entered or left the room. */
  setPresent(holder: Holder, present: boolean): void;
  /** Who holds `name` (any case), on any node. */
  find(name: string): Holder | undefined;
  /** Everyone present, in no particular order. */
  present(): Holder[];
  /** The last public messages, oldest first. */
  history(): HistoryEntry[];
  /** Publishes a room-wide event; it comes back through `receive`. */
  publish(message: RoomMessage): void;
  /** Sends a private message to the node that holds its target. */
  sendPrivate(message: PrivateMessage): void;
}
