/**
 * Durations as operators type them (`10m`, `2h`, `7d`, `1h30m`) and the
 * times a ban or a mute ends, as the server's texts show them
 * (`2026-12-08 14:30`, `14:30`), in the server's local time.
 *
 * Pure: no `Deno.*`. Times are milliseconds since the epoch.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Longest duration accepted: ten years (a ban for longer is `/ban` alone). */
export const MAX_DURATION_MS = 3650 * 86_400_000;

const DURATION = /^(?:\d{1,7}[smhdw])+$/;
const PART = /(\d{1,7})([smhdw])/g;

/**
 * Reads a duration: one or more `NUMBER UNIT` with units `s`, `m`, `h`,
 * `d`, `w` (`10m`, `2h`, `7d`, `1h30m`), in any case. Null if it is not
 * one, if it is zero, or if it is over {@linkcode MAX_DURATION_MS}.
 */
export function parseDuration(text: string): number | null {
  const lower = text.toLowerCase();
  if (lower.length > 32 || !DURATION.test(lower)) return null;
  let total = 0;
  for (const [, count, unit] of lower.matchAll(PART)) {
    total += Number(count) * UNIT_MS[unit];
  }
  if (total === 0 || total > MAX_DURATION_MS) return null;
  return total;
}

/**
 * Writes a duration as {@linkcode parseDuration} reads it, in its two
 * largest units, rounded up to the minute (`7d`, `1h30m`, `2d3h`, `1m`):
 * for the time left of a ban in `/bans`.
 */
export function formatDuration(ms: number): string {
  let minutes = Math.max(1, Math.ceil(ms / 60_000));
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const hours = Math.floor(minutes / 60);
  minutes -= hours * 60;
  const parts: string[] = [];
  if (days > 0) parts.push(`${days}d`);
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  return parts.slice(0, 2).join("");
}

/** How a time is shown: in the server's zone, or a fixed one (tests). */
export interface TimeZoneOptions {
  /**
   * Minutes east of UTC (120 for UTC+2). Default: the server's local zone
   * at that time.
   */
  offsetMinutes?: number;
}

// The wall clock at `ms`, read through the getUTC* methods. Rounded up to
// the minute: a mute that ends at 14:30:40 is shown "until 14:31", never as
// over while it still holds.
function wallClock(ms: number, options: TimeZoneOptions): Date {
  ms = Math.ceil(ms / 60_000) * 60_000;
  const offset = options.offsetMinutes ?? -new Date(ms).getTimezoneOffset();
  return new Date(ms + offset * 60_000);
}

const two = (n: number): string => String(n).padStart(2, "0");

/** The date and time of `ms` to the minute: `2026-12-08 14:30`. */
export function formatStamp(ms: number, options: TimeZoneOptions = {}): string {
  const t = wallClock(ms, options);
  return `${t.getUTCFullYear()}-${two(t.getUTCMonth() + 1)}-${
    two(t.getUTCDate())
  } ${formatClock(ms, options)}`;
}

/** The time of `ms` to the minute: `14:30`. */
export function formatClock(ms: number, options: TimeZoneOptions = {}): string {
  const t = wallClock(ms, options);
  return `${two(t.getUTCHours())}:${two(t.getUTCMinutes())}`;
}

/**
 * When something ends, as short as is clear: the time alone (`14:30`) if
 * it ends on the day of `now`, else the date too (`2026-12-08 14:30`).
 */
export function formatUntil(
  until: number,
  now: number,
  options: TimeZoneOptions = {},
): string {
  const day = (ms: number) => formatStamp(ms, options).slice(0, 10);
  return day(until) === day(now)
    ? formatClock(until, options)
    : formatStamp(until, options);
}
