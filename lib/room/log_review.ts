/**
 * What a start reads in the chat log's last lines: the public messages
 * newcomers get as history, and whether the last run ended with a
 * shutdown; if not, who was online when it ended, so that the next start
 * can record them as gone before its own start line.
 *
 * Knows the log's lines (from `texts.ts`), not the file: the caller hands
 * the lines in, newest first.
 *
 * @module
 */

import type { HistoryEntry } from "./events.ts";
import { nameKey, normalizeName } from "./registry.ts";
import { logText, reasonText } from "./texts.ts";

const ANNOUNCEMENT = logText.announcement("").slice(0, -2);

// Splits `<ISO time> <event>`; null for a line not of the log's format.
function splitLine(line: string): { time: number; event: string } | null {
  const space = line.indexOf(" ");
  if (space < 20) return null;
  const time = Date.parse(line.slice(0, space));
  if (Number.isNaN(time)) return null;
  return { time, event: line.slice(space + 1) };
}

function isName(text: string): boolean {
  return normalizeName(text) === text;
}

/**
 * Parses one log line (`<ISO time> <event>`) into a public message, or
 * returns null for anything else: other events, private messages, lines cut
 * short or not of the log's format.
 */
export function parseLogMessage(line: string): HistoryEntry | null {
  const split = splitLine(line);
  if (split === null) return null;
  const { time, event } = split;
  if (event.startsWith("* ")) {
    const end = event.indexOf(" ", 2);
    if (end === -1) return null;
    const from = event.slice(2, end);
    if (!isName(from)) return null;
    return { time, from, text: event.slice(end + 1), action: true };
  }
  const colon = event.indexOf(": ");
  if (colon <= 0) return null;
  const from = event.slice(0, colon);
  // `NAME -> TARGET: text` (private) has a space in what precedes the colon,
  // which no name may have.
  if (!isName(from)) return null;
  // The console's announcements are logged as `Announcement: TEXT`: a
  // server notice, never history.
  if (from === ANNOUNCEMENT) return null;
  return { time, from, text: event.slice(colon + 2), action: false };
}

// A log text as a pattern: `\u0001` stands for a name, `\u0002` for any
// text. Made from the texts themselves, so they cannot drift apart.
function pattern(text: string): RegExp {
  const escaped = text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replaceAll("\u0001", "(\\S+)")
    .replaceAll("\u0002", "(.*)");
  return new RegExp(`^${escaped}$`);
}

const N = "\u0001", T = "\u0002";
const ALIVE = pattern(logText.alive(T));
// Lines after which a member is present: it joined, or this node began to
// follow it on another node.
const ENTERS = [logText.joined(N, T), logText.inRoomElsewhere(N, T)]
  .map(pattern);
// Lines after which it is not: it left, was cut or removed, or this node
// stopped following it.
const GOES = [
  logText.left(N),
  logText.disconnected(N, T),
  logText.removed(N, ""),
  logText.removed(N, T),
  logText.unfollowed(N, T),
].map(pattern);
const RENAMED = pattern(logText.renamed(N, N));
const ENDINGS = new Set<string>([logText.shutdown, logText.finished]);

/** Options of {@linkcode LogReview}. */
export interface LogReviewOptions {
  /** How many messages newcomers get. */
  historyLimit: number;
  /** How far from the end of the log messages are looked for, in bytes. */
  historyBytes: number;
  /**
   * How far from the end the start of the last run is looked for, in
   * bytes, after a run that ended without a shutdown: members who joined
   * before are not found.
   */
  reviewBytes: number;
}

/**
 * Takes the log's lines newest first (see `readLogTail` in
 * `lib/io/log_tail.ts`) until it needs no more, then tells the history
 * and the lines the next start writes before its own.
 *
 * @example
 * ```ts
 * const review = new LogReview({
 *   historyLimit: 20,
 *   historyBytes: 1 << 20,
 *   reviewBytes: 16 << 20,
 * });
 * for (const line of linesNewestFirst) {
 *   if (!review.take(line, 0)) break;
 * }
 * review.history(); // oldest first
 * review.recovery(); // [] after a shutdown
 * ```
 */
