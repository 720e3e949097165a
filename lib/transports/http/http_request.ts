/**
 * HTTP/1.1 as the web door needs it: a request head read from a byte
 * stream within a size cap, parsed strictly (a request line, headers, no
 * folding), the Host and X-Forwarded-For headers parsed, and a response
 * written as bytes. No bodies are served to or taken from a client beyond
 * skipping a small one.
 *
 * @module
 */

import type { ByteReader } from "../../io/line_reader.ts";
import { parseIp } from "../../room/admission.ts";

/** A request's method, target and headers. */
export interface RequestHead {
  /** The method, as sent (`GET`). */
  method: string;
  /** The request target, as sent. */
  target: string;
  /** The target's path (origin-form, query left out), or null if invalid. */
  path: string | null;
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Header values by lower-case name, in order. */
  headers: Map<string, string[]>;
}

/** What {@linkcode HttpReader.readHead} came to. */
export type HeadResult =
  | { kind: "head"; head: RequestHead }
  | { kind: "tooLarge" }
  | { kind: "malformed" }
  | { kind: "end" };

// Characters of a token (RFC 9110, section 5.6.2).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/1\.([01])$/;
// A field value may hold HTAB, visible ASCII and obs-text, nothing else.
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Reads request heads from a byte stream, keeping what comes after a head
 * (the next pipelined request, or a WebSocket's first frames).
 */
export class HttpReader {
  #reader: ByteReader;
  #maxHeadBytes: number;
  #buffer: Uint8Array;
  #filled = 0;
  #ended = false;

  /** Reads from `reader`; a head may take up to `maxHeadBytes`. */
  constructor(reader: ByteReader, options: { maxHeadBytes: number }) {
    this.#reader = reader;
    this.#maxHeadBytes = options.maxHeadBytes;
    // Most requests fit; the buffer grows up to the cap for those that do
    // not, so an idle connection costs little.
    this.#buffer = new Uint8Array(Math.min(2048, options.maxHeadBytes));
  }

  /** The bytes read past the last head, handed over (and forgotten). */
  takeRest(): Uint8Array {
    const rest = this.#buffer.slice(0, this.#filled);
    this.#filled = 0;
    return rest;
  }

  /** Whether bytes of a next request were read already. */
  get buffered(): number {
    return this.#filled;
  }

  /**
   * Reads the next request's head. `onFirstByte` is called once its first
   * byte is in (for the caller's deadlines). Rejects as the stream does.
   */
  async readHead(onFirstByte?: () => void): Promise<HeadResult> {
    let told = false;
    let scanned = 0;
    while (true) {
      // Empty lines before a request line are skipped (RFC 9112, 2.2).
      let skip = 0;
      while (
        skip < this.#filled &&
        (this.#buffer[skip] === 13 || this.#buffer[skip] === 10)
      ) skip++;
      if (skip > 0) {
        this.#consume(skip);
        scanned = 0;
      }
      if (this.#filled > 0 && !told) {
        told = true;
        onFirstByte?.();
      }
      const end = headEnd(this.#buffer, this.#filled, scanned);
      if (end !== -1) {
        const text = latin1(this.#buffer.subarray(0, end));
        this.#consume(end);
        const head = parseHead(text);
        return head === null ? { kind: "malformed" } : { kind: "head", head };
      }
      scanned = Math.max(0, this.#filled - 3);
      if (this.#filled >= this.#maxHeadBytes) return { kind: "tooLarge" };
      if (this.#ended) return { kind: "end" };
      if (this.#filled === this.#buffer.length) this.#grow();
      const count = await this.#reader.read(
        this.#buffer.subarray(this.#filled),
      );
      if (count === null) this.#ended = true;
      else this.#filled += count;
    }
  }

  /**
   * Reads and drops `count` bytes (a small body); false if the stream
   * ended first.
   */
  async skip(count: number): Promise<boolean> {
    while (count > 0) {
      if (this.#filled > 0) {
        const taken = Math.min(count, this.#filled);
        this.#consume(taken);
        count -= taken;
        continue;
      }
      if (this.#ended) return false;
      const read = await this.#reader.read(
        this.#buffer.subarray(0, Math.min(count, this.#buffer.length)),
      );
      if (read === null) this.#ended = true;
      else count -= read;
    }
    return true;
  }

  #grow(): void {
    const grown = new Uint8Array(
      Math.min(this.#buffer.length * 2, this.#maxHeadBytes),
    );
    grown.set(this.#buffer.subarray(0, this.#filled));
    this.#buffer = grown;
  }

  #consume(count: number): void {
    this.#buffer.copyWithin(0, count, this.#filled);
    this.#filled -= count;
  }
}

// The length of the head (its blank line included) in `bytes[0, filled)`,
// searching from `from`; -1 if it has not all come. A line may end in
// `\r\n` or a bare `\n`.
function headEnd(bytes: Uint8Array, filled: number, from: number): number {
  for (let i = from; i < filled; i++) {
    if (bytes[i] !== 10) continue;
    if (i + 1 < filled && bytes[i + 1] === 10) return i + 2;
    if (i + 2 < filled && bytes[i + 1] === 13 && bytes[i + 2] === 10) {
      return i + 3;
    }
  }
  return -1;
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

function parseHead(text: string): RequestHead | null {
  const lines = text.split("\n").map((line) =>
    line.endsWith("\r") ? line.slice(0, -1) : line
  );
  const match = REQUEST_LINE.exec(lines[0]);
  if (match === null) return null;
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    // No folded lines, and no space before the colon (RFC 9112, 5.1-5.2).
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return null;
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (BAD_VALUE.test(value)) return null;
    const key = name.toLowerCase();
    const values = headers.get(key);
    if (values === undefined) headers.set(key, [value]);
    else values.push(value);
  }
  const target = match[2];
  return {
    method: match[1],
    target,
    path: targetPath(target),
    minor: Number(match[3]),
    headers,
  };
}

// The path of an origin-form target (`/a?b`), or of an absolute-form one
// (`http://host/a`); null for anything else.
function targetPath(target: string): string | null {
  if (target.startsWith("/")) {
    const query = target.indexOf("?");
    return query === -1 ? target : target.slice(0, query);
  }
  if (/^https?:\/\//i.test(target)) {
    try {
      return new URL(target).pathname;
    } catch {
      return null;
    }
  }
  return null;
}

/** The one value of `name`; null if absent, undefined if repeated. */
export function singleHeader(
  head: RequestHead,
  name: string,
): string | null | undefined {
  const values = head.headers.get(name);
  if (values === undefined) return null;
  return values.length === 1 ? values[0] : undefined;
}

/** The values of a list header (`a, b`), as one list, trimmed. */
export function listHeader(head: RequestHead, name: string): string[] {
  const values = head.headers.get(name) ?? [];
  return values.flatMap((value) => value.split(",")).map((v) => v.trim())
    .filter((v) => v !== "");
}

/** Whether the list header `name` holds `token` (case-insensitive). */
export function hasToken(
  head: RequestHead,
  name: string,
  token: string,
): boolean {
  return listHeader(head, name).some((v) => v.toLowerCase() === token);
}

/** What a request's body takes: none, a length, or more than we read. */
export type BodyLength = number | "unbounded" | "invalid";

/** The body's length from Content-Length and Transfer-Encoding. */
export function bodyLength(head: RequestHead): BodyLength {
  const encoding = head.headers.get("transfer-encoding");
  const lengths = head.headers.get("content-length");
  if (encoding !== undefined) {
    // Both at once is how requests are smuggled (RFC 9112, 6.1).
    return lengths === undefined ? "unbounded" : "invalid";
  }
  if (lengths === undefined) return 0;
  const all = lengths.flatMap((v) => v.split(",")).map((v) => v.trim());
  if (!all.every((v) => /^\d{1,15}$/.test(v))) return "invalid";
  if (new Set(all).size !== 1) return "invalid";
  return Number(all[0]);
}

/** A Host header's name part, or null if the header is malformed. */
export function parseHost(value: string): string | null {
  let name: string;
  let rest: string;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close === -1) return null;
    name = value.slice(1, close);
    if (parseIp(name) === null || !name.includes(":")) return null;
    rest = value.slice(close + 1);
  } else {
    const colon = value.indexOf(":");
    name = colon === -1 ? value : value.slice(0, colon);
    rest = colon === -1 ? "" : value.slice(colon);
    // A reg-name or an IPv4 address (RFC 3986, 3.2.2).
    if (!/^[A-Za-z0-9\-._~!$&'()*+,;=%]*$/.test(name)) return null;
  }
  if (rest !== "" && !/^:\d{0,5}$/.test(rest)) return null;
  return name.toLowerCase();
}

/**
 * The client a trusted proxy names in X-Forwarded-For: the right-most hop
 * that is not itself a trusted proxy (the left-most when all are). Null if
 * there is no such header (the peer is the client), `invalid` if that hop
 * is not an IP address.
 */
export function forwardedFor(
  head: RequestHead,
  trusted: ReadonlySet<string>,
): string | null | "invalid" {
  const values = head.headers.get("x-forwarded-for");
  if (values === undefined) return null;
  const hops = values.flatMap((v) => v.split(",")).map((v) => v.trim());
  let ip: string | null = null;
  for (let i = hops.length - 1; i >= 0; i--) {
    ip = parseIp(hops[i]);
    if (ip === null) return "invalid";
    if (!trusted.has(ip)) return ip;
  }
  // Every hop a proxy of ours: the client is the first of them.
  return ip ?? "invalid";
}

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  204: "No Content",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

const encoder = new TextEncoder();

/**
 * A response's bytes: the status line, `headers` (names as given), a
 * Content-Length for `body` unless the status has no body, and the body
 * unless `head` (a HEAD request's answer).
 */
export function responseBytes(
  status: number,
  headers: Record<string, string>,
  body: Uint8Array,
  options: { head?: boolean } = {},
): Uint8Array {
  let text = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    text += `${name}: ${value}\r\n`;
  }
  if (status !== 101 && status !== 204) {
    text += `content-length: ${body.length}\r\n`;
  }
  text += "\r\n";
  const top = encoder.encode(text);
  if (options.head || body.length === 0) return top;
  const out = new Uint8Array(top.length + body.length);
  out.set(top);
  out.set(body, top.length);
  return out;
}
