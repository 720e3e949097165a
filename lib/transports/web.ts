/**
 * The chat in a browser: HTTP/1.1 for the page, `/metrics` and `/healthz`,
 * and a WebSocket at `/chat` for the socket the page talks over, in the
 * format of `web_format.ts`. The page's files are imported as text, so they
 * are part of the module graph and no file is read at run time.
 *
 * HTTP and the WebSocket framing are read here (`http/`), on a listener of
 * our own, so that every connection is bounded: it holds a place in the
 * room's connection limits from its accept, its request head has a size
 * cap and a deadline, an idle keep-alive connection is closed, and a
 * WebSocket message is refused from its frame's header when it is over
 * the limit.
 *
 * Security: `Host` must be a name the server answers to (against DNS
 * rebinding), a browser's `Origin` must be the page's own or listed, and
 * every response carries a strict Content-Security-Policy.
 *
 * @module
 */

import type { Slot } from "../room/admission.ts";
import type { Doorway } from "../room/session_api.ts";
import { httpText, serverText } from "../room/texts.ts";
import {
  bodyLength,
  forwardedFor,
  hasToken,
  HttpReader,
  parseHost,
  type RequestHead,
  responseBytes,
  singleHeader,
} from "./http/http_request.ts";
import { WebConnection } from "./http/web_connection.ts";
import { acceptKey, validKey } from "./http/websocket.ts";
import { listenStream, type StreamConn } from "./stream.ts";
import { acceptLoop } from "./tcp.ts";
import css from "./web/page.css" with { type: "text" };
import html from "./web/index.html" with { type: "text" };
import links from "./web/links.js" with { type: "text" };
import script from "./web/page.js" with { type: "text" };

/** Options of {@linkcode startWebDoor}. */
export interface WebDoorOptions {
  /** The room browsers join. */
  room: Doorway;
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Serve HTTPS and WSS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Host names (besides the machine's own) that `Host` may name. */
  hosts?: readonly string[];
  /** Origins (besides the page's own) allowed to open the socket. */
  origins?: readonly string[];
  /** Addresses whose `X-Forwarded-For` is believed. */
  trustProxy?: readonly string[];
  /** The Prometheus text for `GET /metrics`. */
  metricsText: () => string;
  /** Prints one line on the console (a failing accept). */
  onConsole?: (line: string) => void;
  /** Time for a request's head to arrive whole. Default 10 s. */
  headerTimeoutMs?: number;
  /** Time a connection may wait for its next request. Default 5 s. */
  idleTimeoutMs?: number;
}

/** A running web door. */
export interface WebDoor {
  /** The address it listens on, with the real port. */
  readonly addr: { hostname: string; port: number };
  /** The addresses a person can open, for the console. */
  readonly urls: string[];
  /**
   * Stops listening and closes its HTTP connections; the room's shutdown
   * ends the sockets.
   */
  close(): Promise<void>;
}

/** Default time for a request's head to arrive whole. */
export const HEADER_TIMEOUT_MS = 10_000;
/** Default time a keep-alive connection may wait for its next request. */
export const IDLE_TIMEOUT_MS = 5_000;
/** Longest request head (request line and headers), in bytes. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A WebSocket message may take this many times the longest line. */
export const MESSAGE_FACTOR = 16;

// A connection over the limits is answered (or closed) within this time.
const REFUSED_MS = 1000;
// A request body up to this size is read and dropped; a bigger one ends
// the connection after the answer.
const MAX_BODY_SKIP = 64 * 1024;
// After an answer that ends the connection, what the client still sends
// is read and dropped for a while (up to this much), so that closing does
// not reset the connection and lose the answer.
const LINGER_MS = 1000;
const LINGER_BYTES = 64 * 1024;

const encoder = new TextEncoder();

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const PAGES: Record<string, { body: string; type: string }> = {
  "/": { body: html, type: "text/html; charset=utf-8" },
  "/index.html": { body: html, type: "text/html; charset=utf-8" },
  "/page.css": { body: css, type: "text/css; charset=utf-8" },
  "/page.js": { body: script, type: "text/javascript; charset=utf-8" },
  "/links.js": { body: links, type: "text/javascript; charset=utf-8" },
};

// The pages as bytes, once.
const PAGE_BYTES = new Map(
  Object.entries(PAGES).map((
    [path, page],
  ) => [path, encoder.encode(page.body)]),
);

/** An answer to one request. */
interface Answer {
  status: number;
  body: Uint8Array;
  headers: Record<string, string>;
}

// A plain-text answer of one line.
function answer(
  status: number,
  text: string,
  extra: Record<string, string> = {},
): Answer {
  return {
    status,
    body: encoder.encode(`${text}\n`),
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "text/plain; charset=utf-8",
      ...extra,
    },
  };
}

function machineNames(): { names: string[]; ipv4: string[] } {
  const names = ["localhost", "127.0.0.1", "::1"];
  const ipv4: string[] = [];
  try {
    for (const nic of Deno.networkInterfaces()) {
      names.push(nic.address.toLowerCase());
      if (nic.family === "IPv4" && !nic.address.startsWith("127.")) {
        ipv4.push(nic.address);
      }
    }
  } catch {
    // Not allowed to look: the listening address and localhost still work.
  }
  try {
    names.push(Deno.hostname().toLowerCase());
  } catch {
    // Likewise.
  }
  return { names, ipv4 };
}

