/**
 * A small seeded PRNG for the fuzz, property and soak tests, so that a run
 * can be replayed from its seed.
 *
 * @module
 */

/** mulberry32: a small, fast, seeded PRNG giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded random choices on top of {@linkcode mulberry32}. */
export class Random {
  #next: () => number;

  /** A generator whose choices follow from `seed` alone. */
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.#next() < p;
  }

  /** One of `items`, each as likely. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
