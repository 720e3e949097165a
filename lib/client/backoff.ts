/**
 * The reconnect back-off: 1, 2, 4... seconds up to 30, with jitter so that a
 * room of clients cut at once does not come back at once.
 *
 * @module
 */

/** Options of {@linkcode backoffDelayMs}. */
export interface BackoffOptions {
  /** The first delay. Default 1000 ms. */
  firstMs?: number;
  /** The longest delay. Default 30000 ms. */
  maxMs?: number;
  /** A number in [0, 1), for the jitter. Default `Math.random`. */
  random?: () => number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first): the
 * doubling delay, capped, then spread by up to ±20%.
 */
export function backoffDelayMs(
  attempt: number,
  options: BackoffOptions = {},
): number {
  const first = options.firstMs ?? 1000;
  const max = options.maxMs ?? 30_000;
  const base = Math.min(max, first * 2 ** Math.min(attempt, 30));
  const jitter = 0.8 + 0.4 * (options.random ?? Math.random)();
  return Math.round(Math.min(max, base * jitter));
}
