import assert from "node:assert/strict";
import { type ByteWriter, Outbox, shareBytes } from "../lib/io/outbox.ts";
import { OutputBudget } from "../lib/io/output_budget.ts";
import { waitUntil } from "./helpers.ts";

const encoder = new TextEncoder();

/**
 * A peer that takes at most `perCall` bytes a write, one write per macrotask
 * while `reading`; while not, writes wait until `read()`.
 */
class Peer implements ByteWriter {
  reading: boolean;
  perCall: number;
  taken = 0;
  inFlight = 0;
  #parts: Uint8Array[] = [];
  #parked: (() => void)[] = [];

  constructor(options: { reading: boolean; perCall?: number }) {
    this.reading = options.reading;
    this.perCall = options.perCall ?? Infinity;
  }

  async write(data: Uint8Array): Promise<number> {
    this.inFlight++;
    try {
      if (!this.reading) {
        await new Promise<void>((resolve) => this.#parked.push(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
      const count = Math.min(data.length, this.perCall);
      this.#parts.push(data.slice(0, count));
      this.taken += count;
      return count;
    } finally {
      this.inFlight--;
    }
  }

  /** Writes waiting for the peer to read. */
  get waiting(): number {
    return this.#parked.length;
  }

  /** Lets one waiting write take its bytes, still not reading after it. */
  step(): void {
    this.#parked.shift()?.();
  }

  /** Starts reading (and lets the waiting write on). */
  read(): void {
    this.reading = true;
    for (const resolve of this.#parked.splice(0)) resolve();
  }

  /** Everything taken, as text. */
  get text(): string {
    const all = new Uint8Array(this.taken);
    let offset = 0;
    for (const part of this.#parts) {
      all.set(part, offset);
      offset += part.length;
    }
    return new TextDecoder().decode(all);
  }
}

function lineOf(n: number, size: number): Uint8Array {
  return encoder.encode(`${n}`.padStart(6, "0").padEnd(size - 1, ".") + "\n");
}

// Broadcasts `count` lines of `size` bytes to every outbox, asking the
// budget before each line like the room does; the most it ever held.
async function broadcast(
  budget: OutputBudget,
  outboxes: Outbox[],
  count: number,
  size: number,
): Promise<number> {
  let most = 0;
  for (let n = 0; n < count; n++) {
    for (let held; (held = budget.whenFits()) !== null;) await held;
    const line = shareBytes(lineOf(n, size));
    for (const outbox of outboxes) outbox.send(line);
    most = Math.max(most, budget.bytes);
  }
  return most;
}

function expectedText(count: number, size: number): string {
  const decoder = new TextDecoder();
  let text = "";
  for (let n = 0; n < count; n++) text += decoder.decode(lineOf(n, size));
  return text;
}

Deno.test("lines wait while the outboxes hold more than the bound, and go on at half of it", async () => {
  const budget = new OutputBudget({ maxBytes: 1000, stallMs: 60_000 });
  const peer = new Peer({ reading: false, perCall: 300 });
  const outbox = new Outbox({ writer: peer, budget });
  try {
    outbox.send(new Uint8Array(600));
    assert.equal(budget.whenFits(), null, "600 of 1000: lines go on");
    outbox.send(new Uint8Array(600));
    assert.equal(budget.bytes, 1200);
    const held = budget.whenFits();
    assert.notEqual(held, null, "1200 of 1000: lines wait");
    let resumed = false;
    held!.then(() => resumed = true);
    // 300 bytes a write: 900, 600, then 300 (half of the bound is 500).
    for (const left of [900, 600]) {
      await waitUntil(() => peer.waiting === 1, "a write waiting");
      peer.step();
      await waitUntil(() => budget.bytes === left, `${left} bytes left`);
      await Promise.resolve();
      assert.equal(resumed, false, "still over half of the bound");
    }
    await waitUntil(() => peer.waiting === 1, "a write waiting");
    peer.step();
    await waitUntil(() => resumed, "lines going on");
    assert.equal(budget.bytes, 300);
    assert.equal(budget.whenFits(), null);
    peer.read();
    await outbox.drain();
    assert.equal(budget.bytes, 0);
  } finally {
    outbox.close();
  }
});

Deno.test("a sender that asks the budget keeps the queues of readers that stopped bounded, and every line arrives", async () => {
  const budget = new OutputBudget({ maxBytes: 20_000, stallMs: 60_000 });
  const peers = Array.from({ length: 10 }, () => new Peer({ reading: false }));
  const outboxes = peers.map((writer) => new Outbox({ writer, budget }));
  const lines = 300, size = 100;
  try {
    const sending = broadcast(budget, outboxes, lines, size);
    // Nobody reads: the sender stops once the bound is passed.
    await waitUntil(() => budget.whenFits() !== null, "the bound passed");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(
      budget.bytes <= 20_000 + 10 * size,
      `${budget.bytes} bytes held: more than the bound and one line`,
    );
    for (const peer of peers) peer.read();
    const most = await sending;
    assert.ok(most <= 20_000 + 10 * size, `held ${most} at most`);
    await Promise.all(outboxes.map((outbox) => outbox.drain()));
    const expected = expectedText(lines, size);
    for (const peer of peers) assert.equal(peer.text, expected);
    assert.equal(budget.bytes, 0);
  } finally {
    for (const outbox of outboxes) outbox.close();
  }
});

Deno.test("readers that keep reading are waited for, however slow, and lose nothing", async () => {
  const budget = new OutputBudget({ maxBytes: 5_000, stallMs: 20 });
  const peers = Array.from(
    { length: 8 },
    () => new Peer({ reading: true, perCall: 64 }),
  );
  let cuts = 0;
  const outboxes = peers.map((writer) =>
    new Outbox({ writer, budget, onOverflow: () => cuts++ })
  );
  const lines = 200, size = 64;
  try {
    // Draining the bound takes these readers far longer than 20 ms.
    await broadcast(budget, outboxes, lines, size);
    await Promise.all(outboxes.map((outbox) => outbox.drain()));
    assert.equal(cuts, 0);
    const expected = expectedText(lines, size);
    for (const peer of peers) assert.equal(peer.text, expected);
  } finally {
    for (const outbox of outboxes) outbox.close();
  }
});

Deno.test("a reader that stopped while the others read is cut once it holds the lines back", async () => {
  const budget = new OutputBudget({ maxBytes: 10_000, stallMs: 30 });
  const peers = Array.from(
    { length: 10 },
    (_, i) => new Peer({ reading: i !== 3 }),
  );
  const cut: number[] = [];
  const outboxes = peers.map((writer, i) =>
    new Outbox({ writer, budget, onOverflow: () => cut.push(i) })
  );
  const lines = 400, size = 100;
  try {
    await broadcast(budget, outboxes, lines, size);
    await Promise.all(outboxes.map((outbox) => outbox.drain()));
    assert.deepEqual(cut, [3], "only the reader that stopped");
    assert.equal(outboxes[3].closed, true);
    const expected = expectedText(lines, size);
    for (const [i, peer] of peers.entries()) {
      if (i !== 3) assert.equal(peer.text, expected);
    }
    assert.equal(budget.bytes, 0);
    assert.equal(budget.size, 9);
  } finally {
    for (const outbox of outboxes) outbox.close();
    peers[3].read();
    await waitUntil(() => peers[3].inFlight === 0, "the parked write");
  }
});

Deno.test("a reader far behind all the others is cut, though it reads a trickle", async () => {
  const budget = new OutputBudget({ maxBytes: 10_000, stallMs: 30 });
  const peers = Array.from(
    { length: 10 },
    (_, i) => new Peer({ reading: true, perCall: i === 6 ? 1 : Infinity }),
  );
  const cut: number[] = [];
  const outboxes = peers.map((writer, i) =>
    new Outbox({ writer, budget, onOverflow: () => cut.push(i) })
  );
  const lines = 400, size = 100;
  try {
    await broadcast(budget, outboxes, lines, size);
    await Promise.all(outboxes.map((outbox) => outbox.drain()));
    assert.deepEqual(cut, [6], "only the reader far behind");
    const expected = expectedText(lines, size);
    for (const [i, peer] of peers.entries()) {
      if (i !== 6) assert.equal(peer.text, expected);
    }
    assert.equal(budget.bytes, 0);
  } finally {
    for (const outbox of outboxes) outbox.close();
    await waitUntil(() => peers[6].inFlight === 0, "the last write");
  }
});

Deno.test("a budget of 0 bounds nothing", () => {
  const budget = new OutputBudget({ maxBytes: 0 });
  const outbox = new Outbox({ writer: new Peer({ reading: false }), budget });
  outbox.send(new Uint8Array(1 << 20));
  assert.equal(budget.whenFits(), null);
  outbox.close();
  assert.equal(budget.bytes, 0);
});
