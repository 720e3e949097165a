/**
 * The texts queued to the web door's sockets in one round, shared between
 * the sockets that got the same ones. A socket's texts are a path in one
 * tree: each node is "the texts of its parent, then one output", made once
 * for all the sockets that got those outputs in that order (recipients of
 * the same broadcasts), with the frame of its texts encoded once. So
 * queueing an output costs a socket one lookup, not a copy of its texts,
 * and a round encodes one frame per distinct backlog, not per socket.
 *
 * @module
 */

import { shareBytes } from "../../io/outbox.ts";
import { textFrame } from "./websocket.ts";

/** What a socket is handed: one text, or several in order. */
export type QueuedOutput = string | readonly string[];

/** Texts queued in a round, as the node reached by their outputs. */
export class QueuedTexts {
  readonly #parent: QueuedTexts | null;
  readonly #output: QueuedOutput;
  // The node after this one for the last output asked for, and for any
  // other (a recipient of another format or room: rare).
  #nextOutput: QueuedOutput | null = null;
  #next: QueuedTexts | null = null;
  #others: Map<QueuedOutput, QueuedTexts> | null = null;
  #frame: Uint8Array | null = null;
  static #root = new QueuedTexts(null, "");

  private constructor(parent: QueuedTexts | null, output: QueuedOutput) {
    this.#parent = parent;
    this.#output = output;
  }

  /** Nothing queued: the root of this round's tree. */
  static get none(): QueuedTexts {
    return QueuedTexts.#root;
  }

  /** Ends the round: its tree is let go (sockets hold none of it by then). */
  static endRound(): void {
    QueuedTexts.#root = new QueuedTexts(null, "");
  }

  /** These texts, then those of `output`. */
  add(output: QueuedOutput): QueuedTexts {
    if (output === this.#nextOutput) return this.#next!;
    let next = this.#next;
    if (next !== null) {
      // Another output from here: the last one asked for moves to the map.
      const others = this.#others ??= new Map();
      others.set(this.#nextOutput!, next);
      next = others.get(output) ?? null;
    }
    next ??= new QueuedTexts(this, output);
    this.#nextOutput = output;
    this.#next = next;
    return next;
  }

  /**
   * One text frame of all the texts, separated by `\n`, encoded once
   * (shared bytes: the caller must not change them).
   */
  frame(): Uint8Array {
    if (this.#frame !== null) return this.#frame;
    const outputs: QueuedOutput[] = [this.#output];
    for (let node = this.#parent; node !== null; node = node.#parent) {
      if (node.#parent !== null) outputs.push(node.#output);
    }
    const texts: string[] = [];
    for (let i = outputs.length - 1; i >= 0; i--) {
      const output = outputs[i];
      if (typeof output === "string") texts.push(output);
      else for (const text of output) texts.push(text);
    }
    return this.#frame = shareBytes(textFrame(texts.join("\n")));
  }
}
