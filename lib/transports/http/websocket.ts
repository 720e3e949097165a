/**
 * RFC 6455 as a server speaks it: the opening handshake's accept key, a
 * frame reader that checks every rule (masked client frames, no RSV bits
 * since no extension is negotiated, control frames of 125 bytes at most
 * and never fragmented) and refuses a message over its limit from the
 * frame's header, before reading the payload, and unmasked server frames.
 *
 * @module
 */

import type { ByteReader } from "../../io/line_reader.ts";
import type { EndCode } from "../../room/reasons.ts";
import { reasonText } from "../../room/texts.ts";

/** Close codes (RFC 6455, section 7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  invalidData: 1007,
  tooBig: 1009,
} as const;

/** Why a peer's frames ended the connection, with the close code to send. */
export class WebSocketError extends Error {
  /** The close code. */
  readonly code: number;
  /** The session's end reason. */
  readonly reason: EndCode;
  /** Creates the error for `reason`, to be closed with `code`. */
  constructor(code: number, reason: EndCode) {
    super(reasonText[reason]);
    this.name = "WebSocketError";
    this.code = code;
    this.reason = reason;
  }
}

/** A complete message or a control frame from the peer. */
export type Message =
  | { kind: "text"; text: string }
  | { kind: "binary"; length: number }
  | { kind: "ping"; payload: Uint8Array }
  | { kind: "pong" }
  | { kind: "close"; code: number | null };

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether `key` is a Sec-WebSocket-Key: 16 bytes in base64. */
export function validKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key);
}

/** The Sec-WebSocket-Accept for `key`: base64 of SHA-1(key + GUID). */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    encoder.encode(key + GUID),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** The opcodes of RFC 6455, section 5.2. */
const Op = {
  continuation: 0,
  text: 1,
  binary: 2,
  close: 8,
  ping: 9,
  pong: 10,
} as const;

/** A server frame (FIN, unmasked) with `payload`. */
export function encodeFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const headLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(headLength + length);
  out[0] = 0x80 | opcode;
  if (length < 126) {
    out[1] = length;
  } else if (length < 65536) {
    out[1] = 126;
    out[2] = length >> 8;
    out[3] = length & 255;
  } else {
    out[1] = 127;
    const view = new DataView(out.buffer);
    view.setUint32(2, Math.floor(length / 2 ** 32));
    view.setUint32(6, length >>> 0);
  }
  out.set(payload, headLength);
  return out;
}

/** A text frame of `text`. */
export function textFrame(text: string): Uint8Array {
  return encodeFrame(Op.text, encoder.encode(text));
}

/** A pong answering a ping's `payload`. */
export function pongFrame(payload: Uint8Array): Uint8Array {
  return encodeFrame(Op.pong, payload);
}

/** A close frame with `code`. */
export function closeFrame(code: number): Uint8Array {
  return encodeFrame(Op.close, new Uint8Array([code >> 8, code & 255]));
}

// Close codes a peer may send (RFC 6455, 7.4.1 and 7.4.2).
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
    (code >= 3000 && code <= 4999);
}

/** Options of {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  /** Longest message (all its fragments), in bytes. */
  maxMessageBytes: number;
  /** Bytes read already past the handshake. */
  initial?: Uint8Array;
}

// Bytes read at once for frame headers and small frames.
const READ_BYTES = 4096;

/**
 * Reads a client's frames into messages. A message's memory is taken only
 * once its size is known to be within the limit; a connection holds a
 * small read buffer otherwise.
 */
export class FrameReader {
  #reader: ByteReader;
  #max: number;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #ended = false;
  // The message being assembled from fragments.
  #parts: Uint8Array[] = [];
  #partsBytes = 0;
  #partsOpcode = -1;

  /** Reads frames from `reader`. */
  constructor(reader: ByteReader, options: FrameReaderOptions) {
    this.#reader = reader;
    this.#max = options.maxMessageBytes;
    const initial = options.initial ?? new Uint8Array(0);
    this.#buffer = new Uint8Array(Math.max(READ_BYTES, initial.length));
    this.#buffer.set(initial);
    this.#end = initial.length;
  }

  /**
   * Whether the next frame is a whole unfragmented text message already in
   * the buffer, so that {@linkcode next} returns it without reading. Any
   * other frame, a broken one included, answers false (and is read, and
   * refused, by `next` as ever).
   */
  textBuffered(): boolean {
    const buffer = this.#buffer;
    const start = this.#start;
    const held = this.#end - start;
    // FIN and text, no reserved bits; masked.
    if (
      held < 6 || this.#partsOpcode !== -1 || buffer[start] !== 0x81 ||
      (buffer[start + 1] & 0x80) === 0
    ) {
      return false;
    }
    const short = buffer[start + 1] & 0x7f;
    if (short === 127) return false;
    if (short < 126) return held >= 6 + short;
    return held >= 8 &&
      held >= 8 + ((buffer[start + 2] << 8) | buffer[start + 3]);
  }

