/**
 * A connection's outbound queue and its single writer.
 *
 * Knows nothing of what the bytes mean.
 *
 * @module
 */

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
  /** Called once when a write fails. */
  onError?: (error: unknown) => void;
}

// Outboxes with bytes queued and no write in flight; one microtask starts
// their writers, so that everything queued while handling a batch of input
// goes out in one write per connection.
let due: Outbox[] = [];
let scheduled = false;

function startDue(): void {
  const outboxes = due;
  due = [];
  scheduled = false;
  for (const outbox of outboxes) outbox.flushNow();
}

/**
 * The outbound queue of one connection.
 *
 * Its contract:
 * 1. `send()` never awaits and never throws; it only queues.
 * 2. One write is in flight at most, and the outbox is the only writer.
 * 3. Everything queued since the last write goes out in the next one
 *    (coalescing), looping until every byte is out.
 * 4. Unsent bytes, those of the write in flight included, count against
 *    `maxQueuedBytes`; passing it drops the queue, closes the outbox and calls
 *    `onOverflow` once. A slow reader so only ever delays itself.
 * 5. A failed write drops the queue, closes the outbox and calls `onError`.
 * 6. After `close()`, `send()` does nothing; `close()` twice is fine.
 *
 * @example
 * ```ts
 * const outbox = new Outbox({ writer: conn, maxQueuedBytes: 1 << 20 });
 * outbox.send(new TextEncoder().encode("hello\n"));
 * await outbox.drain();
 * ```
 */
export class Outbox {
  #writer: ByteWriter;
  #max: number;
  #onOverflow?: () => void;
  #onError?: (error: unknown) => void;
  #queue: Uint8Array[] = [];
  #unsent = 0;
  #busy = false;
  #closed = false;
  #drained: PromiseWithResolvers<void> | null = null;

  /** Creates an empty outbox writing to `options.writer`. */
  constructor(options: OutboxOptions) {
    this.#writer = options.writer;
    this.#max = options.maxQueuedBytes ?? 0;
    this.#onOverflow = options.onOverflow;
    this.#onError = options.onError;
  }

  /** Bytes queued or in flight. */
  get unsentBytes(): number {
    return this.#unsent;
  }

  /** Whether the outbox was closed, overflowed or failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `bytes`; the caller must not change them afterwards. */
  send(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#unsent += bytes.length;
    if (this.#max > 0 && this.#unsent > this.#max) {
      this.#fail();
      this.#onOverflow?.();
      return;
    }
    this.#queue.push(bytes);
    if (!this.#busy) {
      this.#busy = true;
      due.push(this);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(startDue);
      }
    }
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

  /** Starts the writer; for the scheduler in this module only. */
  flushNow(): void {
    this.#write().catch((error) => {
      // A write failing after close() is the close's own doing: not reported.
      if (this.#closed) return;
      this.#fail();
      this.#onError?.(error);
    });
  }

  async #write(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const bytes = takeAll(this.#queue);
        let offset = 0;
        while (offset < bytes.length) {
          offset += await this.#writer.write(
            offset === 0 ? bytes : bytes.subarray(offset),
          );
          if (this.#closed) return;
        }
        this.#unsent -= bytes.length;
      }
    } finally {
      this.#busy = false;
      if (this.#drained !== null) {
        this.#drained.resolve();
        this.#drained = null;
      }
    }
  }

  #fail(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#unsent = 0;
    if (this.#drained !== null) {
      this.#drained.resolve();
      this.#drained = null;
    }
  }
}

// Empties `queue` into one buffer (or hands over its only element).
function takeAll(queue: Uint8Array[]): Uint8Array {
  if (queue.length === 1) {
    const only = queue[0];
    queue.length = 0;
    return only;
  }
  let total = 0;
  for (const chunk of queue) total += chunk.length;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of queue) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  queue.length = 0;
  return bytes;
}
