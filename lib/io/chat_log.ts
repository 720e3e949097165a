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
  #lines: string[] = [];
  #bufferedBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | null = null;
  #failing = false;
  #closed = false;
  #lost = 0;
  #stampMs = -1;
  #stamp = "";
  // The file ended in the middle of a line (a power cut): it is ended
  // before the first line written, so that no line runs into it.
  #endLine: boolean;

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
    return this.#lines.length;
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
      this.#stamp = new Date(ms).toISOString();
    }
    const line = `${this.#stamp} ${event}\n`;
    this.#lines.push(line);
    this.#bufferedBytes += line.length;
    if (this.#bufferedBytes > this.#maxBuffered) this.#dropOldest();
    this.#schedule();
  }

  /** Writes every event recorded so far. Resolves even if writing fails. */
  async flush(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
    if (this.#lines.length === 0) return;
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
    this.#lost += this.#lines.length;
    this.#lines = [];
    return this.#lost;
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#writing === null) this.#writing = this.#write(false);
    }, this.#interval);
  }

  async #write(sync: boolean): Promise<void> {
    const lines = this.#lines;
    this.#lines = [];
    this.#bufferedBytes = 0;
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(this.#path, { append: true, create: true });
      if (lines.length > 0) {
        const text = lines.join("");
        const bytes = encoder.encode(this.#endLine ? "\n" + text : text);
        let offset = 0;
        while (offset < bytes.length) {
          offset += await file.write(bytes.subarray(offset));
        }
        this.#endLine = false;
      }
      if (sync) await file.sync();
      if (this.#failing) {
        this.#failing = false;
        this.#onProblem({ kind: "recovered", path: this.#path });
      }
    } catch (error) {
      // Keep what was not written, ahead of what came meanwhile, and retry.
      this.#lines = lines.concat(this.#lines);
      for (const line of this.#lines) this.#bufferedBytes += line.length;
      if (this.#bufferedBytes > this.#maxBuffered) this.#dropOldest();
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
      if (this.#lines.length > 0) this.#schedule();
    }
  }

  #dropOldest(): void {
    let dropped = 0;
    while (
      this.#bufferedBytes > this.#maxBuffered && dropped < this.#lines.length
    ) {
      this.#bufferedBytes -= this.#lines[dropped].length;
      dropped++;
    }
    this.#lines.splice(0, dropped);
    this.#lost += dropped;
  }
}
