/**
 * One IRC connection as every command sees it: the door's settings, what
 * registration gathered (capabilities too), and how replies to it are
 * written (numerics from the table, lines cut to the limit, lists packed
 * into few lines, commands of several targets paid per target). What other
 * members may look at (away message, real name, sign-on, idle, rooms) is
 * the room's, kept with the member's name on every node.
 *
 * @module
 */

import type { MemberSession } from "../../room/chat_room.ts";
import type { RoomEvent } from "../../room/events.ts";
import type { EndReason } from "../../room/reasons.ts";
import { nameKey } from "../../room/registry.ts";
import { roomKey } from "../../room/room_names.ts";
import { IRC_TRANSPORT, memberMask } from "./irc_format.ts";
import {
  byteLength,
  clampLine,
  encodeLines,
  ircTextLine,
  MAX_LINE_BYTES,
} from "./irc_message.ts";
import {
  type NumericArgs,
  numericLine,
  type NumericName,
} from "./irc_numerics.ts";
import { ircText } from "./irc_texts.ts";

/** What every connection of one door shares: its settings. */
export interface IrcContext {
  /** The server's IRC name. */
  readonly serverName: string;
  /** The main room, with its `#`: the channel the others are in. */
  readonly channel: string;
  /** The message of the day, or null for none (422). */
  readonly motd: readonly string[] | null;
  /** The network's name for 001 and 005. */
  readonly network: string;
  /** When the door started, in ms since the epoch (003, 329). */
  readonly startedAt: number;
  /** Silence after which the server PINGs the client. */
  readonly pingIntervalMs: number;
  /** Silence after which the client is dropped. */
  readonly pingTimeoutMs: number;
  /**
   * The name keys of this door's members with user mode +i, whom a WHO
   * mask does not find (a mode of this door: other nodes do not know it).
   */
  readonly invisible: Set<string>;
}

/** Options of {@linkcode IrcClient}. */
export interface IrcClientOptions {
  /** The door's settings. */
  context: IrcContext;
  /** Queues bytes to this connection. */
  deliver: (bytes: Uint8Array) => void;
  /** Ends the connection at once (before the room gave us a session). */
  cut: (reason: EndReason) => void;
}

// Rendered by the IRC format as nothing: the client writes its own ERROR
// line first, then ends the session with this as its last notice.
const QUIET_END: RoomEvent = { type: "goodbye", name: null };

/** The state of one IRC connection, and its replies. */
export class IrcClient {
  /** The door's settings. */
  readonly context: IrcContext;
  /** The nick asked for before registration (held once it completes). */
  nick: string | null = null;
  /** The user name given with USER. */
  user: string | null = null;
  /** What PASS gave. */
  password: string | null = null;
  /**
   * Whether the right password was given: until then a taken nick is not
   * told (433), or anyone could list who is online.
   */
  passwordOk = false;
  /** Whether CAP negotiation holds registration until CAP END. */
  negotiating = false;
  /** The IRCv3 capabilities the client asked for and got. */
  readonly caps: Set<string> = new Set();
  /** The registered name logged in to with SASL, or null. */
  account: string | null = null;
  /**
   * An AUTHENTICATE under way: the base64 received so far (null: none,
   * `""` once PLAIN was chosen), and the failed ones so far.
   */
  sasl: string | null = null;
  saslFailures = 0;
  /** User mode +i. */
  invisible = false;
  /** Batches opened so far, for each one's reference. */
  batches = 0;
  #deliver: (bytes: Uint8Array) => void;
  #cut: (reason: EndReason) => void;
  #session: MemberSession | null = null;

  /** Creates the state of one connection. */
  constructor(options: IrcClientOptions) {
    this.context = options.context;
    this.#deliver = options.deliver;
    this.#cut = options.cut;
  }

  /** Takes the room's session of this connection (given with every line). */
  attach(session: MemberSession): void {
    this.#session = session;
  }

