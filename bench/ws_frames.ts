/**
 * RFC 6455 framing for the load generator's WebSocket client: the opening
 * handshake done by hand over a TCP connection (so the client can send the
 * `Origin` header Deno's own WebSocket cannot set), masked client frames,
 * and an incremental parser for server frames.
 *
 * @module
 */

import { decoder, encoder } from "./codec.ts";

/** Frame opcodes (RFC 6455, section 5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
/** A frame opcode. */
export type Opcode = typeof Opcode[keyof typeof Opcode];

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * A fast masking-key source: xorshift32 seeded from the system's CSPRNG.
 * RFC 6455 asks for unpredictable keys so that a browser's script cannot
 * steer the bytes on the wire; for a load generator talking to 127.0.0.1
 * a seeded PRNG keeps one `crypto` call out of every frame.
 */
export class MaskSource {
  #state: number;

  /** Seeds the generator from `crypto.getRandomValues`. */
  constructor() {
    const seed = crypto.getRandomValues(new Uint32Array(1))[0];
    this.#state = seed === 0 ? 0x9e3779b9 : seed;
  }

  /** Next 32-bit key. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }
}

/** Options for {@linkcode writeClientFrame}. */
export interface ClientFrameOptions {
  /** Destination; must have room for {@linkcode clientFrameSize} bytes. */
  out: Uint8Array;
  /** Offset in `out` where the frame starts. */
  offset: number;
  opcode: Opcode;
  /** Unmasked payload. */
  payload: Uint8Array;
  /** 32-bit masking key. */
  mask: number;
  /** FIN bit (default true). */
  fin?: boolean;
}

/** Bytes a masked client frame with a payload of `len` bytes takes. */
export function clientFrameSize(len: number): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + 4 + len;
}

/**
 * Writes one masked client frame into `opts.out` at `opts.offset`;
 * returns the offset just after it.
 */
export function writeClientFrame(opts: ClientFrameOptions): number {
  const { out, payload } = opts;
  const len = payload.length;
  let o = opts.offset;
  out[o++] = ((opts.fin ?? true) ? 0x80 : 0) | opts.opcode;
  if (len < 126) {
    out[o++] = 0x80 | len;
  } else if (len < 65536) {
    out[o++] = 0x80 | 126;
    out[o++] = len >>> 8;
    out[o++] = len & 0xff;
  } else {
    out[o++] = 0x80 | 127;
    const hi = Math.floor(len / 2 ** 32);
    for (let s = 24; s >= 0; s -= 8) out[o++] = (hi >>> s) & 0xff;
    for (let s = 24; s >= 0; s -= 8) out[o++] = (len >>> s) & 0xff;
  }
  const m0 = (opts.mask >>> 24) & 0xff;
  const m1 = (opts.mask >>> 16) & 0xff;
  const m2 = (opts.mask >>> 8) & 0xff;
  const m3 = opts.mask & 0xff;
  out[o++] = m0;
  out[o++] = m1;
  out[o++] = m2;
  out[o++] = m3;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    out[o++] = payload[i] ^ m0;
    out[o++] = payload[i + 1] ^ m1;
    out[o++] = payload[i + 2] ^ m2;
    out[o++] = payload[i + 3] ^ m3;
  }
  const keys = [m0, m1, m2, m3];
  for (; i < len; i++) out[o++] = payload[i] ^ keys[i & 3];
  return o;
}

/** Encodes one masked client frame into a new array (not the hot path). */
export function encodeClientFrame(
  opts: { opcode: Opcode; payload: Uint8Array; mask: number },
): Uint8Array {
  const out = new Uint8Array(clientFrameSize(opts.payload.length));
  writeClientFrame({ ...opts, out, offset: 0 });
  return out;
}

/** Receives whole messages (fragments joined) and control frames. */
export interface FrameSink {
  /**
   * A complete data message; `payload[start..end)` is valid only during
   * the call.
   */
  onMessage(
    opcode: typeof Opcode.Text | typeof Opcode.Binary,
    payload: Uint8Array,
    start: number,
    end: number,
  ): void;
  /** A control frame (close, ping, pong); `payload` is a copy. */
  onControl(opcode: Opcode, payload: Uint8Array): void;
}

/** A protocol violation by the server. */
export class FrameError extends Error {
  /** Names the error. */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

/**
 * Incremental parser of server-to-client frames. Feed it the bytes read
 * from the socket; it calls the sink for every complete frame and returns
 * how many bytes it consumed (the caller keeps the rest for next time).
 * Server frames must not be masked; control frames must be final and at
 * most 125 bytes; a message is limited to `maxMessage` bytes.
 */
export class FrameParser {
  readonly #sink: FrameSink;
  readonly #maxMessage: number;
  /** Fragments of a message in progress (rare: servers seldom fragment). */
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #fragmentOpcode: typeof Opcode.Text | typeof Opcode.Binary | 0 = 0;

  /** A parser delivering to `sink`. */
  constructor(opts: { sink: FrameSink; maxMessage: number }) {
    this.#sink = opts.sink;
    this.#maxMessage = opts.maxMessage;
  }

