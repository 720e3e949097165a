/**
 * The chat over TCP (or TLS): the listener, its accept loop, one task per
 * connection, and a graceful shutdown. The room itself is `chat_room.ts`.
 *
 * @module
 */

import { ChatLog } from "../io/chat_log.ts";
import { type ChatConnection, ChatRoom } from "../room/chat_room.ts";
import { describeError } from "../io/errors.ts";
import { type Limits, resolveLimits } from "../room/limits.ts";
import { type Line, LineReader } from "../io/line_reader.ts";
import { consoleText, logText } from "../room/texts.ts";

/** TLS material, in PEM. */
export interface TlsOptions {
  /** The certificate chain. */
  cert: string;
  /** The private key. */
  key: string;
}

/** Options of {@linkcode startChatServer}. */
export interface ChatServerOptions {
  /** Address to listen on. Default `0.0.0.0`. */
  hostname?: string;
  /** Port to listen on; 0 picks a free one. Default 2025. */
  port?: number;
  /** The chat log file. Default `chat_documentation.txt` (working directory). */
  logPath?: string;
  /** Listen with TLS instead of plain TCP. */
  tls?: TlsOptions;
  /** The server password; none when empty or left out. */
  password?: string;
  /** Limits; anything left out takes its default. */
  limits?: Partial<Limits>;
  /** Prints one line on the server console. Default: nothing. */
  onConsole?: (line: string) => void;
}

/** The address a server listens on. */
export interface ServerAddress {
  /** The host name or IP it was bound to. */
  hostname: string;
  /** The real port, also when 0 was asked for. */
  port: number;
}

/** A connection of the TCP transport, as the chat room sees it. */
class TcpConnection implements ChatConnection {
  readonly address: string;
  readonly ip: string;
  #conn: Deno.Conn;
  #lines: LineReader;
  #closed = false;

  constructor(conn: Deno.Conn, maxLineBytes: number) {
    this.#conn = conn;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.ip = remote.hostname;
    this.address = remote.hostname.includes(":")
      ? `[${remote.hostname}]:${remote.port}`
      : `${remote.hostname}:${remote.port}`;
    this.#lines = new LineReader(conn, { maxLineBytes });
  }

  readLines(): Promise<Line[] | null> {
    // After our own close() a read may reject instead: the room has decided
    // the end already and ignores it.
    return this.#closed ? Promise.resolve(null) : this.#lines.next();
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer's side of the runtime: nothing to do.
    }
  }
}

/**
 * A running chat server: a listener, the connections it accepted, the room
 * and the log. `shutdown()` stops all of them.
 */
export class ChatServer {
  /** The address it listens on, with the real port. */
  readonly addr: ServerAddress;
  /** The room, for tests and tools that look inside. */
  readonly room: ChatRoom;
  /** Settles once the server has shut down. */
  readonly finished: Promise<void>;
  #listener: Deno.Listener;
  #log: ChatLog;
  #console: (line: string) => void;
  #maxLineBytes: number;
  #stopping = new AbortController();
  #shutdown: Promise<void> | null = null;
  #accepting: Promise<void>;
  #finished: PromiseWithResolvers<void> = Promise.withResolvers();

  /** Use {@linkcode startChatServer}. */
  constructor(
    listener: Deno.Listener,
    log: ChatLog,
    room: ChatRoom,
    onConsole: (line: string) => void,
  ) {
    this.#listener = listener;
    this.#log = log;
    this.room = room;
    this.#console = onConsole;
    this.#maxLineBytes = room.limits.maxLineBytes;
    const local = listener.addr as Deno.NetAddr;
    this.addr = { hostname: local.hostname, port: local.port };
    this.finished = this.#finished.promise;
    this.#accepting = this.#acceptLoop();
  }

  /**
   * Stops accepting, tells everyone, flushes their output (up to the
   * shutdown timeout), closes every connection and the log. Safe to call
   * twice; resolves with the count of log lines that could not be written.
   */
  async shutdown(): Promise<number> {
    this.#shutdown ??= (async () => {
      this.#stopping.abort();
      try {
        this.#listener.close();
      } catch {
        // Closed already.
      }
      await this.#accepting;
      await this.room.shutdown();
      this.#log.record(logText.shutdown);
      this.#log.record(logText.finished);
    })();
    await this.#shutdown;
    const lost = await this.#log.close();
    if (lost > 0) this.#console(consoleText.logLost(this.#log.path, lost));
    this.#finished.resolve();
    return lost;
  }

  async #acceptLoop(): Promise<void> {
    const signal = this.#stopping.signal;
    let backoffMs = 0;
    let reported = false;
    while (!signal.aborted) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (signal.aborted || error instanceof Deno.errors.BadResource) break;
        // Out of file descriptors and the like: say so once, back off, go on.
        if (!reported) {
          reported = true;
          this.#console(consoleText.acceptFailed(describeError(error)));
        }
        backoffMs = Math.min(1000, backoffMs === 0 ? 5 : backoffMs * 2);
        await sleep(backoffMs, signal);
        continue;
      }
      backoffMs = 0;
      reported = false;
      if ("setNoDelay" in conn) {
        // Chat lines are small and wanted now: no Nagle. Keepalive finds
        // peers that vanished without a word.
        const tcp = conn as Deno.TcpConn;
        tcp.setNoDelay(true);
        tcp.setKeepAlive(true);
      }
      this.room.serve(new TcpConnection(conn, this.#maxLineBytes));
    }
  }
}

/**
 * Opens the log (failing before any port is bound if it cannot be written),
 * listens, and serves the chat until `shutdown()`.
 *
 * @example
 * ```ts
 * const server = await startChatServer({ port: 0, onConsole: console.log });
 * console.log(server.addr.port);
 * await server.shutdown();
 * ```
 */
export async function startChatServer(
  options: ChatServerOptions = {},
): Promise<ChatServer> {
  const onConsole = options.onConsole ?? (() => {});
  // Bad limits stop the start before anything is opened.
  const limits = resolveLimits(options.limits);
  const log = await ChatLog.open({
    path: options.logPath ?? "chat_documentation.txt",
    onProblem: onConsole,
  });
  const room = new ChatRoom({
    limits,
    log,
    password: options.password,
    onConsole,
  });
  let listener: Deno.Listener;
  try {
    const where = {
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 2025,
    };
    listener = options.tls
      ? Deno.listenTls({
        ...where,
        cert: options.tls.cert,
        key: options.tls.key,
      })
      : Deno.listen(where);
  } catch (error) {
    await log.close();
    throw error;
  }
  const server = new ChatServer(listener, log, room, onConsole);
  const address = `${server.addr.hostname}:${server.addr.port}`;
  log.record(logText.alive(address));
  onConsole(consoleText.listening(address));
  return server;
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
