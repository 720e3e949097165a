/**
 * A whole chat server: the log, the room (with history read back from the
 * log), and its doors (TCP or TLS always, the web and IRC when asked), each
 * started the same way and shut down gracefully together.
 *
 * @module
 */

import { ChatLog } from "../io/chat_log.ts";
import { readLogStart } from "./log_start.ts";
import type { RoomEngine } from "../engine/engine.ts";
import { ChatRoom } from "../room/chat_room.ts";
import type { Accounts } from "../room/accounts.ts";
import type { HistoryEntry } from "../room/events.ts";
import { type Limits, resolveLimits } from "../room/limits.ts";
import { consoleText, logText } from "../room/texts.ts";
import { startTcpDoor, type StreamDoor } from "../transports/tcp.ts";
import { startWebDoor, type WebDoor } from "../transports/web.ts";
import { type IrcDoor, startIrcDoor } from "../transports/irc_door.ts";
import { metricsText } from "./metrics_text.ts";

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
  /** The web door; none when left out. */
  web?: WebOptions;
  /** The IRC door; none when left out. */
  irc?: IrcOptions;
  /**
   * Proxies (by IP) whose PROXY header (chat and IRC doors) and
   * `X-Forwarded-For` (web) are believed; from them the header is required.
   */
  trustProxy?: readonly string[];
  /**
   * Makes the room's engine, given the log's tail (for seeding a shared
   * history); the memory engine when left out.
   */
  engine?: (history: HistoryEntry[]) => RoomEngine;
  /**
   * The main room, everyone's on joining (the IRC door's channel). Default
   * the IRC channel when there is an IRC door, else `#chat`.
   */
  mainRoom?: string;
  /**
   * Opens the registered names, operators and bans (once the log opened,
   * before any port); closed with the server. None are kept when left out.
   */
  accounts?: () => Promise<Accounts>;
}

/** Options of the IRC door. */
export interface IrcOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** The room's channel, with its `#`. Default `#chat`. */
  channel?: string;
  /** The server's IRC name. Default the host name. */
  serverName?: string;
  /** The channel's topic. */
  topic?: string;
  /** The message of the day, by lines. */
  motd?: string[];
}

/** Options of the web door. */
export interface WebOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Host names, besides the machine's own, that browsers may use. */
  hosts?: readonly string[];
  /** Origins, besides the page's own, allowed to open the socket. */
  origins?: readonly string[];
  /** Proxies whose `X-Forwarded-For` is believed. */
  trustProxy?: readonly string[];
  /** Time for a request's head to arrive whole. Default 10 s. */
  headerTimeoutMs?: number;
  /** Time a connection may wait for its next request. Default 5 s. */
  idleTimeoutMs?: number;
}

/** Which door could not be opened, for a clear line on the console. */
export class DoorError extends Error {
  /** The door: `chat`, `web` or `irc`. */
  readonly door: string;
  /** The port asked for. */
  readonly port: number;
  /** Creates the error around the listener's own. */
  constructor(door: string, port: number, cause: unknown) {
    super(`Cannot open the ${door} port ${port}`, { cause });
    this.door = door;
    this.port = port;
  }
}

/** The address a server listens on. */
export interface ServerAddress {
  /** The host name or IP it was bound to. */
  hostname: string;
  /** The real port, also when 0 was asked for. */
  port: number;
}

// Bytes a history line may take in the log beyond the line itself: the
// timestamp, the name and the separators.
const LOG_LINE_OVERHEAD = 200;

/**
 * A running chat server: its listeners, the connections they accepted, the
 * room and the log. `shutdown()` stops all of them.
 */
export class ChatServer {
  /** The chat (TCP) address, with the real port. */
  readonly addr: ServerAddress;
  /** The IRC door's address, if it has one. */
  readonly ircAddr: ServerAddress | null;
  /** The web door's address, if it has one. */
  readonly webAddr: ServerAddress | null;
  /** What a person can open in a browser, if the web door is open. */
  readonly webUrls: string[];
  /** The room, for the console and for tests that look inside. */
  readonly room: ChatRoom;
  /** Settles once the server has shut down. */
  readonly finished: Promise<void>;
  #tcp: StreamDoor;
  #web: WebDoor | null;
  #irc: IrcDoor | null;
  #log: ChatLog;
  #console: (line: string) => void;
  #shutdown: Promise<void> | null = null;
  #finished: PromiseWithResolvers<void> = Promise.withResolvers();

  /** Use {@linkcode startChatServer}. */
  constructor(
    doors: { tcp: StreamDoor; web: WebDoor | null; irc: IrcDoor | null },
    log: ChatLog,
    room: ChatRoom,
    onConsole: (line: string) => void,
  ) {
    this.#tcp = doors.tcp;
    this.addr = doors.tcp.addr;
    this.#web = doors.web;
    this.webAddr = doors.web?.addr ?? null;
    this.webUrls = doors.web?.urls ?? [];
    this.#irc = doors.irc;
    this.ircAddr = doors.irc?.addr ?? null;
    this.#log = log;
    this.room = room;
    this.#console = onConsole;
    this.finished = this.#finished.promise;
  }

