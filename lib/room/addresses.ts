/**
 * IP addresses and networks for bans by address: `ADDRESS[/PREFIX]` read
 * for IPv4 and IPv6, written back in one canonical form, and a map from
 * networks to bans that finds the ban holding an address in a few lookups,
 * so that it can be asked on every accept.
 *
 * Pure: no `Deno.*`, no sockets. An address is a `bigint` (32 or 128
 * bits), so masks are exact for both families.
 *
 * @module
 */

import { formatIpv6Groups } from "../io/ipv6_text.ts";

/** One IP address. An IPv4-mapped IPv6 address is read as its IPv4. */
export interface IpAddress {
  /** 4 or 6. */
  version: 4 | 6;
  /** The address as a number: 32 bits for IPv4, 128 for IPv6. */
  value: bigint;
}

/** A network: an address with its first `prefix` bits kept, the rest zero. */
export interface Network {
  /** 4 or 6. */
  version: 4 | 6;
  /** The network's first address (host bits zero). */
  network: bigint;
  /** How many leading bits name the network: 0-32 or 0-128. */
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;
// ::ffff:0:0/96, where IPv4-mapped IPv6 addresses live.
const MAPPED = 0xffffn << 32n;

// The masks keeping the first 0..32 (or 0..128) bits, made once: a lookup
// on every accept should not build bigints.
function masksOf(bits: number): bigint[] {
  const masks: bigint[] = [];
  for (let prefix = 0; prefix <= bits; prefix++) {
    masks.push(
      prefix === 0
        ? 0n
        : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix),
    );
  }
  return masks;
}
const MASKS = { 32: masksOf(32), 128: masksOf(128) } as const;

// The mask keeping the first `prefix` of `bits` bits.
function mask(bits: 32 | 128, prefix: number): bigint {
  return MASKS[bits][prefix];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string): bigint | null {
  const match = IPV4.exec(text);
  if (match === null) return null;
  let value = 0n;
  for (const part of match.slice(1)) {
    // "010" could be read as octal by other tools: refused, not guessed.
    if (part.length > 1 && part.startsWith("0")) return null;
    const byte = Number(part);
    if (byte > 255) return null;
    value = (value << 8n) | BigInt(byte);
  }
  return value;
}

const GROUP = /^[0-9a-f]{1,4}$/i;

