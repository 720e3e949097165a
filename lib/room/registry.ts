/**
 * The name registry: the rules a name follows, the key names are compared
 * by (their skeleton: look-alikes are one name), and who is online.
 *
 * Knows nothing of sockets or formatting.
 *
 * @module
 */

import { parseIp } from "./admission.ts";
import { skeleton } from "./confusables.ts";
import { mixedScripts } from "./name_scripts.ts";

/** Longest name, in characters (code points) after NFC. */
export const MAX_NAME_LENGTH = 32;

// Letters (with their combining marks), decimal digits, `_`, `-`, `.` and
// IRC's nick characters `[ ] \ ` ^ { } |`: no spaces and no `*`, so no
// relayed line can pass for a server notice, and no `@`, `/`, `:` or `,`,
// which the protocols use around names.
const NAME_CHARS = /^[\p{L}\p{M}\p{Nd}_.\-[\]\\`^{}|]*$/u;
// A name starts with a letter or a digit.
const NAME_START = /^[\p{L}\p{Nd}]/u;
// Characters that show as nothing: default-ignorable code points (U+034F,
// variation selectors, U+180B, the Hangul fillers U+3164 and U+FFA0,
// zero-width spaces and joiners, ...).
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
// Four dotted numbers look like an IPv4 address even where isIP would not
// take them (`010.0.0.1`).
const DOTTED_QUAD = /^\d+\.\d+\.\d+\.\d+$/;

// Printable ASCII only: lower case is the whole key.
const ASCII = /^[\x20-\x7e]*$/;

// Words the server, its log, our client or an IRC network show as a sender
// or a service (`Server has been shutdown`, `Announcement: ...`, `Usage:
// ...`, NickServ): a member holding one could pass for the server. Kept as
// skeletons, so that look-alikes of them are reserved too.
const RESERVED = new Set(
  [
    "admin",
    "announcement",
    "chanserv",
    "nickserv",
    "operator",
    "server",
    "system",
    "usage",
  ].map(nameKey),
);
// Reserved at start (the server's operators), with how many reserved each.
const reservedAtStart = new Map<string, number>();

/**
 * Reserves `names` (and their look-alikes) for everyone, as the built-in
 * words are, until the returned function is called. For names the server
 * keeps for someone from its start, such as its operators'. The set is
 * the process's: every room in it refuses them.
 */
export function reserveNames(names: Iterable<string>): () => void {
  const keys = [...names].map((name) => nameKey(name.trim().normalize("NFC")));
  for (const key of keys) {
    reservedAtStart.set(key, (reservedAtStart.get(key) ?? 0) + 1);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    for (const key of keys) {
      const count = reservedAtStart.get(key)! - 1;
      if (count === 0) reservedAtStart.delete(key);
      else reservedAtStart.set(key, count);
    }
  };
}

function isReservedKey(key: string): boolean {
  return RESERVED.has(key) || reservedAtStart.has(key);
}

/** Whether `raw` (trimmed) is a name no member may hold, or looks like one. */
export function isReservedName(raw: string): boolean {
  return isReservedKey(nameKey(raw.trim().normalize("NFC")));
}

/**
 * Which rule a name breaks. `form` is the general one (1-32 letters,
 * digits and the few punctuation characters allowed); the others say what
 * is wrong more precisely.
 */
export type NameFault =
  | { rule: "form" }
  | { rule: "start" }
  | { rule: "invisible"; codePoint: number }
  | { rule: "ipAddress" }
  | { rule: "scripts"; name: string; scripts: readonly string[] };

/** Why a name may not be held: a rule it breaks, or it is reserved. */
export type NameRefusal = NameFault | { rule: "reserved" };

/** What {@linkcode checkName} found. */
export interface NameCheck {
  /** The name as it would be held: trimmed, in NFC. */
  name: string;
  /** Why it may not be held; null if it may (when no one holds it). */
  refusal: NameRefusal | null;
}

const FORM: NameRefusal = { rule: "form" };
const START: NameRefusal = { rule: "start" };
const IP_ADDRESS: NameRefusal = { rule: "ipAddress" };
const RESERVED_NAME: NameRefusal = { rule: "reserved" };

/**
 * Checks `raw` against the name rules, in this order: 1 to 32 characters;
 * nothing invisible; not reserved (nor a look-alike of a reserved word);
 * not an IP address; letters, marks, digits and `_ - . [ ] \ ` ^ { } |`
 * only; a letter or a digit first; scripts mixed no more than TR39's
 * "Highly Restrictive" level allows. Whether someone holds it (or a
 * look-alike) is the room's question, not this one.
 *
 * @example
 * ```ts
 * checkName(" ada ").refusal; // null
 * checkName("_ada").refusal; // { rule: "start" }
 * checkName("Server").refusal; // { rule: "reserved" }
 * ```
 */
export function checkName(raw: string): NameCheck {
  const name = raw.trim().normalize("NFC");
  return { name, refusal: refusalOf(name) };
}

function refusalOf(name: string): NameRefusal | null {
  if (name.length === 0) return FORM;
  // Count code points, not UTF-16 units.
  let count = 0;
  for (const char of name) {
    if (++count > MAX_NAME_LENGTH) return FORM;
    if (INVISIBLE.test(char)) {
      return { rule: "invisible", codePoint: char.codePointAt(0)! };
    }
  }
  if (isReservedKey(nameKey(name))) return RESERVED_NAME;
  // ASCII is its own compatibility form, and all Latin (or common).
  const ascii = ASCII.test(name);
  const compatible = ascii ? name : name.normalize("NFKC");
  if (DOTTED_QUAD.test(compatible) || parseIp(compatible) !== null) {
    return IP_ADDRESS;
  }
  if (!NAME_CHARS.test(name)) return FORM;
  if (!NAME_START.test(name)) return START;
  if (ascii) return null;
  const scripts = mixedScripts(compatible);
  if (scripts !== null) return { rule: "scripts", name, scripts };
  return null;
}

/**
 * Returns the name in its stored form (trimmed, NFC) if it follows the rules
 * and is not reserved, or null if it does not.
 */
export function normalizeName(raw: string): string | null {
  const { name, refusal } = checkName(raw);
  return refusal === null ? name : null;
}

/**
 * The key two names share when one would pass for the other: its
 * skeleton (see `confusables.ts`: compatibility forms, case, invisible
 * characters and look-alike letters of other scripts folded). Every lookup
 * of a name goes through it, on every node.
 */
export function nameKey(name: string): string {
  // The fast path matters: every private message looks a name up. Inside
  // ASCII only case is folded (see confusables.ts), so this is the skeleton:
  // a loop, not a regular expression, and no copy of a name in lower case.
  let upper = false;
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit < 0x20 || unit > 0x7e) return skeleton(name);
    if (unit >= 0x41 && unit <= 0x5a) upper = true;
  }
  return upper ? name.toLowerCase() : name;
}

/**
 * Whether two names differ in case at most (`Ada` and `ADA`), as opposed
 * to looking alike (`ada` and `ＡＤＡ`) or differing.
 */
export function sameButCase(a: string, b: string): boolean {
  return caseKey(a) === caseKey(b);
}

function caseKey(name: string): string {
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
