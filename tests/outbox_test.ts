import assert from "node:assert/strict";
import { type ByteWriter, Outbox, shareBytes } from "../lib/io/outbox.ts";
import { waitUntil } from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * A writer that records every call. It takes at most `chunkLimit` bytes a
 * call; in manual mode each call waits for `release()`; with `failWith` set,
 * calls reject with it.
 */
class FakeWriter implements ByteWriter {
  /** A copy of the bytes offered to each call. */
  readonly calls: Uint8Array[] = [];
  /** The very buffers offered to each call (not copies). */
  readonly offered: Uint8Array[] = [];
  /** The bytes taken by each call, in order. */
  readonly taken: Uint8Array[] = [];
  inFlight = 0;
  maxInFlight = 0;
  chunkLimit = Infinity;
  manual = false;
  failWith: Error | null = null;
  #waiting: (() => void)[] = [];

  async write(data: Uint8Array): Promise<number> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.calls.push(data.slice());
    this.offered.push(data);
    try {
      if (this.manual) {
        await new Promise<void>((resolve) => this.#waiting.push(resolve));
      }
      if (this.failWith !== null) throw this.failWith;
      const count = Math.min(data.length, this.chunkLimit);
      this.taken.push(data.slice(0, count));
      return count;
    } finally {
      this.inFlight--;
    }
  }

  /** Lets the oldest waiting call go on. */
  release(): void {
    const next = this.#waiting.shift();
    assert.ok(next !== undefined, "no write is waiting");
    next();
  }

