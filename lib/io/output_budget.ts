/**
 * A bound on the output that many connections' outboxes hold together, and
 * the push-back that keeps it: while their unsent bytes are over the bound,
 * the server reads no further line from anyone, so senders wait in their
 * own sockets instead of the server queueing output faster than the readers
 * take it.
 *
 * Knows nothing of what the bytes mean.
 *
 * @module
 */

/** What the budget sees of an outbox. */
export interface BudgetMember {
  /** Its bytes queued or in flight. */
  readonly unsentBytes: number;
  /** Bytes its peer took since it was made (only ever grows). */
  readonly takenBytes: number;
  /** Drops its queue and ends it as a send-queue overflow. */
  cutByBudget(): void;
}

/** Options of {@linkcode OutputBudget}. */
export interface OutputBudgetOptions {
  /**
   * Unsent bytes of all its outboxes together before lines wait; 0 for no
   * bound. Reading goes on once they are down to half of it.
   */
  maxBytes: number;
  /**
   * How long lines may wait before the queues holding them back are cut
   * (see the contract). Default 1000 ms.
   */
  stallMs?: number;
}

/**
 * The unsent bytes of a set of outboxes, and whether lines must wait.
 *
 * Its contract:
 * 1. `whenFits()` is null while the bytes are within `maxBytes`; past it, a
 *    promise that resolves once the outboxes' peers have taken enough for
 *    the bytes to be down to half of `maxBytes` (so a reader waits in bursts,
 *    not line by line).
 * 2. So a server that asks before each line it handles holds at most
 *    `maxBytes` plus what one line fans out to, whatever the readers do
 *    (output no line caused, such as another node's through Redis, is not
 *    held back).
 * 3. Readers that keep reading are waited for, however slow together. But
 *    once lines have waited `stallMs`, and again every `stallMs` while they
 *    wait, the queues holding them back are cut (`cutByBudget`): each one
 *    whose peer took nothing for `stallMs` and that holds at least twice the
 *    average, and the largest if it holds at least eight times the average
 *    (a reader far behind all the others). Peers that stop reading, or read
 *    a trickle, cannot stop the room; a reader like the others is not cut.
 *
 * @example
 * ```ts
 * const budget = new OutputBudget({ maxBytes: 32 << 20 });
 * // Before handling each line read from any connection:
 * const held = budget.whenFits();
 * if (held !== null) await held;
 * ```
 */
export class OutputBudget {
  #max: number;
  #stallMs: number;
  #bytes = 0;
  #members = new Set<BudgetMember>();
  #held: PromiseWithResolvers<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  // What each outbox's peer had taken when lines began to wait, or at the
  // last check since: one that took nothing meanwhile is silent.
  #takenBefore = new Map<BudgetMember, number>();

  /** Creates an empty budget. */
  constructor(options: OutputBudgetOptions) {
    this.#max = options.maxBytes;
    this.#stallMs = options.stallMs ?? 1000;
  }

  /** Unsent bytes of all its outboxes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The bound; 0 for none. */
  get maxBytes(): number {
    return this.#max;
  }

  /** Outboxes counted. */
  get size(): number {
    return this.#members.size;
  }

  /** Null if lines may go on now; else resolves when they may. */
  whenFits(): Promise<void> | null {
    return this.#held === null ? null : this.#held.promise;
  }

  /** Counts an outbox in; for the outbox only. */
  join(member: BudgetMember): void {
    this.#members.add(member);
  }

  /** Counts an outbox out, with its unsent bytes; for the outbox only. */
  leave(member: BudgetMember, unsent: number): void {
    if (this.#members.delete(member)) this.took(unsent);
  }

  /** An outbox queued `count` bytes; for the outbox only. */
  queued(count: number): void {
    this.#bytes += count;
    if (this.#held === null && this.#max > 0 && this.#bytes > this.#max) {
      this.#held = Promise.withResolvers<void>();
      this.#remember();
      this.#timer = setTimeout(this.#stalled, this.#stallMs);
    }
  }

  /** An outbox's peer took `count` bytes (or they were dropped). */
  took(count: number): void {
    this.#bytes -= count;
    const held = this.#held;
    if (held !== null && this.#bytes <= this.#max / 2) {
      this.#held = null;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#takenBefore.clear();
      held.resolve();
    }
  }

  // Lines have waited stallMs: the queues that hold them are cut, those
  // of readers unlike the others (see the contract, point 3).
  #stalled = (): void => {
    this.#timer = undefined;
    if (this.#held === null) return;
    const average = this.#bytes / Math.max(1, this.#members.size);
    const before = this.#takenBefore;
    const cut: BudgetMember[] = [];
    let largest: BudgetMember | null = null;
    for (const member of this.#members) {
      const unsent = member.unsentBytes;
      if (unsent >= 2 * average && before.get(member) === member.takenBytes) {
        cut.push(member);
      } else if (largest === null || unsent > largest.unsentBytes) {
        largest = member;
      }
    }
    if (largest !== null && largest.unsentBytes >= 8 * average) {
      cut.push(largest);
    }
    for (const member of cut) member.cutByBudget();
    if (this.#held !== null) {
      this.#remember();
      this.#timer = setTimeout(this.#stalled, this.#stallMs);
    }
  };

  #remember(): void {
    const before = this.#takenBefore;
    before.clear();
    for (const member of this.#members) before.set(member, member.takenBytes);
  }
}
