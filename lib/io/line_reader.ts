/**
 * Bytes to lines: framing on `\n`, dropping a `\r` before it, a bound on the
 * length of a line, and repair of invalid UTF-8 (to U+FFFD).
 *
 * Knows nothing of names, commands or sockets beyond `read`.
 *
 * @module
 */

/** Stands in a batch of lines for a line that was longer than the limit. */
export const LINE_TOO_LONG: unique symbol = Symbol("line too long");

/** One framed line: its text, or {@linkcode LINE_TOO_LONG}. */
export type Line = string | typeof LINE_TOO_LONG;

/** Anything bytes can be read from, such as a `Deno.Conn` or `Deno.stdin`. */
export interface ByteReader {
  /** Reads into `buffer`; resolves with the count read, or null at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Options of {@linkcode LineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line accepted, in bytes, not counting `\r\n` or `\n`. */
  maxLineBytes: number;
}

const LF = 10;
const CR = 13;
// Not fatal: invalid sequences become U+FFFD. Splitting on 0x0A never cuts a
// UTF-8 sequence, so every line decodes on its own and one decoder serves all.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Splits chunks of a byte stream into lines, holding at most `maxLineBytes`
 * (plus a `\r`) of an unfinished line. A longer line yields
 * {@linkcode LINE_TOO_LONG} once, as soon as it passes the limit, and the rest
 * of it up to the next `\n` is discarded.
 *
 * @example
 * ```ts
 * const splitter = new LineSplitter({ maxLineBytes: 10 });
 * const lines: Line[] = [];
 * splitter.push(new TextEncoder().encode("hi\r\nthe"), lines);
 * splitter.push(new TextEncoder().encode("re\n"), lines);
 * // lines: ["hi", "there"]
 * ```
 */
export class LineSplitter {
  #max: number;
  #pending: Uint8Array | null = null;
  #pendingLength = 0;
  #discarding = false;

  /** Creates a splitter with the given bound. */
  constructor(options: LineSplitterOptions) {
    this.#max = options.maxLineBytes;
  }

  /** Bytes of an unfinished line held now. */
  get pendingBytes(): number {
    return this.#pendingLength;
  }

  /**
   * Splits the first `length` bytes of `buffer`, appending every completed
   * line to `out`; `buffer` may be reused afterwards. The same as
   * `push(buffer.subarray(0, length), out)`, without the views when the
   * bytes are one whole line (the commonest read of a chat).
   */
  pushFrom(buffer: Uint8Array, length: number, out: Line[]): void {
    if (
      length > 0 && buffer[length - 1] === LF && this.#pendingLength === 0 &&
      !this.#discarding && buffer.indexOf(LF) === length - 1
    ) {
      let end = length - 1;
      if (end > 0 && buffer[end - 1] === CR) end--;
      out.push(
        end > this.#max
          ? LINE_TOO_LONG
          : decoder.decode(buffer.subarray(0, end)),
      );
      return;
    }
    this.push(buffer.subarray(0, length), out);
  }

