/**
 * A connection of the room's without a socket, for unit tests of the room:
 * the test feeds the lines its peer "sends", and what the room renders for
 * it (the TCP line format unless told otherwise) is collected as bytes and
 * as lines to wait on.
 *
 * @module
 */

import type { Line } from "../../lib/io/line_reader.ts";
import type { Rendered, Renderer } from "../../lib/room/events.ts";
import type { ChatConnection, Interpreter } from "../../lib/room/chat_room.ts";
import { LineLanguage } from "../../lib/languages/line/line_language.ts";
import { lineFormat } from "../../lib/languages/line/line_format.ts";
import { LineCollector, type LineMatch, WAIT_MS, within } from "../helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options of {@linkcode FakeConnection}. */
export interface FakeConnectionOptions {
  /** The peer's IP address; default `192.0.2.1` (a documentation address). */
  ip?: string;
  /** The peer's port, for its address; default a new one per connection. */
  port?: number;
  /** The transport's name; default `tcp`. */
  transport?: string;
  /** The format of what it is sent; default the TCP line format. */
  renderer?: Renderer;
  /**
   * Whether its peer never takes its output: `drain()` then resolves only
   * once the connection is closed.
   */
  stuck?: boolean;
  /** The web chat's URL, told to a browser that comes to the line door. */
  webUrl?: string;
}

let ports = 40_000;

/** A {@linkcode ChatConnection} fed by the test, collecting its output. */
export class FakeConnection implements ChatConnection {
  readonly address: string;
  readonly ip: string;
  readonly transport: string;
  readonly renderer: Renderer;
  readonly interpreter: Interpreter;
  onCut: ChatConnection["onCut"] = null;
  /** What the room sent, by lines (a frame format: a frame a line). */
  readonly received: LineCollector = new LineCollector();
  /** When `close()` was first called (`performance.now()`), or null. */
  closedAt: number | null = null;
  /** When each line of {@linkcode received} arrived, by index. */
  readonly arrivedAt: number[] = [];
  /** How many times the room delivered something (a call of `deliver`). */
  deliveries = 0;
  #input: (Line[] | null)[] = [];
  #reader: ((lines: Line[] | null) => void) | null = null;
  #stuck: boolean;
  #closed = Promise.withResolvers<void>();
  #bytes: Uint8Array[] = [];

  constructor(options: FakeConnectionOptions = {}) {
    this.ip = options.ip ?? "192.0.2.1";
    this.address = `${this.ip}:${options.port ?? ++ports}`;
    this.transport = options.transport ?? "tcp";
    this.renderer = options.renderer ?? lineFormat;
    this.#stuck = options.stuck ?? false;
    const webUrl = options.webUrl ?? null;
    this.interpreter = new LineLanguage({ webUrl: () => webUrl });
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.closedAt !== null;
  }

  /** Everything the room sent, as text (a frame format: a frame a line). */
  get text(): string {
    let length = 0;
    for (const part of this.#bytes) length += part.length;
    const all = new Uint8Array(length);
    let offset = 0;
    for (const part of this.#bytes) {
      all.set(part, offset);
      offset += part.length;
    }
    return decoder.decode(all);
  }

  /** The peer sends `lines`, handed to the room in one read. */
  send(...lines: Line[]): void {
    this.#feed(lines);
  }

  /** The peer ends its input (a half close, or a hang-up). */
  end(): void {
    this.#feed(null);
  }

  /** Waits for the next line that matches (see {@linkcode LineCollector}). */
  next(match: LineMatch, timeoutMs = WAIT_MS): Promise<string> {
    return this.received.next(match, timeoutMs);
  }

  /** Waits until the room closed the connection. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    await within(
      this.#closed.promise,
      timeoutMs,
      `${this.address} to be closed (last lines: ${
        JSON.stringify(this.received.lines.slice(-5))
      })`,
    );
  }

  #feed(lines: Line[] | null): void {
    if (this.#reader !== null) {
      const reader = this.#reader;
      this.#reader = null;
      reader(lines);
    } else {
      this.#input.push(lines);
    }
  }

  readLines(): Promise<Line[] | null> {
    if (this.closed) return Promise.resolve(null);
    if (this.#input.length > 0) return Promise.resolve(this.#input.shift()!);
    return new Promise((resolve) => this.#reader = resolve);
  }

  deliver(output: Rendered): void {
    // A closed socket takes nothing more.
    if (this.closed) return;
    this.deliveries++;
    const chunks = output instanceof Uint8Array
      ? [output.slice()]
      : (typeof output === "string" ? [output] : output).map((frame) =>
        encoder.encode(`${frame}\n`)
      );
    for (const chunk of chunks) {
      this.#bytes.push(chunk);
      this.received.push(chunk);
    }
    const now = performance.now();
    while (this.arrivedAt.length < this.received.lines.length) {
      this.arrivedAt.push(now);
    }
  }

  drain(): Promise<void> {
    return this.#stuck ? this.#closed.promise : Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closedAt = performance.now();
    this.received.end();
    this.#closed.resolve();
    this.#feed(null);
  }
}
