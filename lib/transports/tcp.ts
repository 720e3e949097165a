/**
 * The chat over TCP (or TLS): a listener's accept loop and the connection
 * the room sees, speaking the line protocol of `line_format.ts`.
 *
 * @module
 */

import { describeError } from "../io/errors.ts";
import { type ByteReader, type Line, LineReader } from "../io/line_reader.ts";
import {
  looksLikeProxyHeader,
  type ProxySource,
  readProxyHeader,
} from "../io/proxy_protocol.ts";
import { Outbox, outputBudget } from "../io/outbox.ts";
import type { Rendered, Renderer } from "../room/events.ts";
import type {
  ChatConnection,
  Doorway,
  Interpreter,
} from "../room/session_api.ts";
import { Metrics } from "../room/metrics.ts";
import { consoleText } from "../room/texts.ts";
import type { EndReason } from "../room/reasons.ts";
import { lineFormat } from "../languages/line/line_format.ts";
import { LineLanguage } from "../languages/line/line_language.ts";
import {
  listenStream,
  type StreamConn,
  type StreamListener,
} from "./stream.ts";

/** Options of {@linkcode TcpConnection}. */
export interface TcpConnectionOptions {
  /** Longest line read, in bytes. */
  maxLineBytes: number;
  /** Unsent bytes before the connection is cut; 0 for no limit. */
  maxSendqBytes: number;
  /** The format; default the line protocol. */
  renderer?: Renderer;
  /** The transport's name for the console. Default `tcp`. */
  transport?: string;
  /** Counters the connection adds its bytes out to. */
  metrics?: Metrics;
  /** What a trusted proxy's PROXY header said, if the peer is one. */
  proxied?: Proxied;
  /** The web chat's URL on the host the peer reached; none without one. */
  webUrl?: (localHost: string) => string | null;
}

/** The client a trusted proxy named, and the bytes read past its header. */
export interface Proxied {
  /** The client's address; null when the proxy named none (its checks). */
  source: ProxySource | null;
  /** The start of the client's own bytes. */
  rest: Uint8Array;
}

/** The `IP:PORT` (with brackets for IPv6) of a connection's peer. */
export function peerAddress(addr: Deno.Addr): { ip: string; address: string } {
  const remote = addr as Deno.NetAddr;
  return {
    ip: remote.hostname,
    address: formatPeer(remote.hostname, remote.port),
  };
}

function formatPeer(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// Replays the bytes read past a PROXY header, then reads on.
class PrefixedReader implements ByteReader {
  #conn: StreamConn;
  #rest: Uint8Array | null;

  constructor(conn: StreamConn, rest: Uint8Array) {
    this.#conn = conn;
    this.#rest = rest.length > 0 ? rest : null;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const rest = this.#rest;
    if (rest === null) return this.#conn.read(buffer);
    const count = Math.min(buffer.length, rest.length);
    buffer.set(rest.subarray(0, count));
    this.#rest = count < rest.length ? rest.subarray(count) : null;
    return Promise.resolve(count);
  }
}

/** Why a peer that is no trusted proxy but sent a PROXY header was cut. */
export const UNTRUSTED_PROXY = "PROXY header from an untrusted address";

// Refuses a PROXY header from a peer that is not a trusted proxy: its first
// read is looked at, then reads go straight to the connection.
class ProxyGuard implements ByteReader {
  #conn: StreamConn;
  #first = true;

  constructor(conn: StreamConn) {
    this.#conn = conn;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (!this.#first) return this.#conn.read(buffer);
    return this.#conn.read(buffer).then((count) => {
      this.#first = false;
      if (count !== null && looksLikeProxyHeader(buffer.subarray(0, count))) {
        throw new Error(UNTRUSTED_PROXY);
      }
      return count;
    });
  }
}

/** Options of {@linkcode acceptFrom}. */
export interface AcceptFromOptions {
  /** Addresses whose PROXY header is required and believed. */
  trustProxy: ReadonlySet<string>;
  /** Longest wait for a trusted proxy's header. */
  timeoutMs: number;
  /** Aborted when the server stops. */
  signal: AbortSignal;
  /** Prints one line on the console. */
  onConsole: (line: string) => void;
  /** Takes the connection once its peer is known. */
  serve: (conn: StreamConn, proxied?: Proxied) => void;
}

