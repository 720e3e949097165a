/**
 * A browser-protocol client for tests: Deno's own WebSocket to `/chat`,
 * with the headers a browser would send, collecting the JSON frames; and a
 * raw HTTP request for what `fetch` will not send (a forged `Host`).
 *
 * @module
 */

import {
  Arrivals,
  closeQuietly,
  readAll,
  WAIT_MS,
  waitUntil,
} from "../helpers.ts";

/** One event the server sent, parsed. */
export type WebFrame = Record<string, unknown> & { type: string };

/** Options of {@linkcode WebTestClient.connect}. */
export interface WebClientOptions {
  /** Headers of the upgrade request; default an `Origin` of the page. */
  headers?: Record<string, string>;
  /** The host to connect to. Default `127.0.0.1`. */
  hostname?: string;
}

/**
 * A WebSocket chat client that keeps every frame it received; closed at the
 * end of an `await using` scope.
 */
export class WebTestClient implements AsyncDisposable {
  /** The frames so far, to wait on. */
  readonly received: Arrivals<WebFrame> = new Arrivals();
  /** Whether the socket has closed. */
  closed = false;
  /** The socket. */
  readonly socket: WebSocket;
  #closedPromise: Promise<void>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        this.received.add({ type: "binary" });
        return;
      }
      // One or more events a frame, one JSON object a line.
      this.received.add(
        ...event.data.split("\n").map((line) => JSON.parse(line)),
      );
    };
    this.#closedPromise = new Promise((resolve) => {
      socket.onclose = () => {
        this.closed = true;
        this.received.end();
        resolve();
      };
    });
  }

  /** Opens the socket; rejects with the server's refusal (a 403, say). */
  static connect(
    port: number,
    options: WebClientOptions = {},
  ): Promise<WebTestClient> {
    const hostname = options.hostname ?? "127.0.0.1";
    const headers = options.headers ??
      { origin: `http://${hostname}:${port}` };
    const socket = new WebSocket(`ws://${hostname}:${port}/chat`, {
      headers,
    });
    const client = new WebTestClient(socket);
    return new Promise((resolve, reject) => {
      socket.onopen = () => resolve(client);
      socket.onerror = (event) => {
        if (socket.readyState !== WebSocket.OPEN) {
          reject(new Error((event as ErrorEvent).message ?? "refused"));
        }
      };
    });
  }

  /** Connects and registers `name`, waiting for the welcome. */
  static async join(
    port: number,
    name: string,
    options: WebClientOptions = {},
  ): Promise<WebTestClient> {
    const client = await WebTestClient.connect(port, options);
    try {
      await client.next((f) => f.type === "prompt");
      client.send(name);
      await client.next((f) => f.type === "welcome" && f.name === name);
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** Sends one text frame. */
  send(text: string): void {
    this.socket.send(text);
  }

  /** Every frame so far, in order. */
  get frames(): WebFrame[] {
    return this.received.items;
  }

  /** Waits for the next frame (after those waited for) that matches. */
  next(
    match: (frame: WebFrame) => boolean,
    timeoutMs = WAIT_MS,
  ): Promise<WebFrame> {
    return this.received.next(match, timeoutMs, "a matching frame");
  }

  /** Waits until the server has closed the socket. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    await waitUntil(() => this.closed, "the socket to close", timeoutMs);
  }

  /** Closes the socket and waits until it is closed; safe to call twice. */
  async close(): Promise<void> {
    if (!this.closed && this.socket.readyState !== WebSocket.CLOSING) {
      try {
        this.socket.close();
      } catch {
        // Closing already.
      }
    }
    await this.#closedPromise;
  }

  /** Closes it (see {@linkcode WebTestClient.close}). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Sends one raw HTTP/1.1 request to 127.0.0.1:`port` and returns the
 * status code of the answer.
 */
export async function rawHttpStatus(
  port: number,
  request: string,
): Promise<number> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  const status = Number(text.split(" ")[1]);
  if (!Number.isInteger(status)) throw new Error(`No status in "${text}"`);
  return status;
}

/**
 * Opens a WebSocket by hand over TCP and then never reads: a frozen tab.
 * Returns the connection once the server has answered the upgrade.
 */
export async function frozenWebSocket(
  port: number,
  name: string,
): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa("0123456789abcdef");
  const encoder = new TextEncoder();
  await conn.write(encoder.encode(
    `GET /chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:${port}\r\n\r\n`,
  ));
  const buffer = new Uint8Array(1024);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("Closed during the upgrade");
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  if (!text.startsWith("HTTP/1.1 101")) {
    conn.close();
    throw new Error(`Upgrade refused: ${text.split("\r\n")[0]}`);
  }
  // One masked text frame with the name.
  const payload = encoder.encode(name);
  const mask = new Uint8Array([1, 2, 3, 4]);
  const frame = new Uint8Array(6 + payload.length);
  frame[0] = 0x81;
  frame[1] = 0x80 | payload.length;
  frame.set(mask, 2);
  for (let i = 0; i < payload.length; i++) {
    frame[6 + i] = payload[i] ^ mask[i % 4];
  }
  await conn.write(frame);
  return conn;
}

