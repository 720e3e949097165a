/**
 * A browser-protocol client for tests: Deno's own WebSocket to `/chat`,
 * with the headers a browser would send, collecting the JSON frames; and a
 * raw HTTP request for what `fetch` will not send (a forged `Host`).
 *
 * @module
 */

import { WAIT_MS, waitUntil } from "../helpers.ts";

/** One event the server sent, parsed. */
export type WebFrame = Record<string, unknown> & { type: string };

/** Options of {@linkcode WebTestClient.connect}. */
export interface WebClientOptions {
  /** Headers of the upgrade request; default an `Origin` of the page. */
  headers?: Record<string, string>;
  /** The host to connect to. Default `127.0.0.1`. */
  hostname?: string;
}

/** A WebSocket chat client that keeps every frame it received. */
export class WebTestClient {
  /** Every frame so far, in order. */
  readonly frames: WebFrame[] = [];
  /** Whether the socket has closed. */
  closed = false;
  /** The socket. */
  readonly socket: WebSocket;
  #cursor = 0;
  #closedPromise: Promise<void>;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        this.frames.push({ type: "binary" });
        return;
      }
      // One or more events a frame, one JSON object a line.
      for (const line of event.data.split("\n")) {
        this.frames.push(JSON.parse(line));
      }
    };
    this.#closedPromise = new Promise((resolve) => {
      socket.onclose = () => {
        this.closed = true;
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

  /** Waits for the next frame (after those waited for) that matches. */
  async next(
    match: (frame: WebFrame) => boolean,
    timeoutMs = WAIT_MS,
  ): Promise<WebFrame> {
    let found: WebFrame | undefined;
    await waitUntil(
      () => {
        while (this.#cursor < this.frames.length) {
          const frame = this.frames[this.#cursor++];
          if (match(frame)) {
            found = frame;
            return true;
          }
        }
        return this.closed;
      },
      `a matching frame (got ${JSON.stringify(this.frames.slice(-3))})`,
      timeoutMs,
    );
    if (found === undefined) {
      throw new Error(
        `Socket closed before a matching frame; frames: ${
          JSON.stringify(this.frames.slice(-5))
        }`,
      );
    }
    return found;
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
}

/**
 * Sends one raw HTTP/1.1 request to 127.0.0.1:`port` and returns the
 * status code of the answer.
 */
export async function rawHttpStatus(
  port: number,
  request: string,
): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
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
  } finally {
    conn.close();
  }
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
