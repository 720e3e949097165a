/**
 * The members a broadcast reaches on this node, and the broadcast itself:
 * an event is rendered once per format in use and the same output is
 * queued to every member of that format.
 *
 * Broadcasts that come in bursts are held and delivered as one run, so
 * that each member is reached once for the run, not once an event, and
 * gets the same bytes in the same order as event by event:
 * - the lines of one read, often several messages of one sender to one
 *   room (a paste, or a busy client), while the room handles them
 *   ({@linkcode holdBroadcasts}, {@linkcode releaseBroadcasts});
 * - the joins of a room that come together (a join storm), until the
 *   event loop's next turn: those of every read of this one.
 * Whatever else reaches a member of the run first delivers the run
 * ({@linkcode beforeDelivery}), and so does any other broadcast.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { concatBytes } from "../io/shared_join.ts";
import { shareBytes } from "../io/outbox.ts";
import type { Rendered, Renderer, RoomEvent } from "./events.ts";
import { nameKey } from "./registry.ts";
import type { Session } from "./session.ts";

// Whether message broadcasts are held now (only inside one synchronous
// stretch of a read loop: see holdBroadcasts), and the FanOut holding a
// run (one at a time).
let holding = false;
let held: FanOut | null = null;
// A run of lines is delivered once its texts pass this many characters:
// what the output budget has not yet counted stays small, and its bytes
// fit a slab. A run of joins, once it has this many.
const RUN_CHARS = 4096;
const RUN_JOINS = 256;

/**
 * Holds the message and action broadcasts made from now on, so that those
 * of one sender to one room that follow one another go out as one run.
 * Only for a stretch of code that does not wait: call
 * {@linkcode releaseBroadcasts} before any `await` and at its end.
 */
export function holdBroadcasts(): void {
  holding = true;
}

/**
 * Delivers the run of lines held, if any, and stops holding lines (a run
 * of joins waits for the event loop's next turn).
 */
export function releaseBroadcasts(): void {
  holding = false;
  if (held !== null && !held.holdsJoins) held.deliverRun();
}

/**
 * Delivers the run held before anything else reaches `session`, which
 * keeps every member's order; a run that does not reach it stays held.
 */
export function beforeDelivery(session: Session): void {
  if (held !== null && held.reaches(session)) held.deliverRun();
}

function deliverHeld(): void {
  if (held !== null) held.deliverRun();
}

// What a run is rendered as for one format: each event's output, in order
// (null where the format shows nothing). A member whose current room is
// another gets the `elsewhere` variant.
type Outputs = readonly (Rendered | null)[];

/**
 * Members on this node, as an array: a broadcast walks it. One for
 * everyone in the chat, and one per room.
 */
export class FanOut {
  #members: Session[] = [];
  // Each member's place in the array, for a removal in constant time.
  #index = new Map<Session, number>();
  // The run held: its events, in order, and whom each one skips.
  #run: RoomEvent[] = [];
  #runExcept: (Session | null)[] = [];
  #runChars = 0;
  // Whether it is a run of joins (else of one sender's lines).
  #joins = false;
  // Members added while the run was held: the first event each one gets.
  #late: Map<Session, number> | null = null;

  /** How many members a broadcast reaches. */
  get size(): number {
    return this.#members.length;
  }

