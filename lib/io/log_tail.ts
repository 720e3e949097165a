/**
 * Reading the newest public messages back from the end of the chat log, so
 * that history survives a restart. Only the end of the file is read, so a
 * log of gigabytes costs no more than a small one.
 *
 * @module
 */

import type { HistoryEntry } from "../room/events.ts";
import { normalizeName } from "../room/registry.ts";
import { logText } from "../room/texts.ts";

/** Options of {@linkcode readLogTail}. */
export interface LogTailOptions {
  /** The chat log. A missing file is an empty history. */
  path: string;
  /** How many messages to keep, the newest. */
  limit: number;
  /** Most bytes read from the end of the file. */
  maxBytes: number;
}

/** What {@linkcode readLogTail} found. */
export interface LogTail {
  /** The newest public messages, oldest first. */
  entries: HistoryEntry[];
  /** How many bytes of the file were read. */
  bytesRead: number;
}

const decoder = new TextDecoder();
const ANNOUNCEMENT = logText.announcement("").slice(0, -2);

/**
 * Parses one log line (`<ISO time> <event>`) into a public message, or
 * returns null for anything else: other events, private messages, lines cut
 * short or not of the log's format.
 */
export function parseLogMessage(line: string): HistoryEntry | null {
  const space = line.indexOf(" ");
  if (space < 20) return null;
  const time = Date.parse(line.slice(0, space));
  if (Number.isNaN(time)) return null;
  const event = line.slice(space + 1);
  if (event.startsWith("* ")) {
    const end = event.indexOf(" ", 2);
    if (end === -1) return null;
    const from = event.slice(2, end);
    if (normalizeName(from) !== from) return null;
    return { time, from, text: event.slice(end + 1), action: true };
  }
  const colon = event.indexOf(": ");
  if (colon <= 0) return null;
  const from = event.slice(0, colon);
  // `NAME -> TARGET: text` (private) has a space in what precedes the colon,
  // which no name may have.
  if (normalizeName(from) !== from) return null;
  // The console's announcements are logged as `Announcement: TEXT`: a
  // server notice, never history.
  if (from === ANNOUNCEMENT) return null;
  return { time, from, text: event.slice(colon + 2), action: false };
}

/**
 * Reads at most `maxBytes` from the end of the log and returns the newest
 * `limit` public messages in it. Never throws for what the file holds: a
 * line that cannot be parsed is skipped.
 */
export async function readLogTail(options: LogTailOptions): Promise<LogTail> {
  if (options.limit <= 0 || options.maxBytes <= 0) {
    return { entries: [], bytesRead: 0 };
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(options.path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { entries: [], bytesRead: 0 };
    }
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    const start = Math.max(0, size - options.maxBytes);
    await file.seek(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(size - start);
    let filled = 0;
    while (filled < buffer.length) {
      const count = await file.read(buffer.subarray(filled));
      if (count === null) break;
      filled += count;
    }
    const lines = decoder.decode(buffer.subarray(0, filled)).split("\n");
    // The first line may be the end of one that began before `start`; the
    // last is cut off (or empty) unless the file ends with a newline.
    if (start > 0) lines.shift();
    lines.pop();
    const entries: HistoryEntry[] = [];
    for (let i = lines.length - 1; i >= 0; i--) {
      const entry = parseLogMessage(lines[i]);
      if (entry === null) continue;
      entries.push(entry);
      if (entries.length === options.limit) break;
    }
    return { entries: entries.reverse(), bytesRead: filled };
  } finally {
    file.close();
  }
}
