/**
 * The members a broadcast reaches on this node, and the broadcast itself:
 * an event is rendered once per format in use and the same output is
 * queued to every member of that format.
 *
 * The lines of one read are often several messages of one sender to one
 * room (a paste, or a busy client whose lines arrive together). While the
 * room handles them it holds those broadcasts ({@linkcode holdBroadcasts})
 * and delivers them as one run ({@linkcode releaseBroadcasts}): each member
 * is reached once for the run, not once a line, and gets the same bytes in
 * the same order as line by line.
 *
 * @module
 */

import { concatBytes } from "../io/shared_join.ts";
import { shareBytes } from "../io/outbox.ts";
import type { Rendered, Renderer, RoomEvent } from "./events.ts";
import { nameKey } from "./registry.ts";
import type { Session } from "./session.ts";

// Whether message broadcasts are held now (only inside one synchronous
// stretch of a read loop: see holdBroadcasts), and the FanOut holding some.
let holding = false;
let held: FanOut | null = null;
// A run is delivered once its texts pass this many characters: what the
// output budget has not yet counted stays small, and its bytes fit a slab.
const RUN_CHARS = 4096;

/**
 * Holds the message and action broadcasts made from now on, so that those
 * of one sender to one room that follow one another go out as one run.
 * Only for a stretch of code that does not wait: call
 * {@linkcode releaseBroadcasts} before any `await` and at its end.
 */
export function holdBroadcasts(): void {
  holding = true;
}

/** Delivers the run held, if any, and stops holding. */
export function releaseBroadcasts(): void {
  holding = false;
  if (held !== null) held.deliverRun();
}

/**
 * Delivers the run held before anything else reaches `session`, which
 * keeps every member's order; the run's sender (it gets nothing of its
 * run) needs no such thing.
 */
export function beforeDelivery(session: Session): void {
  if (held !== null && held.runSender !== session) held.deliverRun();
}

// What a broadcast is rendered as for one format, the event or a run; a
// line from a room other than the recipient's current one is `elsewhere`.
type Make = (renderer: Renderer, elsewhere: boolean) => Rendered | null;

/**
 * Members on this node, as an array: a broadcast walks it. One for
 * everyone in the chat, and one per room.
 */
export class FanOut {
  #members: Session[] = [];
  // Each member's place in the array, for a removal in constant time.
  #index = new Map<Session, number>();
  // The run held: message broadcasts of `runSender`, in order.
  #run: RoomEvent[] = [];
  #runChars = 0;
  /** The sender of the run held (null when none is). */
  runSender: Session | null = null;

  /** How many members a broadcast reaches. */
  get size(): number {
    return this.#members.length;
  }

  /** Adds a session that entered (once). */
  add(session: Session): void {
    if (session.entered && !this.#index.has(session)) {
      if (held === this) this.deliverRun();
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

  /**
   * Renders `event` once per format (twice for a format that marks a room
   * other than the recipient's current one) and queues the same output to
   * every member but `except`, and but those whose `seen` is `stamp` (a
   * member reached already by the same event through another room);
   * returns how many members it walked. While broadcasts are held, a
   * message or action joins its sender's run instead.
   */
  broadcast(event: RoomEvent, except: Session | null, stamp = 0): number {
    if (
      holding && stamp === 0 && except !== null &&
      (event.type === "message" || event.type === "action")
    ) {
      const run = this.#run;
      if (
        held !== this || this.runSender !== except ||
        (run[0] as { room?: string }).room !== event.room
      ) {
        if (held !== null) held.deliverRun();
        held = this;
        this.runSender = except;
      }
      run.push(event);
      this.#runChars += event.text.length;
      if (this.#runChars >= RUN_CHARS) this.deliverRun();
      return this.#members.length;
    }
    if (held !== null) held.deliverRun();
    const room = roomOf(event);
    let outsideEvent: RoomEvent | null = null;
    return this.#walk(
      event,
      room,
      except,
      stamp,
      (renderer, outside) =>
        render(renderer, outside ? outsideEvent ??= elsewhere(event) : event),
    );
  }

  /** Delivers the run held here as one broadcast; for this module only. */
  deliverRun(): void {
    const events = this.#run;
    const except = this.runSender;
    this.#run = [];
    this.#runChars = 0;
    this.runSender = null;
    if (held === this) held = null;
    if (events.length === 0) return;
    this.#walk(
      events[0],
      roomOf(events[0]),
      except,
      0,
      (renderer, outside) => renderRun(renderer, events, outside),
    );
  }

  // Queues what `make` renders to every member but `except` (and but those
  // `stamp` marks, or who ignore the sender of `event`).
  #walk(
    event: RoomEvent,
    room: string | null | undefined,
    except: Session | null,
    stamp: number,
    make: Make,
  ): number {
    const members = this.#members;
    let outsides: Map<Renderer, Rendered | null> | null = null;
    // Most rooms have one format: it is checked first, without a lookup. A
    // room has a handful of formats at most: a short list beats a Map.
    let first: Renderer | null = null;
    let firstOutput: Rendered | null = null;
    let renderers: Renderer[] | null = null;
    let outputs: (Rendered | null)[] | null = null;
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
      let output: Rendered | null;
      if (
        room !== null && renderer.marksElsewhere === true &&
        member.current !== room
      ) {
        // A line from a room other than the member's current one.
        outsides ??= new Map();
        output = outsides.get(renderer) ?? null;
        if (!outsides.has(renderer)) {
          output = make(renderer, true);
          outsides.set(renderer, output);
        }
      } else if (renderer === first) {
        output = firstOutput;
      } else if (first === null) {
        first = renderer;
        output = firstOutput = make(renderer, false);
      } else {
        renderers ??= [];
        outputs ??= [];
        let at = renderers.indexOf(renderer);
        if (at === -1) {
          at = renderers.push(renderer) - 1;
          outputs.push(make(renderer, false));
        }
        output = outputs[at];
      }
      if (output !== null) conn.deliver(output);
    }
    return members.length;
  }
}

// The event as a recipient whose current room is another one gets it.
function elsewhere(event: RoomEvent): RoomEvent {
  return { ...event, elsewhere: true } as RoomEvent;
}

function roomOf(event: RoomEvent): string | null | undefined {
  return "room" in event ? event.room : null;
}

// Renders once for a broadcast. Shared bytes: each recipient's outbox
// extends one range instead of queueing a chunk per event.
function render(renderer: Renderer, event: RoomEvent): Rendered | null {
  const output = renderer.render(event);
  return output instanceof Uint8Array ? shareBytes(output) : output;
}

// Renders a run once for a format: its events' bytes joined, or their
// texts in order (a format renders either bytes or texts).
function renderRun(
  renderer: Renderer,
  events: readonly RoomEvent[],
  outside: boolean,
): Rendered | null {
  let bytes: Uint8Array[] | null = null;
  let texts: string[] | null = null;
  for (const event of events) {
    const output = renderer.render(outside ? elsewhere(event) : event);
    if (output === null) continue;
    if (output instanceof Uint8Array) (bytes ??= []).push(output);
    else if (typeof output === "string") (texts ??= []).push(output);
    else (texts ??= []).push(...output);
  }
  if (bytes !== null) return shareBytes(concatBytes(bytes));
  return texts;
}
