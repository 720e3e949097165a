/**
 * The PROXY protocol, versions 1 (text) and 2 (binary), as HAProxy's
 * `send-proxy` and `send-proxy-v2` send it: a header a TCP load balancer
 * puts before the client's own bytes, naming the client's real address.
 * See HAProxy's `doc/proxy-protocol.txt`.
 *
 * Only the receiving side, and only what a TCP listener needs: the source
 * address and port. Destination addresses are validated but not returned,
 * and the TLVs of version 2 are skipped.
 *
 * Knows nothing of sockets beyond `read`.
 *
 * @module
 */

import { formatIpv6Groups } from "./ipv6_text.ts";
import type { ByteReader } from "./line_reader.ts";

/** The address and port of the client as the proxy saw it. */
export interface ProxySource {
  /** Dotted IPv4, or IPv6 in its compressed form such as `2001:db8::1`. */
  ip: string;
  /** The TCP port, 0-65535. */
  port: number;
}

/** What {@linkcode parseProxyHeader} makes of the first bytes of a stream. */
export type ProxyParse =
  /** The bytes are a prefix of a header that may still be valid. */
  | { kind: "need-more" }
  /** The bytes do not start with a PROXY signature at all. */
  | { kind: "none" }
  /**
   * A whole header of `length` bytes. `source` is null when the proxy sent
   * no client address (v2 LOCAL, such as its health checks; v1 UNKNOWN; v2
   * UNSPEC or UNIX): the connection's own peer address then stands.
   */
  | { kind: "header"; length: number; source: ProxySource | null }
  /** A broken header; `reason` reads after `Invalid PROXY header: `. */
  | { kind: "invalid"; reason: string };

/** Longest v1 header, `\r\n` included, as the spec bounds it. */
export const MAX_V1_HEADER_BYTES = 107;

/**
 * Longest address and TLV block accepted after the 16 fixed bytes of a v2
 * header. The format allows 65535; HAProxy sends far less even with all
 * its TLVs, and a bound keeps what one unauthenticated peer can make us
 * hold small.
 */
export const MAX_V2_PAYLOAD_BYTES = 4096;

/** The error {@linkcode readProxyHeader} rejects with on a bad or missing header. */
export class ProxyHeaderError extends Error {
  /** Creates the error with its whole message. */
  constructor(message: string) {
    super(message);
    this.name = "ProxyHeaderError";
  }
}

const V1_PREFIX = new TextEncoder().encode("PROXY ");
const V2_SIGNATURE = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
const V2_FIXED_BYTES = 16;
const CR = 13;
const LF = 10;

/**
 * Whether `bytes` start with a whole PROXY signature: `PROXY ` (v1) or the
 * 12 bytes of v2. For refusing a peer that is not a trusted proxy yet sends
 * a header. A mere prefix (`PRO`) is not enough, so a person typing a name
 * one key at a time is never taken for a proxy.
 */
export function looksLikeProxyHeader(bytes: Uint8Array): boolean {
  return startsWith(bytes, V1_PREFIX) || startsWith(bytes, V2_SIGNATURE);
}

/**
 * Parses the PROXY header at the start of `bytes`, which may hold more
 * (the client's own protocol, from `length` on). Pure and incremental: call
 * it again with more bytes after `need-more`. A header is judged invalid as
 * soon as its first bad byte is there, not only once it is whole.
 */
export function parseProxyHeader(bytes: Uint8Array): ProxyParse {
  if (bytes.length === 0) return { kind: "need-more" };
  if (bytes[0] === V1_PREFIX[0]) {
    return isPrefixOf(bytes, V1_PREFIX) ? parseV1(bytes) : { kind: "none" };
  }
  if (bytes[0] === V2_SIGNATURE[0]) {
    return isPrefixOf(bytes, V2_SIGNATURE) ? parseV2(bytes) : { kind: "none" };
  }
  return { kind: "none" };
}

/** Options of {@linkcode readProxyHeader}. */
export interface ReadProxyHeaderOptions {
  /** Longest wait for the whole header, from the call. */
  timeoutMs: number;
  /** Stops the wait early (the server is shutting down). */
  signal?: AbortSignal;
}

/**
 * Reads a required PROXY header from `reader`, however the bytes are split
 * across reads, and resolves with the client's address (null when the
 * proxy sent none, see {@linkcode ProxyParse}) and `rest`: the bytes read
 * past the header, the start of the client's own protocol, for the caller
 * to handle before reading on.
 *
 * Rejects with a {@linkcode ProxyHeaderError} (`Invalid PROXY header: ...`)
 * on a bad header, no header, or the end of input before the header ends,
 * and with `No PROXY header within N ms` on timeout; read errors are passed
 * on as they are. After a rejection the caller closes the connection,
 * which also ends a read still pending.
 */
