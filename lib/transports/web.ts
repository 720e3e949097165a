/**
 * The chat in a browser: `Deno.serve` for the page, `/metrics` and
 * `/healthz`, and `Deno.upgradeWebSocket` at `/chat` for the socket the page
 * talks over, in the format of `web_format.ts`. The page's files are
 * imported as text, so they are part of the module graph and no file is
 * read at run time.
 *
 * Security: `Host` must be a name the server answers to (against DNS
 * rebinding), a browser's `Origin` must be the page's own or listed, and
 * every response carries a strict Content-Security-Policy.
 *
 * @module
 */

import { type Line, LINE_TOO_LONG } from "../io/line_reader.ts";
import { SharedJoin } from "../io/shared_join.ts";
import type { ChatConnection, ChatRoom } from "../room/chat_room.ts";
import type { Rendered, Renderer } from "../room/events.ts";
import type { Metrics } from "../room/metrics.ts";
import { serverText } from "../room/texts.ts";
import type { EndReason } from "../room/reasons.ts";
import { setImmediate } from "node:timers";
import { webFormat, webNotice } from "./web_format.ts";
import css from "./web/page.css" with { type: "text" };
import html from "./web/index.html" with { type: "text" };
import links from "./web/links.js" with { type: "text" };
import script from "./web/page.js" with { type: "text" };

/** Options of {@linkcode startWebDoor}. */
export interface WebDoorOptions {
  /** The room browsers join. */
  room: ChatRoom;
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
}

/** A running web door. */
export interface WebDoor {
  /** The address it listens on, with the real port. */
  readonly addr: { hostname: string; port: number };
  /** The addresses a person can open, for the console. */
  readonly urls: string[];
  /** Stops listening; the room's shutdown ends the sockets. */
  close(): Promise<void>;
}

const encoder = new TextEncoder();

// A browser that sends far more than a line in one frame is not a chat
// client; Deno reads a frame whole before we can look at it.
const FRAME_FACTOR = 16;
// Lines read but not yet taken by the room (which delays a flooder's).
const MAX_QUEUED_LINES = 100;
// Lines handed to the room at once.
const BATCH_LINES = 32;
// A send queue over the cap is cut only once the peer took nothing for
// this long, so a burst to a reader that keeps reading never cuts it.
const STALL_MS = 250;
// How often drain() looks at what is still buffered.
const DRAIN_POLL_MS = 10;

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

function respond(
  status: number,
  body: string,
  type = "text/plain; charset=utf-8",
  extra: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": type, ...extra },
  });
}

// Whether `text` takes more than `max` bytes of UTF-8. A UTF-16 unit takes
// one to three bytes, so most lines need no encoding to tell.
function overLimit(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return encoder.encode(text).length > max;
}

// Sockets with events queued. One round, after the event loop has handed
// out every ready read, sends each its events as one frame (JSON objects
// separated by `\n`), as the TCP outbox coalesces writes: a join storm or
// a busy room costs a send per socket per round, not per event.
let due: WebConnection[] = [];

function flushDue(): void {
  const sockets = due;
  due = [];
  for (const socket of sockets) socket.flush();
  frames.forget();
}

// Recipients of the same broadcasts queue the same strings in the same
// order: one joined frame serves them all.
const frames = new SharedJoin<string>((parts) => parts.join("\n"));

/** A browser's socket, as the chat room sees it. */
class WebConnection implements ChatConnection {
  readonly address: string;
  readonly ip: string;
  readonly transport = "web";
  readonly renderer: Renderer = webFormat;
  onCut: ((reason: EndReason) => void) | null = null;
  #socket: WebSocket;
  #maxLineBytes: number;
  #maxSendq: number;
  #metrics: Metrics;
  #queue: Line[] = [];
  // Events queued since the last frame, and whether a round will send them.
  #pending: string[] = [];
  #scheduled = false;
  #waiting: PromiseWithResolvers<Line[] | null> | null = null;
  #ended = false;
  #closed = false;
  // What the socket had buffered at the last look, and since when the peer
  // has taken nothing while over the cap.
  #lastBuffered = 0;
  #stalledSince = 0;

  constructor(
    socket: WebSocket,
    peer: { ip: string; address: string },
    options: { maxLineBytes: number; maxSendqBytes: number; metrics: Metrics },
  ) {
    this.#socket = socket;
    this.ip = peer.ip;
    this.address = peer.address;
    this.#maxLineBytes = options.maxLineBytes;
    this.#maxSendq = options.maxSendqBytes;
    this.#metrics = options.metrics;
    socket.onmessage = (event) => this.#onFrame(event.data);
    socket.onclose = () => this.#end();
    socket.onerror = () => this.#end();
  }