  /** Splits `chunk`, appending every completed line to `out`. */
  push(chunk: Uint8Array, out: Line[]): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(LF, start);
      const end = newline === -1 ? chunk.length : newline;
      if (this.#discarding) {
        // The rest of an over-long line: dropped.
      } else if (newline !== -1 && this.#pendingLength === 0) {
        this.#emit(chunk.subarray(start, end), out);
      } else {
        this.#append(chunk.subarray(start, end), out);
        if (newline !== -1 && !this.#discarding) {
          const line = this.#pending!.subarray(0, this.#pendingLength);
          // Released, so that an idle connection holds no line buffer.
          this.#pending = null;
          this.#pendingLength = 0;
          this.#emit(line, out);
        }
      }
      if (newline === -1) return;
      this.#discarding = false;
      start = newline + 1;
    }
  }

  /**
   * Takes the unfinished line held now, decoded, or null if there is none or
   * it is being discarded. Used at the end of input.
   */
  takeRest(): string | null {
    if (this.#pendingLength === 0 || this.#discarding) return null;
    const out: Line[] = [];
    this.#emit(this.#pending!.subarray(0, this.#pendingLength), out);
    this.#pending = null;
    this.#pendingLength = 0;
    return typeof out[0] === "string" ? out[0] : null;
  }

  #emit(line: Uint8Array, out: Line[]): void {
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    if (end > this.#max) {
      out.push(LINE_TOO_LONG);
    } else {
      out.push(
        decoder.decode(end === line.length ? line : line.subarray(0, end)),
      );
    }
  }

  // Appends part of a line to the pending buffer, or starts discarding when
  // the line can no longer fit.
  #append(part: Uint8Array, out: Line[]): void {
    if (part.length === 0) return;
    const total = this.#pendingLength + part.length;
    // One byte of slack for a `\r` that may turn out to end the line.
    if (total > this.#max + 1) {
      this.#discarding = true;
      this.#pending = null;
      this.#pendingLength = 0;
      out.push(LINE_TOO_LONG);
      return;
    }
    let pending = this.#pending;
    if (pending === null || pending.length < total) {
      const grown = new Uint8Array(
        Math.min(this.#max + 1, Math.max(64, total * 2)),
      );
      if (pending !== null) grown.set(pending.subarray(0, this.#pendingLength));
      pending = this.#pending = grown;
    }
    pending.set(part, this.#pendingLength);
    this.#pendingLength = total;
  }
}

/** Options of {@linkcode LineReader}. */
export interface LineReaderOptions extends LineSplitterOptions {
  /** Smallest read buffer, kept while the peer is quiet. Default 128. */
  minReadBytes?: number;
  /** Largest read buffer, reached while the peer sends a lot. Default 64 KiB. */
  maxReadBytes?: number;
}

/**
 * Reads lines from a {@linkcode ByteReader} in batches. The read buffer starts
 * small and grows while reads fill it, so an idle connection costs little
 * memory and a busy one few reads.
 *
 * @example
 * ```ts
 * const lines = new LineReader(Deno.stdin, { maxLineBytes: 4096 });
 * for (let batch; (batch = await lines.next()) !== null;) console.log(batch);
 * ```
 */
export class LineReader {
  #reader: ByteReader;
  #splitter: LineSplitter;
  #buffer: Uint8Array;
  #min: number;
  #max: number;

  /** Creates a reader of lines from `reader`. */
  constructor(reader: ByteReader, options: LineReaderOptions) {
    this.#reader = reader;
    this.#splitter = new LineSplitter(options);
    this.#min = options.minReadBytes ?? 128;
    this.#max = Math.max(this.#min, options.maxReadBytes ?? 64 * 1024);
    this.#buffer = new Uint8Array(this.#min);
  }

  /**
   * Resolves with the next lines (one at least), or null at the end of input.
   * An unfinished last line is then left in {@linkcode LineReader.rest}.
   */
  next(): Promise<Line[] | null> {
    // Promise chaining rather than an async function: a connection waits
    // here most of its life, and a suspended async frame costs hundreds of
    // bytes per connection where a pending `then` costs a few dozen.
    return this.#reader.read(this.#buffer).then(this.#onRead);
  }

  #onRead = (count: number | null): Line[] | null | Promise<Line[] | null> => {
    if (count === null) return null;
    const buffer = this.#buffer;
    const out: Line[] = [];
    this.#splitter.pushFrom(buffer, count, out);
    // The splitter copied what it keeps, so the buffer may be swapped now.
    if (count === buffer.length && buffer.length < this.#max) {
      this.#buffer = new Uint8Array(buffer.length * 2);
    } else if (count <= buffer.length >> 3 && buffer.length > this.#min) {
      this.#buffer = new Uint8Array(buffer.length >> 1);
    }
    return out.length > 0 ? out : this.next();
  };

  /** The unfinished last line at the end of input, or null if there is none. */
  rest(): string | null {
    return this.#splitter.takeRest();
  }
}
