/**
 * WebSocket load client for the server's web door (`ws://HOST:PORT/chat`,
 * see README "The socket protocol"). It does the HTTP upgrade itself over
 * `Deno.connect` (so it can send the page's own `Origin`, which Deno's
 * WebSocket cannot, and keep one small buffer per connection), sends each
 * line as one masked text frame, and turns the server's JSON objects back
 * into the TCP protocol's lines for the scenarios:
 *
 * | frame received                              | the scenario sees                 |
 * | ------------------------------------------- | --------------------------------- |
 * | `{"type":"message","from":F,"text":T}`      | `F: T`                            |
 * | `{"type":"private","from":F,"text":T}`      | `Private message from F: T`       |
 * | `{"type":"join","name":N}`                  | `*** N has joined the chat.`      |
 * | `{"type":"leave","name":N}`                 | `*** N has left the chat.`        |
 * | `own: true` (echo of what we sent)          | nothing; counted in `ownEchoes`   |
 *
 * Registration: answers the `prompt` for a name, registered at `welcome`.
 *
 * @module
 */

import { decoder, encoder } from "./codec.ts";
import { quoteLine, StreamClient } from "./client_base.ts";
import { type ClientOptions, noteRead } from "./load_client.ts";
import {
  clientFrameSize,
  FrameParser,
  type FrameSink,
  MaskSource,
  Opcode,
  writeClientFrame,
  wsHandshake,
} from "./ws_frames.ts";

/** Path of the chat socket. */
export const WS_PATH = "/chat";
const MAX_MESSAGE = 16 * 1024 * 1024;
const masks = new MaskSource();

interface ServerEvent {
  type?: unknown;
  from?: unknown;
  to?: unknown;
  text?: unknown;
  name?: unknown;
  own?: unknown;
  prompt?: unknown;
  error?: unknown;
}

let scratch = new Uint8Array(1024);

const MESSAGE_HEAD = encoder.encode('{"type":"message","time":"');
const FROM_KEY = encoder.encode('","from":"');
const TEXT_KEY = encoder.encode('","text":"');
const OWN_FALSE = encoder.encode('","own":false');
const OWN_TRUE = encoder.encode('","own":true');
const ROOM_KEY = encoder.encode(',"room":"');
const ISO_TIME_LENGTH = "2000-01-01T00:00:00.000Z".length;

/** {@linkcode readChatLine}: the event is not a plain chat message. */
export const NOT_CHAT = -1;
/** {@linkcode readChatLine}: the event is the echo of our own message. */
export const OWN_ECHO = -2;
/** Where the line of the last {@linkcode readChatLine} ends (exclusive). */
export let chatLineEnd = 0;
/** Where the event of the last {@linkcode readChatLine} ends (exclusive). */
export let chatEventEnd = 0;

function bytesAt(
  buf: Uint8Array,
  at: number,
  end: number,
  want: Uint8Array,
): boolean {
  if (end - at < want.length) return false;
  for (let i = 0; i < want.length; i++) {
    if (buf[at + i] !== want[i]) return false;
  }
  return true;
}

// The closing quote of a JSON string starting at `from`; -1 when it holds an
// escape (then its bytes are not its text) or does not end on its line
// before `end`.
function closingQuote(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const b = buf[i];
    // One test for the common byte: the quote (34), and the newline (10)
    // among controls, are below 35.
    if (b < 35 || b === 92) {
      if (b === 34) return i;
      if (b < 32 || b === 92) return -1;
    }
  }
  return -1;
}

/**
 * Reads the chat message `{"type":"message","time":T,"from":F,"text":X,
 * "own":B,"room":R}` (the web door's field order) at `buf[start]`, followed
 * by `\n` and more events or by `end`, the end of the frame, without
 * decoding it (nor scanning for the newline after it), the way the TCP client reads its fixed offsets:
 * when none of its strings holds an escape, their bytes are their UTF-8
 * text. For someone else's message it writes `F: ` over the bytes just
 * before X, so that `buf[result..chatLineEnd)` is the TCP protocol's line
 * `F: X` (the JSON is spent), and returns where that line starts;
 * {@linkcode OWN_ECHO} for our own; {@linkcode NOT_CHAT} for any other event
 * or shape, which the caller parses as JSON. {@linkcode chatEventEnd}
 * tells where the event ends.
 */