  readLines(): Promise<Line[] | null> {
    if (this.#queue.length > 0) {
      return Promise.resolve(this.#queue.splice(0, BATCH_LINES));
    }
    if (this.#ended) return Promise.resolve(null);
    this.#waiting = Promise.withResolvers();
    return this.#waiting.promise;
  }

  deliver(output: Rendered): void {
    if (this.#closed || output instanceof Uint8Array) return;
    if (typeof output === "string") this.#pending.push(output);
    else for (const text of output) this.#pending.push(text);
    if (!this.#scheduled) {
      this.#scheduled = true;
      due.push(this);
      if (due.length === 1) setImmediate(flushDue);
    }
  }

  /** Sends what was queued as one frame; for the round in this module. */
  flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    if (pending.length === 0) return;
    this.#pending = [];
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    const text = frames.join(pending);
    this.#socket.send(text);
    this.#metrics.bytesOut += text.length;
    this.#checkSendq(text.length);
  }

  async drain(): Promise<void> {
    while (
      !this.#closed && this.#socket.readyState === WebSocket.OPEN &&
      (this.#scheduled || this.#socket.bufferedAmount > 0)
    ) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#end();
    try {
      this.#socket.close();
    } catch {
      // Closing already.
    }
  }

  // The cap counts what the peer has not taken: bytes still buffered while
  // the buffer has not shrunk for STALL_MS. A burst to a reader that keeps
  // reading shrinks it at once.
  #checkSendq(added: number): void {
    if (this.#maxSendq === 0) return;
    const buffered = this.#socket.bufferedAmount;
    const taken = this.#lastBuffered + added - buffered;
    this.#lastBuffered = buffered;
    const now = performance.now();
    if (buffered <= this.#maxSendq || taken > 0) {
      this.#stalledSince = buffered > this.#maxSendq ? now : 0;
      if (buffered <= this.#maxSendq * FRAME_FACTOR) return;
    } else if (this.#stalledSince === 0) {
      this.#stalledSince = now;
      return;
    } else if (now - this.#stalledSince < STALL_MS) {
      return;
    }
    this.onCut?.("sendQueue");
  }

  #onFrame(data: unknown): void {
    if (this.#ended) return;
    if (typeof data !== "string") {
      this.deliver(webNotice(serverText.binaryRefused));
      return;
    }
    if (data.length > this.#maxLineBytes * FRAME_FACTOR) {
      this.onCut?.("frameTooLarge");
      return;
    }
    for (const raw of data.split("\n")) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      this.#queue.push(
        overLimit(line, this.#maxLineBytes) ? LINE_TOO_LONG : line,
      );
    }
    if (this.#queue.length > MAX_QUEUED_LINES) {
      this.#queue.length = 0;
      this.onCut?.("floodQueue");
      return;
    }
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      waiting.resolve(this.#queue.splice(0, BATCH_LINES));
    }
  }

  #end(): void {
    this.#ended = true;
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      waiting.resolve(this.#queue.length > 0 ? this.#queue.splice(0) : null);
    }
  }
}

// The name part of a Host header: no port, no brackets, lower case.
function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith("[")) return lower.slice(1, lower.indexOf("]"));
  const colon = lower.lastIndexOf(":");
  return colon === -1 || lower.indexOf(":") !== colon
    ? lower
    : lower.slice(0, colon);
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

/**
 * Listens for browsers and serves them until `close()`. Throws as
 * `Deno.listen` does (a port in use, say).
 */
export function startWebDoor(options: WebDoorOptions): WebDoor {
  const { room } = options;
  const scheme = options.tls ? "https" : "http";
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

  const handler = (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response => {
    const host = request.headers.get("host");
    if (host === null || !hosts.has(hostName(host))) {
      return respond(403, "Forbidden: unknown host.\n");
    }
    const url = new URL(request.url);
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") {
      return respond(405, "Method not allowed.\n", undefined, {
        allow: "GET, HEAD",
      });
    }
    const page = PAGES[url.pathname];
    if (page !== undefined) return respond(200, page.body, page.type);
    switch (url.pathname) {
      case "/favicon.ico":
        // No icon: an empty answer rather than a 404 on every page load.
        return new Response(null, { status: 204, headers: SECURITY_HEADERS });
      case "/healthz":
        return room.accepting
          ? respond(200, "ok\n")
          : respond(503, "shutting down\n");
      case "/metrics":
        return respond(
          200,
          options.metricsText(),
          "text/plain; version=0.0.4; charset=utf-8",
        );
      case "/chat":
        return upgrade(request, info.remoteAddr, host);
    }
    return respond(404, "Not found.\n");
  };

  const upgrade = (
    request: Request,
    remote: Deno.NetAddr,
    host: string,
  ): Response => {
    const origin = request.headers.get("origin");
    if (origin !== null) {
      const wanted = origin.toLowerCase();
      if (
        wanted !== `${scheme}://${host.toLowerCase()}` && !origins.has(wanted)
      ) {
        return respond(403, "Forbidden: cross-origin socket.\n");
      }
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return respond(400, "Expected a WebSocket upgrade.\n");
    }
    // Read before the upgrade: afterwards the request's headers are gone.
    let ip = remote.hostname;
    if (trusted.has(ip)) {
      const forwarded = request.headers.get("x-forwarded-for");
      const last = forwarded?.split(",").at(-1)?.trim();
      if (last && /^[0-9a-fA-F.:]+$/.test(last)) ip = last;
    }
    let upgraded;
    try {
      upgraded = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
    } catch {
      return respond(400, "Invalid WebSocket handshake.\n");
    }
    const { maxLineBytes, maxSendqBytes } = room.limits;
    const socket = upgraded.socket;
    const conn = new WebConnection(
      socket,
      { ip, address: formatAddress(ip, remote.port) },
      { maxLineBytes, maxSendqBytes, metrics: room.metrics },
    );
    socket.onopen = () => room.serve(conn);
    return upgraded.response;
  };

  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    signal: stopping.signal,
    onListen() {},
    onError() {
      return respond(500, "Internal error.\n");
    },
    ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
  }, handler);
  const addr = { hostname: server.addr.hostname, port: server.addr.port };
  const urls = (wildcard ? [...machine.ipv4, "localhost"] : [addr.hostname])
    .map((h) => `${scheme}://${formatAddress(h, addr.port)}/`);
  return {
    addr,
    urls,
    async close() {
      stopping.abort();
      await server.finished;
    },
  };
}
