/**
 * The chat log: timestamped events appended to a file, in batches.
 *
 * Knows nothing of the network.
 *
 * @module
 */

/** Where chat events go; the chat core needs no more than this. */
export interface EventLog {
  /** Records one event; never blocks and never throws. */
  record(event: string): void;
}

/**
 * A change in whether the log can be written, for the console: writing
 * started `failing` (with the error's short reason), or it `recovered`.
 */
export type LogProblem =
  | { kind: "failing"; path: string; reason: string }
  | { kind: "recovered"; path: string };

/** Options of {@linkcode ChatLog.open}. */
export interface ChatLogOptions {
  /** The file, relative to the working directory unless absolute. */
  path: string;
  /** Longest time an event waits in memory before it is written. Default 100. */
  flushIntervalMs?: number;
  /** Unwritten bytes kept while the file cannot be written. Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Told once when writing starts failing and once when it works again. */
  onProblem?: (problem: LogProblem) => void;
  /** The clock for timestamps, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

import { describeError } from "./errors.ts";
import { writeUtf8 } from "./utf8.ts";

const encoder = new TextEncoder();

/**
 * An append-only log file of one event a line:
 * `<ISO-8601 UTC timestamp> <event>`.
 *
 * Events are batched and written within `flushIntervalMs`. The file is opened
 * for each batch, so a log removed or rotated while the server runs is made
 * anew. While it cannot be written, chat goes on: events are kept (up to
 * `maxBufferedBytes`, oldest dropped first and counted in `lost`) and the
 * write is retried. `close()` writes the rest and calls fsync.
 *
 * @example
 * ```ts
 * const log = await ChatLog.open({ path: "chat_documentation.txt" });
 * log.record("Server is now alive and listening on 0.0.0.0:2025");
 * await log.close();
 * ```
 */
export class ChatLog implements EventLog {
  #path: string;
  #interval: number;
  #maxBuffered: number;
  #onProblem: (problem: LogProblem) => void;
  #now: () => number;
  // The lines recorded and not yet handed to a write, as UTF-8: encoded as
  // they come, so that a batch's lines are not kept as strings for the
  // flush interval (long enough for the garbage collector to copy them
  // about and promote them, which cost more than the rest of the log).
  #buffer: Uint8Array = new Uint8Array(MIN_BUFFER_BYTES);
  // Where its lines start (the oldest were dropped, see #dropOldest) and
  // end.
  #start = 0;
  #used = 0;
  // How many lines the buffer holds.
  #count = 0;
  // A buffer written out before, to be filled again.
  #spare: Uint8Array | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;
  #failing = false;
  #closed = false;
  #lost = 0;
  #stampMs = -1;
  // The timestamp of #stampMs, encoded (ASCII).
  #stamp: Uint8Array = new Uint8Array(0);
  // The file ended in the middle of a line (a power cut, or a write that
  // failed halfway and whose rest was dropped): it is ended before the
  // next line written, so that no line runs into it.
  #endLine: boolean;
  // The buffer starts with the rest of a line whose start is in the file.
  #midLine = false;

  private constructor(options: ChatLogOptions, endLine: boolean) {
    this.#path = options.path;
    this.#interval = options.flushIntervalMs ?? 100;
    this.#maxBuffered = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.#onProblem = options.onProblem ?? (() => {});
    this.#now = options.now ?? Date.now;
    this.#endLine = endLine;
  }

  /**
   * Opens (creating it if need be) the log for appending. Rejects with an
   * error that names the path if it cannot be written, so a server can stop
   * before it binds its port.
   */
  static async open(options: ChatLogOptions): Promise<ChatLog> {
    let endLine = false;
    try {
      using file = await Deno.open(options.path, {
        read: true,
        append: true,
        create: true,
      });
      const size = (await file.stat()).size;
      if (size > 0) {
        const last = new Uint8Array(1);
        await file.seek(size - 1, Deno.SeekMode.Start);
        endLine = await file.read(last) === 1 && last[0] !== 0x0a;
      }
    } catch (error) {
      throw new Error(
        `Cannot open the chat log "${options.path}": ${describeError(error)}`,
      );
    }
    return new ChatLog(options, endLine);
  }

  /** The path of the file. */
  get path(): string {
    return this.#path;
  }

  /** Events recorded and not yet written. */
  get pending(): number {
    return this.#count;
  }

  /** Events dropped because the file could not be written in time. */
  get lost(): number {
    return this.#lost;
  }

