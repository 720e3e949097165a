/**
 * Byte-level helpers for the load generator's hot path: fixed-width decimal
 * fields written into and read from Uint8Arrays without creating strings.
 *
 * @module
 */

/** Shared UTF-8 encoder (only used outside the hot path). */
export const encoder: TextEncoder = new TextEncoder();
/** Shared UTF-8 decoder (only used outside the hot path). */
export const decoder: TextDecoder = new TextDecoder();

/** Width of the zero-padded client index in every generated name. */
export const INDEX_DIGITS = 5;
/** Length of the name tag prefix (e.g. `bqx`). */
export const TAG_LEN = 3;
/** Every generated client name is `TAG` + 5 digits: exactly 8 bytes. */
export const NAME_LEN: number = TAG_LEN + INDEX_DIGITS;
/** Largest client index a generated name can carry. */
export const MAX_CLIENTS = 99_999;

/** Returns a random 3-letter tag so names do not collide across runs. */
export function randomTag(): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  let tag = "b";
  for (let i = 1; i < TAG_LEN; i++) {
    tag += letters[Math.floor(Math.random() * letters.length)];
  }
  return tag;
}

/** Builds the fixed-width name of client `index`, e.g. `bqx00012`. */
export function clientName(tag: string, index: number): string {
  return tag + String(index).padStart(INDEX_DIGITS, "0");
}

/**
 * A fixed-width, zero-padded decimal field at a fixed offset in a line,
 * read and written in place without creating strings.
 */
export class DigitField {
  /** Offset of the first digit from the start of the line. */
  readonly offset: number;
  /** Number of digits. */
  readonly width: number;

  /** A field of `width` digits starting `offset` bytes into a line. */
  constructor(offset: number, width: number) {
    this.offset = offset;
    this.width = width;
  }

  /** Writes `value` (low digits if too wide) into the line held by `buf`. */
  write(buf: Uint8Array, value: number): void {
    let v = Math.floor(value);
    for (let i = this.offset + this.width - 1; i >= this.offset; i--) {
      buf[i] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
  }

  /** Reads the field of the line at `lineStart`; -1 if not all digits. */
  read(buf: Uint8Array, lineStart: number): number {
    let v = 0;
    const from = lineStart + this.offset;
    for (let i = from; i < from + this.width; i++) {
      const d = buf[i] - 48;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }
}
