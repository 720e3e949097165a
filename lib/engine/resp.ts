/**
 * RESP, the Redis wire protocol: encoding commands and an incremental parser
 * of replies.
 *
 * The parser reads RESP2 and tolerates RESP3 (null, boolean, double, big
 * number, verbatim string, blob error, map, set, attribute and push frames),
 * so a server that answers in RESP3 does not break us. Pure: no I/O.
 *
 * @module
 */

/** An error reply from the server, such as `NOSCRIPT No matching script`. */
export class RespError extends Error {
  /** The first word of the reply, such as `ERR`, `NOSCRIPT` or `WRONGTYPE`. */
  readonly code: string;

  /** Wraps the text of an error reply, without its `-`. */
  constructor(text: string) {
    super(text);
    this.name = "RespError";
    const space = text.indexOf(" ");
    this.code = space === -1 ? text : text.slice(0, space);
  }
}

/** Bytes that are not valid RESP: the stream cannot be read any further. */
export class RespProtocolError extends Error {
  /** Describes what was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "RespProtocolError";
  }
}

/** A RESP3 push frame (`>`): out-of-band data such as a pub/sub message. */
export class RespPush {
  /** The elements of the frame, such as `["message", channel, payload]`. */
  readonly items: RespValue[];

  /** Wraps the elements of a push frame. */
  constructor(items: RespValue[]) {
    this.items = items;
  }
}

/**
 * One reply. Simple and bulk strings are strings (or bytes, see
 * {@linkcode RespParserOptions.bulkAs}); integers are numbers, or bigints
 * beyond `Number.MAX_SAFE_INTEGER`; nulls are null; arrays and sets are
 * arrays; maps are `Map`s; error replies are {@linkcode RespError} values
 * (a reply inside an array may be one).
 */
export type RespValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | Uint8Array
  | RespError
  | RespPush
  | RespValue[]
  | Map<RespValue, RespValue>;

/** One argument of a command: strings are sent as UTF-8. */
export type RespArg = string | number | bigint | Uint8Array;

const encoder = new TextEncoder();
const CR = 13;
const LF = 10;

/**
 * Encodes one command as a RESP array of bulk strings, the form every Redis
 * command takes on the wire.
 *
 * @example
 * ```ts
 * encodeCommand(["SET", "key", "value"]);
 * // "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n" as bytes
 * ```
 */
export function encodeCommand(args: readonly RespArg[]): Uint8Array {
  // Two passes, sizes then bytes, so that a command is one allocation. Most
  // arguments are short ASCII, written byte by byte: cheaper than a call to
  // TextEncoder for each.
  const texts: (string | Uint8Array)[] = new Array(args.length);
  const lengths: number[] = new Array(args.length);
  let size = headerSize(args.length);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const text = arg instanceof Uint8Array
      ? arg
      : typeof arg === "string"
      ? arg
      : String(arg);
    const length = typeof text === "string" ? utf8Length(text) : text.length;
    texts[i] = text;
    lengths[i] = length;
    size += headerSize(length) + length + 2;
  }
  const out = new Uint8Array(size);
  let at = writeHeader(out, 0, 42, /* * */ args.length);
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i];
    const length = lengths[i];
    at = writeHeader(out, at, 36, /* $ */ length);
    if (typeof text !== "string") {
      out.set(text, at);
    } else if (length === text.length) {
      for (let j = 0; j < length; j++) out[at + j] = text.charCodeAt(j);
    } else {
      encoder.encodeInto(text, out.subarray(at, at + length));
    }
    at += length;
    out[at++] = CR;
    out[at++] = LF;
  }
  return out;
}

// Bytes of `text` in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as
// TextEncoder writes it).
function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      length += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A pair: 2 UTF-16 units, 4 bytes.
        length += 2;
        i++;
      } else {
        length += 2;
      }
    } else {
      length += 2;
    }
  }
  return length;
}

