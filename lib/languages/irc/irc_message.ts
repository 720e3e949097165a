/**
 * IRC messages: parsing a received line (tags ignored, prefix, command,
 * middle parameters, trailing) and writing lines that always fit the
 * 512-byte limit, splitting long texts at UTF-8 boundaries.
 *
 * Knows nothing of the room or of sockets.
 *
 * @module
 */

/** A parsed IRC message. */
export interface IrcMessage {
  /** The source, without its `:`, or null if none was given. */
  prefix: string | null;
  /** The command, upper-cased (`PRIVMSG`, `001`). */
  command: string;
  /** The parameters, the trailing one last and without its `:`. */
  params: string[];
}

/** Longest line in bytes, without its CRLF (RFC 1459: 512 with it). */
export const MAX_LINE_BYTES = 510;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Parses one line (without its line ending). Returns null for a line with
 * no command (empty, blank, or only tags or a prefix).
 */
export function parseMessage(line: string): IrcMessage | null {
  let at = 0;
  const length = line.length;
  const skipSpaces = () => {
    while (at < length && line.charCodeAt(at) === 0x20) at++;
  };
  const word = () => {
    const start = at;
    while (at < length && line.charCodeAt(at) !== 0x20) at++;
    return line.slice(start, at);
  };
  skipSpaces();
  // IRCv3 tags: we offer no capability that needs them, so they are skipped.
  if (line.charCodeAt(at) === 0x40) {
    word();
    skipSpaces();
  }
  let prefix: string | null = null;
  if (line.charCodeAt(at) === 0x3a) {
    at++;
    prefix = word();
    skipSpaces();
  }
  const command = word().toUpperCase();
  if (command === "") return null;
  const params: string[] = [];
  while (true) {
    skipSpaces();
    if (at >= length) break;
    if (line.charCodeAt(at) === 0x3a) {
      params.push(line.slice(at + 1));
      break;
    }
    params.push(word());
  }
  return { prefix, command, params };
}

// CR, LF and NUL would end or break a line: never written inside one.
const LINE_BREAKERS = /[\r\n\0]/g;

/**
 * One IRC line (without CRLF): the last parameter is written as trailing
 * when it must be (empty, with a space, or starting with `:`).
 */
export function ircLine(
  prefix: string | null,
  command: string,
  ...params: string[]
): string {
  let out = prefix === null ? command : `:${prefix} ${command}`;
  for (let i = 0; i < params.length; i++) {
    const param = params[i].replace(LINE_BREAKERS, " ");
    const last = i === params.length - 1;
    out += last &&
        (param === "" || param.includes(" ") || param.startsWith(":"))
      ? ` :${param}`
      : ` ${param}`;
  }
  return out;
}

/**
 * One IRC line whose last parameter is always written as trailing (` :`):
 * for texts (messages, reasons, tokens), which clients read that way.
 */
export function ircTextLine(
  prefix: string | null,
  command: string,
  ...params: string[]
): string {
  const last = params.length - 1;
  if (last < 0) return ircLine(prefix, command);
  const head = ircLine(prefix, command, ...params.slice(0, last), "x");
  return `${head.slice(0, -1)}:${params[last].replace(LINE_BREAKERS, " ")}`;
}

/** The UTF-8 length of `text` in bytes. */
export function byteLength(text: string): number {
  // Short ASCII texts are the common case; counting beats encoding.
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (
      code >= 0xd800 && code < 0xdc00 &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 4;
      i++;
    } else bytes += 3; // A lone surrogate is written as U+FFFD: 3 bytes too.
  }
  return bytes;
}

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes each, never
 * inside a character, at a space when one is near the end of a piece (the
 * space is then dropped). A text that fits is returned whole.
 */
export function splitText(text: string, maxBytes: number): string[] {
  if (byteLength(text) <= maxBytes) return [text];
  const bytes = encoder.encode(text);
  const limit = Math.max(4, maxBytes);
  const pieces: string[] = [];
  let start = 0;
  while (bytes.length - start > limit) {
    let cut = start + limit;
    // Back to the start of a character: continuation bytes are 10xxxxxx.
    while (cut > start && (bytes[cut] & 0xc0) === 0x80) cut--;
    let next = cut;
    // Prefer a space in the last quarter of the piece: words stay whole.
    for (let i = cut - 1; i > start + (limit * 3 >> 2); i--) {
      if (bytes[i] === 0x20) {
        cut = i;
        next = i + 1;
        break;
      }
    }
    pieces.push(decoder.decode(bytes.subarray(start, cut)));
    start = next;
  }
  if (start < bytes.length) pieces.push(decoder.decode(bytes.subarray(start)));
  return pieces;
}

/**
 * Lines `head` + piece (+ `tail`) for the pieces of `text`, each line at most
 * {@linkcode MAX_LINE_BYTES}: a long message becomes several that each fit.
 */
export function fitLines(head: string, text: string, tail = ""): string[] {
  const room = MAX_LINE_BYTES - byteLength(head) - byteLength(tail);
  return splitText(text, room).map((piece) => head + piece + tail);
}

/** Lines joined with CRLF, each ending in one, as bytes. */
export function encodeLines(lines: readonly string[]): Uint8Array {
  return encoder.encode(lines.join("\r\n") + "\r\n");
}

/** Whether `a` and `b` are equal under the `ascii` case mapping. */
export function asciiEqual(a: string, b: string): boolean {
  return a.length === b.length && asciiLower(a) === asciiLower(b);
}

/** `text` with A-Z lowered, nothing else: the `ascii` case mapping. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

/** A line cut to the limit at a character boundary. */
export function clampLine(line: string): string {
  if (byteLength(line) <= MAX_LINE_BYTES) return line;
  return splitText(line, MAX_LINE_BYTES)[0];
}