  /**
   * Parses every complete frame in `buf[0..end)`; returns the bytes used.
   * Throws {@linkcode FrameError} on a protocol violation.
   */
  parse(buf: Uint8Array, end: number): number {
    let p = 0;
    this.needed = 0;
    while (end - p >= 2) {
      const b0 = buf[p];
      const b1 = buf[p + 1];
      const fin = (b0 & 0x80) !== 0;
      if ((b0 & 0x70) !== 0) throw new FrameError("reserved bits set");
      const opcode = b0 & 0x0f;
      if ((b1 & 0x80) !== 0) throw new FrameError("server frame is masked");
      let len = b1 & 0x7f;
      let h = p + 2;
      if (len === 126) {
        if (end - p < 4) break;
        len = (buf[p + 2] << 8) | buf[p + 3];
        h = p + 4;
      } else if (len === 127) {
        if (end - p < 10) break;
        if (buf[p + 2] !== 0 || buf[p + 3] !== 0 || (buf[p + 4] & 0x80)) {
          throw new FrameError("frame length too large");
        }
        len = 0;
        for (let i = 2; i < 10; i++) len = len * 256 + buf[p + i];
        h = p + 10;
      }
      if (len > this.#maxMessage) {
        throw new FrameError(`frame of ${len} bytes exceeds the limit`);
      }
      if (end - h < len) {
        // Incomplete: tell the caller how big the buffer must be.
        this.needed = h - p + len;
        break;
      }
      this.needed = 0;
      const pend = h + len;
      if (opcode >= 0x8) {
        if (!fin || len > 125) throw new FrameError("bad control frame");
        if (
          opcode !== Opcode.Close && opcode !== Opcode.Ping &&
          opcode !== Opcode.Pong
        ) {
          throw new FrameError(`unknown control opcode ${opcode}`);
        }
        this.#sink.onControl(opcode as Opcode, buf.slice(h, pend));
      } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
        if (this.#fragmentOpcode !== 0) {
          throw new FrameError("new message inside a fragmented one");
        }
        if (fin) {
          this.#sink.onMessage(opcode, buf, h, pend);
        } else {
          this.#fragmentOpcode = opcode;
          this.#addFragment(buf.slice(h, pend));
        }
      } else if (opcode === Opcode.Continuation) {
        if (this.#fragmentOpcode === 0) {
          throw new FrameError("continuation without a message");
        }
        this.#addFragment(buf.slice(h, pend));
        if (fin) {
          const whole = new Uint8Array(this.#fragmentBytes);
          let o = 0;
          for (const f of this.#fragments) {
            whole.set(f, o);
            o += f.length;
          }
          const op = this.#fragmentOpcode;
          this.#fragments = [];
          this.#fragmentBytes = 0;
          this.#fragmentOpcode = 0;
          this.#sink.onMessage(op, whole, 0, whole.length);
        }
      } else {
        throw new FrameError(`unknown opcode ${opcode}`);
      }
      p = pend;
    }
    return p;
  }

  /** Size of the incomplete frame at the start of the rest, or 0. */
  needed = 0;

  #addFragment(part: Uint8Array): void {
    this.#fragmentBytes += part.length;
    if (this.#fragmentBytes > this.#maxMessage) {
      throw new FrameError("fragmented message exceeds the limit");
    }
    this.#fragments.push(part);
  }
}

/** `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`. */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    encoder.encode(key + GUID),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** Options for {@linkcode wsHandshake}. */
export interface HandshakeOptions {
  conn: Deno.Conn;
  host: string;
  port: number;
  path: string;
  /** `Origin` header; omitted if null. */
  origin: string | null;
  /** Buffer to read the response into (its tail may hold first frames). */
  buf: Uint8Array;
}

/**
 * Performs the client side of the opening handshake on `conn`. Returns
 * how many bytes after the response's header block are already in `buf`
 * (the start of the first frames, moved to `buf[0..]`). Throws if the
 * server does not answer `101` with the right `Sec-WebSocket-Accept`.
 */
export async function wsHandshake(opts: HandshakeOptions): Promise<number> {
  const key = btoa(
    String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
  );
  const expected = acceptKey(key);
  const lines = [
    `GET ${opts.path} HTTP/1.1`,
    `Host: ${opts.host}:${opts.port}`,
    "Upgrade: websocket",
    "Connection: Upgrade",
    `Sec-WebSocket-Key: ${key}`,
    "Sec-WebSocket-Version: 13",
  ];
  if (opts.origin !== null) lines.push(`Origin: ${opts.origin}`);
  const req = encoder.encode(lines.join("\r\n") + "\r\n\r\n");
  let off = 0;
  while (off < req.length) off += await opts.conn.write(req.subarray(off));
  const buf = opts.buf;
  let len = 0;
  let headEnd = -1;
  while (headEnd < 0) {
    if (len === buf.length) throw new Error("handshake response too large");
    const n = await opts.conn.read(buf.subarray(len));
    if (n === null) {
      throw new Error(
        `connection closed during the handshake${
          len > 0
            ? `: ${JSON.stringify(decoder.decode(buf.subarray(0, len)))}`
            : ""
        }`,
      );
    }
    const from = Math.max(0, len - 3);
    len += n;
    for (let i = from; i + 3 < len; i++) {
      if (
        buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 &&
        buf[i + 3] === 10
      ) {
        headEnd = i + 4;
        break;
      }
    }
  }
  const head = decoder.decode(buf.subarray(0, headEnd));
  const [status, ...fields] = head.split("\r\n");
  if (!/^HTTP\/1\.1 101\b/.test(status)) {
    throw new Error(`handshake refused: ${JSON.stringify(status)}`);
  }
  const headers = new Map<string, string>();
  for (const f of fields) {
    const c = f.indexOf(":");
    if (c > 0) {
      headers.set(f.slice(0, c).trim().toLowerCase(), f.slice(c + 1).trim());
    }
  }
  if ((headers.get("upgrade") ?? "").toLowerCase() !== "websocket") {
    throw new Error("handshake: no Upgrade: websocket");
  }
  if (headers.get("sec-websocket-accept") !== await expected) {
    throw new Error("handshake: wrong Sec-WebSocket-Accept");
  }
  buf.copyWithin(0, headEnd, len);
  return len - headEnd;
}
