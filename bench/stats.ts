/**
 * Latency histogram, medians and small timing helpers.
 *
 * @module
 */

const SUB_BITS = 9;
const SUB = 1 << SUB_BITS; // 512 exact buckets below 512 µs
const HALF = SUB >> 1;
const MAX_SHIFT = 31 - (SUB_BITS - 1);
const BUCKETS = SUB + MAX_SHIFT * HALF;

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Log-linear histogram of integer microsecond values: exact below 512 µs,
 * then 256 buckets per power of two (< 0.4 % relative error). Recording is
 * a couple of integer operations and one typed-array increment.
 */
export class Histogram {
  #counts: Float64Array = new Float64Array(BUCKETS);
  #count = 0;
  #max = 0;
  #sum = 0;

  /** Number of recorded values. */
  get count(): number {
    return this.#count;
  }

  /** Records one value in microseconds. */
  record(us: number): void {
    let v = us | 0;
    if (v < 0) v = 0;
    if (us > 0x7fffffff) v = 0x7fffffff;
    let idx: number;
    if (v < SUB) {
      idx = v;
    } else {
      const shift = 31 - Math.clz32(v) - (SUB_BITS - 1);
      idx = SUB + (shift - 1) * HALF + ((v >> shift) - HALF);
    }
    this.#counts[idx]++;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
  }

  /** Forgets all recorded values. */
  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#max = 0;
    this.#sum = 0;
  }

  /** Value (µs) at percentile `p` (0..100); midpoint of its bucket. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const target = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= target) return Math.min(bucketMid(i), this.#max);
    }
    return this.#max;
  }

  /** Percentiles in milliseconds. */
  summary(): LatencySummary {
    return {
      samples: this.#count,
      p50: this.percentile(50) / 1000,
      p90: this.percentile(90) / 1000,
      p99: this.percentile(99) / 1000,
      max: this.#max / 1000,
      mean: this.#count === 0 ? 0 : this.#sum / this.#count / 1000,
    };
  }
}

function bucketMid(idx: number): number {
  if (idx < SUB) return idx;
  const rel = idx - SUB;
  const shift = Math.floor(rel / HALF) + 1;
  const mant = (rel % HALF) + HALF;
  return mant * 2 ** shift + 2 ** (shift - 1);
}

/** Median of the finite numbers in `values` (NaN if none). */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Resolves with the value of `p`, or with `undefined` if it does not settle
 * within `ms` milliseconds. The timer is always cleared.
 */
export async function raceTimeout<T>(
  p: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options for {@linkcode waitUntil}. */
export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeoutMs: number;
  /** Poll interval in milliseconds (default 20). */
  pollMs?: number;
  /** Stop early (returning false) when this returns true. */
  abort?: () => boolean;
  /** Consider it stalled (returning false) if `progress()` has not changed for this long. */
  stallMs?: number;
  /** Progress counter used with `stallMs`. */
  progress?: () => number;
}

/** Polls `cond` until true; returns false on timeout, abort or stall. */
export async function waitUntil(
  cond: () => boolean,
  opts: WaitOptions,
): Promise<boolean> {
  const start = performance.now();
  const poll = opts.pollMs ?? 20;
  let lastProgress = opts.progress?.() ?? 0;
  let lastChange = start;
  while (!cond()) {
    const now = performance.now();
    if (now - start > opts.timeoutMs) return false;
    if (opts.abort?.()) return false;
    if (opts.stallMs !== undefined && opts.progress) {
      const p = opts.progress();
      if (p !== lastProgress) {
        lastProgress = p;
        lastChange = now;
      } else if (now - lastChange > opts.stallMs) {
        return false;
      }
    }
    await sleep(poll);
  }
  return true;
}

/**
 * Measures this process's event-loop lag: a 1 ms timer chain records how
 * late each timer fires. Stops by itself after `maxMs`.
 */
export class LoopLagMonitor {
  readonly hist: Histogram = new Histogram();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #stopAt = 0;

  /** Starts sampling for at most `maxMs` milliseconds. */
  start(maxMs: number): void {
    this.hist.reset();
    this.#running = true;
    this.#stopAt = performance.now() + maxMs;
    this.#tick(performance.now());
  }

  /** Stops sampling; returns the lag summary in milliseconds. */
  stop(): LatencySummary {
    this.#running = false;
    clearTimeout(this.#timer);
    return this.hist.summary();
  }

  #tick(scheduledAt: number): void {
    this.#timer = setTimeout(() => {
      const now = performance.now();
      this.hist.record((now - scheduledAt - 1) * 1000);
      if (this.#running && now < this.#stopAt) this.#tick(now);
    }, 1);
  }
}
