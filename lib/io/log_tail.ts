/**
 * Reading a log file backwards, newest line first, so that what a start
 * needs from its end (the last messages, how the last run ended) costs no
 * more for a log of gigabytes than for a small one.
 *
 * Knows lines and bytes, not what the lines say.
 *
 * @module
 */

/** Options of {@linkcode readLogTail}. */
export interface LogTailOptions {
  /** The file. A missing file has no lines. */
  path: string;
  /** Most bytes read from the end of the file. */
  maxBytes: number;
  /**
   * Takes one complete line (without its `\n`), newest first, with how many
   * bytes from the end of the file it begins; returns false to read no
   * more.
   */
  visit: (line: string, fromEnd: number) => boolean;
  /** Bytes read at a time. Default 64 KiB. */
  chunkBytes?: number;
  /**
   * A line longer than this is skipped, not visited (so one huge line
   * cannot make the reader copy it over and over). Default 1 MiB.
   */
  maxLineBytes?: number;
}

/** What {@linkcode readLogTail} found. */
export interface LogTail {
  /** How many bytes of the file were read. */
  bytesRead: number;
  /** The size of the file; 0 for a missing one. */
  size: number;
  /**
   * Whether the file ends in the middle of a line (no `\n` at its end):
   * the last write was cut short. That part is not visited.
   */
  cutShort: boolean;
}

const decoder = new TextDecoder();
const NEWLINE = 0x0a;

/**
 * Reads at most `maxBytes` from the end of the file and hands its complete
 * lines to `visit`, newest first, until it returns false. A line that
 * began before the bytes read is not visited: it may be cut. Invalid UTF-8
 * is decoded with replacement characters, never thrown for.
 *
 * @example
 * ```ts
 * const last: string[] = [];
 * await readLogTail({
 *   path: "chat_documentation.txt",
 *   maxBytes: 1 << 20,
 *   visit: (line) => last.push(line) < 10,
 * });
 * ```
 */
export async function readLogTail(options: LogTailOptions): Promise<LogTail> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(options.path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { bytesRead: 0, size: 0, cutShort: false };
    }
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    const floor = Math.max(0, size - Math.max(0, options.maxBytes));
    const chunkBytes = Math.max(1, options.chunkBytes ?? 64 * 1024);
    const maxLine = Math.max(1, options.maxLineBytes ?? 1024 * 1024);
    let position = size;
    // The bytes after `position` that belong to a line not yet complete.
    let tail = new Uint8Array(0);
    // Whether the bytes after the last `\n` seen are the file's cut end,
    // or a line too long to visit, neither of which is visited.
    let skipTail = true;
    let cutShort = false;
    let first = true;
    while (position > floor) {
      const start = Math.max(floor, position - chunkBytes);
      const chunk = await readAt(file, start, position - start);
      if (first) {
        first = false;
        cutShort = chunk.length > 0 && chunk[chunk.length - 1] !== NEWLINE;
      }
      const buffer = tail.length === 0 ? chunk : join(chunk, tail);
      let end = buffer.length;
      let at = end > 0 ? buffer.lastIndexOf(NEWLINE, end - 1) : -1;
      while (at !== -1) {
        if (skipTail) skipTail = false;
        else if (end - (at + 1) <= maxLine) {
          const line = decoder.decode(buffer.subarray(at + 1, end));
          if (!options.visit(line, size - (start + at + 1))) {
            return { bytesRead: size - start, size, cutShort };
          }
        }
        end = at;
        at = end > 0 ? buffer.lastIndexOf(NEWLINE, end - 1) : -1;
      }
      tail = buffer.slice(0, end);
      if (tail.length > maxLine) {
        tail = new Uint8Array(0);
        skipTail = true;
      }
      position = start;
    }
    // The file's first line, if it was all read.
    if (floor === 0 && !skipTail && size > 0 && tail.length <= maxLine) {
      options.visit(decoder.decode(tail), size);
    }
    return { bytesRead: size - floor, size, cutShort };
  } finally {
    file.close();
  }
}

async function readAt(
  file: Deno.FsFile,
  start: number,
  length: number,
): Promise<Uint8Array> {
  await file.seek(start, Deno.SeekMode.Start);
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const count = await file.read(buffer.subarray(filled));
    if (count === null) break;
    filled += count;
  }
  return buffer.subarray(0, filled);
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