export class LogReview {
  #options: LogReviewOptions;
  // Newest first while reading.
  #history: HistoryEntry[] = [];
  #historyDone: boolean;
  #lines = 0;
  #clean = false;
  #reviewDone = false;
  // Reading backwards, the name keys whose member (at that point of the
  // log) is known to be gone by the end, or to be someone already counted.
  #settled = new Set<string>();
  // The keys whose member is online at the end, by its name at the end,
  // whose entry is not read yet.
  #pending = new Map<string, string>();
  // Members online at the end whose entry was read, newest first.
  #online: string[] = [];

  /** A review that has read nothing yet. */
  constructor(options: LogReviewOptions) {
    this.#options = options;
    this.#historyDone = options.historyLimit <= 0;
  }

  /**
   * Takes the next line (older than the last one), which begins `fromEnd`
   * bytes from the end of the log; false when no more are needed.
   */
  take(line: string, fromEnd: number): boolean {
    const first = this.#lines++ === 0;
    if (!this.#historyDone) {
      if (fromEnd > this.#options.historyBytes) this.#historyDone = true;
      else {
        const entry = parseLogMessage(line);
        if (entry !== null) {
          this.#history.push(entry);
          if (this.#history.length >= this.#options.historyLimit) {
            this.#historyDone = true;
          }
        }
      }
    }
    if (!this.#reviewDone) {
      const event = splitLine(line)?.event;
      if (first && event !== undefined && ENDINGS.has(event)) {
        this.#clean = true;
        this.#reviewDone = true;
      } else if (fromEnd > this.#options.reviewBytes) {
        this.#reviewDone = true;
      } else if (event !== undefined) this.#review(event);
    }
    return !(this.#historyDone && this.#reviewDone);
  }

  /** The messages found, oldest first. */
  history(): HistoryEntry[] {
    return this.#history.slice().reverse();
  }

  /**
   * Who was online when the last run ended, in the order they came (none
   * if it ended with a shutdown).
   */
  online(): string[] {
    if (this.#clean) return [];
    return [...this.#pending.values(), ...this.#online.slice().reverse()];
  }

  /**
   * The log events the next start records before its own start line: none
   * after a shutdown (or for an empty log); else that the last run ended
   * without one, and each member who was online then as gone. `cutShort`:
   * the log ends in the middle of a line, which no shutdown leaves.
   */
  recovery(options: { cutShort?: boolean } = {}): string[] {
    if (this.#lines === 0 && !options.cutShort) return [];
    if (this.#clean && !options.cutShort) return [];
    return [
      logText.previousRunEnded,
      ...this.online().map((name) =>
        logText.disconnected(name, reasonText.crashed)
      ),
    ];
  }

  // One event of the last run, read backwards.
  #review(event: string): void {
    if (ALIVE.test(event)) {
      this.#reviewDone = true;
      return;
    }
    for (const enters of ENTERS) {
      const match = event.match(enters);
      if (match === null || !isName(match[1])) continue;
      const key = nameKey(match[1]);
      const at = this.#pending.get(key);
      if (at !== undefined) {
        this.#pending.delete(key);
        this.#online.push(at);
      } else if (!this.#settled.has(key)) this.#online.push(match[1]);
      this.#settled.add(key);
      return;
    }
    for (const goes of GOES) {
      const match = event.match(goes);
      if (match === null || !isName(match[1])) continue;
      const key = nameKey(match[1]);
      if (!this.#pending.has(key)) this.#settled.add(key);
      return;
    }
    const renamed = event.match(RENAMED);
    if (renamed === null || !isName(renamed[1]) || !isName(renamed[2])) {
      return;
    }
    const from = nameKey(renamed[1]), to = nameKey(renamed[2]);
    const at = this.#pending.get(to);
    // Gone by the end under the new name: so is who was `from` before.
    const gone = at === undefined && this.#settled.has(to);
    this.#pending.delete(to);
    // Before the rename the name was free: whoever held it earlier left.
    if (from !== to) this.#settled.add(to);
    if (gone) {
      this.#pending.delete(from);
      this.#settled.add(from);
    } else {
      // Online at the end (under its last name), known before as `from`.
      this.#settled.delete(from);
      this.#pending.set(from, at ?? renamed[2]);
    }
  }
}