  /**
   * Stops accepting, tells everyone, flushes their output (up to the
   * shutdown timeout), closes every connection and the log. Safe to call
   * twice; resolves with the count of log lines that could not be written.
   */
  async shutdown(): Promise<number> {
    this.#shutdown ??= (async () => {
      await Promise.all([this.#tcp.close(), this.#irc?.close()]);
      // The web door closes after the room: until then a new socket hears
      // the shutdown notice and /healthz answers 503.
      await this.room.shutdown();
      await this.#web?.close();
      await this.room.engine.close();
      await this.room.accounts?.close();
      this.#log.record(logText.shutdown);
      this.#log.record(logText.finished);
    })();
    await this.#shutdown;
    const lost = await this.#log.close();
    if (lost > 0) this.#console(consoleText.logLost(this.#log.path, lost));
    this.#finished.resolve();
    return lost;
  }
}

/**
 * Opens the log (failing before any port is bound if it cannot be written),
 * reads the history back from its end, listens, and serves the chat until
 * `shutdown()`.
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
  const logPath = options.logPath ?? "chat_documentation.txt";
  const log = await ChatLog.open({
    path: logPath,
    onProblem: (problem) =>
      onConsole(
        problem.kind === "failing"
          ? consoleText.logProblem(problem.path, problem.reason)
          : consoleText.logRecovered(problem.path),
      ),
  });
  let tcp: StreamDoor | undefined;
  let accounts: Accounts | undefined;
  let web: WebDoor | null = null;
  let irc: IrcDoor | null = null;
  const trustProxy = new Set([
    ...(options.trustProxy ?? []),
    ...(options.web?.trustProxy ?? []),
  ]);
  // The doors' own console lines wait until the server says it listens.
  const early: string[] = [];
  let started = false;
  const doorConsole = (line: string) =>
    started ? onConsole(line) : early.push(line);
  let room: ChatRoom;
  // After a run that ended without a shutdown: lines saying so.
  let recovery: string[];
  try {
    const start = await readLogStart({
      path: logPath,
      historyLimit: limits.historyMessages,
      historyBytes: limits.historyMessages *
        (limits.maxLineBytes + LOG_LINE_OVERHEAD),
    });
    recovery = start.recovery;
    accounts = await options.accounts?.();
    room = new ChatRoom({
      limits,
      log,
      password: options.password,
      onConsole,
      history: start.history,
      engine: options.engine?.(start.history),
      mainRoom: options.mainRoom ?? options.irc?.channel ?? "#chat",
      mainTopic: options.irc?.topic,
      accounts,
    });
    await room.start();
    const hostname = options.hostname ?? "0.0.0.0";
    const where = { hostname, port: options.port ?? 2025 };
    // A browser pointed at the chat port is told where the page is, on the
    // host it reached.
    const webUrl = (host: string): string | null => {
      if (web === null) return null;
      const scheme = options.tls === undefined ? "http" : "https";
      return `${scheme}://${host}:${web.addr.port}/`;
    };
    try {
      tcp = startTcpDoor({
        room,
        ...where,
        tls: options.tls,
        trustProxy,
        onConsole,
        webUrl,
      });
    } catch (error) {
      throw new DoorError("chat", where.port, error);
    }
    if (options.web !== undefined) {
      const chatRoom = room;
      try {
        web = startWebDoor({
          room,
          hostname,
          port: options.web.port,
          tls: options.tls,
          hosts: options.web.hosts,
          origins: options.web.origins,
          trustProxy: [...trustProxy],
          metricsText: () => metricsText(chatRoom, log),
          onConsole: doorConsole,
          headerTimeoutMs: options.web.headerTimeoutMs,
          idleTimeoutMs: options.web.idleTimeoutMs,
        });
      } catch (error) {
        throw new DoorError("web", options.web.port, error);
      }
    }
    if (options.irc !== undefined) {
      const serverName = options.irc.serverName ?? hostName();
      try {
        irc = startIrcDoor({
          room,
          hostname,
          port: options.irc.port,
          tls: options.tls,
          channel: options.irc.channel ?? "#chat",
          serverName,
          motd: options.irc.motd,
          trustProxy,
          onConsole: doorConsole,
        });
      } catch (error) {
        if (error instanceof RangeError) throw error;
        throw new DoorError("irc", options.irc.port, error);
      }
    }
  } catch (error) {
    await tcp?.close();
    await web?.close();
    await accounts?.close();
    await log.close();
    throw error;
  }
  const server = new ChatServer(
    { tcp, web, irc },
    log,
    room,
    onConsole,
  );
  const address = `${server.addr.hostname}:${server.addr.port}`;
  for (const event of recovery) log.record(event);
  log.record(logText.alive(address));
  onConsole(consoleText.listening(address));
  for (const url of server.webUrls) onConsole(consoleText.webAt(url));
  started = true;
  for (const line of early) onConsole(line);
  return server;
}

// The machine's host name, the usual IRC server name.
function hostName(): string {
  try {
    return Deno.hostname() || "localhost";
  } catch {
    return "localhost";
  }
}
