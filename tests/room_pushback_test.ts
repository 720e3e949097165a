// The room pushes back on senders while the server's output is over its
// bound: fake connections, real outboxes, no sockets.

import assert from "node:assert/strict";
import type { Line } from "../lib/io/line_reader.ts";
import { type ByteWriter, Outbox, outputBudget } from "../lib/io/outbox.ts";
import type { Rendered } from "../lib/room/events.ts";
import { type ChatConnection, ChatRoom } from "../lib/room/chat_room.ts";
import { lineFormat } from "../lib/languages/line/line_format.ts";
import { LineLanguage } from "../lib/languages/line/line_language.ts";
import { holdsFor, waitUntil } from "./helpers.ts";

/**
 * A peer reading what the server writes: while `reading`, it takes every
 * write (one a macrotask); while not, writes wait. It checks the messages
 * of `from` arrive numbered 0, 1, 2... and counts them.
 */
class Reader implements ByteWriter {
  reading = true;
  received = 0;
  /** Messages that were not the next in order (lost or repeated). */
  outOfOrder = 0;
  inFlight = 0;
  #prefix: string;
  #partial = "";
  #parked: (() => void)[] = [];
  #decoder = new TextDecoder();

  constructor(from: string) {
    this.#prefix = `${from}: `;
  }

  async write(data: Uint8Array): Promise<number> {
    this.inFlight++;
    try {
      if (!this.reading) {
        await new Promise<void>((resolve) => this.#parked.push(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
      const lines = (this.#partial + this.#decoder.decode(data)).split("\n");
      this.#partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith(this.#prefix)) continue;
        const start = this.#prefix.length;
        const n = Number(line.slice(start, line.indexOf(" ", start)));
        if (n !== this.received) this.outOfOrder++;
        this.received++;
      }
      return data.length;
    } finally {
      this.inFlight--;
    }
  }

  read(): void {
    this.reading = true;
    for (const resolve of this.#parked.splice(0)) resolve();
  }
}

/** A connection of the line protocol whose peer is a {@linkcode Reader}. */
class FakeConnection implements ChatConnection {
  readonly address: string;
  readonly ip = "192.0.2.1";
  readonly transport = "tcp";
  readonly renderer = lineFormat;
  readonly interpreter = new LineLanguage();
  onCut: ChatConnection["onCut"] = null;
  readonly peer: Reader;
  readonly outbox: Outbox;
  /** Lines the room took so far. */
  taken = 0;
  #lines: Line[];
  #closed = false;
  #end = Promise.withResolvers<null>();

  constructor(index: number, lines: Line[], from: string) {
    this.address = `192.0.2.1:${1000 + index}`;
    this.#lines = lines;
    this.peer = new Reader(from);
    this.outbox = new Outbox({
      writer: this.peer,
      budget: outputBudget,
      onOverflow: () => this.onCut?.("sendQueue"),
    });
  }

  // One line a read, like a peer whose lines come one by one; at the end
  // of its lines it waits until closed.
  readLines(): Promise<Line[] | null> {
    if (this.#closed) return Promise.resolve(null);
    const line = this.#lines[this.taken];
    if (line === undefined) return this.#end.promise;
    this.taken++;
    return Promise.resolve([line]);
  }

  deliver(output: Rendered): void {
    if (output instanceof Uint8Array) this.outbox.send(output);
  }

  drain(): Promise<void> {
    return this.outbox.drain();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.outbox.close();
    this.#end.resolve(null);
  }
}

Deno.test("the room stops reading senders while its output is over the bound, and every line arrives", async () => {
  const room = new ChatRoom({
    limits: {
      floodRate: 0,
      maxPerIp: 0,
      maxClients: 0,
      maxSendqBytes: 0,
      registrationTimeoutMs: 0,
      historyMessages: 0,
    },
  });
  await room.start();
  // 40 readers and one sender of 400 lines of 3000 bytes: each line queues
  // 40 × 3006 bytes, so all of them would be 48 MB, over the 32 MiB bound.
  const lines = 400;
  const text = "x".repeat(3000);
  const said: Line[] = ["snd"];
  for (let n = 0; n < lines; n++) said.push(`${n} ${text}`);
  const sender = new FakeConnection(0, said, "snd");
  const readers = Array.from(
    { length: 40 },
    (_, i) => new FakeConnection(i + 1, [`r${i}`], "snd"),
  );
  const serving = readers.map((conn) => room.serve(conn));
  await waitUntil(() => room.memberCount === 40, "the readers in the room");
  for (const reader of readers) reader.peer.reading = false;
  serving.push(room.serve(sender));
  const oneLine = 40 * (text.length + 10);
  try {
    await waitUntil(
      () => sender.taken === said.length || outputBudget.whenFits() !== null,
      "the sender's lines read, or the bound passed",
    );
    // Nobody reads: the sender's lines wait, in its own socket.
    await holdsFor(
      () => sender.taken < said.length,
      "the room stops reading the sender",
      200,
    );
    assert.ok(
      outputBudget.bytes <= outputBudget.maxBytes + oneLine,
      `${outputBudget.bytes} bytes queued: more than the bound and one line`,
    );
    for (const reader of readers) reader.peer.read();
    await waitUntil(
      () => readers.every((reader) => reader.peer.received === lines),
      "every line at every reader",
      20_000,
    );
    assert.equal(sender.taken, said.length);
    for (const reader of readers) assert.equal(reader.peer.outOfOrder, 0);
  } finally {
    for (const reader of readers) reader.peer.read();
    await room.shutdown();
    await Promise.all(serving);
    await waitUntil(
      () => [sender, ...readers].every((conn) => conn.peer.inFlight === 0),
      "the last writes",
    );
  }
  assert.equal(outputBudget.bytes, 0);
});
