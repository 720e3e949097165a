/**
 * Turning errors into the short reasons shown on the console, in the log and
 * to the client user: never a stack trace.
 *
 * @module
 */

/** A short, readable reason for `error`, such as `connection reset`. */
export function describeError(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionReset) return "connection reset";
  if (error instanceof Deno.errors.BrokenPipe) return "broken pipe";
  if (error instanceof Deno.errors.ConnectionRefused) {
    return "connection refused";
  }
  if (error instanceof Deno.errors.ConnectionAborted) {
    return "connection aborted";
  }
  if (error instanceof Deno.errors.TimedOut) return "timed out";
  if (error instanceof Error) {
    // Deno's messages go on with ` (os error N): open '/path'`, which tells
    // a person nothing new: the caller names the path itself.
    return error.message.replace(/ \(os error \d+\)[^]*$/, "") || error.name;
  }
  return String(error);
}