// Bytes of `<type><count>\r\n`.
function headerSize(count: number): number {
  let digits = 1;
  while (count >= 10) {
    count = Math.floor(count / 10);
    digits++;
  }
  return 3 + digits;
}

function writeHeader(
  out: Uint8Array,
  at: number,
  type: number,
  count: number,
): number {
  out[at++] = type;
  if (count < 10) {
    out[at++] = 48 + count;
  } else {
    const digits = String(count);
    for (let i = 0; i < digits.length; i++) out[at++] = digits.charCodeAt(i);
  }
  out[at++] = CR;
  out[at++] = LF;
  return at;
}

/** Options of {@linkcode RespParser}. */
export interface RespParserOptions {
  /**
   * How bulk strings are returned: `"string"` decodes them as UTF-8 (invalid
   * bytes become U+FFFD), `"bytes"` returns them as they are. Default
   * `"string"`.
   */
  bulkAs?: "string" | "bytes";
  /**
   * Longest header line (type byte to `\r\n`) accepted, in bytes. A longer
   * one means the stream is not RESP. Default 64 KiB.
   */
  maxLineBytes?: number;
  /** Largest bulk string accepted, in bytes. Default 512 MiB, as Redis. */
  maxBulkBytes?: number;
  /** Most elements accepted in one array, set, map or push. Default 2^31. */
  maxElements?: number;
}

type AggregateKind = "array" | "set" | "map" | "push" | "attribute";

interface Frame {
  kind: AggregateKind;
  // Elements still to come (a map counts keys and values).
  remaining: number;
  items: RespValue[];
}

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Parses a stream of RESP replies fed in chunks cut anywhere. Holds only the
 * bytes of the reply being read and the elements of the arrays still open,
 * so a long array arriving in many chunks is read once, not again for each.
 *
 * After it has thrown a {@linkcode RespProtocolError} it throws the same error
 * on every call: the stream has no known next reply.
 *
 * @example
 * ```ts
 * const parser = new RespParser();
 * const replies: RespValue[] = [];
 * parser.push(new TextEncoder().encode("+OK\r\n:4"), replies);
 * parser.push(new TextEncoder().encode("2\r\n"), replies);
 * // replies: ["OK", 42]
 * ```
 */
export class RespParser {
  #bulkAs: "string" | "bytes";
  #maxLine: number;
  #maxBulk: number;
  #maxElements: number;
  #buffer = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #stack: Frame[] = [];
  #failure: RespProtocolError | null = null;

  /** Creates a parser with the given limits. */
  constructor(options: RespParserOptions = {}) {
    this.#bulkAs = options.bulkAs ?? "string";
    this.#maxLine = options.maxLineBytes ?? 64 * 1024;
    this.#maxBulk = options.maxBulkBytes ?? 512 * 1024 * 1024;
    this.#maxElements = options.maxElements ?? 2 ** 31;
  }

  /** Bytes held of a reply not complete yet. */
  get pendingBytes(): number {
    return this.#end - this.#start;
  }

  /** Whether a reply has begun and is not complete yet. */
  get inReply(): boolean {
    return this.#end > this.#start || this.#stack.length > 0;
  }

