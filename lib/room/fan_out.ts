/**
 * The members a broadcast reaches on this node, and the broadcast itself:
 * an event is rendered once per format in use and the same output is
 * queued to every member of that format.
 *
 * @module
 */

import { shareBytes } from "../io/outbox.ts";
import type { Rendered, Renderer, RoomEvent } from "./events.ts";
import type { Session } from "./session.ts";

/** This node's members present, as an array: a broadcast walks it. */
export class FanOut {
  #members: Session[] = [];

  /** How many members a broadcast reaches. */
  get size(): number {
    return this.#members.length;
  }

  /** Adds a session that entered (once). */
  add(session: Session): void {
    if (session.entered && session.index === -1) {
      session.index = this.#members.push(session) - 1;
    }
  }

  /** Removes a session (the last member takes its place). */
  remove(session: Session): void {
    if (session.index === -1) return;
    const members = this.#members;
    const last = members.pop()!;
    if (last !== session) {
      members[session.index] = last;
      last.index = session.index;
    }
    session.index = -1;
  }

  /**
   * Renders `event` once per format and queues the same output to every
   * member but `except`; returns how many members it walked.
   */
  broadcast(event: RoomEvent, except: Session | null): number {
    const members = this.#members;
    // Most rooms have one format: it is checked first, without a lookup. A
    // room has a handful of formats at most: a short list beats a Map.
    let first: Renderer | null = null;
    let firstOutput: Rendered | null = null;
    let renderers: Renderer[] | null = null;
    let outputs: (Rendered | null)[] | null = null;
    for (let i = 0; i < members.length; i++) {
      const member = members[i];
      if (member === except) continue;
      const conn = member.conn;
      const renderer = conn.renderer;
      let output: Rendered | null;
      if (renderer === first) {
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
