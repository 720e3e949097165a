/**
 * Room names: `#` and 1-32 ASCII letters, digits, `_` or `-`, compared
 * without regard to case. The same names are IRC channels.
 *
 * @module
 */

/** Longest room name, without its `#`. */
export const MAX_ROOM_NAME_LENGTH = 32;

const ROOM_NAME = /^#[A-Za-z0-9_-]{1,32}$/;

/**
 * The room name as stored (`/join games` means `#games`), or null when it
 * breaks the rules.
 */
export function normalizeRoomName(raw: string): string | null {
  const trimmed = raw.trim();
  const name = trimmed.startsWith("#") ? trimmed : `#${trimmed}`;
  return ROOM_NAME.test(name) ? name : null;
}

/** The key two room names share when they differ only in case. */
export function roomKey(name: string): string {
  return name.toLowerCase();
}