const rawEncoder = new TextEncoder();
const rawDecoder = new TextDecoder();

/** One HTTP response as {@linkcode RawConn.response} read it. */
export interface RawResponse {
  /** The status code. */
  status: number;
  /** The status line, without `\r\n`. */
  statusLine: string;
  /** The headers, names in lower case (repeated ones joined by `, `). */
  headers: Record<string, string>;
  /** The body, as text (per `content-length`; none for HEAD or 101). */
  body: string;
}

/** A frame the server sent, as {@linkcode RawConn.frame} parsed it. */
export interface ServerFrame {
  /** Whether FIN was set. */
  fin: boolean;
  /** The opcode. */
  opcode: number;
  /** Whether the server masked it (it must not). */
  masked: boolean;
  /** The payload. */
  payload: Uint8Array;
  /** For a close frame: its status code, if it has one. */
  code?: number;
  /** The payload as text. */
  text: string;
}

/** Options of {@linkcode clientFrame}. */
export interface ClientFrameOptions {
  /** The opcode; default 1 (text). */
  opcode?: number;
  /** FIN; default true. */
  fin?: boolean;
  /** Whether to mask, as a client must; default true. */
  masked?: boolean;
  /** RSV1-3 bits (0-7); default 0. */
  rsv?: number;
  /** Announce this length instead of the payload's (a lie). */
  announce?: number;
}

/** One client frame with `payload` (text or bytes), masked by default. */
export function clientFrame(
  payload: string | Uint8Array,
  options: ClientFrameOptions = {},
): Uint8Array {
  const bytes = typeof payload === "string"
    ? rawEncoder.encode(payload)
    : payload;
  const masked = options.masked ?? true;
  const length = options.announce ?? bytes.length;
  const head: number[] = [
    ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) |
    (options.opcode ?? 1),
  ];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 255);
  else {
    head.push(maskBit | 127);
    const high = Math.floor(length / 2 ** 32);
    const low = length >>> 0;
    head.push(
      (high >>> 24) & 255,
      (high >>> 16) & 255,
      (high >>> 8) & 255,
      high & 255,
      (low >>> 24) & 255,
      (low >>> 16) & 255,
      (low >>> 8) & 255,
      low & 255,
    );
  }
  const mask = [0x37, 0xfa, 0x21, 0x3d];
  if (masked) head.push(...mask);
  const out = new Uint8Array(head.length + bytes.length);
  out.set(head);
  for (let i = 0; i < bytes.length; i++) {
    out[head.length + i] = masked ? bytes[i] ^ mask[i % 4] : bytes[i];
  }
  return out;
}

/**
 * A raw TCP connection to a web door, for what browsers and `fetch` will
 * not do: half requests, forged headers, hand-made WebSocket frames. It
 * reads all the time, so the server is never held up by it.
 */
export class RawConn implements AsyncDisposable {
  /** The connection. */
  readonly conn: Deno.Conn;
  /** Whether the server closed (or reset) it. */
  ended = false;
  #buffer = new Uint8Array(0);
  #reading: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#reading = readAll(conn, (chunk) => {
      const grown = new Uint8Array(this.#buffer.length + chunk.length);
      grown.set(this.#buffer);
      grown.set(chunk, this.#buffer.length);
      this.#buffer = grown;
    }).then(() => {
      this.ended = true;
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number, hostname = "127.0.0.1"): Promise<RawConn> {
    return new RawConn(await Deno.connect({ hostname, port }));
  }

  /** Connects with TLS to localhost:`port`, trusting `caCerts`. */
  static async openTls(port: number, caCerts: string[]): Promise<RawConn> {
    return new RawConn(
      await Deno.connectTls({ hostname: "localhost", port, caCerts }),
    );
  }

  /**
   * Connects and opens a WebSocket at `/chat` with `headers` added to (or
   * replacing) a browser's; rejects unless the answer is 101.
   */
  static async webSocket(
    port: number,
    headers: Record<string, string> = {},
    options: { caCerts?: string[] } = {},
  ): Promise<RawConn> {
    const raw = options.caCerts
      ? await RawConn.openTls(port, options.caCerts)
      : await RawConn.open(port);
    const host = options.caCerts ? "localhost" : "127.0.0.1";
    const scheme = options.caCerts ? "https" : "http";
    const all: Record<string, string> = {
      host: `${host}:${port}`,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": btoa("0123456789abcdef"),
      "sec-websocket-version": "13",
      origin: `${scheme}://${host}:${port}`,
      ...headers,
    };
    await raw.send(
      "GET /chat HTTP/1.1\r\n" +
        Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("") +
        "\r\n",
    );
    const response = await raw.response();
    if (response.status !== 101) {
      await raw.close();
      throw new Error(`Upgrade refused: ${response.statusLine}`);
    }
    return raw;
  }

  /** Sends text or bytes (looping on partial writes). */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? rawEncoder.encode(data) : data;
    let offset = 0;
    while (offset < bytes.length) {
      offset += await this.conn.write(bytes.subarray(offset));
    }
  }

  /** Bytes received and not taken yet. */
  get pending(): number {
    return this.#buffer.length;
  }

  #take(count: number): Uint8Array {
    const out = this.#buffer.slice(0, count);
    this.#buffer = this.#buffer.slice(count);
    return out;
  }