function formatAddress(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

// Closes a connection once its time is up, unless told otherwise first.
class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onExpiry: () => void;

  constructor(onExpiry: () => void) {
    this.#onExpiry = onExpiry;
  }

  set(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onExpiry, ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

async function writeAll(conn: StreamConn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/**
 * Listens for browsers and serves them until `close()`. Throws as
 * `Deno.listen` does (a port in use, say).
 */
export function startWebDoor(options: WebDoorOptions): WebDoor {
  const { room } = options;
  const scheme = options.tls ? "https" : "http";
  const headerTimeoutMs = options.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const machine = machineNames();
  const hosts = new Set([
    ...machine.names,
    ...(options.hosts ?? []).map((h) => h.toLowerCase()),
  ]);
  const wildcard = options.hostname === "0.0.0.0" ||
    options.hostname === "::";
  if (!wildcard) hosts.add(options.hostname.toLowerCase());
  const origins = new Set(
    (options.origins ?? []).map((o) => o.toLowerCase().replace(/\/$/, "")),
  );
  const trusted = new Set(options.trustProxy ?? []);
  const stopping = new AbortController();
  // HTTP connections not handed to the room, closed with the door.
  const open = new Set<StreamConn>();
  const serving = new Set<Promise<void>>();

  // The answer to a request that is not a WebSocket upgrade, or null for
  // `/chat`, which `upgrade` takes.
  const route = (head: RequestHead): Answer | null => {
    const host = singleHeader(head, "host");
    if (host === null) return answer(403, httpText.unknownHost);
    const name = host === undefined ? null : parseHost(host);
    if (name === null || head.path === null) {
      return answer(400, httpText.badRequest);
    }
    if (!hosts.has(name)) return answer(403, httpText.unknownHost);
    if (head.method !== "GET" && head.method !== "HEAD") {
      return answer(405, httpText.methodNotAllowed, { allow: "GET, HEAD" });
    }
    const page = PAGES[head.path];
    if (page !== undefined) {
      return {
        status: 200,
        body: PAGE_BYTES.get(head.path)!,
        headers: { ...SECURITY_HEADERS, "content-type": page.type },
      };
    }
    switch (head.path) {
      case "/favicon.ico":
        // No icon: an empty answer rather than a 404 on every page load.
        return {
          status: 204,
          body: new Uint8Array(0),
          headers: SECURITY_HEADERS,
        };
      case "/healthz":
        return room.accepting
          ? answer(200, httpText.healthy)
          : answer(503, httpText.shuttingDown);
      case "/metrics":
        return answer(200, options.metricsText().replace(/\n$/, ""), {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
        });
      case "/chat":
        return null;
    }
    return answer(404, httpText.notFound);
  };

  // Checks an upgrade at `/chat`: an answer if it is refused, else the
  // client's address and the handshake's accept key.
  const checkUpgrade = async (
    head: RequestHead,
    peer: string,
  ): Promise<Answer | { ip: string; accept: string }> => {
    const host = singleHeader(head, "host")!;
    const origin = singleHeader(head, "origin");
    if (origin === undefined) return answer(400, httpText.badRequest);
    if (origin !== null) {
      const wanted = origin.toLowerCase();
      if (
        wanted !== `${scheme}://${host.toLowerCase()}` && !origins.has(wanted)
      ) {
        return answer(403, httpText.crossOrigin);
      }
    }
    if (!hasToken(head, "upgrade", "websocket")) {
      return answer(400, httpText.expectedUpgrade);
    }
    let ip = peer;
    if (trusted.has(peer)) {
      const forwarded = forwardedFor(head, trusted);
      if (forwarded === "invalid") return answer(400, httpText.badRequest);
      if (forwarded !== null) ip = forwarded;
    }
    const key = singleHeader(head, "sec-websocket-key");
    if (
      head.method !== "GET" || head.minor !== 1 ||
      !hasToken(head, "connection", "upgrade") ||
      singleHeader(head, "sec-websocket-version") !== "13" ||
      typeof key !== "string" || !validKey(key)
    ) {
      return answer(400, httpText.badHandshake);
    }
    return { ip, accept: await acceptKey(key) };
  };

  // Serves one connection's requests until it closes, is upgraded, or
  // runs out of time.
  const serveHttp = async (conn: StreamConn): Promise<void> => {
    const remote = conn.remoteAddr as Deno.NetAddr;
    const peer = remote.hostname;
    // A trusted proxy carries many clients: its connections count toward
    // the total only.
    const taken = room.admit(trusted.has(peer) ? null : peer);
    let slot: Slot | undefined = typeof taken === "string" ? undefined : taken;
    const refusal = typeof taken === "string" ? taken : null;
    const reader = new HttpReader(conn, { maxHeadBytes: MAX_HEAD_BYTES });
    const deadline = new Deadline(() => {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    });
    let handedOver = false;
    try {
      for (let first = true; !stopping.signal.aborted; first = false) {
        deadline.set(
          refusal !== null
            ? REFUSED_MS
            : first
            ? headerTimeoutMs
            : idleTimeoutMs,
        );
        const result = await reader.readHead(() => {
          if (!first && refusal === null) deadline.set(headerTimeoutMs);
        });
        if (result.kind === "end") return;
        if (result.kind !== "head") {
          await respond(
            conn,
            result.kind === "tooLarge"
              ? answer(431, httpText.headerTooLarge)
              : answer(400, httpText.badRequest),
            { close: true },
          );
          return;
        }
        const head = result.head;
        let keepAlive = head.minor === 1
          ? !hasToken(head, "connection", "close")
          : hasToken(head, "connection", "keep-alive");
        const body = bodyLength(head);
        if (body === "invalid") {
          await respond(conn, answer(400, httpText.badRequest), {
            close: true,
          });
          return;
        }
        if (body === "unbounded" || body > MAX_BODY_SKIP) keepAlive = false;
        else if (body > 0 && !(await reader.skip(body))) return;
        let response = route(head);
        if (response === null) {
          const checked = await checkUpgrade(head, peer);
          if ("accept" in checked) {
            deadline.set(headerTimeoutMs);
            await writeAll(
              conn,
              responseBytes(101, {
                upgrade: "websocket",
                connection: "Upgrade",
                "sec-websocket-accept": checked.accept,
              }, new Uint8Array(0)),
            );
            deadline.clear();
            handedOver = true;
            open.delete(conn);
            const { maxLineBytes, maxSendqBytes } = room.limits;
            // Over the limits (no slot), the room refuses it in its own
            // words, as a browser expects.
            room.serve(
              new WebConnection(conn, {
                ip: checked.ip,
                address: formatAddress(checked.ip, remote.port),
                slot,
                rest: reader.takeRest(),
                maxLineBytes,
                maxMessageBytes: maxLineBytes * MESSAGE_FACTOR,
                maxSendqBytes,
                metrics: room.metrics,
              }),
            );
            slot = undefined;
            return;
          }
          response = checked;
        }
        if (refusal !== null) {
          response = refusal === "full"
            ? answer(503, serverText.serverFull)
            : answer(429, serverText.tooManyFromAddress);
        }
        deadline.set(headerTimeoutMs);
        await respond(conn, response, {
          head: head.method === "HEAD",
          close: !keepAlive || refusal !== null,
          keepAlive: head.minor === 0 && keepAlive,
        });
        if (!keepAlive || refusal !== null) return;
      }
    } catch {
      // A reset, or our own close at a deadline: the end of it either way.
    } finally {
      deadline.clear();
      if (!handedOver) {
        open.delete(conn);
        try {
          await conn.close();
        } catch {
          // Closed already.
        }
        slot?.release();
      }
    }
  };

  // Writes `response`; when the connection ends after it, lingers.
  const respond = async (
    conn: StreamConn,
    response: Answer,
    how: { head?: boolean; close?: boolean; keepAlive?: boolean },
  ): Promise<void> => {
    const headers = { ...response.headers };
    if (how.close) headers["connection"] = "close";
    else if (how.keepAlive) headers["connection"] = "keep-alive";
    await writeAll(
      conn,
      responseBytes(response.status, headers, response.body, {
        head: how.head,
      }),
    );
    if (how.close) await linger(conn);
  };

  const listener = listenStream({
    hostname: options.hostname,
    port: options.port,
    tls: options.tls,
  });
  const accepting = acceptLoop({
    listener,
    signal: stopping.signal,
    onConsole: options.onConsole ?? (() => {}),
    onConnection: (conn) => {
      open.add(conn);
      const served = serveHttp(conn);
      serving.add(served);
      served.finally(() => serving.delete(served));
    },
  });
  const local = listener.addr as Deno.NetAddr;
  const addr = { hostname: local.hostname, port: local.port };
  const urls = (wildcard ? [...machine.ipv4, "localhost"] : [addr.hostname])
    .map((h) => `${scheme}://${formatAddress(h, addr.port)}/`);
  let closing: Promise<void> | null = null;
  return {
    addr,
    urls,
    close() {
      closing ??= (async () => {
        stopping.abort();
        try {
          listener.close();
        } catch {
          // Closed already.
        }
        await accepting;
        for (const conn of open) {
          try {
            conn.close();
          } catch {
            // Closed already.
          }
        }
        await Promise.all(serving);
      })();
      return closing;
    },
  };
}

// Half-closes, then reads and drops what the client still sends, for a
// while, so that the close does not reset the connection (and lose the
// answer) while the client's last bytes are unread.
async function linger(conn: StreamConn): Promise<void> {
  try {
    await conn.closeWrite();
  } catch {
    return;
  }
  const buffer = new Uint8Array(4096);
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }, LINGER_MS);
  try {
    for (let total = 0; total < LINGER_BYTES;) {
      const count = await conn.read(buffer);
      if (count === null) break;
      total += count;
    }
  } catch {
    // Closed at the deadline, or reset.
  } finally {
    clearTimeout(timer);
  }
}
