/**
 * What a server reads from its chat log before it starts: the history
 * newcomers get, and (after a run that ended without a shutdown) the lines
 * that record it, written before the new run's start line.
 *
 * @module
 */

import { readLogTail } from "../io/log_tail.ts";
import type { HistoryEntry } from "../room/events.ts";
import { LogReview } from "../room/log_review.ts";

/** Options of {@linkcode readLogStart}. */
export interface LogStartOptions {
  /** The chat log. A missing file is an empty log. */
  path: string;
  /** How many messages newcomers get. */
  historyLimit: number;
  /** How far from the end messages are looked for, in bytes. */
  historyBytes: number;
  /**
   * How far from the end the last run's start is looked for after a crash,
   * in bytes. Default 16 MiB.
   */
  reviewBytes?: number;
}

/** What {@linkcode readLogStart} found. */
export interface LogStart {
  /** The newest public messages, oldest first. */
  history: HistoryEntry[];
  /** Log events to record before the start line; none after a shutdown. */
  recovery: string[];
}

/** Bytes from the end searched for the last run's start by default. */
export const REVIEW_BYTES: number = 16 * 1024 * 1024;

/**
 * Reads the end of the log, newest line first, only as far as it must: up
 * to `historyLimit` messages within `historyBytes`, and after a crash back
 * to the last run's start line within `reviewBytes`.
 */
export async function readLogStart(
  options: LogStartOptions,
): Promise<LogStart> {
  const reviewBytes = options.reviewBytes ?? REVIEW_BYTES;
  const review = new LogReview({
    historyLimit: options.historyLimit,
    historyBytes: options.historyBytes,
    reviewBytes,
  });
  const tail = await readLogTail({
    path: options.path,
    maxBytes: Math.max(options.historyBytes, reviewBytes),
    visit: (line, fromEnd) => review.take(line, fromEnd),
  });
  return {
    history: review.history(),
    recovery: review.recovery({ cutShort: tail.cutShort }),
  };
}