export async function readProxyHeader(
  reader: ByteReader,
  options: ReadProxyHeaderOptions,
): Promise<{ source: ProxySource | null; rest: Uint8Array }> {
  const { timeoutMs, signal } = options;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ProxyHeaderError(`No PROXY header within ${timeoutMs} ms`)),
      Math.max(0, timeoutMs),
    );
    onAbort = () => reject(new ProxyHeaderError("PROXY header wait aborted"));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  // Enough for any v1 header and for a v2 one without TLVs in one read;
  // grown to the exact size once a v2 header tells its length.
  let buffer = new Uint8Array(MAX_V1_HEADER_BYTES);
  let filled = 0;
  try {
    while (true) {
      const parsed = parseProxyHeader(buffer.subarray(0, filled));
      if (parsed.kind === "header") {
        return {
          source: parsed.source,
          rest: buffer.slice(parsed.length, filled),
        };
      }
      if (parsed.kind === "invalid") {
        throw new ProxyHeaderError(`Invalid PROXY header: ${parsed.reason}`);
      }
      if (parsed.kind === "none") {
        throw new ProxyHeaderError(
          `Invalid PROXY header: the connection starts with ${
            quoteBytes(buffer.subarray(0, Math.min(filled, 16)))
          }, not a PROXY signature`,
        );
      }
      const wanted = wantedLength(buffer.subarray(0, filled));
      if (wanted > buffer.length) {
        const grown = new Uint8Array(wanted);
        grown.set(buffer.subarray(0, filled));
        buffer = grown;
      }
      const read = reader.read(buffer.subarray(filled, wanted));
      // Once the wait is over nobody awaits this read; the caller's close
      // settles it, possibly with an error that must not go unhandled.
      read.catch(() => {});
      const count = await Promise.race([read, stopped]);
      if (count === null) {
        throw new ProxyHeaderError(
          `Invalid PROXY header: the connection closed after ${filled} ${
            filled === 1 ? "byte" : "bytes"
          }, before the header ended`,
        );
      }
      filled += count;
    }
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    stopped.catch(() => {});
  }
}

// How many bytes to hold before parsing again: the whole v2 header once its
// length is known, else the v1 bound, which reaches past every v2 header
// without TLVs too. Bytes past the header come back as `rest`.
function wantedLength(bytes: Uint8Array): number {
  if (bytes.length >= V2_FIXED_BYTES && bytes[0] === V2_SIGNATURE[0]) {
    return V2_FIXED_BYTES + ((bytes[14] << 8) | bytes[15]);
  }
  return MAX_V1_HEADER_BYTES;
}

// ---- Version 1: `PROXY TCP4 1.2.3.4 5.6.7.8 1234 80\r\n` ----

function parseV1(bytes: Uint8Array): ProxyParse {
  const end = Math.min(bytes.length, MAX_V1_HEADER_BYTES);
  for (let i = V1_PREFIX.length; i < end; i++) {
    const byte = bytes[i];
    if (byte === CR) {
      if (i + 2 > MAX_V1_HEADER_BYTES) return v1TooLong();
      if (i + 1 === bytes.length) return { kind: "need-more" };
      if (bytes[i + 1] !== LF) {
        return invalid("the text header has a CR not followed by LF");
      }
      return parseV1Line(
        String.fromCharCode(...bytes.subarray(0, i)),
        i + 2,
      );
    }
    if (byte === LF) return invalid("the text header ends in LF, not CRLF");
    // Printable US-ASCII only: anything else is not a header, and must not
    // reach an error text either.
    if (byte < 0x20 || byte > 0x7e) {
      return invalid(
        `the text header holds the byte ${
          quoteBytes(bytes.subarray(i, i + 1))
        }`,
      );
    }
  }
  return bytes.length >= MAX_V1_HEADER_BYTES ? v1TooLong() : {
    kind: "need-more",
  };
}

function v1TooLong(): ProxyParse {
  return invalid(
    `the text header is longer than ${MAX_V1_HEADER_BYTES} bytes or lacks its CRLF`,
  );
}

function parseV1Line(line: string, length: number): ProxyParse {
  const fields = line.split(" ");
  const protocol = fields[1];
  // The spec: after UNKNOWN the receiver ignores everything up to the CRLF.
  if (protocol === "UNKNOWN") return { kind: "header", length, source: null };
  if (protocol !== "TCP4" && protocol !== "TCP6") {
    return invalid(`unknown protocol "${protocol}" in the text header`);
  }
  if (fields.length !== 6 || fields.includes("")) {
    return invalid(
      `the text header "${line}" is not "PROXY ${protocol} SRC DST SPORT DPORT" with single spaces`,
    );
  }
  const [, , src, dst, sport, dport] = fields;
  const family = protocol === "TCP4" ? "IPv4" : "IPv6";
  const parseIp = protocol === "TCP4" ? parseIPv4 : parseIPv6;
  const ip = parseIp(src);
  if (ip === null) {
    return invalid(`source address "${src}" is not an ${family} address`);
  }
  if (parseIp(dst) === null) {
    return invalid(`destination address "${dst}" is not an ${family} address`);
  }
  const port = parsePort(sport);
  if (port === null) {
    return invalid(`source port "${sport}" is not a number in 0-65535`);
  }
  if (parsePort(dport) === null) {
    return invalid(`destination port "${dport}" is not a number in 0-65535`);
  }
  return { kind: "header", length, source: { ip, port } };
}