  /** Lets every waiting call go on (for clean-up). */
  releaseAll(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  /** How many bytes were taken in all. */
  get takenBytes(): number {
    return this.taken.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /** Every byte taken, decoded. */
  get text(): string {
    const all = new Uint8Array(this.takenBytes);
    let offset = 0;
    for (const chunk of this.taken) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return decoder.decode(all);
  }

  callText(i: number): string {
    return decoder.decode(this.calls[i]);
  }
}

/**
 * Sends through a fresh outbox and waits until its write is done. Outboxes
 * start their writes in the order they were sent to, so anything an outbox
 * would have started earlier has started by then.
 */
async function marker(): Promise<void> {
  const writer = new FakeWriter();
  const outbox = new Outbox({ writer });
  outbox.send(bytes("marker"));
  await outbox.drain();
  assert.equal(writer.text, "marker");
}

Deno.test("outbox coalesces many sends in one tick into one write, in order", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox({ writer });
  const parts = Array.from({ length: 100 }, (_, i) => `line ${i}\n`);
  for (const part of parts) outbox.send(bytes(part));
  assert.equal(writer.calls.length, 0, "send() only queues");
  assert.equal(outbox.unsentBytes, parts.join("").length);
  await outbox.drain();
  assert.equal(writer.calls.length, 1);
  assert.equal(writer.text, parts.join(""));
  assert.equal(outbox.unsentBytes, 0);
});

Deno.test("outbox keeps shared chunks and its own in order, across slabs, one write each round", async () => {
  const writers = [new FakeWriter(), new FakeWriter()];
  const outboxes = writers.map((writer) => new Outbox({ writer }));
  const expected = ["", ""];
  const own = (i: number, text: string) => {
    outboxes[i].send(bytes(text));
    expected[i] += text;
  };
  own(0, "welcome\n");
  // Enough shared bytes to fill several slabs, with a chunk of one
  // outbox's own between them now and then.
  const big = "x".repeat(5000);
  for (let n = 0; n < 100; n++) {
    const text = n % 7 === 0 ? `${n}${big}\n` : `event ${n}\n`;
    const shared = shareBytes(bytes(text));
    for (let i = 0; i < 2; i++) {
      outboxes[i].send(shared);
      expected[i] += text;
    }
    if (n % 10 === 3) own(1, `private ${n}\n`);
  }
  // A shared chunk sent again (not right after itself in its slab) still
  // goes out once more, where it was sent.
  const again = shareBytes(bytes("again\n"));
  outboxes[0].send(again);
  expected[0] += "again\n";
  own(0, "mine\n");
  outboxes[0].send(again);
  outboxes[0].send(again);
  expected[0] += "again\nagain\n";
  await Promise.all(outboxes.map((outbox) => outbox.drain()));
  for (let i = 0; i < 2; i++) {
    assert.equal(writers[i].calls.length, 1, "one round, one write");
    assert.equal(writers[i].text, expected[i]);
    assert.equal(outboxes[i].unsentBytes, 0);
  }
});

Deno.test("recipients of the same shared chunks across slabs share one joined write", async () => {
  // Each recipient holds the broadcasts as ranges of the shared slabs; when
  // its queue spans two slabs its write is a join of them. Recipients with
  // the same ranges must share that join, not copy the same bytes each (a
  // thousand recipients behind by a megabyte would hold a gigabyte).
  const writers = Array.from({ length: 5 }, () => new FakeWriter());
  const outboxes = writers.map((writer) => new Outbox({ writer }));
  let expected = "";
  for (let n = 0; n < 40; n++) {
    const text = `${n}`.padEnd(4000, ".") + "\n";
    const shared = shareBytes(bytes(text));
    for (const outbox of outboxes) outbox.send(shared);
    expected += text;
  }
  await Promise.all(outboxes.map((outbox) => outbox.drain()));
  for (const writer of writers) {
    assert.equal(writer.calls.length, 1, "one round, one write");
    assert.equal(writer.text, expected);
  }
  const joins = new Set(writers.map((writer) => writer.offered[0]));
  assert.equal(joins.size, 1, "every recipient wrote the same joined buffer");
});

Deno.test("outbox loops on partial writes until every byte is out", async () => {
  const writer = new FakeWriter();
  writer.chunkLimit = 3;
  const outbox = new Outbox({ writer });
  outbox.send(bytes("0123456789"));
  await outbox.drain();
  assert.equal(writer.text, "0123456789");
  assert.deepEqual(
    writer.calls.map((_, i) => writer.callText(i)),
    ["0123456789", "3456789", "6789", "9"],
  );
  assert.equal(outbox.unsentBytes, 0);
});

Deno.test("outbox keeps one write in flight at most and coalesces what came meanwhile", async () => {
  const writer = new FakeWriter();
  writer.manual = true;
  const outbox = new Outbox({ writer });
  try {
    outbox.send(bytes("a"));
    await waitUntil(() => writer.calls.length === 1, "the first write");
    outbox.send(bytes("b"));
    outbox.send(bytes("c"));
    assert.equal(outbox.unsentBytes, 3);
    await marker();
    assert.equal(
      writer.calls.length,
      1,
      "no second write while one is in flight",
    );
    writer.release();
    await waitUntil(() => writer.calls.length === 2, "the second write");
    assert.equal(writer.callText(1), "bc");
    assert.equal(outbox.unsentBytes, 2);
    writer.release();
    await outbox.drain();
    assert.equal(writer.text, "abc");
    assert.equal(writer.maxInFlight, 1);
  } finally {
    writer.releaseAll();
    outbox.close();
  }
});

Deno.test("outbox partial writes under load still keep one write in flight", async () => {
  const writer = new FakeWriter();
  writer.chunkLimit = 2;
  const outbox = new Outbox({ writer });
  let expected = "";
  for (let round = 0; round < 20; round++) {
    const part = `round ${round};`;
    expected += part;
    outbox.send(bytes(part));
    if (round % 3 === 0) await marker();
  }
  await outbox.drain();
  assert.equal(writer.text, expected);
  assert.equal(writer.maxInFlight, 1);
});

Deno.test("outbox overflows once it stays over the cap for the stall time, then ignores send", async () => {
  const writer = new FakeWriter();
  writer.manual = true;
  let overflows = 0;
  let now = 0;
  const outbox = new Outbox({
    writer,
    maxQueuedBytes: 10,
    stallMs: 100,
    now: () => now,
    onOverflow: () => overflows++,
  });
  try {
    outbox.send(bytes("123456"));
    await waitUntil(() => writer.calls.length === 1, "the first write");
    // Bytes in flight count too: 6 + 4 is exactly the cap, still fine.
    outbox.send(bytes("7890"));
    assert.equal(outbox.unsentBytes, 10);
    // Over the cap, but only just now.
    now = 1;
    outbox.send(bytes("x"));
    assert.equal(overflows, 0);
    now = 100;
    outbox.send(bytes("y"));
    assert.equal(overflows, 0);
    assert.equal(outbox.closed, false);
    // Over the cap for the whole stall time: that is what counts.
    now = 101;
    outbox.send(bytes("z"));
    assert.equal(overflows, 1);
    assert.equal(outbox.closed, true);
    assert.equal(outbox.unsentBytes, 0);
    outbox.send(bytes("more"));
    outbox.send(bytes("and more than the cap allows"));
    assert.equal(overflows, 1);
    assert.equal(outbox.unsentBytes, 0);
    writer.release();
    await outbox.drain();
    await marker();
    assert.equal(
      writer.calls.length,
      1,
      "nothing is written after the overflow",
    );
    assert.equal(writer.text, "123456");
  } finally {
    writer.releaseAll();
  }
});

Deno.test("outbox takes a burst far over the cap when the peer keeps reading", async () => {
  const writer = new FakeWriter();
  writer.chunkLimit = 1000;
  let overflows = 0;
  const outbox = new Outbox({
    writer,
    maxQueuedBytes: 100,
    onOverflow: () => overflows++,
  });
  // 64 lines of 40 bytes in one go: 25 times the cap, before any write.
  for (let i = 0; i < 64; i++) outbox.send(bytes("x".repeat(39) + "\n"));
  await outbox.drain();
  assert.equal(overflows, 0);
  assert.equal(writer.takenBytes, 64 * 40);
});

Deno.test("outbox overflows at once past 64 times the cap", async () => {
  const writer = new FakeWriter();
  let overflows = 0;
  const outbox = new Outbox({
    writer,
    maxQueuedBytes: 4,
    onOverflow: () => overflows++,
  });
  outbox.send(new Uint8Array(256));
  assert.equal(overflows, 0, "256 bytes is 64 times the cap: still taken");
  outbox.send(bytes("5"));
  assert.equal(overflows, 1);
  assert.equal(outbox.closed, true);
  await outbox.drain();
  await marker();
  assert.equal(writer.calls.length, 0);
});

Deno.test("outbox with no cap takes any amount", async () => {
  const writer = new FakeWriter();
  let overflows = 0;
  const outbox = new Outbox({ writer, onOverflow: () => overflows++ });
  const big = new Uint8Array(2 * 1024 * 1024).fill(0x61);
  outbox.send(big);
  outbox.send(big);
  await outbox.drain();
  assert.equal(overflows, 0);
  assert.equal(writer.takenBytes, big.length * 2);
});

Deno.test("outbox calls onError once when a write fails and then stops", async () => {
  const writer = new FakeWriter();
  writer.manual = true;
  const failure = new Error("broken pipe");
  writer.failWith = failure;
  const errors: unknown[] = [];
  const outbox = new Outbox({ writer, onError: (e) => errors.push(e) });
  try {
    outbox.send(bytes("first"));
    await waitUntil(() => writer.calls.length === 1, "the first write");
    outbox.send(bytes("queued"));
    writer.release();
    await waitUntil(() => errors.length === 1, "onError");
    assert.equal(errors[0], failure);
    assert.equal(outbox.closed, true);
    assert.equal(outbox.unsentBytes, 0);
    outbox.send(bytes("after"));
    await outbox.drain();
    await marker();
    assert.equal(errors.length, 1);
    assert.equal(writer.calls.length, 1, "no write after the failure");
  } finally {
    writer.releaseAll();
  }
});

Deno.test("outbox does not report a write that fails after close()", async () => {
  const writer = new FakeWriter();
  writer.manual = true;
  writer.failWith = new Error("closed");
  const errors: unknown[] = [];
  const outbox = new Outbox({ writer, onError: (e) => errors.push(e) });

  // A second outbox failing the same way, started later, shows when the
  // first one's failure has been handled.
  const later = new FakeWriter();
  later.failWith = new Error("later");
  const laterErrors: unknown[] = [];
  const laterOutbox = new Outbox({
    writer: later,
    onError: (e) => laterErrors.push(e),
  });
  try {
    outbox.send(bytes("data"));
    await waitUntil(() => writer.calls.length === 1, "the write");
    outbox.close();
    writer.release();
    laterOutbox.send(bytes("x"));
    await waitUntil(() => laterErrors.length === 1, "the later failure");
    assert.equal(errors.length, 0);
  } finally {
    writer.releaseAll();
  }
});

Deno.test("outbox drain() waits for every byte, across several writes", async () => {
  const writer = new FakeWriter();
  writer.manual = true;
  const outbox = new Outbox({ writer });
  try {
    await outbox.drain(); // nothing queued: resolves at once
    outbox.send(bytes("one "));
    let drained = false;
    const draining = outbox.drain().then(() => drained = true);
    await waitUntil(() => writer.calls.length === 1, "the first write");
    outbox.send(bytes("two"));
    writer.release();
    await waitUntil(() => writer.calls.length === 2, "the second write");
    assert.equal(drained, false, "drain() resolved with bytes still unsent");
    writer.release();
    await draining;
    assert.equal(drained, true);
    assert.equal(writer.text, "one two");
    assert.equal(outbox.unsentBytes, 0);
  } finally {
    writer.releaseAll();
  }
});

Deno.test("outbox drain() resolves when the outbox is closed mid-write", async () => {
  const writer = new FakeWriter();
  writer.manual = true;
  const outbox = new Outbox({ writer });
  try {
    outbox.send(bytes("stuck"));
    await waitUntil(() => writer.calls.length === 1, "the write");
    const draining = outbox.drain();
    outbox.close();
    await draining;
    assert.equal(outbox.closed, true);
    assert.equal(outbox.unsentBytes, 0);
  } finally {
    writer.releaseAll();
  }
});

Deno.test("outbox ignores send after close and tolerates close twice", async () => {
  const writer = new FakeWriter();
  const outbox = new Outbox({ writer });
  outbox.close();
  outbox.close();
  outbox.send(bytes("ignored"));
  assert.equal(outbox.unsentBytes, 0);
  await outbox.drain();
  await marker();
  assert.equal(writer.calls.length, 0);
});
