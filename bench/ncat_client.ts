/**
 * Load client for `ncat --chat` (Nmap's ncat in chat mode): a line relay
 * with no names. ncat names each connection `<userN>` itself and relays a
 * line to everyone else as `<userN> text`; it announces connects and
 * disconnects as `<announce> ADDR is connected as <userN>.`,
 * `<announce> already connected: ...` and `<announce> <userN> is
 * disconnected.`. There is no registration and no private message.
 *
 * So this client carries its name in the text: a line `text` is sent as
 * `NAME: text`, and a received `<userN> NAME: text` is handed to the
 * scenario as `NAME: text`, the very line our server delivers. It counts
 * as registered once ncat has announced it (its own `is connected as`
 * followed by the `already connected` list). Later connects become
 * `*** TAGncat? has joined the chat.` (a join notice of this run's tag),
 * disconnects `*** TAGncat? has left the chat.`. Leaving is closing the
 * write side (ncat has no `exit`; the word would be relayed as chat).
 *
 * @module
 */

import { decoder, encoder, NAME_LEN, TAG_LEN } from "./codec.ts";
import { quoteLine, StreamClient } from "./client_base.ts";
import type { ClientOptions } from "./load_client.ts";

const ANNOUNCE = encoder.encode("<announce> ");
const CONNECTED_AS = encoder.encode(" is connected as <");
const ALREADY = encoder.encode("<announce> already connected: ");
const DISCONNECTED = encoder.encode("> is disconnected.");

function startsWith(
  buf: Uint8Array,
  start: number,
  end: number,
  w: Uint8Array,
) {
  if (end - start < w.length) return false;
  for (let i = 0; i < w.length; i++) if (buf[start + i] !== w[i]) return false;
  return true;
}

function endsWith(buf: Uint8Array, start: number, end: number, w: Uint8Array) {
  if (end - start < w.length) return false;
  const o = end - w.length;
  for (let i = 0; i < w.length; i++) if (buf[o + i] !== w[i]) return false;
  return true;
}

function indexOfSeq(
  buf: Uint8Array,
  start: number,
  end: number,
  w: Uint8Array,
): number {
  let i = buf.indexOf(w[0], start);
  while (i >= 0 && i + w.length <= end) {
    let k = 1;
    while (k < w.length && buf[i + k] === w[k]) k++;
    if (k === w.length) return i;
    i = buf.indexOf(w[0], i + 1);
  }
  return -1;
}

/** One simulated user of `ncat --chat`. */
export class NcatLoadClient extends StreamClient {
  /** ncat's name for this connection (`userN`), once announced. */
  ncatName = "";
  #announced = false;
  readonly #prefix: Uint8Array;
  readonly #joined: Uint8Array;
  readonly #left: Uint8Array;

  private constructor(
    conn: Deno.TcpConn,
    opts: ClientOptions,
    startedAt: number,
  ) {
    super(conn, opts, startedAt);
    this.#prefix = encoder.encode(`${opts.name}: `);
    const who = opts.name.slice(0, TAG_LEN) + "ncat?".slice(
      0,
      NAME_LEN - TAG_LEN,
    );
    this.#joined = encoder.encode(`*** ${who} has joined the chat.`);
    this.#left = encoder.encode(`*** ${who} has left the chat.`);
  }

  /** Connects and starts reading; ncat needs no handshake. */
  static async open(opts: ClientOptions): Promise<NcatLoadClient> {
    const { conn, startedAt } = await StreamClient.dialTcp(opts);
    const c = new NcatLoadClient(conn, opts, startedAt);
    c.start();
    return c;
  }

  /** Sends `NAME: text`; private messages do not exist in ncat. */
  send(line: Uint8Array): void {
    if (this.closing) return;
    if (line[0] === 64 /* @ */) {
      this.ctx.fail("ncat --chat has no private messages");
      return;
    }
    const { buf, offset } = this.reserve(this.#prefix.length + line.length);
    buf.set(this.#prefix, offset);
    buf.set(line, offset + this.#prefix.length);
    this.commit(offset + this.#prefix.length + line.length);
  }

  /** Closes the write side; ncat then closes the connection. */
  async quit(timeoutMs: number): Promise<void> {
    if (this.closing) return;
    this.quitting = true;
    // Let queued lines go out first (bounded).
    const t0 = performance.now();
    while (this.queuedBytes > 0 && performance.now() - t0 < timeoutMs / 2) {
      await new Promise((r) => setTimeout(r, 5));
    }
    try {
      await this.conn.closeWrite();
    } catch {
      this.close();
      return;
    }
    await this.awaitEnd(timeoutMs);
  }

  /** Reads ncat's lines until EOF. */
  protected readLoop(): Promise<void> {
    return this.readLines((buf, start, end, now) =>
      this.#onNcatLine(buf, start, end, now)
    );
  }

  #onNcatLine(buf: Uint8Array, start: number, end: number, now: number): void {
    if (startsWith(buf, start, end, ANNOUNCE)) {
      this.#announce(buf, start, end, now);
      return;
    }
    if (!this.isRegistered) {
      // Lines relayed before our own announcement cannot be ours to see.
      this.ctx.warn(
        "ncat-early",
        `ncat: ${this.name} got a line before its announcement: ${
          quoteLine(decoder.decode(buf.subarray(start, end)))
        }`,
      );
      return;
    }
    // "<userN> text": hand over "text".
    if (buf[start] === 60 /* < */) {
      const gt = buf.indexOf(62, start);
      if (gt > 0 && gt + 1 < end && buf[gt + 1] === 32) {
        this.handler.onLine(this, buf, gt + 2, end, now);
        return;
      }
    }
    this.handler.onLine(this, buf, start, end, now);
  }

  #announce(buf: Uint8Array, start: number, end: number, now: number): void {
    if (startsWith(buf, start, end, ALREADY)) {
      if (this.#announced && !this.isRegistered) this.markRegistered(now);
      return;
    }
    const c = indexOfSeq(buf, start, end, CONNECTED_AS);
    if (c >= 0) {
      if (!this.#announced) {
        this.#announced = true;
        const from = c + CONNECTED_AS.length;
        const to = buf.indexOf(62, from);
        this.ncatName = decoder.decode(buf.subarray(from, to < 0 ? end : to));
        return;
      }
      this.handler.onLine(this, this.#joined, 0, this.#joined.length, now);
      return;
    }
    if (endsWith(buf, start, end, DISCONNECTED)) {
      if (this.isRegistered) {
        this.handler.onLine(this, this.#left, 0, this.#left.length, now);
      }
      return;
    }
    this.ctx.warn(
      "ncat-announce",
      `ncat: unknown announcement ${
        quoteLine(decoder.decode(buf.subarray(start, end)))
      }`,
    );
  }
}