// The 16-bit groups of one side of `::` (or of the whole address).
function groupsOf(text: string, last: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (last && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (v4 === null) return null;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (GROUP.test(part)) {
      groups.push(parseInt(part, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseIpv6(text: string): bigint | null {
  if (text.length > 45) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 1) {
    const all = groupsOf(text, true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const head = groupsOf(halves[0], false);
    const tail = groupsOf(halves[1], true);
    // `::` stands for at least one zero group.
    if (head === null || tail === null || head.length + tail.length > 7) {
      return null;
    }
    const zeros = new Array(8 - head.length - tail.length).fill(0);
    groups = [...head, ...zeros, ...tail];
  }
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/**
 * Reads an IPv4 (`192.168.1.23`) or IPv6 (`2001:db8::1`, `::ffff:10.0.0.1`)
 * address; null if `text` is not one. Leading zeros in IPv4 parts, zone ids
 * (`%eth0`) and brackets are refused: use {@linkcode parsePeerIp} for an
 * address a socket gave.
 */
export function parseAddress(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  if (!text.includes(":")) return null;
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };
  return { version: 6, value: v6 };
}

/**
 * Reads the address of a peer as a socket or a PROXY header gives it:
 * brackets (`[::1]`) and an IPv6 zone (`fe80::1%eth0`) are dropped first.
 */
export function parsePeerIp(ip: string): IpAddress | null {
  let text = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const zone = text.indexOf("%");
  if (zone !== -1 && text.includes(":")) text = text.slice(0, zone);
  return parseAddress(text);
}

/**
 * Reads `ADDRESS[/PREFIX]` (`10.0.0.0/24`, `2001:db8::/32`, `192.168.1.23`);
 * null if it is not one. Without a prefix it is the one address. Host bits
 * after the prefix are cleared (`10.0.0.5/24` is `10.0.0.0/24`). A network
 * of IPv4-mapped IPv6 addresses is read as the IPv4 network.
 */
export function parseNetwork(text: string): Network | null {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (address === null) return null;
  // A mapped address came back as IPv4; its prefix counted 128 bits.
  const mapped = address.version === 4 && addressText.includes(":");
  let prefix: number = mapped ? 128 : BITS[address.version];
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return null;
    prefix = Number(prefixText);
    if (prefix > (mapped ? 128 : BITS[address.version])) return null;
  }
  if (mapped) {
    if (prefix < 96) {
      // Wider than the mapped range: an IPv6 network after all.
      const value = MAPPED | address.value;
      return { version: 6, network: value & mask(128, prefix), prefix };
    }
    prefix -= 96;
  }
  const bits = BITS[address.version];
  return {
    version: address.version,
    network: address.value & mask(bits, prefix),
    prefix,
  };
}

/** Writes an address: dotted IPv4, or IPv6 as RFC 5952 writes it. */
export function formatAddress(address: IpAddress): string {
  if (address.version === 4) {
    const v = address.value;
    return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 0xffn))
      .join(".");
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) {
    groups.push(Number((address.value >> shift) & 0xffffn));
  }
  return formatIpv6Groups(groups);
}

/**
 * Writes a network in its canonical form: `10.0.0.0/24`, `2001:db8::/32`;
 * a single address without its prefix (`192.168.1.23`). Two texts naming
 * the same network give the same form, so it can be a key.
 */
export function formatNetwork(network: Network): string {
  const address = formatAddress({
    version: network.version,
    value: network.network,
  });
  return network.prefix === BITS[network.version]
    ? address
    : `${address}/${network.prefix}`;
}

/** Whether `network` holds `address`. */
export function networkHolds(network: Network, address: IpAddress): boolean {
  if (network.version !== address.version) return false;
  const bits = BITS[network.version];
  return (address.value & mask(bits, network.prefix)) === network.network;
}

/**
 * Whether a name would read as an address or a network in `/ban`, so that
 * it must not be a name (`10.0.0.1`, `10.0.0.0/24`).
 */
export function looksLikeAddress(text: string): boolean {
  return parseNetwork(text) !== null;
}

/**
 * The part of an address that counts as one source for limits such as
 * failed logins: the whole IPv4 address, or the /64 of an IPv6 address
 * (one subscriber usually has a whole /64, so counting single IPv6
 * addresses would let one person try from 2^64 places). A text that is not
 * an address is returned as it is.
 */
export function sourceKey(ip: string): string {
  const address = parsePeerIp(ip);
  if (address === null) return ip;
  if (address.version === 4) return formatAddress(address);
  return formatNetwork({
    version: 6,
    network: address.value & mask(128, 64),
    prefix: 64,
  });
}

/**
 * A map from networks to values (bans), asked which value holds an
 * address. A lookup costs one masked map lookup per distinct prefix length
 * in the map (at most 33 for IPv4 and 129 for IPv6, a handful in practice),
 * whatever the number of networks; the most specific network wins.
 *
 * @example
 * ```ts
 * const bans = new NetworkMap<string>();
 * bans.set(parseNetwork("10.0.0.0/24")!, "spamming");
 * bans.match(parsePeerIp("10.0.0.7")!); // "spamming"
 * ```
 */
export class NetworkMap<T> {
  // By family, then prefix length, then network.
  #byPrefix = { 4: new Map<number, Map<bigint, T>>(), 6: new Map() } as {
    4: Map<number, Map<bigint, T>>;
    6: Map<number, Map<bigint, T>>;
  };
  // The prefix lengths present per family, longest first.
  #prefixes: { 4: number[]; 6: number[] } = { 4: [], 6: [] };
  #size = 0;

  /** How many networks the map holds. */
  get size(): number {
    return this.#size;
  }

  /** Sets the value of a network, replacing the one it had. */
  set(network: Network, value: T): void {
    const family = this.#byPrefix[network.version];
    let networks = family.get(network.prefix);
    if (networks === undefined) {
      networks = new Map();
      family.set(network.prefix, networks);
      this.#prefixes[network.version] = [...family.keys()].sort((a, b) =>
        b - a
      );
    }
    if (!networks.has(network.network)) this.#size++;
    networks.set(network.network, value);
  }

  /** Removes a network; false if it was not there. */
  delete(network: Network): boolean {
    const family = this.#byPrefix[network.version];
    const networks = family.get(network.prefix);
    if (networks === undefined || !networks.delete(network.network)) {
      return false;
    }
    this.#size--;
    if (networks.size === 0) {
      family.delete(network.prefix);
      this.#prefixes[network.version] = this.#prefixes[network.version]
        .filter((prefix) => prefix !== network.prefix);
    }
    return true;
  }

  /** The value of the most specific network holding `address`, if any. */
  match(address: IpAddress): T | undefined {
    const family = this.#byPrefix[address.version];
    const bits = BITS[address.version];
    for (const prefix of this.#prefixes[address.version]) {
      const value = family.get(prefix)!.get(
        address.value & mask(bits, prefix),
      );
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /** Removes every network. */
  clear(): void {
    this.#byPrefix[4].clear();
    this.#byPrefix[6].clear();
    this.#prefixes = { 4: [], 6: [] };
    this.#size = 0;
  }
}
