/**
 * The members a broadcast reaches on this node, and the broadcast itself:
 * an event is rendered once per format in use and the same output is
 * queued to every member of that format.
 *
 * @module
 */

import { shareBytes } from "../io/outbox.ts";
import type { Rendered, Renderer, RoomEvent } from "./events.ts";
import { nameKey } from "./registry.ts";
import type { Session } from "./session.ts";

/**
 * Members on this node, as an array: a broadcast walks it. One for
 * everyone in the chat, and one per room.
 */
export class FanOut {
  #members: Session[] = [];
  // Each member's place in the array, for a removal in constant time.
  #index = new Map<Session, number>();

  /** How many members a broadcast reaches. */
  get size(): number {
    return this.#members.length;
  }

  /** Adds a session that entered (once). */
  add(session: Session): void {
    if (session.entered && !this.#index.has(session)) {
      this.#index.set(session, this.#members.push(session) - 1);
    }
  }

  /** Removes a session (the last member takes its place). */
  remove(session: Session): void {
    const at = this.#index.get(session);
    if (at === undefined) return;
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
   * returns how many members it walked.
   */
  broadcast(event: RoomEvent, except: Session | null, stamp = 0): number {
    const members = this.#members;
    const room = "room" in event ? event.room : null;
    let elsewhere: RoomEvent | null = null;
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
        elsewhere ??= { ...event, elsewhere: true } as RoomEvent;
        outsides ??= new Map();
        output = outsides.get(renderer) ?? null;
        if (!outsides.has(renderer)) {
          output = render(renderer, elsewhere);
          outsides.set(renderer, output);
        }
      } else if (renderer === first) {
        output = firstOutput;
      } else if (first === null) {
        first = renderer;
        output = firstOutput = render(renderer, event);
      } else {
        renderers ??= [];
        outputs ??= [];
        let at = renderers.indexOf(renderer);
        if (at === -1) {
          at = renderers.push(renderer) - 1;
          outputs.push(render(renderer, event));
        }
        output = outputs[at];
      }
      if (output !== null) conn.deliver(output);
    }
    return members.length;
  }
}

// Renders once for a broadcast. Shared bytes: each recipient's outbox
// extends one range instead of queueing a chunk per event.
function render(renderer: Renderer, event: RoomEvent): Rendered | null {
  const output = renderer.render(event);
  return output instanceof Uint8Array ? shareBytes(output) : output;
}