export function readChatLine(
  buf: Uint8Array,
  start: number,
  end: number,
): number {
  if (!bytesAt(buf, start, end, MESSAGE_HEAD)) return NOT_CHAT;
  // The time is ISO 8601 with milliseconds: 24 bytes, unless the year is not
  // of four digits.
  let timeEnd = start + MESSAGE_HEAD.length + ISO_TIME_LENGTH;
  if (!bytesAt(buf, timeEnd, end, FROM_KEY)) {
    timeEnd = closingQuote(buf, start + MESSAGE_HEAD.length, end);
    if (timeEnd < 0 || !bytesAt(buf, timeEnd, end, FROM_KEY)) return NOT_CHAT;
  }
  const nameStart = timeEnd + FROM_KEY.length;
  const nameEnd = closingQuote(buf, nameStart, end);
  if (nameEnd < 0 || !bytesAt(buf, nameEnd, end, TEXT_KEY)) return NOT_CHAT;
  const textStart = nameEnd + TEXT_KEY.length;
  const textEnd = closingQuote(buf, textStart, end);
  if (textEnd < 0) return NOT_CHAT;
  let i = textEnd;
  let own: boolean;
  if (bytesAt(buf, i, end, OWN_FALSE)) {
    own = false;
    i += OWN_FALSE.length;
  } else if (bytesAt(buf, i, end, OWN_TRUE)) {
    own = true;
    i += OWN_TRUE.length;
  } else {
    return NOT_CHAT;
  }
  if (bytesAt(buf, i, end, ROOM_KEY)) {
    const roomEnd = closingQuote(buf, i + ROOM_KEY.length, end);
    if (roomEnd < 0) return NOT_CHAT;
    i = roomEnd + 1;
  }
  if (i >= end || buf[i] !== 125 || (i + 1 !== end && buf[i + 1] !== 10)) {
    return NOT_CHAT;
  }
  chatEventEnd = i + 1;
  if (own) return OWN_ECHO;
  // `"from":"F","text":"` becomes `…F: `: the name moves right, behind the
  // text (backwards, as the two places overlap).
  const nameLength = nameEnd - nameStart;
  const lineStart = textStart - 2 - nameLength;
  for (let k = nameLength - 1; k >= 0; k--) {
    buf[lineStart + k] = buf[nameStart + k];
  }
  buf[textStart - 2] = 58;
  buf[textStart - 1] = 32;
  chatLineEnd = textEnd;
  return lineStart;
}

/** One simulated browser on the WebSocket door. */
export class WsLoadClient extends StreamClient implements FrameSink {
  /** Our own broadcasts and private messages echoed with `own: true`. */
  ownEchoes = 0;
  /** `history` objects received before the welcome's end. */
  historyItems = 0;
  #sentName = false;
  #closeSent = false;
  #now = 0;
  readonly #parser: FrameParser;

  private constructor(
    conn: Deno.TcpConn,
    opts: ClientOptions,
    startedAt: number,
  ) {
    super(conn, opts, startedAt);
    this.#parser = new FrameParser({ sink: this, maxMessage: MAX_MESSAGE });
  }

  /** Connects, upgrades (with `Origin: http://HOST:PORT`) and starts reading. */
  static async open(opts: ClientOptions): Promise<WsLoadClient> {
    const { conn, startedAt } = await StreamClient.dialTcp(opts);
    const buf = new Uint8Array(Math.max(4096, opts.readBufSize));
    let rest: number;
    try {
      rest = await wsHandshake({
        conn,
        host: opts.host,
        port: opts.port,
        path: WS_PATH,
        origin: `http://${opts.host}:${opts.port}`,
        buf,
      });
    } catch (err) {
      try {
        conn.close();
      } catch {
        // closed
      }
      throw err;
    }
    const c = new WsLoadClient(conn, opts, startedAt);
    c.#buf = buf;
    c.start(buf.subarray(0, rest));
    return c;
  }

  #buf: Uint8Array | null = null;

  /** Sends one line as a text frame (without its `\n`). */
  send(line: Uint8Array): void {
    if (this.closing) return;
    let end = line.length;
    if (end > 0 && line[end - 1] === 10) end--;
    this.#frame(Opcode.Text, line.subarray(0, end));
  }

