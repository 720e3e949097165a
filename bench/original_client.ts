/**
 * Load client for the Python original (`server.py` of the public repository
 * ShalevAtsis/Socket_Chat; the bench runs a copy the user provides with
 * `--original PATH`, see peers.ts). Its protocol, read from its source:
 *
 * - no prompt: the first `recv(2048)` is the name, taken whole (a newline
 *   would become part of it), answered with `Welcome NAME!` and three lines
 *   of help;
 * - every later `recv(2048)` is one message: `@TARGET text` goes to TARGET
 *   as `Private message from NAME: text`, anything else to everyone else as
 *   `NAME: chunk`; there are no join or leave notices and no lines of its
 *   own (`exit` is only the whole chunk `exit`).
 *
 * A chunk is what one `recv` returned, not a line: two lines read at once
 * are relayed as `NAME: line1\nline2\n`. So this client registers under its
 * own name and sends a chat line as `NAME: text` (like ncat_client.ts); a
 * receiver then sees `NAME: NAME: text` for the first line of a chunk and
 * `NAME: text` for the others, and hands both over as `NAME: text`, the
 * line our server delivers. A sender's lines in flight never exceed one
 * `recv` (saturation: 32 × 64 bytes = 2048), so no line is cut in two; a
 * cut line would fail the run's order check. Private messages need no
 * translation: the original words them as our server does. Leaving is
 * closing the write side (the original then drops the client silently).
 *
 * @module
 */

import { decoder, encoder, NAME_LEN } from "./codec.ts";
import { quoteLine, StreamClient } from "./client_base.ts";
import type { ClientOptions } from "./load_client.ts";

const HELP_LINES = 3;

/** One simulated user of the Python original. */
export class OriginalLoadClient extends StreamClient {
  readonly #prefix: Uint8Array;
  readonly #welcome: Uint8Array;
  #helpLeft = HELP_LINES;

  private constructor(
    conn: Deno.TcpConn,
    opts: ClientOptions,
    startedAt: number,
  ) {
    super(conn, opts, startedAt);
    this.#prefix = encoder.encode(`${opts.name}: `);
    this.#welcome = encoder.encode(`Welcome ${opts.name}!`);
  }

  /** Connects, sends the name (alone, no newline) and starts reading. */
  static async open(opts: ClientOptions): Promise<OriginalLoadClient> {
    const { conn, startedAt } = await StreamClient.dialTcp(opts);
    const c = new OriginalLoadClient(conn, opts, startedAt);
    c.start();
    c.queueText(opts.name);
    return c;
  }

  /** Sends `NAME: text`, or a private message `@NAME text` as it is. */
  send(line: Uint8Array): void {
    if (this.closing) return;
    if (line[0] === 64 /* @ */) {
      this.queue(line);
      return;
    }
    const { buf, offset } = this.reserve(this.#prefix.length + line.length);
    buf.set(this.#prefix, offset);
    buf.set(line, offset + this.#prefix.length);
    this.commit(offset + this.#prefix.length + line.length);
  }

  /** Closes the write side; the original then closes the connection. */
  async quit(timeoutMs: number): Promise<void> {
    if (this.closing) return;
    this.quitting = true;
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

  /** Reads the original's lines until EOF. */
  protected readLoop(): Promise<void> {
    return this.readLines((buf, start, end, now) =>
      this.#onLine(buf, start, end, now)
    );
  }

  #onLine(buf: Uint8Array, start: number, end: number, now: number): void {
    if (!this.isRegistered) {
      if (same(buf, start, end, this.#welcome)) {
        this.markRegistered(now);
        return;
      }
      this.registrationFailed(
        `unexpected ${quoteLine(decoder.decode(buf.subarray(start, end)))}`,
      );
      return;
    }
    if (this.#helpLeft > 0) {
      this.#helpLeft--;
      return;
    }
    // "A: A: text" (first line of a relayed chunk): drop the relay's prefix.
    const p = NAME_LEN + 2;
    if (end - start >= 2 * p && buf[start + NAME_LEN] === 58) {
      let doubled = true;
      for (let i = 0; i < p; i++) {
        if (buf[start + i] !== buf[start + p + i]) {
          doubled = false;
          break;
        }
      }
      if (doubled) start += p;
    }
    this.handler.onLine(this, buf, start, end, now);
  }
}

function same(buf: Uint8Array, start: number, end: number, w: Uint8Array) {
  if (end - start !== w.length) return false;
  for (let i = 0; i < w.length; i++) if (buf[start + i] !== w[i]) return false;
  return true;
}