  /**
   * Parses `chunk` (which may be reused by the caller afterwards), appending
   * every completed reply to `out`. Throws {@linkcode RespProtocolError} on
   * bytes that are not RESP; replies completed before them are in `out`.
   */
  push(chunk: Uint8Array, out: RespValue[]): void {
    if (this.#failure !== null) throw this.#failure;
    this.#append(chunk);
    try {
      this.#parse(out);
    } catch (error) {
      if (error instanceof RespProtocolError) {
        this.#failure = error;
        this.#buffer = new Uint8Array(0);
        this.#start = this.#end = 0;
        this.#stack = [];
      }
      throw error;
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // Do not keep a large buffer for an idle connection.
      if (this.#buffer.length > 64 * 1024) this.#buffer = new Uint8Array(0);
    }
  }

  #append(chunk: Uint8Array): void {
    const held = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buffer.length) {
      if (held + chunk.length <= this.#buffer.length && held < this.#start) {
        this.#buffer.copyWithin(0, this.#start, this.#end);
      } else {
        const grown = new Uint8Array(
          Math.max(4096, (held + chunk.length) * 2),
        );
        grown.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = grown;
      }
      this.#start = 0;
      this.#end = held;
    }
    this.#buffer.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #parse(out: RespValue[]): void {
    const buffer = this.#buffer;
    while (this.#start < this.#end) {
      const start = this.#start;
      const lineEnd = this.#findLineEnd(start);
      if (lineEnd === -1) return;
      const type = buffer[start];
      // Where the next value starts once this one is taken.
      let next = lineEnd + 2;
      let value: RespValue;
      let scalar = true;
      switch (type) {
        case 43: // + simple string
          value = decoder.decode(buffer.subarray(start + 1, lineEnd));
          break;
        case 45: // - error
          value = new RespError(
            decoder.decode(buffer.subarray(start + 1, lineEnd)),
          );
          break;
        case 58: // : integer
          value = this.#integer(start + 1, lineEnd);
          break;
        case 95: // _ null (RESP3)
          if (lineEnd !== start + 1) throw this.#invalid("null", start);
          value = null;
          break;
        case 35: { // # boolean (RESP3)
          const text = this.#text(start + 1, lineEnd);
          if (text !== "t" && text !== "f") {
            throw new RespProtocolError(`Invalid RESP boolean "${text}"`);
          }
          value = text === "t";
          break;
        }
        case 44: { // , double (RESP3)
          const text = this.#text(start + 1, lineEnd);
          const number = text === "inf"
            ? Infinity
            : text === "-inf"
            ? -Infinity
            : Number(text);
          if (text === "" || (Number.isNaN(number) && text !== "nan")) {
            throw new RespProtocolError(`Invalid RESP double "${text}"`);
          }
          value = number;
          break;
        }
        case 40: { // ( big number (RESP3)
          const text = this.#text(start + 1, lineEnd);
          if (!/^-?\d+$/.test(text)) {
            throw new RespProtocolError(`Invalid RESP big number "${text}"`);
          }
          value = BigInt(text);
          break;
        }
        case 36: // $ bulk string
        case 61: // = verbatim string (RESP3)
        case 33: { // ! blob error (RESP3)
          const length = this.#length(start + 1, lineEnd, this.#maxBulk);
          if (length === -1) {
            if (type !== 36) throw this.#invalid("length", start);
            value = null;
            break;
          }
          const dataStart = lineEnd + 2;
          const dataEnd = dataStart + length;
          if (dataEnd + 2 > this.#end) return;
          if (buffer[dataEnd] !== CR || buffer[dataEnd + 1] !== LF) {
            throw new RespProtocolError(
              `Invalid RESP bulk string: no "\\r\\n" after its ${length} bytes`,
            );
          }
          const data = buffer.subarray(dataStart, dataEnd);
          if (type === 33) {
            value = new RespError(decoder.decode(data));
          } else if (type === 61) {
            // The first 4 bytes name the format, such as `txt:`.
            value = decoder.decode(data.subarray(Math.min(4, length)));
          } else {
            value = this.#bulkAs === "bytes"
              ? data.slice()
              : decoder.decode(data);
          }
          next = dataEnd + 2;
          break;
        }
        case 42: // * array
        case 126: // ~ set (RESP3)
        case 37: // % map (RESP3)
        case 62: // > push (RESP3)
        case 124: { // | attribute (RESP3)
          const count = this.#length(start + 1, lineEnd, this.#maxElements);
          const kind: AggregateKind = type === 42
            ? "array"
            : type === 126
            ? "set"
            : type === 37
            ? "map"
            : type === 62
            ? "push"
            : "attribute";
          if (count === -1) {
            if (kind !== "array") throw this.#invalid("length", start);
            value = null;
            break;
          }
          const remaining = kind === "map" || kind === "attribute"
            ? count * 2
            : count;
          if (remaining === 0) {
            value = finish(kind, []);
            if (kind === "attribute") scalar = false;
            break;
          }
          this.#stack.push({ kind, remaining, items: [] });
          scalar = false;
          value = null;
          break;
        }
        default:
          throw new RespProtocolError(
            `Invalid RESP type byte "${String.fromCharCode(type)}" (0x${
              type.toString(16).padStart(2, "0")
            })`,
          );
      }
      this.#start = next;
      if (scalar) this.#complete(value, out);
    }
  }

  // Hands a completed value to the innermost open aggregate, closing every
  // aggregate it completes, or to `out` at the top level.
  #complete(value: RespValue, out: RespValue[]): void {
    for (;;) {
      const frame = this.#stack.at(-1);
      if (frame === undefined) {
        out.push(value);
        return;
      }
      frame.items.push(value);
      if (--frame.remaining > 0) return;
      this.#stack.pop();
      // An attribute describes the value after it; we have no use for it.
      if (frame.kind === "attribute") return;
      value = finish(frame.kind, frame.items);
    }
  }