  /** Adds a session that entered (once). */
  add(session: Session): void {
    if (session.entered && !this.#index.has(session)) {
      if (held === this) {
        // It hears the rest of the run only.
        (this.#late ??= new Map()).set(session, this.#run.length);
      }
      this.#index.set(session, this.#members.push(session) - 1);
    }
  }

  /** Removes a session (the last member takes its place). */
  remove(session: Session): void {
    const at = this.#index.get(session);
    if (at === undefined) return;
    if (held === this) this.deliverRun();
    this.#index.delete(session);
    const members = this.#members;
    const last = members.pop()!;
    if (last !== session) {
      members[at] = last;
      this.#index.set(last, at);
    }
  }

  /** Whether the run held here is one of joins; for this module only. */
  get holdsJoins(): boolean {
    return this.#joins;
  }

  /** Whether the run held here reaches `session`; for this module only. */
  reaches(session: Session): boolean {
    if (!this.#index.has(session)) return false;
    // Added after the last event held: none of the run is its.
    const first = this.#late?.get(session);
    if (first !== undefined && first >= this.#run.length) return false;
    // A sender's run of lines skips the sender.
    return this.#joins || this.#runExcept[0] !== session;
  }

  /**
   * Renders `event` once per format (twice for a format that marks a room
   * other than the recipient's current one) and queues the same output to
   * every member but `except`, and but those whose `seen` is `stamp` (a
   * member reached already by the same event through another room);
   * returns how many members it walked. A message or action while lines
   * are held, or a join, may join a run instead (see the module's doc).
   */
  broadcast(event: RoomEvent, except: Session | null, stamp = 0): number {
    if (stamp === 0) {
      if (
        holding && except !== null &&
        (event.type === "message" || event.type === "action")
      ) {
        if (
          held !== this || this.#joins || this.#runExcept[0] !== except ||
          roomOf(this.#run[0]) !== event.room
        ) {
          deliverHeld();
          held = this;
        }
        this.#hold(event, except);
        this.#runChars += event.text.length;
        if (this.#runChars >= RUN_CHARS) this.deliverRun();
        return this.#members.length;
      }
      if (event.type === "join") {
        if (held !== this || !this.#joins) {
          deliverHeld();
          held = this;
          this.#joins = true;
          setImmediate(deliverHeld);
        }
        this.#hold(event, except);
        if (this.#run.length >= RUN_JOINS) this.deliverRun();
        return this.#members.length;
      }
    }
    deliverHeld();
    return this.#walk([event], [except], null, stamp);
  }

  #hold(event: RoomEvent, except: Session | null): void {
    this.#run.push(event);
    this.#runExcept.push(except);
  }

  /** Delivers the run held here; for this module only. */
  deliverRun(): void {
    const events = this.#run;
    const excepts = this.#runExcept;
    const late = this.#late;
    this.#run = [];
    this.#runExcept = [];
    this.#runChars = 0;
    this.#joins = false;
    this.#late = null;
    if (held === this) held = null;
    if (events.length > 0) this.#walk(events, excepts, late, 0);
  }

  // Queues `events` (rendered once per format) to every member but those
  // an event skips: its `except`, those `stamp` marks, those who ignore
  // its sender, those added after it (`late`).
  #walk(
    events: readonly RoomEvent[],
    excepts: readonly (Session | null)[],
    late: Map<Session, number> | null,
    stamp: number,
  ): number {
    const members = this.#members;
    const event = events[0];
    const room = roomOf(event);
    // One sender for a run of lines; the excepts of a run of joins are
    // newcomers, members only when they came back (rare).
    const single = events.length === 1 || event.type !== "join";
    const except = single ? excepts[0] : null;
    let special: Set<Session> | null = late === null
      ? null
      : new Set(late.keys());
    if (!single) {
      for (const skipped of excepts) {
        if (skipped !== null) (special ??= new Set()).add(skipped);
      }
    }
    const formats = new Formats(events);
    // Whose line it is, for members who ignore someone; keyed only if one
    // of them is reached.
    const from = event.type === "message" || event.type === "action"
      ? event.from
      : null;
    let fromKey: string | null = null;
    for (let i = 0; i < members.length; i++) {
      const member = members[i];
      if (member === except) continue;
      if (stamp !== 0) {
        if (member.seen === stamp) continue;
        member.seen = stamp;
      }
      if (member.ignoring !== null && from !== null) {
        fromKey ??= nameKey(from);
        if (member.ignoring.has(fromKey)) continue;
      }
      const conn = member.conn;
      const renderer = conn.renderer;
      // A line from a room other than the member's current one.
      const outside = room !== null && renderer.marksElsewhere === true &&
        member.current !== room;
      let output: Rendered | null;
      if (special !== null && special.has(member)) {
        output = formats.part(
          renderer,
          outside,
          late?.get(member) ?? 0,
          excepts,
          member,
        );
      } else output = formats.whole(renderer, outside);
      if (output !== null) conn.deliver(output);
    }
    return members.length;
  }
}

// The outputs of a run, per format: each event rendered once, and the
// whole run joined once.
class Formats {
  #events: readonly RoomEvent[];
  // Most rooms have one format: it is checked first. A room has a handful
  // of formats at most: a short list beats a Map.
  #renderers: Renderer[] = [];
  #outside: boolean[] = [];
  #each: (Rendered | null)[][] = [];
  #wholes: (Rendered | null)[] = [];

  constructor(events: readonly RoomEvent[]) {
    this.#events = events;
  }

  /** The whole run for `renderer`. */
  whole(renderer: Renderer, outside: boolean): Rendered | null {
    const renderers = this.#renderers;
    if (renderers[0] === renderer && this.#outside[0] === outside) {
      return this.#wholes[0];
    }
    const at = this.#at(renderer, outside);
    return this.#wholes[at];
  }

  /** The events from `first` on that do not skip `member`. */
  part(
    renderer: Renderer,
    outside: boolean,
    first: number,
    excepts: readonly (Session | null)[],
    member: Session,
  ): Rendered | null {
    const each = this.#each[this.#at(renderer, outside)];
    const chosen: (Rendered | null)[] = [];
    for (let i = first; i < each.length; i++) {
      if (excepts[i] !== member) chosen.push(each[i]);
    }
    return join(chosen, false);
  }

  #at(renderer: Renderer, outside: boolean): number {
    const renderers = this.#renderers;
    for (let i = 0; i < renderers.length; i++) {
      if (renderers[i] === renderer && this.#outside[i] === outside) return i;
    }
    const events = this.#events;
    const each: (Rendered | null)[] = [];
    for (const event of events) {
      each.push(renderer.render(outside ? elsewhere(event) : event));
    }
    this.#each.push(each);
    this.#wholes.push(join(each, true));
    this.#outside.push(outside);
    return renderers.push(renderer) - 1;
  }
}

// The outputs of several events as one: bytes joined (shared by the
// outboxes, see shareBytes, when `shared`), texts in order (a format
// renders either bytes or texts).
function join(outputs: Outputs, shared: boolean): Rendered | null {
  if (outputs.length === 1) {
    const only = outputs[0];
    return shared && only instanceof Uint8Array ? shareBytes(only) : only;
  }
  let bytes: Uint8Array[] | null = null;
  let texts: string[] | null = null;
  for (const output of outputs) {
    if (output === null) continue;
    if (output instanceof Uint8Array) (bytes ??= []).push(output);
    else if (typeof output === "string") (texts ??= []).push(output);
    else (texts ??= []).push(...output);
  }
  if (bytes !== null) {
    const joined = concatBytes(bytes);
    return shared ? shareBytes(joined) : joined;
  }
  return texts;
}

// The event as a recipient whose current room is another one gets it.
function elsewhere(event: RoomEvent): RoomEvent {
  return { ...event, elsewhere: true } as RoomEvent;
}

function roomOf(event: RoomEvent | undefined): string | null | undefined {
  return event !== undefined && "room" in event ? event.room : null;
}
