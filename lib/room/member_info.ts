/**
 * What the console and the languages see of a member: its holder in the
 * engine, as plain data.
 *
 * @module
 */

import type { Holder } from "../engine/engine.ts";
import { nameKey } from "./registry.ts";
import type { MemberInfo } from "./session_api.ts";

/** A holder as a {@linkcode MemberInfo}, with idle time as of `now`. */
export function memberInfo(holder: Holder, now: number): MemberInfo {
  const active = holder.active;
  return {
    name: holder.name,
    address: holder.address,
    transport: holder.transport,
    present: holder.present,
    rooms: holder.rooms ?? [],
    since: holder.since ?? null,
    signedOn: holder.signedOn ?? null,
    // Another node's clock may run ahead of this one.
    idleMs: active === undefined ? null : Math.max(0, now - active),
    user: holder.user ?? null,
    realName: holder.realName ?? null,
    away: holder.away ?? null,
  };
}

/** Sorts holders by name, without regard to case (in place). */
export function sortedByName(holders: Holder[]): Holder[] {
  const keys = new Map(holders.map((h) => [h, nameKey(h.name)]));
  return holders.sort((a, b) => {
    const x = keys.get(a)!, y = keys.get(b)!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
