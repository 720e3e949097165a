/**
 * Joining a queue of chunks into one write, shared between the recipients
 * of the same broadcasts: they queue the same chunks in the same order, so
 * a round of writes joins them once.
 *
 * @module
 */

/** Joins byte chunks into one buffer (or hands over the only one). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const part of parts) total += part.length;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/**
 * A join that remembers its last parts: called again with the same chunks in
 * the same order, it hands back the same result instead of joining anew.
 * `forget()` after each round, so nothing is held between rounds.
 *
 * @example
 * ```ts
 * const frames = new SharedJoin<string>((parts) => parts.join("\n"));
 * const a = ["x", "y"];
 * frames.join(a) === frames.join(["x", "y"]); // true, joined once
 * frames.forget();
 * ```
 */
export class SharedJoin<T> {
  #join: (parts: readonly T[]) => T;
  #lastParts: readonly T[] | null = null;
  #last: T | null = null;

  /** Creates a cache around `join`. */
  constructor(join: (parts: readonly T[]) => T) {
    this.#join = join;
  }

  /** Joins `parts` (the only one is handed over as it is). */
  join(parts: readonly T[]): T {
    if (parts.length === 1) return parts[0];
    const last = this.#lastParts;
    if (last !== null && last.length === parts.length) {
      let same = true;
      for (let i = 0; i < parts.length; i++) {
        if (last[i] !== parts[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#last!;
    }
    this.#lastParts = parts;
    return this.#last = this.#join(parts);
  }

  /** Drops what it remembers. */
  forget(): void {
    this.#lastParts = this.#last = null;
  }
}