  /** Reads one HTTP response (the body per `content-length`). */
  async response(
    options: { head?: boolean; timeoutMs?: number } = {},
  ): Promise<RawResponse> {
    let end = -1;
    await waitUntil(
      () => {
        end = indexOfCrlfCrlf(this.#buffer);
        return end !== -1 || this.ended;
      },
      "an HTTP response",
      options.timeoutMs ?? WAIT_MS,
    );
    if (end === -1) {
      throw new Error(
        `Closed before a response; got ${
          JSON.stringify(rawDecoder.decode(this.#buffer))
        }`,
      );
    }
    const head = rawDecoder.decode(this.#take(end + 4)).slice(0, -4);
    const [statusLine, ...lines] = head.split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(statusLine.split(" ")[1]);
    const length = options.head || status === 101 || status === 204
      ? 0
      : Number(headers["content-length"] ?? 0);
    await waitUntil(
      () => this.#buffer.length >= length || this.ended,
      "the response's body",
      options.timeoutMs ?? WAIT_MS,
    );
    const body = rawDecoder.decode(this.#take(length));
    return { status, statusLine, headers, body };
  }

  /** Reads the next frame the server sent. */
  async frame(timeoutMs = WAIT_MS): Promise<ServerFrame> {
    let size = -1;
    await waitUntil(
      () => {
        size = frameSize(this.#buffer);
        return size !== -1 || this.ended;
      },
      "a frame from the server",
      timeoutMs,
    );
    if (size === -1) throw new Error("Closed before a frame");
    const bytes = this.#take(size);
    const masked = (bytes[1] & 0x80) !== 0;
    let offset = 2;
    const short = bytes[1] & 0x7f;
    if (short === 126) offset = 4;
    else if (short === 127) offset = 10;
    if (masked) offset += 4;
    const payload = bytes.slice(offset);
    const opcode = bytes[0] & 0x0f;
    const frame: ServerFrame = {
      fin: (bytes[0] & 0x80) !== 0,
      opcode,
      masked,
      payload,
      text: rawDecoder.decode(payload),
    };
    if (opcode === 8 && payload.length >= 2) {
      frame.code = (payload[0] << 8) | payload[1];
    }
    return frame;
  }

  /** Reads frames until a close frame, and returns its code. */
  async closeCode(timeoutMs = WAIT_MS): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const frame = await this.frame(Math.max(1, deadline - performance.now()));
      if (frame.opcode === 8) return frame.code;
    }
  }

  /** Reads JSON events until one matches (text frames, `\n` between). */
  async event(
    match: (event: WebFrame) => boolean,
    timeoutMs = WAIT_MS,
  ): Promise<WebFrame> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const frame = await this.frame(Math.max(1, deadline - performance.now()));
      if (frame.opcode !== 1) continue;
      for (const line of frame.text.split("\n")) {
        const event = JSON.parse(line) as WebFrame;
        if (match(event)) return event;
      }
    }
  }

  /** Waits until the server has closed the connection. */
  async waitEnded(timeoutMs = WAIT_MS): Promise<void> {
    await waitUntil(() => this.ended, "the server to close", timeoutMs);
  }

  /** Closes the connection; safe to call twice. */
  async close(): Promise<void> {
    closeQuietly(this.conn);
    await this.#reading;
  }

  /** Closes it (see {@linkcode RawConn.close}). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function indexOfCrlfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 &&
      bytes[i + 3] === 10
    ) return i;
  }
  return -1;
}

// The size of the whole frame at the start of `bytes`, or -1 if it has not
// all arrived.
function frameSize(bytes: Uint8Array): number {
  if (bytes.length < 2) return -1;
  const short = bytes[1] & 0x7f;
  let offset = 2;
  let length = short;
  if (short === 126) {
    if (bytes.length < 4) return -1;
    length = (bytes[2] << 8) | bytes[3];
    offset = 4;
  } else if (short === 127) {
    if (bytes.length < 10) return -1;
    length = 0;
    for (let i = 2; i < 10; i++) length = length * 256 + bytes[i];
    offset = 10;
  }
  if (bytes[1] & 0x80) offset += 4;
  return bytes.length >= offset + length ? offset + length : -1;
}
