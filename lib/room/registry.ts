/**
 * The name registry: name rules, NFC, uniqueness without regard to case, and
 * who is online.
 *
 * Knows nothing of sockets or formatting.
 *
 * @module
 */

/** Longest name, in characters (code points) after NFC. */
export const MAX_NAME_LENGTH = 32;

// Letters (with their combining marks), decimal digits, `_`, `-` and `.`:
// no spaces and no `*`, so no relayed line can pass for a server notice.
const NAME = /^[\p{L}\p{Nd}_.\-][\p{L}\p{M}\p{Nd}_.\-]*$/u;

// Words the server, its log or our client show as a sender (`Server has
// been shutdown`, `Announcement: ...`, `Usage: ...`): a member holding one
// could pass for the server. Keys as {@linkcode nameKey} makes them.
const RESERVED = new Set(["announcement", "server", "usage"]);

/** Whether `raw` (trimmed) is a name no member may hold, in any case. */
export function isReservedName(raw: string): boolean {
  return RESERVED.has(nameKey(raw.trim().normalize("NFC")));
}

/**
 * Returns the name in its stored form (trimmed, NFC) if it follows the rules
 * and is not reserved, or null if it does not.
 */
export function normalizeName(raw: string): string | null {
  const name = raw.trim().normalize("NFC");
  if (name.length === 0 || !NAME.test(name)) return null;
  if (RESERVED.has(nameKey(name))) return null;
  // Count code points, not UTF-16 units.
  let count = 0;
  for (const _ of name) {
    if (++count > MAX_NAME_LENGTH) return null;
  }
  return name;
}

// Printable ASCII only: lower case is the whole key.
const ASCII = /^[\x20-\x7e]*$/;

/** The key two names share when they differ only in case. */
export function nameKey(name: string): string {
  // The fast path matters: every private message looks a name up.
  if (ASCII.test(name)) return name.toLowerCase();
  return name.toUpperCase().toLowerCase().normalize("NFC");
}

/**
 * Who is online: a map from names (unique without regard to case) to members.
 *
 * @example
 * ```ts
 * const registry = new Registry<string>();
 * registry.claim("Alice", "conn-1"); // true
 * registry.claim("alice", "conn-2"); // false: taken
 * registry.find("ALICE"); // { name: "Alice", member: "conn-1" }
 * ```
 */
export class Registry<T> {
  #byKey = new Map<string, { name: string; member: T }>();

  /** How many names are taken. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Whether a name (in any case) is taken. */
  has(name: string): boolean {
    return this.#byKey.has(nameKey(name));
  }

  /** Takes `name` for `member`; false if it is taken already. */
  claim(name: string, member: T): boolean {
    const key = nameKey(name);
    if (this.#byKey.has(key)) return false;
    this.#byKey.set(key, { name, member });
    return true;
  }

  /** Frees `name` if `member` holds it. */
  release(name: string, member: T): void {
    const key = nameKey(name);
    if (this.#byKey.get(key)?.member === member) this.#byKey.delete(key);
  }

  /**
   * Moves `member` from `from` to `to` (which may differ from `from` in case
   * only); false if `to` is held by someone else.
   */
  rename(from: string, to: string, member: T): boolean {
    const fromKey = nameKey(from);
    const toKey = nameKey(to);
    const holder = this.#byKey.get(toKey);
    if (holder !== undefined && holder.member !== member) return false;
    if (this.#byKey.get(fromKey)?.member === member) {
      this.#byKey.delete(fromKey);
    }
    this.#byKey.set(toKey, { name: to, member });
    return true;
  }

  /** Finds who holds a name, without regard to case. */
  find(name: string): { name: string; member: T } | undefined {
    return this.#byKey.get(nameKey(name));
  }

  /** Every member, in the order they joined. */
  members(): IterableIterator<{ name: string; member: T }> {
    return this.#byKey.values();
  }

  /** Every name online, sorted without regard to case. */
  names(): string[] {
    return [...this.#byKey.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) => entry.name);
  }
}