  /** Records one event, timestamped now. */
  record(event: string): void {
    if (this.#closed) return;
    const ms = this.#now();
    if (ms !== this.#stampMs) {
      this.#stampMs = ms;
      this.#stamp = encoder.encode(new Date(ms).toISOString());
    }
    const stamp = this.#stamp;
    const length = event.length;
    // A UTF-16 unit is at most three bytes of UTF-8.
    const room = stamp.length + 2 + length * 3;
    let buffer = this.#buffer;
    if (this.#used + room > buffer.length) buffer = this.#makeRoom(room);
    let at = this.#used;
    buffer.set(stamp, at);
    at += stamp.length;
    buffer[at++] = 0x20;
    at = writeUtf8(event, buffer, at);
    buffer[at++] = 0x0a;
    this.#used = at;
    this.#count++;
    if (at - this.#start > this.#maxBuffered) this.#dropOldest();
    this.#schedule();
  }

  /** Writes every event recorded so far. Resolves even if writing fails. */
  async flush(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
    if (this.#count === 0) return;
    this.#writing = this.#write(false);
    await this.#writing;
  }

  /**
   * Writes the rest, calls fsync and stops recording. Resolves with the count
   * of events that never reached the file.
   */
  async close(): Promise<number> {
    if (this.#closed) return this.#lost;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#writing !== null) await this.#writing;
    this.#writing = this.#write(true);
    await this.#writing;
    this.#lost += this.#count;
    this.#count = 0;
    this.#start = this.#used = 0;
    return this.#lost;
  }

  // The buffer with `room` bytes free after its lines: the lines moved to
  // its start when that leaves half of it free, else a buffer twice as
  // large, so that each byte is moved a bounded number of times however
  // long the file cannot be written.
  #makeRoom(room: number): Uint8Array {
    const buffer = this.#buffer;
    const held = this.#used - this.#start;
    if (held + room <= buffer.length >> 1) {
      buffer.copyWithin(0, this.#start, this.#used);
      this.#start = 0;
      this.#used = held;
      return buffer;
    }
    let size = buffer.length * 2;
    while (size < (held + room) * 2) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(buffer.subarray(this.#start, this.#used));
    this.#start = 0;
    this.#used = held;
    return this.#buffer = grown;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#writing === null) this.#writing = this.#write(false);
    }, this.#interval);
  }

  async #write(sync: boolean): Promise<void> {
    // The buffer goes to the file; what is recorded meanwhile goes to
    // another (the spare, when the last write left one).
    const batch = this.#buffer;
    const bytes = batch.subarray(this.#start, this.#used);
    this.#buffer = this.#spare ?? new Uint8Array(MIN_BUFFER_BYTES);
    this.#spare = null;
    this.#start = this.#used = 0;
    const count = this.#count;
    this.#count = 0;
    const midLine = this.#midLine;
    this.#midLine = false;
    let file: Deno.FsFile | undefined;
    let offset = 0;
    try {
      file = await Deno.open(this.#path, { append: true, create: true });
      if (bytes.length > 0) {
        if (this.#endLine) await writeAll(file, NEWLINE);
        this.#endLine = false;
        while (offset < bytes.length) {
          offset += await file.write(bytes.subarray(offset));
        }
      }
      if (sync) await file.sync();
      // Kept for the next batch unless a burst made it large.
      if (batch.length <= MAX_SPARE_BYTES) this.#spare = batch;
      if (this.#failing) {
        this.#failing = false;
        this.#onProblem({ kind: "recovered", path: this.#path });
      }
    } catch (error) {
      // Keep what was not written, ahead of what came meanwhile, and retry.
      this.#midLine = offset > 0 ? bytes[offset - 1] !== 0x0a : midLine;
      this.#keep(bytes.subarray(offset), offset === 0 ? count : -1);
      if (!this.#failing) {
        this.#failing = true;
        this.#onProblem({
          kind: "failing",
          path: this.#path,
          reason: describeError(error),
        });
      }
    } finally {
      file?.close();
      this.#writing = null;
      if (this.#count > 0) this.#schedule();
    }
  }

  // Puts `unwritten` (`count` lines, or -1 for lines to be counted) back
  // ahead of what was recorded since.
  #keep(unwritten: Uint8Array, count: number): void {
    if (unwritten.length === 0) return;
    const later = this.#buffer.subarray(this.#start, this.#used);
    const kept = new Uint8Array(
      Math.max(MIN_BUFFER_BYTES, unwritten.length + later.length),
    );
    kept.set(unwritten);
    kept.set(later, unwritten.length);
    this.#buffer = kept;
    this.#start = 0;
    this.#used = unwritten.length + later.length;
    this.#count += count >= 0 ? count : linesIn(unwritten);
    if (this.#used > this.#maxBuffered) this.#dropOldest();
  }

  // Drops the oldest lines until the rest fit in the bound, counting them
  // as lost.
  #dropOldest(): void {
    const buffer = this.#buffer;
    let cut = this.#start;
    let dropped = 0;
    while (this.#used - cut > this.#maxBuffered && dropped < this.#count) {
      const end = buffer.indexOf(0x0a, cut);
      cut = end === -1 || end >= this.#used ? this.#used : end + 1;
      dropped++;
    }
    if (dropped > 0 && this.#midLine) {
      this.#midLine = false;
      this.#endLine = true;
    }
    // Not moved: the room is made when it is needed (#makeRoom).
    this.#start = cut;
    this.#count -= dropped;
    this.#lost += dropped;
  }
}

// The buffer of lines to be written starts at this size, and a buffer
// larger than the other bound is not kept for the next batch.
const MIN_BUFFER_BYTES = 4 * 1024;
const MAX_SPARE_BYTES = 1024 * 1024;
const NEWLINE = new Uint8Array([0x0a]);

// The count of lines in `bytes`, whole or begun.
function linesIn(bytes: Uint8Array): number {
  let count = 0;
  for (let at = 0; at < bytes.length;) {
    const end = bytes.indexOf(0x0a, at);
    count++;
    if (end === -1) break;
    at = end + 1;
  }
  return count;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await file.write(bytes.subarray(offset));
  }
}
