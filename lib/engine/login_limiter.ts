/**
 * Failed logins, limited per name and source together: after a few wrong
 * passwords for a name from one source, that source waits before its next
 * try for that name, longer after each failure, and after many it is
 * locked out of that name for a while. Another source is not affected, so
 * nobody can lock a member out of their own name from elsewhere. One
 * source trying many names is slowed down as a whole too, after many more
 * failures.
 *
 * A source is what the caller says it is: pass `sourceKey(ip)` from
 * `lib/room/addresses.ts` (an IPv4 address, or an IPv6 /64).
 *
 * Memory is bounded: an entry is forgotten an hour (by default) after its
 * last failure, and past `maxEntries` the least recently failed are
 * dropped first. No timers: expired entries are swept on each call. The
 * counts are per server process, not shared between nodes.
 *
 * @module
 */

import { nameKey } from "../room/registry.ts";

/** Options of {@linkcode LoginLimiter}. */
export interface LoginLimiterOptions {
  /** The clock, in ms. Default `Date.now`. */
  now?: () => number;
  /** Failures for a name from a source before any wait. Default 3. */
  freeFailures?: number;
  /** The first wait, doubled after each further failure. Default 2000. */
  baseDelayMs?: number;
  /** The longest wait. Default 300000 (5 minutes). */
  maxDelayMs?: number;
  /** Failures for a name from a source that lock it. Default 10. */
  lockAfter?: number;
  /** How long a lock holds. Default 900000 (15 minutes). */
  lockMs?: number;
  /**
   * Failures from one source, over all names, before the source as a whole
   * waits (with the same growing delay). Default 50.
   */
  sourceFreeFailures?: number;
  /** How long an entry is kept after its last failure. Default 3600000. */
  forgetMs?: number;
  /** Most entries kept (pairs and sources each). Default 10000. */
  maxEntries?: number;
}

/** One login in progress: say how it ended. */
export interface LoginAttempt {
  /** The password was right: the name's failures from this source end. */
  succeeded(): void;
  /** The password was wrong. */
  failed(): void;
  /** Neither (the connection went away before the check). */
  abandoned(): void;
}

/**
 * Whether a login may be tried now: `go` with the attempt to report on,
 * `wait` for `ms` (a growing delay, or another try of the same name from
 * the same source in progress), or `locked` until a time (ms).
 */
export type LoginVerdict =
  | { kind: "go"; attempt: LoginAttempt }
  | { kind: "wait"; ms: number }
  | { kind: "locked"; until: number };

interface Entry {
  failures: number;
  lastFailure: number;
  // The earliest time of the next try.
  nextAt: number;
  lockedUntil: number;
}

// A try in progress is counted for this long at most, in case its caller
// never reports (a bug must not lock a name for good).
const IN_FLIGHT_MS = 60_000;

/**
 * Counts failed logins per (name, source) and per source.
 *
 * @example
 * ```ts
 * const limiter = new LoginLimiter();
 * const verdict = limiter.begin("ada", sourceKey(ip));
 * if (verdict.kind === "go") {
 *   if (await hasher.verify(password, hash)) verdict.attempt.succeeded();
 *   else verdict.attempt.failed();
 * }
 * ```
 */
export class LoginLimiter {
  #now: () => number;
  #free: number;
  #base: number;
  #maxDelay: number;
  #lockAfter: number;
  #lockMs: number;
  #sourceFree: number;
  #forgetMs: number;
  #maxEntries: number;
  // Least recently failed first: a failure moves its entry to the end.
  #pairs = new Map<string, Entry>();
  #sources = new Map<string, Entry>();
  // Pairs with a try in progress, and since when.
  #inFlight = new Map<string, number>();