// Decimal without leading zeros, as the spec writes addresses (a leading
// zero could be read as octal elsewhere) and HAProxy writes ports.
const DECIMAL = /^(0|[1-9][0-9]{0,4})$/;

function parsePort(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

// `a.b.c.d`, each 0-255 without leading zeros; returns it as given.
function parseIPv4(text: string): string | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  for (const part of parts) {
    if (!DECIMAL.test(part) || Number(part) > 255) return null;
  }
  return text;
}

// RFC 4291 text: eight groups of 1-4 hex digits, one `::` standing for one
// or more zero groups, an IPv4 tail allowed; no zone. Returns the address
// in RFC 5952 form, so one address has one spelling whatever the sender's.
function parseIPv6(text: string): string | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1], true) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return formatIPv6(groups);
}

// The 16-bit groups of one side of `::` (empty text: none); a dotted IPv4
// is allowed as the last two groups when `last`.
function parseGroups(text: string, last: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (last && i === parts.length - 1 && part.includes(".")) {
      if (parseIPv4(part) === null) return null;
      const [a, b, c, d] = part.split(".").map(Number);
      groups.push((a << 8) | b, (c << 8) | d);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

/** Eight 16-bit groups in RFC 5952 form; IPv4-mapped as `::ffff:a.b.c.d`. */
function formatIPv6(groups: readonly number[]): string {
  if (
    groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff
  ) {
    const [g6, g7] = [groups[6], groups[7]];
    return `::ffff:${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`;
  }
  return formatIpv6Groups(groups);
}

// ---- Version 2: signature, ver/cmd, family, length, addresses, TLVs ----

function parseV2(bytes: Uint8Array): ProxyParse {
  if (bytes.length <= V2_SIGNATURE.length) return { kind: "need-more" };
  const versionCommand = bytes[12];
  const version = versionCommand >> 4;
  if (version !== 2) {
    return invalid(`binary header version "${version}" is not 2`);
  }
  const command = versionCommand & 0x0f;
  if (command !== 0 && command !== 1) {
    return invalid(`binary header command "${hexByte(command)}" is unknown`);
  }
  if (bytes.length < V2_FIXED_BYTES) return { kind: "need-more" };
  const family = bytes[13];
  const payload = (bytes[14] << 8) | bytes[15];
  if (payload > MAX_V2_PAYLOAD_BYTES) {
    return invalid(
      `binary header length "${payload}" is over the limit of ${MAX_V2_PAYLOAD_BYTES} bytes`,
    );
  }
  const length = V2_FIXED_BYTES + payload;
  // LOCAL: the proxy's own connection (a health check). The spec has the
  // receiver ignore the family and addresses and use the real endpoints.
  if (command === 0) {
    return bytes.length < length
      ? { kind: "need-more" }
      : { kind: "header", length, source: null };
  }
  // PROXY: the address block's size for each family the spec makes
  // mandatory (UNSPEC, TCP over IPv4, TCP over IPv6) and UNIX stream, which
  // names no IP and so passes on no source. Datagrams and undefined values
  // are refused, as the spec asks.
  const addressBytes = family === 0x00
    ? 0
    : family === 0x11
    ? 12
    : family === 0x21
    ? 36
    : family === 0x31
    ? 216
    : -1;
  if (addressBytes < 0) {
    return invalid(
      `binary header family and transport "${
        hexByte(family)
      }" are not TCP over IPv4 or IPv6, UNIX stream or unspecified`,
    );
  }
  if (payload < addressBytes) {
    return invalid(
      `binary header length "${payload}" is too short for the ${addressBytes} address bytes of family "${
        hexByte(family)
      }"`,
    );
  }
  if (bytes.length < length) return { kind: "need-more" };
  // The TLVs after the addresses are not needed here, and skipped whole:
  // `length` already bounds them.
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  if (family === 0x11) {
    return {
      kind: "header",
      length,
      source: {
        ip: bytes.subarray(16, 20).join("."),
        port: view.getUint16(24),
      },
    };
  }
  if (family === 0x21) {
    const groups: number[] = [];
    for (let i = 0; i < 8; i++) groups.push(view.getUint16(16 + 2 * i));
    return {
      kind: "header",
      length,
      source: { ip: formatIPv6(groups), port: view.getUint16(48) },
    };
  }
  return { kind: "header", length, source: null };
}

// ---- Small helpers ----

function invalid(reason: string): ProxyParse {
  return { kind: "invalid", reason };
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

// Whether `bytes` and `signature` agree on their common length: `bytes` is
// a prefix of the signature or starts with all of it.
function isPrefixOf(bytes: Uint8Array, signature: Uint8Array): boolean {
  const n = Math.min(bytes.length, signature.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== signature[i]) return false;
  }
  return true;
}

function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, "0")}`;
}

// Peer bytes for an error text, quoted, with everything but printable
// US-ASCII as `\xNN`: a console or log must not receive control bytes.
function quoteBytes(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x22 && byte !== 0x5c
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `"${out}"`;
}