/**
 * Hands an accepted connection on: at once, or, from a trusted proxy, once
 * its PROXY header (v1 or v2) has named the client. A bad or missing header
 * closes the connection with one console line.
 */
export function acceptFrom(
  conn: StreamConn,
  options: AcceptFromOptions,
): void {
  const { ip, address } = peerAddress(conn.remoteAddr);
  if (!options.trustProxy.has(ip)) {
    options.serve(conn);
    return;
  }
  readProxyHeader(conn, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  }).then(
    (proxied) => options.serve(conn, proxied),
    (error) => {
      options.onConsole(
        consoleText.connectionClosed(address, describeError(error)),
      );
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    },
  );
}

/** A connection of a byte-stream transport, as the chat room sees it. */
export class TcpConnection implements ChatConnection {
  readonly address: string;
  readonly ip: string;
  readonly transport: string;
  readonly renderer: Renderer;
  readonly interpreter: Interpreter;
  onCut: ((reason: EndReason) => void) | null = null;
  #conn: StreamConn;
  #lines: LineReader;
  #outbox: Outbox;
  #closed: Promise<void> | null = null;
  #metrics: Metrics;
  #webUrl: ((localHost: string) => string | null) | undefined;

  /** Wraps an accepted connection. */
  constructor(conn: StreamConn, options: TcpConnectionOptions) {
    this.#conn = conn;
    const source = options.proxied?.source;
    const { ip, address } = source
      ? { ip: source.ip, address: formatPeer(source.ip, source.port) }
      : peerAddress(conn.remoteAddr);
    this.ip = ip;
    this.address = address;
    this.transport = options.transport ?? "tcp";
    this.renderer = options.renderer ?? lineFormat;
    this.#metrics = options.metrics ?? new Metrics();
    this.#webUrl = options.webUrl;
    this.interpreter = new LineLanguage({ webUrl: () => this.#webUrlHere() });
    const reader: ByteReader = options.proxied
      ? new PrefixedReader(conn, options.proxied.rest)
      : new ProxyGuard(conn);
    this.#lines = new LineReader(reader, {
      maxLineBytes: options.maxLineBytes,
    });
    this.#outbox = new Outbox({
      writer: conn,
      maxQueuedBytes: options.maxSendqBytes,
      // Counts toward the server's output bound, which the room keeps.
      budget: outputBudget,
      onOverflow: () => this.onCut?.("sendQueue"),
      onError: (error) => this.onCut?.({ error: describeError(error) }),
    });
  }

  /** Bytes queued and not yet taken by the peer. */
  get unsentBytes(): number {
    return this.#outbox.unsentBytes;
  }

  // The web chat's URL on the host this peer reached.
  #webUrlHere(): string | null {
    if (this.#webUrl === undefined) return null;
    const local = this.#conn.localAddr as Deno.NetAddr;
    const host = local.hostname.includes(":")
      ? `[${local.hostname}]`
      : local.hostname;
    return this.#webUrl(host);
  }

  readLines(): Promise<Line[] | null> {
    // After our own close() a read may reject instead: the room has decided
    // the end already and ignores it.
    return this.#closed !== null ? Promise.resolve(null) : this.#lines.next();
  }

  deliver(output: Rendered): void {
    if (output instanceof Uint8Array) {
      this.#metrics.bytesOut += output.length;
      this.#outbox.send(output);
    }
  }

  async drain(): Promise<void> {
    // A peer still in its TLS handshake long after the accept can be sent
    // nothing: its connection is not held open for output.
    if (this.#conn.ready !== undefined && !(await this.#conn.ready())) return;
    await this.#outbox.drain();
  }

  /** Closes; resolves once the socket is closed. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#outbox.close();
      try {
        await this.#conn.close();
      } catch {
        // Already closed by the peer's side of the runtime: nothing to do.
      }
    })();
    return this.#closed;
  }
}

/** Options of {@linkcode acceptLoop}. */
export interface AcceptLoopOptions {
  /** The listener to accept from. */
  listener: StreamListener;
  /** Takes each accepted connection. */
  onConnection: (conn: StreamConn) => void;
  /** Prints one line on the console. */
  onConsole: (line: string) => void;
  /** Aborted when the server stops. */
  signal: AbortSignal;
}

/**
 * Accepts until the listener closes or `signal` aborts. Failures such as
 * running out of file descriptors are reported once, then retried with
 * back-off, so the loop neither dies nor spins.
 */
export async function acceptLoop(options: AcceptLoopOptions): Promise<void> {
  const { listener, signal } = options;
  let backoffMs = 0;
  let reported = false;
  while (!signal.aborted) {
    let conn: StreamConn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (signal.aborted || error instanceof Deno.errors.BadResource) break;
      // A peer that reset before we took it (a load balancer's health check
      // does) is that connection's problem, not the listener's.
      if (
        error instanceof Deno.errors.NotConnected ||
        error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.ConnectionAborted
      ) {
        continue;
      }
      if (!reported) {
        reported = true;
        options.onConsole(consoleText.acceptFailed(describeError(error)));
      }
      backoffMs = Math.min(1000, backoffMs === 0 ? 5 : backoffMs * 2);
      await sleep(backoffMs, signal);
      continue;
    }
    backoffMs = 0;
    reported = false;
    // Chat lines are small and wanted now: no Nagle. Keepalive finds
    // peers that vanished without a word.
    conn.setNoDelay?.(true);
    conn.setKeepAlive?.(true);
    options.onConnection(conn);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Options of {@linkcode startStreamDoor}. */
export interface StreamDoorOptions {
  /** Where its connections go. */
  room: Doorway;
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Speak TLS with this certificate chain and key (PEM). */
  tls?: { cert: string; key: string };
  /** Proxies (by IP) whose PROXY header is required and believed. */
  trustProxy: ReadonlySet<string>;
  /** Prints one line on the console. */
  onConsole: (line: string) => void;
  /** The room's connection for an accepted socket: a door's own kind. */
  connection: (conn: StreamConn, proxied?: Proxied) => ChatConnection;
}

/** A running door over a byte stream (TCP or TLS). */
export interface StreamDoor {
  /** The address it listens on, with the real port. */
  readonly addr: { hostname: string; port: number };
  /** Stops listening; the room's shutdown ends the connections. */
  close(): Promise<void>;
}

// Longest wait for a trusted proxy's PROXY header.
const PROXY_HEADER_MS = 10_000;

/**
 * Listens, accepts (backing off when descriptors run out), reads a trusted
 * proxy's PROXY header, and serves each connection in the room: what every
 * byte-stream door shares. Throws what the listener throws (a port in use).
 */
export function startStreamDoor(options: StreamDoorOptions): StreamDoor {
  const { room, onConsole } = options;
  const listener = listenStream({
    hostname: options.hostname,
    port: options.port,
    tls: options.tls,
  });
  const local = listener.addr as Deno.NetAddr;
  const stopping = new AbortController();
  const signal = stopping.signal;
  const accepting = acceptLoop({
    listener,
    signal,
    onConsole,
    onConnection: (conn) =>
      acceptFrom(conn, {
        trustProxy: options.trustProxy,
        timeoutMs: PROXY_HEADER_MS,
        signal,
        onConsole,
        serve: (conn, proxied) => room.serve(options.connection(conn, proxied)),
      }),
  });
  let closing: Promise<void> | null = null;
  return {
    addr: { hostname: local.hostname, port: local.port },
    close() {
      closing ??= (async () => {
        stopping.abort();
        try {
          listener.close();
        } catch {
          // Closed already.
        }
        await accepting;
      })();
      return closing;
    },
  };
}

/** Options of {@linkcode startTcpDoor}. */
export interface TcpDoorOptions extends Omit<StreamDoorOptions, "connection"> {
  /**
   * The web chat's URL on the host a peer reached, or null without a web
   * door: told to a browser that comes to this door.
   */
  webUrl?: (localHost: string) => string | null;
}

/**
 * Listens for the line protocol (nc, telnet, our client) and serves each
 * connection in the room. Throws what the listener throws (a port in use).
 *
 * @example
 * ```ts
 * const door = startTcpDoor({
 *   room, hostname: "0.0.0.0", port: 2025, trustProxy: new Set(),
 *   onConsole: console.log,
 * });
 * // Later:
 * await door.close();
 * ```
 */
export function startTcpDoor(options: TcpDoorOptions): StreamDoor {
  const { room } = options;
  return startStreamDoor({
    ...options,
    connection: (conn, proxied) =>
      new TcpConnection(conn, {
        maxLineBytes: room.limits.maxLineBytes,
        maxSendqBytes: room.limits.maxSendqBytes,
        metrics: room.metrics,
        proxied,
        webUrl: options.webUrl,
      }),
  });
}
