/**
 * The IRC door: a listener (plain or TLS) whose connections speak IRC and
 * are members of the same room as everyone else. The room runs them (flood
 * control, caps, registration timeout, shutdown); the door only accepts.
 *
 * @module
 */

import type { ChatConnection, Doorway } from "../room/session_api.ts";
import type { Rendered, Renderer } from "../room/events.ts";
import type { EndReason } from "../room/reasons.ts";
import type { Line } from "../io/line_reader.ts";
import { normalizeRoomName } from "../room/room_names.ts";
import {
  type Proxied,
  startStreamDoor,
  type StreamDoor,
  TcpConnection,
} from "./tcp.ts";
import type { StreamConn } from "./stream.ts";
import { IRC_TRANSPORT, IrcFormat } from "../languages/irc/irc_format.ts";
import {
  type IrcContext,
  IrcInterpreter,
} from "../languages/irc/irc_interpreter.ts";
import { MAX_LINE_BYTES } from "../languages/irc/irc_message.ts";
import { ircText } from "../languages/irc/irc_texts.ts";
import { hostPort, reachableHosts } from "../io/reachable.ts";

/** Ergo's defaults: PING after 90 s of silence, drop after 150 s. */
export const DEFAULT_PING_INTERVAL_MS = 90_000;
/** See {@linkcode DEFAULT_PING_INTERVAL_MS}. */
export const DEFAULT_PING_TIMEOUT_MS = 150_000;

/** Options of {@linkcode startIrcDoor}. */
export interface IrcDoorOptions {
  /** The room the door's users join. */
  room: Doorway;
  /** Address to listen on. */
  hostname: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** TLS material (PEM); plain TCP without it. */
  tls?: { cert: string; key: string };
  /** The main room, with its `#` (`#chat`): the channel of the others. */
  channel: string;
  /** The server's IRC name (the machine's host name, usually). */
  serverName: string;
  /** Lines of the message of the day; 422 if left out. */
  motd?: string[];
  /** The network's name for 001 and 005. Default `DenoChat`. */
  network?: string;
  /** Silence before the server PINGs a client. Default 90 s. */
  pingIntervalMs?: number;
  /** Silence before a client is dropped. Default 150 s. */
  pingTimeoutMs?: number;
  /** Prints one line on the server console. */
  onConsole: (line: string) => void;
  /** Addresses whose PROXY header is required and believed. */
  trustProxy?: ReadonlySet<string>;
}

/** A running IRC door: stops accepting on `close()`; the room ends sessions. */
export type IrcDoor = StreamDoor;

/** Options of {@linkcode IrcConnection}. */
export interface IrcConnectionOptions {
  /** The door's format, shared by all its connections. */
  format: Renderer;
  /** The door's settings. */
  context: IrcContext;
  /** Unsent bytes before the connection is cut; 0 for no limit. */
  maxSendqBytes: number;
  /** What a trusted proxy's PROXY header said. */
  proxied?: Proxied;
}

/**
 * One IRC client as the room sees it: a byte-stream connection with
 * 510-byte lines, the IRC format and the IRC interpreter.
 */
export class IrcConnection implements ChatConnection {
  readonly address: string;
  readonly ip: string;
  /** Always `irc`. */
  readonly transport: string = IRC_TRANSPORT;
  readonly renderer: Renderer;
  readonly interpreter: IrcInterpreter;
  onCut: ((reason: EndReason) => void) | null = null;
  #stream: TcpConnection;

  /** Wraps an accepted connection. */
  constructor(conn: StreamConn, options: IrcConnectionOptions) {
    this.renderer = options.format;
    this.#stream = new TcpConnection(conn, {
      maxLineBytes: MAX_LINE_BYTES,
      maxSendqBytes: options.maxSendqBytes,
      renderer: options.format,
      transport: IRC_TRANSPORT,
      proxied: options.proxied,
    });
    this.address = this.#stream.address;
    this.ip = this.#stream.ip;
    this.#stream.onCut = (reason) => this.onCut?.(reason);
    this.interpreter = new IrcInterpreter({
      context: options.context,
      deliver: (bytes) => this.#stream.deliver(bytes),
      cut: (reason) => this.onCut?.(reason),
    });
  }

  readLines(): Promise<Line[] | null> {
    return this.#stream.readLines();
  }

  deliver(output: Rendered): void {
    this.#stream.deliver(output);
  }

  drain(): Promise<void> {
    return this.#stream.drain();
  }

  close(): Promise<void> {
    this.interpreter.dispose();
    return this.#stream.close();
  }
}

// A server name: one token, without the characters of a nick mask.
// deno-lint-ignore no-control-regex
const SERVER_NAME = /^[^\s:!@,*\x00-\x1f\x7f]{1,63}$/;

/**
 * Listens for IRC clients and serves them in `room`. Throws a `RangeError`
 * for a bad channel or server name, and what `Deno.listen` throws for a
 * port in use.
 *
 * @example
 * ```ts
 * const door = startIrcDoor({
 *   room, hostname: "0.0.0.0", port: 6667, channel: "#chat",
 *   serverName: Deno.hostname(), onConsole: console.log,
 * });
 * // Later:
 * await door.close();
 * ```
 */
export function startIrcDoor(options: IrcDoorOptions): IrcDoor {
  const { room, channel, serverName } = options;
  if (!channel.startsWith("#") || normalizeRoomName(channel) !== channel) {
    throw new RangeError(
      `IRC channel "${channel}" must be "#" and 1-32 letters, digits, '_' or '-'`,
    );
  }
  if (!SERVER_NAME.test(serverName)) {
    throw new RangeError(
      `IRC server name "${serverName}" must be one word of 1-63 characters`,
    );
  }
  const network = (options.network ?? "DenoChat").replace(
    // deno-lint-ignore no-control-regex
    /[\s\x00-\x1f]+/g,
    "-",
  );
  const context: IrcContext = {
    serverName,
    channel,
    motd: options.motd ?? null,
    network: network === "" ? "DenoChat" : network,
    startedAt: Date.now(),
    pingIntervalMs: options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
    pingTimeoutMs: options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
    invisible: new Set(),
  };
  const format = new IrcFormat({ serverName, channel });
  const door = startStreamDoor({
    room,
    hostname: options.hostname,
    port: options.port,
    tls: options.tls,
    trustProxy: options.trustProxy ?? new Set(),
    onConsole: options.onConsole,
    connection: (conn, proxied) =>
      new IrcConnection(conn, {
        format,
        context,
        maxSendqBytes: room.limits.maxSendqBytes,
        proxied,
      }),
  });
  const addr = door.addr;
  for (const host of reachableHosts(addr.hostname)) {
    options.onConsole(
      ircText.consoleListening(hostPort(host, addr.port), channel),
    );
  }
  return door;
}
