/**
 * Text into a byte buffer we own, without an allocation: ASCII copied by
 * hand (most chat is), anything else through the platform's encoder.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Writes `text` as UTF-8 into `buffer` from `start` and returns where it
 * ends. `buffer` must have room for three bytes a UTF-16 unit of `text`.
 *
 * @example
 * ```ts
 * const buffer = new Uint8Array(16);
 * const end = writeUtf8("héllo", buffer, 0); // 6
 * ```
 */
export function writeUtf8(
  text: string,
  buffer: Uint8Array,
  start: number,
): number {
  let at = start;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0x7f) {
      // Not ASCII: the encoder does the whole text.
      return start + encoder.encodeInto(text, buffer.subarray(start)).written;
    }
    buffer[at++] = unit;
  }
  return at;
}