  /**
   * The next message or control frame; null at the end of the stream.
   * Rejects with a {@linkcode WebSocketError} when the peer broke a rule,
   * and as the stream does.
   */
  async next(): Promise<Message | null> {
    while (true) {
      if (!(await this.#want(2))) return null;
      const b0 = this.#buffer[this.#start];
      const b1 = this.#buffer[this.#start + 1];
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) {
        throw new WebSocketError(
          CloseCode.protocolError,
          "protocolError",
        );
      }
      // RFC 6455, 5.1: a client masks every frame.
      if ((b1 & 0x80) === 0) {
        throw new WebSocketError(
          CloseCode.protocolError,
          "unmaskedFrame",
        );
      }
      const control = opcode >= 8;
      if (
        control
          ? opcode > Op.pong || !fin || (b1 & 0x7f) > 125
          : opcode > Op.binary ||
            (opcode === Op.continuation) !== (this.#partsOpcode !== -1)
      ) {
        throw new WebSocketError(
          CloseCode.protocolError,
          "protocolError",
        );
      }
      const short = b1 & 0x7f;
      const extra = short === 126 ? 2 : short === 127 ? 8 : 0;
      if (!(await this.#want(2 + extra + 4))) return null;
      let length = short;
      const at = this.#start + 2;
      if (short === 126) {
        length = (this.#buffer[at] << 8) | this.#buffer[at + 1];
      } else if (short === 127) {
        const view = new DataView(this.#buffer.buffer, at, 8);
        const high = view.getUint32(0);
        // Refused from the header: the payload is never read.
        if (high !== 0) {
          throw new WebSocketError(CloseCode.tooBig, "frameTooLarge");
        }
        length = view.getUint32(4);
      }
      if (!control && this.#partsBytes + length > this.#max) {
        throw new WebSocketError(CloseCode.tooBig, "frameTooLarge");
      }
      const maskAt = at + extra;
      const mask = (this.#buffer[maskAt] << 24 |
        this.#buffer[maskAt + 1] << 16 | this.#buffer[maskAt + 2] << 8 |
        this.#buffer[maskAt + 3]) >>> 0;
      this.#start = maskAt + 4;
      if (
        opcode === Op.text && fin && this.#end - this.#start >= length
      ) {
        // A whole message in the buffer (most are): read where it is.
        const from = this.#start;
        this.#start += length;
        unmask(this.#buffer, from, this.#start, mask);
        try {
          return {
            kind: "text",
            text: strictUtf8.decode(this.#buffer.subarray(from, this.#start)),
          };
        } catch {
          throw new WebSocketError(CloseCode.invalidData, "invalidUtf8");
        }
      }
      const payload = await this.#payload(length);
      if (payload === null) return null;
      unmask(payload, 0, payload.length, mask);

      if (control) {
        const message = this.#control(opcode, payload);
        if (message !== null) return message;
        continue;
      }
      if (this.#partsOpcode === -1) this.#partsOpcode = opcode;
      this.#parts.push(payload);
      this.#partsBytes += payload.length;
      if (!fin) continue;
      const whole = this.#parts.length === 1
        ? this.#parts[0]
        : concat(this.#parts, this.#partsBytes);
      const kind = this.#partsOpcode;
      this.#parts = [];
      this.#partsBytes = 0;
      this.#partsOpcode = -1;
      if (kind === Op.binary) return { kind: "binary", length: whole.length };
      try {
        return { kind: "text", text: strictUtf8.decode(whole) };
      } catch {
        throw new WebSocketError(CloseCode.invalidData, "invalidUtf8");
      }
    }
  }

  #control(opcode: number, payload: Uint8Array): Message | null {
    if (opcode === Op.ping) return { kind: "ping", payload };
    if (opcode === Op.pong) return { kind: "pong" };
    if (payload.length === 0) return { kind: "close", code: null };
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 0;
    if (!validCloseCode(code)) {
      throw new WebSocketError(
        CloseCode.protocolError,
        "protocolError",
      );
    }
    try {
      strictUtf8.decode(payload.subarray(2));
    } catch {
      throw new WebSocketError(CloseCode.invalidData, "invalidUtf8");
    }
    return { kind: "close", code };
  }

  // Makes `count` bytes available from #start; false at the end.
  async #want(count: number): Promise<boolean> {
    while (this.#end - this.#start < count) {
      if (this.#ended) return false;
      if (this.#start > 0) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      if (this.#buffer.length < count) {
        const grown = new Uint8Array(count);
        grown.set(this.#buffer.subarray(0, this.#end));
        this.#buffer = grown;
      }
      const read = await this.#reader.read(this.#buffer.subarray(this.#end));
      if (read === null) this.#ended = true;
      else this.#end += read;
    }
    return true;
  }

  // A frame's payload of `length` bytes: what the buffer holds, and the
  // rest read straight into the payload's own memory.
  async #payload(length: number): Promise<Uint8Array | null> {
    const payload = new Uint8Array(length);
    const held = Math.min(length, this.#end - this.#start);
    payload.set(this.#buffer.subarray(this.#start, this.#start + held));
    this.#start += held;
    let filled = held;
    while (filled < length) {
      if (this.#ended) return null;
      const read = await this.#reader.read(payload.subarray(filled));
      if (read === null) this.#ended = true;
      else filled += read;
    }
    if (this.#buffer.length > READ_BYTES && this.#start === this.#end) {
      this.#buffer = new Uint8Array(READ_BYTES);
      this.#start = this.#end = 0;
    }
    return payload;
  }
}

// XORs `bytes[from..to)` with the 32-bit masking key (RFC 6455, 5.3).
function unmask(
  bytes: Uint8Array,
  from: number,
  to: number,
  mask: number,
): void {
  const m0 = mask >>> 24;
  const m1 = (mask >>> 16) & 255;
  const m2 = (mask >>> 8) & 255;
  const m3 = mask & 255;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    bytes[i] ^= m0;
    bytes[i + 1] ^= m1;
    bytes[i + 2] ^= m2;
    bytes[i + 3] ^= m3;
  }
  for (let k = 0; i < to; i++, k++) {
    bytes[i] ^= k === 0 ? m0 : k === 1 ? m1 : m2;
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
