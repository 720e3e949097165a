/**
 * A connection's outbound queue and its single writer.
 *
 * Knows nothing of what the bytes mean.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { type BudgetMember, OutputBudget } from "./output_budget.ts";
import { concatBytes, SharedJoin } from "./shared_join.ts";

/**
 * The server's output bound: the outboxes of its connections count toward
 * it (see {@linkcode OutboxOptions.budget}), and the room asks it before
 * each line it handles. 32 MiB of unsent bytes in all, whatever the
 * send-queue cap of each: with 1000 recipients a broadcast queues 1000
 * times its size here, though the bytes themselves are shared.
 */
export const outputBudget: OutputBudget = new OutputBudget({
  maxBytes: 32 * 1024 * 1024,
});

/** Anything bytes can be written to; a write may take only part of them. */
export interface ByteWriter {
  /** Writes some of `bytes`, resolving with how many were written. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Options of {@linkcode Outbox}. */
export interface OutboxOptions {
  /** Where the bytes go. Only the outbox writes to it. */
  writer: ByteWriter;
  /** Unsent bytes allowed before `onOverflow`; 0 for no limit. */
  maxQueuedBytes?: number;
  /** Called once when the unsent bytes pass `maxQueuedBytes`. */
  onOverflow?: () => void;
  /**
   * How long unsent bytes may stay over the cap before they count as not
   * taken, in ms. Default 250.
   */
  stallMs?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
  /** Called once when a write fails. */
  onError?: (error: unknown) => void;
  /**
   * The bound this outbox's unsent bytes count toward, with every other
   * outbox of it (usually {@linkcode outputBudget}); none if absent. When
   * the bound cuts this outbox, `onOverflow` is called.
   */
  budget?: OutputBudget;
}

// Outboxes with bytes queued and no write in flight. One round starts all
// their writes. An outbox that was idle is written in a microtask round:
// after the handlers of every read the event loop handed out in this batch
// have queued their output (they run at the same microtask depth, so one
// round takes them all), but without waiting for the event loop's next turn,
// which is what a private ping-pong's round trip is made of. An outbox whose
// write just finished with more queued waits for the `setImmediate` round
// instead, so that it joins whatever the next reads bring. A write costs
// microseconds (mostly the kernel's) whatever its size, so fewer and fuller
// writes make a broadcast cheap.
//
// Busy connections are paced. After a round of PACE_AFTER_WRITES writes or
// more, each of its connections waits ROUND_PAUSE times as long as the round
// took before its next write; a connection that was not in such a round writes in the next
// round at once. So under heavy fan-out the same connections get fewer,
// fuller writes and reading keeps up, while a newcomer's welcome or a quiet
// chat's line goes out straight away. The pause is a multiple because the
// round's own time is only the write calls; their completions, the kernel's
// work and the event loop's cost about as much again, after the round.
const ROUND_PAUSE = 10;
// Unsent bytes past this many times the cap overflow at once, however
// briefly: the memory a connection may hold stays bounded.
const HARD_CAP_FACTOR = 64;
const PACE_AFTER_WRITES = 256;
// Broadcast chunks are copied one after the other into slabs of this size.
// A chunk bigger than an eighth of a slab is not worth it and stays as is.
const SLAB_BYTES = 64 * 1024;

// Recipients of the same broadcasts hold the same chunks in the same order,
// so most of a round's outboxes share one joined buffer.
const joined = new SharedJoin(concatBytes);

let due: Outbox[] = [];
let dueScheduled = false;
let dueSoon = false;
let paced: Outbox[] = [];
let pacedTimer: ReturnType<typeof setTimeout> | undefined;

function runRound(outboxes: Outbox[]): void {
  const started = performance.now();
  for (const outbox of outboxes) outbox.flushNow();
  joined.forget();
  rangeView = null;
  const finished = performance.now();
  const took = finished - started;
  if (outboxes.length >= PACE_AFTER_WRITES) {
    const until = finished + took * ROUND_PAUSE;
    for (const outbox of outboxes) outbox.pacedUntil = until;
  }
}

function runDue(): void {
  dueSoon = false;
  if (due.length === 0) return;
  const outboxes = due;
  due = [];
  runRound(outboxes);
}

function runDueImmediate(): void {
  dueScheduled = false;
  runDue();
}

function runPaced(): void {
  pacedTimer = undefined;
  const now = performance.now();
  const ready: Outbox[] = [];
  const waiting: Outbox[] = [];
  let next = Infinity;
  for (const outbox of paced) {
    if (outbox.pacedUntil <= now) {
      ready.push(outbox);
    } else {
      waiting.push(outbox);
      next = Math.min(next, outbox.pacedUntil);
    }
  }
  paced = waiting;
  if (waiting.length > 0) pacedTimer = setTimeout(runPaced, next - now);
  runRound(ready);
}

// The slab broadcast chunks are copied into, and the last chunk shared: its
// view and its place in the slab.
let slab = new Uint8Array(0);
let slabUsed = 0;
let sharedLast: Uint8Array | null = null;
let sharedStart = 0;
let sharedEnd = 0;
// The last range of a slab an outbox queued as one chunk. Recipients of the
// same broadcasts queue the same ranges: they queue this very view, so that
// a round's join, which knows its parts by identity, is made once for all of
// them rather than once each (a copy of every recipient's backlog).
let rangeView: Uint8Array | null = null;

// The view of `slab` from `start` to `end`: the last one made when it is the
// same range.
function viewOf(slab: Uint8Array, start: number, end: number): Uint8Array {
  const last = rangeView;
  if (
    last !== null && last.buffer === slab.buffer &&
    last.byteOffset === start && last.length === end - start
  ) {
    return last;
  }
  return rangeView = slab.subarray(start, end);
}

/**
 * Returns `bytes` copied into a slab shared by all outboxes, right after the
 * chunk shared before (until the slab is full), for output queued to many
 * outboxes. An outbox stores consecutive shared chunks as one range of the
 * slab: a join storm or a fan-out costs each recipient no queue slot per
 * chunk and no copy per write, only a view of the slab when it writes.
 * The caller must not change `bytes` afterwards, nor the returned view.
 */
export function shareBytes(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  if (length === 0 || length > SLAB_BYTES >> 3) return bytes;
  if (slabUsed + length > slab.length) {
    // The old slab lives on while an outbox holds a range of it.
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  slab.set(bytes, slabUsed);
  sharedStart = slabUsed;
  sharedEnd = slabUsed += length;
  sharedLast = slab.subarray(sharedStart, sharedEnd);
  return sharedLast;
}

function schedule(outbox: Outbox, soon: boolean): void {
  // Never paced (most connections): no clock read.
  const wait = outbox.pacedUntil === 0
    ? 0
    : outbox.pacedUntil - performance.now();
  if (wait >= 1) {
    paced.push(outbox);
    pacedTimer ??= setTimeout(runPaced, wait);
  } else {
    due.push(outbox);
    if (soon) {
      if (!dueSoon) {
        dueSoon = true;
        queueMicrotask(runDue);
      }
    } else if (!dueScheduled) {
      dueScheduled = true;
      setImmediate(runDueImmediate);
    }
  }
}

/**
 * The outbound queue of one connection.
 *
 * Its contract:
 * 1. `send()` never awaits and never throws; it only queues.
 * 2. One write is in flight at most, and the outbox is the only writer.
 * 3. Everything queued since the last write goes out in the next one
 *    (coalescing), looping until every byte is out.
 * 4. The cap counts what the peer has not taken: unsent bytes (those of the
 *    write in flight included) that stay over `maxQueuedBytes` for
 *    `stallMs`, or pass 64 times the cap at any time, drop the queue, close
 *    the outbox and call `onOverflow` once. A burst to a peer that keeps
 *    reading is under the cap again at once and never overflows; a slow
 *    reader only ever delays itself.
 * 5. A failed write drops the queue, closes the outbox and calls `onError`.
 * 6. After `close()`, `send()` does nothing; `close()` twice is fine.
 * 7. With a `budget`, its unsent bytes count toward the budget's bound too,
 *    and the budget may cut it like an overflow (see `OutputBudget`).
 *
 * @example
 * ```ts
 * const outbox = new Outbox({ writer: conn, maxQueuedBytes: 1 << 20 });
 * outbox.send(new TextEncoder().encode("hello\n"));
 * await outbox.drain();
 * ```
 */
export class Outbox implements BudgetMember {
  #writer: ByteWriter;
  #budget: OutputBudget | null;
  #max: number;
  #onOverflow?: () => void;
  #onError?: (error: unknown) => void;
  #queue: Uint8Array[] = [];
  // The last chunks queued, when they were shared (see shareBytes) and
  // follow one another in one slab: kept as a range of it, which the next
  // shared chunk extends when it starts where the range ends.
  #tailSlab: Uint8Array | null = null;
  #tailStart = 0;
  #tailEnd = 0;
  // The first shared chunk of the range, used as is when nothing extended it.
  #tailView: Uint8Array | null = null;
  #unsent = 0;
  #taken = 0;
  #busy = false;
  #closed = false;
  #drained: PromiseWithResolvers<void> | null = null;
  #stallMs: number;
  #now: () => number;
  // Since when the unsent bytes have been over the cap (0: they are not).
  #overSince = 0;
  /** No write before this time (ms); for the scheduler in this module only. */
  pacedUntil = 0;

  /** Creates an empty outbox writing to `options.writer`. */
  constructor(options: OutboxOptions) {
    this.#writer = options.writer;
    this.#max = options.maxQueuedBytes ?? 0;
    this.#onOverflow = options.onOverflow;
    this.#onError = options.onError;
    this.#stallMs = options.stallMs ?? 250;
    this.#now = options.now ?? (() => performance.now());
    this.#budget = options.budget ?? null;
    this.#budget?.join(this);
  }

  /** Bytes queued or in flight. */
  get unsentBytes(): number {
    return this.#unsent;
  }

  /** Bytes the peer took since the outbox was made; for its budget. */
  get takenBytes(): number {
    return this.#taken;
  }

  /** Whether the outbox was closed, overflowed or failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `bytes`; the caller must not change them afterwards. */
  send(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#unsent += bytes.length;
    this.#budget?.queued(bytes.length);
    if (this.#max > 0 && this.#unsent > this.#max && this.#overflowing()) {
      this.#fail();
      this.#onOverflow?.();
      return;
    }
    if (bytes === sharedLast) {
      if (this.#tailSlab === slab && this.#tailEnd === sharedStart) {
        this.#tailEnd = sharedEnd;
      } else {
        this.#endTail();
        this.#tailSlab = slab;
        this.#tailStart = sharedStart;
        this.#tailEnd = sharedEnd;
        this.#tailView = bytes;
      }
    } else {
      this.#endTail();
      this.#queue.push(bytes);
    }
    if (!this.#busy) {
      this.#busy = true;
      schedule(this, true);
    }
  }

  // Moves the shared range, if any, to the queue as one chunk.
  #endTail(): void {
    const tailSlab = this.#tailSlab;
    if (tailSlab === null) return;
    const view = this.#tailView!;
    this.#queue.push(
      view.length === this.#tailEnd - this.#tailStart
        ? view
        : viewOf(tailSlab, this.#tailStart, this.#tailEnd),
    );
    this.#tailSlab = this.#tailView = null;
  }

  /** Resolves once nothing is queued or in flight (or the outbox is closed). */
  drain(): Promise<void> {
    if (!this.#busy || this.#closed) return Promise.resolve();
    this.#drained ??= Promise.withResolvers<void>();
    return this.#drained.promise;
  }

  /** Drops whatever is queued and stops sending. */
  close(): void {
    this.#fail();
  }

  /** Ends it as an overflow; for its budget only. */
  cutByBudget(): void {
    if (this.#closed) return;
    this.#fail();
    this.#onOverflow?.();
  }

  // Over the cap: is it what the peer did not take?
  #overflowing(): boolean {
    if (this.#unsent > this.#max * HARD_CAP_FACTOR) return true;
    const now = this.#now();
    if (this.#overSince === 0) {
      this.#overSince = now;
      return false;
    }
    return now - this.#overSince >= this.#stallMs;
  }

  // The peer took `count` bytes.
  #took(count: number): void {
    this.#unsent -= count;
    this.#taken += count;
    this.#budget?.took(count);
    if (this.#unsent <= this.#max) this.#overSince = 0;
  }

  /** Writes everything queued; for the scheduler in this module only. */
  flushNow(): void {
    if (this.#closed) {
      this.#idle();
      return;
    }
    this.#endTail();
    const queue = this.#queue;
    if (queue.length === 0) {
      this.#idle();
      return;
    }
    const bytes = queue.length === 1 ? queue.pop()! : joined.join(queue);
    if (queue.length > 0) this.#queue = [];
    this.#writeAll(bytes).then(() => {
      if (this.#closed) return;
      // What came while the write was in flight waits for the next round, so
      // that it joins whatever else that round brings.
      if (this.#queue.length > 0 || this.#tailSlab !== null) {
        schedule(this, false);
      } else this.#idle();
    }, (error) => {
      // A write failing after close() is the close's own doing: not reported.
      if (this.#closed) return;
      this.#fail();
      this.#onError?.(error);
    });
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length && !this.#closed) {
      const count = await this.#writer.write(
        offset === 0 ? bytes : bytes.subarray(offset),
      );
      offset += count;
      if (!this.#closed) this.#took(count);
    }
  }

  #idle(): void {
    this.#busy = false;
    if (this.#drained !== null) {
      this.#drained.resolve();
      this.#drained = null;
    }
  }

  #fail(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#tailSlab = this.#tailView = null;
    this.#budget?.leave(this, this.#unsent);
    this.#unsent = 0;
    if (this.#drained !== null) {
      this.#drained.resolve();
      this.#drained = null;
    }
  }
}
