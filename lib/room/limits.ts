/**
 * Every limit of the chat server in one place, with its default and its unit
 * in the name. A value of 0 turns a limit off, except `maxLineBytes`.
 *
 * @module
 */

/** The limits a chat room enforces on its connections. */
export interface Limits {
  /** Longest line accepted, in bytes, not counting the line ending. */
  maxLineBytes: number;
  /** Time a connection has to choose a valid name (and password). */
  registrationTimeoutMs: number;
  /** Rejected names allowed on one connection before it is closed. */
  maxNameAttempts: number;
  /** Connections at once, registered or not. */
  maxClients: number;
  /** Connections at once from one IP address. */
  maxPerIp: number;
  /** Lines per second a connection may send in the long run. */
  floodRate: number;
  /** Lines a connection may send at once before `floodRate` applies. */
  floodBurst: number;
  /** Unsent output a connection may hold before it is cut, in bytes. */
  maxSendqBytes: number;
  /** Time a graceful shutdown waits for queued output before closing. */
  shutdownTimeoutMs: number;
  /** Time before a connection that gave a wrong password is closed. */
  wrongPasswordDelayMs: number;
  /** Public messages replayed to a newcomer. */
  historyMessages: number;
  /** Rooms on the server at once, the main room included. */
  maxRooms: number;
  /** Rooms one member may be in at once. */
  maxJoins: number;
}

/** The defaults: they suit a class or an office out of the box. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineBytes: 4096,
  registrationTimeoutMs: 30_000,
  maxNameAttempts: 10,
  maxClients: 10_000,
  maxPerIp: 50,
  floodRate: 10,
  floodBurst: 20,
  maxSendqBytes: 1024 * 1024,
  shutdownTimeoutMs: 5_000,
  wrongPasswordDelayMs: 1_000,
  historyMessages: 20,
  maxRooms: 1000,
  maxJoins: 20,
});

/**
 * Fills in defaults and checks every value, throwing a `RangeError` that
 * names the offending limit and value.
 */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = partial[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `Limit "${key}" must be a number of 0 or more, got "${value}"`,
      );
    }
    limits[key] = value;
  }
  if (limits.maxLineBytes < 1 || !Number.isInteger(limits.maxLineBytes)) {
    throw new RangeError(
      `Limit "maxLineBytes" must be a whole number of 1 or more, got "${limits.maxLineBytes}"`,
    );
  }
  return limits;
}