  #frame(opcode: Opcode, payload: Uint8Array): void {
    const { buf, offset } = this.reserve(clientFrameSize(payload.length));
    this.commit(
      writeClientFrame({
        out: buf,
        offset,
        opcode,
        payload,
        mask: masks.next(),
      }),
    );
  }

  /** Sends `exit`, waits (bounded) for `goodbye` and the close. */
  async quit(timeoutMs: number): Promise<void> {
    if (this.closing) return;
    this.quitting = true;
    this.#frame(Opcode.Text, encoder.encode("exit"));
    await this.awaitEnd(timeoutMs);
  }

  /** Reads frames until EOF. */
  protected async readLoop(first?: Uint8Array): Promise<void> {
    let buf = this.#buf ?? new Uint8Array(this.readBufSize);
    this.#buf = null;
    let len = first?.length ?? 0;
    while (!this.closing) {
      if (len > 0) {
        this.#now = performance.now();
        const used = this.#parser.parse(buf, len);
        if (used > 0) {
          buf.copyWithin(0, used, len);
          len -= used;
        }
        if (this.closing) return;
        const need = Math.max(this.#parser.needed, len + 1);
        if (need > buf.length) {
          const grown = new Uint8Array(Math.max(need, buf.length * 2));
          grown.set(buf.subarray(0, len));
          buf = grown;
        }
      }
      let n: number | null;
      try {
        n = await this.conn.read(buf.subarray(len));
      } catch (err) {
        if (this.closing || this.quitting) {
          this.saidGoodbye ||= this.quitting;
          return;
        }
        throw err;
      }
      if (n === null) {
        this.onEof();
        return;
      }
      noteRead();
      len += n;
    }
  }

  /** A control frame: answer pings, answer and end on close. */
  onControl(opcode: Opcode, payload: Uint8Array): void {
    if (opcode === Opcode.Ping) {
      this.#frame(Opcode.Pong, payload);
    } else if (opcode === Opcode.Close) {
      if (!this.quitting) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 0;
        this.ctx.fail(
          `client ${this.name}: server closed the WebSocket (code ${code}${
            payload.length > 2
              ? ` ${quoteLine(decoder.decode(payload.subarray(2)))}`
              : ""
          })`,
        );
      } else {
        this.saidGoodbye = true;
      }
      if (!this.#closeSent) {
        this.#closeSent = true;
        this.quitting = true;
        this.#frame(Opcode.Close, payload.subarray(0, 2));
      }
    }
  }

  /**
   * A data message: one or more JSON events, one a line. The chat message
   * from someone else, nearly every event under load, is read in place from
   * its bytes (see {@linkcode readChatLine}); anything else is parsed.
   */
  onMessage(
    opcode: typeof Opcode.Text | typeof Opcode.Binary,
    payload: Uint8Array,
    start: number,
    end: number,
  ): void {
    if (opcode !== Opcode.Text) {
      this.ctx.fail(`client ${this.name}: binary frame from the server`);
      return;
    }
    // The server coalesces: one or more events a frame, one JSON a line
    // (JSON text never holds a raw newline).
    let p = start;
    while (p < end && !this.closing) {
      const line = readChatLine(payload, p, end);
      if (line >= 0) {
        this.handler.onLine(this, payload, line, chatLineEnd, this.#now);
        p = chatEventEnd + 1;
      } else if (line === OWN_ECHO) {
        this.ownEchoes++;
        p = chatEventEnd + 1;
      } else {
        let nl = p;
        while (nl < end && payload[nl] !== 10) nl++;
        if (nl > p && !this.#parse(payload, p, nl)) return;
        p = nl + 1;
      }
    }
  }

  // One event the fast path did not take; false when it was not JSON.
  #parse(payload: Uint8Array, start: number, end: number): boolean {
    const text = decoder.decode(payload.subarray(start, end));
    let ev: ServerEvent;
    try {
      ev = JSON.parse(text);
    } catch {
      this.ctx.fail(
        `client ${this.name}: frame is not JSON: ${quoteLine(text)}`,
      );
      return false;
    }
    this.#event(ev, text);
    return true;
  }

  #line(s: string): void {
    const need = s.length * 3;
    if (scratch.length < need) scratch = new Uint8Array(need * 2);
    const { written } = encoder.encodeInto(s, scratch);
    this.handler.onLine(this, scratch, 0, written, this.#now);
  }

  #event(ev: ServerEvent, raw: string): void {
    switch (ev.type) {
      case "message":
        if (ev.own === true) this.ownEchoes++;
        else this.#line(`${ev.from}: ${ev.text}`);
        return;
      case "private":
        if (ev.own === true) this.ownEchoes++;
        else this.#line(`Private message from ${ev.from}: ${ev.text}`);
        return;
      case "join":
        if (ev.name !== this.name) {
          this.#line(`*** ${ev.name} has joined the chat.`);
        }
        return;
      case "leave":
        this.#line(`*** ${ev.name} has left the chat.`);
        return;
      case "prompt":
        if (this.isRegistered) break;
        if (ev.prompt !== "name" || this.#sentName) {
          this.registrationFailed(`prompt ${quoteLine(raw)}`);
          return;
        }
        this.#sentName = true;
        this.send(encoder.encode(this.name));
        return;
      case "welcome":
        if (ev.name !== this.name) {
          this.registrationFailed(`welcomed as ${quoteLine(raw)}`);
          return;
        }
        this.markRegistered(this.#now);
        return;
      case "history":
        this.historyItems++;
        return;
      case "historyEnd":
      case "who":
        return;
      case "goodbye":
        this.saidGoodbye = true;
        return;
      case "error":
      case "shutdown":
        if (!this.quitting) {
          if (!this.isRegistered) this.registrationFailed(quoteLine(raw));
          else this.ctx.fail(`client ${this.name}: ${quoteLine(raw)}`);
        }
        return;
    }
    // Anything else (notice, action, rename...) goes to the scenario as
    // its text line, where it is reported as unexpected.
    this.#line(typeof ev.text === "string" ? ev.text : raw);
  }
}
