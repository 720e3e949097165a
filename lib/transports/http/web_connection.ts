/**
 * A browser's WebSocket as the chat room sees it: the JSON events of
 * `web_format.ts` out as text frames, the lines of the browser's text
 * frames in. A message is read only when the room wants lines, so a long
 * paste is paced by flood control like a TCP client's lines, and its
 * bytes wait in the socket meanwhile.
 *
 * @module
 */

import { describeError } from "../../io/errors.ts";
import { type Line, LINE_TOO_LONG } from "../../io/line_reader.ts";
import { Outbox, outputBudget } from "../../io/outbox.ts";
import type { Slot } from "../../room/admission.ts";
import type { ChatConnection } from "../../room/session_api.ts";
import { LineLanguage } from "../../languages/line/line_language.ts";
import type { Rendered, Renderer } from "../../room/events.ts";
import type { Metrics } from "../../room/metrics.ts";
import { serverText } from "../../room/texts.ts";
import type { EndReason } from "../../room/reasons.ts";
import type { StreamConn } from "../stream.ts";
import { webFormat, webNotice } from "../web_format.ts";
import { setImmediate } from "node:timers";
import {
  CloseCode,
  closeFrame,
  FrameReader,
  pongFrame,
  WebSocketError,
} from "./websocket.ts";
import { QueuedTexts } from "./queued_texts.ts";

/** Options of {@linkcode WebConnection}. */
export interface WebConnectionOptions {
  /** The client's address (the proxy's client, behind a trusted proxy). */
  ip: string;
  /** The client's `IP:PORT`, for the console and the log. */
  address: string;
  /** The place its HTTP connection held, handed to the session. */
  slot?: Slot;
  /** Bytes read past the handshake: the first frames. */
  rest: Uint8Array;
  /** Longest line, in bytes. */
  maxLineBytes: number;
  /** Longest message (all its frames), in bytes. */
  maxMessageBytes: number;
  /** Unsent bytes before the connection is cut; 0 for no limit. */
  maxSendqBytes: number;
  /** Counters the connection adds its bytes out to. */
  metrics: Metrics;
}

const encoder = new TextEncoder();

// Lines handed to the room at once.
const BATCH_LINES = 32;
// Longest wait for our close frame to go out before the socket is closed.
const CLOSE_FRAME_MS = 1000;

// Whether `text` takes more than `max` bytes of UTF-8. A UTF-16 unit takes
// one to three bytes, so most lines need no encoding to tell.
function overLimit(text: string, max: number): boolean {
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return encoder.encode(text).length > max;
}

// Sockets with events queued. One round, after the event loop has handed
// out every ready read, sends each its events as one frame (JSON objects
// separated by `\n`): a join storm or a busy room costs a frame per socket
// per round, not per event.
let due: WebConnection[] = [];

function flushDue(): void {
  const sockets = due;
  due = [];
  for (const socket of sockets) socket.flush();
  QueuedTexts.endRound();
}

/** A browser's socket, as the chat room sees it. */
export class WebConnection implements ChatConnection {
  readonly address: string;
  readonly ip: string;
  readonly transport = "web";
  readonly renderer: Renderer = webFormat;
  readonly interpreter: LineLanguage = new LineLanguage();
  readonly slot?: Slot;
  onCut: ((reason: EndReason) => void) | null = null;
  #conn: StreamConn;
  #frames: FrameReader;
  #outbox: Outbox;
  #maxLineBytes: number;
  #metrics: Metrics;
  #queue: Line[] = [];
  // A text message that broke a rule, read after lines still queued.
  #broken: WebSocketError | null = null;
  // Events queued since the last frame (shared with the sockets that got
  // the same: see QueuedTexts), and whether a round will send them.
  #pending: QueuedTexts | null = null;
  #scheduled = false;
  #closing: Promise<void> | null = null;
  #closeSent = false;

  /** Wraps a connection whose upgrade was answered with 101. */
  constructor(conn: StreamConn, options: WebConnectionOptions) {
    this.#conn = conn;
    this.ip = options.ip;
    this.address = options.address;
    this.slot = options.slot;
    this.#maxLineBytes = options.maxLineBytes;
    this.#metrics = options.metrics;
    this.#frames = new FrameReader(conn, {
      maxMessageBytes: options.maxMessageBytes,
      initial: options.rest,
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

  /**
   * The next lines: from the last message read, or from the next text
   * message, and from the text messages after it that were read already
   * (a sender's lines of one read are handled together, so that they go
   * out as one run). Pings are answered and binary messages refused with a
   * notice meanwhile. When the peer broke a rule of the protocol, the
   * close frame that says so is queued and the connection cut.
   */
  async readLines(): Promise<Line[] | null> {
    while (this.#queue.length === 0) {
      if (this.#closing !== null) return null;
      const broken = this.#broken;
      if (broken !== null) return this.#refuse(broken);
      let message;
      try {
        message = await this.#frames.next();
      } catch (error) {
        if (!(error instanceof WebSocketError)) throw error;
        return this.#refuse(error);
      }
      if (message === null) return null;
      switch (message.kind) {
        case "text":
          this.#split(message.text);
          break;
        case "binary":
          this.deliver(webNotice(serverText.binaryRefused));
          break;
        case "ping":
          this.#outbox.send(pongFrame(message.payload));
          break;
        case "pong":
          break;
        case "close":
          this.#sendClose(message.code ?? CloseCode.normal);
          return null;
      }
    }
    while (
      this.#queue.length < BATCH_LINES && this.#closing === null &&
      this.#broken === null && this.#frames.textBuffered()
    ) {
      try {
        const message = await this.#frames.next();
        if (message?.kind === "text") this.#split(message.text);
      } catch (error) {
        if (!(error instanceof WebSocketError)) throw error;
        // Refused once the lines before it are handled.
        this.#broken = error;
      }
    }
    return this.#queue.splice(0, BATCH_LINES);
  }

  // The peer broke a rule: the close frame that says so goes out before
  // the socket closes (close()), and the connection is cut.
  #refuse(error: WebSocketError): null {
    this.#sendClose(error.code);
    this.onCut?.(error.reason);
    return null;
  }

  deliver(output: Rendered): void {
    if (
      this.#closeSent || output instanceof Uint8Array || output.length === 0
    ) {
      return;
    }
    this.#pending = (this.#pending ?? QueuedTexts.none).add(output);
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
    if (pending === null) return;
    this.#pending = null;
    if (this.#closeSent) return;
    const frame = pending.frame();
    this.#metrics.bytesOut += frame.length;
    this.#outbox.send(frame);
  }

  drain(): Promise<void> {
    if (this.#scheduled) this.flush();
    return this.#outbox.drain();
  }

  /** Sends a close frame (1000) if none went out, then closes the socket. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#scheduled) this.flush();
      this.#sendClose(CloseCode.normal);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#outbox.drain(),
        new Promise((resolve) => timer = setTimeout(resolve, CLOSE_FRAME_MS)),
      ]);
      clearTimeout(timer);
      this.#outbox.close();
      try {
        await this.#conn.close();
      } catch {
        // Closed already.
      }
    })();
    return this.#closing;
  }

  #sendClose(code: number): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    this.#outbox.send(closeFrame(code));
  }

  #split(text: string): void {
    for (const raw of text.split("\n")) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      this.#queue.push(
        overLimit(line, this.#maxLineBytes) ? LINE_TOO_LONG : line,
      );
    }
  }
}
