/**
 * Who may hold a connection: the total (`maxClients`) and per-address
 * (`maxPerIp`) limits, counted in slots. A door takes a slot when it accepts
 * a connection (an HTTP connection before it is a chat session, say) and
 * the slot goes with the connection until it is closed, so that whatever
 * holds a descriptor is counted.
 *
 * Addresses are counted by {@linkcode addressKey}: IPv4 addresses one by
 * one, IPv6 ones by their /64 (one host usually has a whole /64).
 *
 * No `Deno.*` here.
 *
 * @module
 */

import { formatIpv6Groups } from "../io/ipv6_text.ts";

/** Why a slot was not given. */
export type AdmissionRefusal = "full" | "perIp";

/** The limits an {@linkcode Admission} enforces; 0 turns one off. */
export interface AdmissionLimits {
  /** Slots at once. */
  maxClients: number;
  /** Slots at once per address (by {@linkcode addressKey}). */
  maxPerIp: number;
}

/** One connection's place; `release()` gives it back, once. */
export interface Slot {
  /** The address it counts against, or null (a trusted proxy's). */
  readonly key: string | null;
  /** Gives the place back; safe to call more than once. */
  release(): void;
}

/** Counts slots in total and per address. */
export class Admission {
  #limits: AdmissionLimits;
  #total = 0;
  #perKey = new Map<string, number>();

  /** Creates an empty count under `limits`. */
  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Slots held. */
  get total(): number {
    return this.#total;
  }

  /** Slots held by the address of `ip`. */
  heldBy(ip: string): number {
    return this.#perKey.get(addressKey(ip)) ?? 0;
  }

  /**
   * Takes a slot for a connection from `ip`; with null (a trusted proxy's
   * connection, which carries many clients) it counts toward the total
   * only. Returns why not when a limit is reached.
   */
  take(ip: string | null): Slot | AdmissionRefusal {
    const { maxClients, maxPerIp } = this.#limits;
    if (maxClients > 0 && this.#total >= maxClients) return "full";
    const key = ip === null ? null : addressKey(ip);
    if (key !== null && maxPerIp > 0 && this.#count(key) >= maxPerIp) {
      return "perIp";
    }
    this.#total++;
    if (key !== null) this.#perKey.set(key, this.#count(key) + 1);
    return new HeldSlot(key, (held) => this.#free(held));
  }

  /**
   * Makes a slot that counts toward the total only (a proxy's) count
   * against `ip` too, once the proxy has named its client; false, and
   * nothing changed, when that address holds its limit already.
   */
  assign(slot: Slot, ip: string): boolean {
    if (!(slot instanceof HeldSlot) || slot.released) return false;
    const key = addressKey(ip);
    if (slot.key === key) return true;
    const { maxPerIp } = this.#limits;
    if (maxPerIp > 0 && this.#count(key) >= maxPerIp) return false;
    this.#drop(slot.key);
    this.#perKey.set(key, this.#count(key) + 1);
    slot.key = key;
    return true;
  }

  #free(key: string | null): void {
    this.#total--;
    this.#drop(key);
  }

  #count(key: string): number {
    return this.#perKey.get(key) ?? 0;
  }

  #drop(key: string | null): void {
    if (key === null) return;
    const count = this.#count(key) - 1;
    if (count > 0) this.#perKey.set(key, count);
    else this.#perKey.delete(key);
  }
}

class HeldSlot implements Slot {
  key: string | null;
  released = false;
  #free: (key: string | null) => void;

  constructor(key: string | null, free: (key: string | null) => void) {
    this.key = key;
    this.#free = free;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.#free(this.key);
  }
}

// A decimal octet without leading zeros; an address is four, with dots.
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`);
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/**
 * Parses an IPv4 or IPv6 address (no brackets, no port, no zone) and
 * returns it in canonical form: IPv4 dotted, IPv6 in lower case with the
 * longest run of zero groups as `::` (RFC 5952); an IPv4-mapped IPv6
 * address becomes its IPv4 address. Null for anything else.
 */
export function parseIp(text: string): string | null {
  if (text.length > 45) return null;
  if (IPV4.test(text)) return text;
  const groups = parseIpv6(text.toLowerCase());
  if (groups === null) return null;
  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 &&
    groups[4] === 0 && groups[5] === 0xffff
  ) {
    return `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${
      groups[7] & 255
    }`;
  }
  return formatIpv6Groups(groups);
}

/**
 * The key an address is counted by: an IPv4 address itself, an IPv6
 * address its /64 (`2001:db8:1:2::/64`). Text that is no address counts
 * as itself.
 */
export function addressKey(ip: string): string {
  if (!ip.includes(":")) return ip;
  const groups = parseIpv6(ip.toLowerCase());
  if (groups === null) return ip;
  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 &&
    groups[4] === 0 && groups[5] === 0xffff
  ) {
    return parseIp(ip) ?? ip;
  }
  return `${formatIpv6Groups([...groups.slice(0, 4), 0, 0, 0, 0])}/64`;
}

// The eight 16-bit groups of an IPv6 address, or null.
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes(".")) {
        if (!IPV4.test(piece)) return null;
        const [a, b, c, d] = piece.split(".").map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else if (HEX_GROUP.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = parse(halves[0]);
  if (head === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const tail = parse(halves[1]);
  if (tail === null || head.length + tail.length > 7) return null;
  return [
    ...head,
    ...new Array(8 - head.length - tail.length).fill(0),
    ...tail,
  ];
}