  /** Creates an empty limiter; see {@linkcode LoginLimiterOptions}. */
  constructor(options: LoginLimiterOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#free = Math.max(0, options.freeFailures ?? 3);
    this.#base = Math.max(1, options.baseDelayMs ?? 2_000);
    this.#maxDelay = Math.max(this.#base, options.maxDelayMs ?? 300_000);
    this.#lockAfter = Math.max(this.#free + 1, options.lockAfter ?? 10);
    this.#lockMs = Math.max(0, options.lockMs ?? 900_000);
    this.#sourceFree = Math.max(0, options.sourceFreeFailures ?? 50);
    // An entry must outlive its lock and its longest wait.
    this.#forgetMs = Math.max(
      options.forgetMs ?? 3_600_000,
      this.#lockMs,
      this.#maxDelay,
    );
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  }

  /** Entries kept now, pairs and sources (for metrics and tests). */
  get size(): { pairs: number; sources: number } {
    return { pairs: this.#pairs.size, sources: this.#sources.size };
  }

  /**
   * Whether `name` may be tried from `source` now. With `go`, report the
   * outcome on the attempt; until then, another try of the same name from
   * the same source waits.
   */
  begin(name: string, source: string): LoginVerdict {
    const now = this.#now();
    this.#sweep(now);
    const key = `${nameKey(name)}\u0000${source}`;
    const pair = this.#pairs.get(key);
    if (pair !== undefined && pair.lockedUntil > now) {
      return { kind: "locked", until: pair.lockedUntil };
    }
    const sourceEntry = this.#sources.get(source);
    let wait = Math.max(
      (pair?.nextAt ?? 0) - now,
      (sourceEntry?.nextAt ?? 0) - now,
    );
    const since = this.#inFlight.get(key);
    if (since !== undefined && now - since < IN_FLIGHT_MS) {
      wait = Math.max(wait, Math.min(this.#base, since + IN_FLIGHT_MS - now));
    }
    if (wait > 0) return { kind: "wait", ms: Math.ceil(wait) };
    this.#inFlight.set(key, now);
    let done = false;
    const finish = (outcome: "succeeded" | "failed" | "abandoned") => {
      if (done) return;
      done = true;
      if (this.#inFlight.get(key) === now) this.#inFlight.delete(key);
      if (outcome === "succeeded") this.#pairs.delete(key);
      if (outcome !== "failed") return;
      const at = this.#now();
      this.#fail(this.#pairs, key, at, this.#free, true);
      this.#fail(this.#sources, source, at, this.#sourceFree, false);
    };
    return {
      kind: "go",
      attempt: {
        succeeded: () => finish("succeeded"),
        failed: () => finish("failed"),
        abandoned: () => finish("abandoned"),
      },
    };
  }

  // Counts one failure of `key` in `map`.
  #fail(
    map: Map<string, Entry>,
    key: string,
    now: number,
    free: number,
    locks: boolean,
  ): void {
    const entry = map.get(key) ??
      { failures: 0, lastFailure: now, nextAt: 0, lockedUntil: 0 };
    if (entry.lockedUntil !== 0 && entry.lockedUntil <= now) {
      // A lock that ran out: the next failure waits, but a new lock needs
      // as many failures as the first.
      entry.failures = free;
      entry.lockedUntil = 0;
    }
    entry.failures++;
    entry.lastFailure = now;
    if (locks && entry.failures >= this.#lockAfter) {
      entry.lockedUntil = now + this.#lockMs;
      entry.nextAt = entry.lockedUntil;
    } else if (entry.failures > free) {
      const doublings = Math.min(30, entry.failures - free - 1);
      entry.nextAt = now +
        Math.min(this.#maxDelay, this.#base * 2 ** doublings);
    }
    // To the end: the least recently failed stay first, to go first.
    map.delete(key);
    map.set(key, entry);
    while (map.size > this.#maxEntries) {
      map.delete(map.keys().next().value!);
    }
  }

  // Forgets entries whose last failure is old enough, oldest first.
  #sweep(now: number): void {
    for (const map of [this.#pairs, this.#sources]) {
      for (const [key, entry] of map) {
        if (now - entry.lastFailure < this.#forgetMs) break;
        map.delete(key);
      }
    }
    // In the order they began.
    for (const [key, since] of this.#inFlight) {
      if (now - since < IN_FLIGHT_MS) break;
      this.#inFlight.delete(key);
    }
  }
}