  /** The room's session; commands run only once a line brought it. */
  get session(): MemberSession {
    if (this.#session === null) throw new Error("No session yet");
    return this.#session;
  }

  /** The room's session, or null before the first line. */
  get attached(): MemberSession | null {
    return this.#session;
  }

  /**
   * Sets user mode +i (or -i), and with it the door's list of invisible
   * members that WHO masks skip.
   */
  setInvisible(
    on: boolean,
    name: string | null = this.attached?.name ?? null,
  ): void {
    this.invisible = on;
    if (name === null) return;
    if (on) this.context.invisible.add(nameKey(name));
    else this.context.invisible.delete(nameKey(name));
  }

  /** Whether the member is in `room` (any case). */
  isIn(room: string): boolean {
    const key = roomKey(room);
    return this.session.rooms.some((name) => roomKey(name) === key);
  }

  /** Whether registration completed (the nick is held). */
  get registered(): boolean {
    return (this.#session?.name ?? null) !== null;
  }

  /** The nick replies are addressed to: `*` before registration. */
  get me(): string {
    return this.#session?.name ?? "*";
  }

  /** `nick!irc@chat`, the source of this client's own lines. */
  get mask(): string {
    return memberMask(this.me, IRC_TRANSPORT);
  }

  /** A numeric reply to this client: `:server CODE nick params... :text`. */
  numeric<K extends NumericName>(name: K, ...args: NumericArgs<K>): string {
    return numericLine(this.context.serverName, this.me, name, ...args);
  }

  /** Sends one numeric reply (see {@linkcode IrcClient.numeric}). */
  reply<K extends NumericName>(name: K, ...args: NumericArgs<K>): void {
    this.send(this.numeric(name, ...args));
  }

  /** A NOTICE from the server to this client. */
  serverNotice(text: string): string {
    return ircTextLine(this.context.serverName, "NOTICE", this.me, text);
  }

  /**
   * Queues lines, each cut to the limit if a client's long parameter (a
   * nick that does not exist, say) would make it longer.
   */
  send(...lines: string[]): void {
    if (lines.length === 0) return;
    // What the room holds for this member goes first.
    this.#session?.flushHeld();
    this.#deliver(encodeLines(lines.map(clampLine)));
  }

  /**
   * Runs `run` for each item: the line paid for the first, each other one
   * takes a flood token of its own and waits for it as a line would (a
   * JOIN of many channels costs what many JOINs cost). Stops once the
   * session is ending.
   */
  each<T>(
    items: readonly T[],
    run: (item: T) => void,
    from = 0,
  ): void | Promise<void> {
    for (let i = from; i < items.length; i++) {
      if (i > 0) {
        const paid = this.session.charge();
        if (paid instanceof Promise) {
          return paid.then((going) => {
            if (!going) return;
            run(items[i]);
            return this.each(items, run, i + 1);
          });
        }
        if (!paid) return;
      }
      run(items[i]);
    }
  }

  /** Lines `head` + items joined by spaces, as many as fit. */
  packed(head: string, items: readonly string[]): string[] {
    const room = MAX_LINE_BYTES - byteLength(head);
    const lines: string[] = [];
    let current = "";
    let bytes = 0;
    for (const item of items) {
      const size = byteLength(item);
      if (current !== "" && bytes + 1 + size > room) {
        lines.push(head + current);
        current = "";
        bytes = 0;
      }
      current = current === "" ? item : `${current} ${item}`;
      bytes += (bytes === 0 ? 0 : 1) + size;
    }
    lines.push(head + current);
    return lines;
  }

  /** Sends `ERROR :Closing link: text` and ends the session for `reason`. */
  closeLink(text: string, reason: EndReason): void {
    this.send(ircTextLine(null, "ERROR", ircText.closingLink(text)));
    this.session.end(reason, QUIET_END);
  }

  /** Ends the connection at once (no session was given yet). */
  cut(reason: EndReason): void {
    this.#cut(reason);
  }
}