  // The index of the `\r` of the line that starts at `start`, or -1 if the
  // line is not complete yet.
  #findLineEnd(start: number): number {
    const buffer = this.#buffer;
    const limit = Math.min(this.#end, start + this.#maxLine + 1);
    for (let i = start; i < limit; i++) {
      if (buffer[i] === CR) {
        if (i + 1 >= this.#end) return -1;
        if (buffer[i + 1] !== LF) {
          throw new RespProtocolError(
            `Invalid RESP line: "\\r" not followed by "\\n" at "${
              this.#preview(start)
            }"`,
          );
        }
        return i;
      }
      if (buffer[i] === LF) {
        throw new RespProtocolError(
          `Invalid RESP line: "\\n" without "\\r" at "${this.#preview(start)}"`,
        );
      }
    }
    if (limit - start > this.#maxLine) {
      throw new RespProtocolError(
        `Invalid RESP line: longer than ${this.#maxLine} bytes at "${
          this.#preview(start)
        }"`,
      );
    }
    return -1;
  }

  #text(from: number, to: number): string {
    return decoder.decode(this.#buffer.subarray(from, to));
  }

  #integer(from: number, to: number): number | bigint {
    const text = this.#text(from, to);
    if (!/^[-+]?\d+$/.test(text)) {
      throw new RespProtocolError(`Invalid RESP integer "${text}"`);
    }
    const number = Number(text);
    return Number.isSafeInteger(number) ? number : BigInt(text);
  }

  // A length or count: -1 (null) or 0..max.
  #length(from: number, to: number, max: number): number {
    const text = this.#text(from, to);
    if (!/^(-1|\d+)$/.test(text)) {
      throw new RespProtocolError(`Invalid RESP length "${text}"`);
    }
    const length = Number(text);
    if (length > max) {
      throw new RespProtocolError(
        `RESP length "${text}" is over the limit of ${max}`,
      );
    }
    return length;
  }

  #invalid(what: string, start: number): RespProtocolError {
    return new RespProtocolError(
      `Invalid RESP ${what} at "${this.#preview(start)}"`,
    );
  }

  // The start of a line, printable, for error messages.
  #preview(start: number): string {
    const bytes = this.#buffer.subarray(start, Math.min(this.#end, start + 32));
    return JSON.stringify(decoder.decode(bytes)).slice(1, -1);
  }
}

function finish(kind: AggregateKind, items: RespValue[]): RespValue {
  if (kind === "push") return new RespPush(items);
  if (kind === "map") {
    const map = new Map<RespValue, RespValue>();
    for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
    return map;
  }
  return items;
}
