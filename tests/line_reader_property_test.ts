/**
 * Property tests of the line framing: for random byte streams (CRLF, invalid
 * UTF-8, NUL, lone `\r`, lines at and over the limit), splitting the stream
 * at random points gives the same lines as feeding it whole, and both agree
 * with a simple model of the rules.
 *
 * Seeded: set PROPERTY_SEED to replay a failure; every message names the
 * seed of the failing case.
 */

import assert from "node:assert/strict";
import {
  type ByteReader,
  type Line,
  LINE_TOO_LONG,
  LineReader,
  LineSplitter,
} from "../lib/io/line_reader.ts";
import { Random } from "./random.ts";

const BASE_SEED = Number(Deno.env.get("PROPERTY_SEED") ?? 0x5eed1e) >>> 0;
const CASES = 4_000;

const encoder = new TextEncoder();

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0xc3], // a lead byte alone
  [0xe2, 0x82], // a sequence cut short
  [0xc0, 0xaf], // overlong `/`
  [0xed, 0xa0, 0x80], // a surrogate
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0x80, 0x80], // continuation bytes alone
];

const TEXTS: readonly string[] = [
  "hello",
  "héllo wörld",
  "😀 emoji",
  "e\u0301", // a combining mark
  "\ufeffbom",
  "\u009b31m C1",
  "\x1b[2J escape",
  "tab\there",
  " ",
  "",
];

/** One line's bytes, without its ending. */
function randomLineBody(random: Random, max: number): number[] {
  const bytes: number[] = [];
  // Lengths around the limit matter most: at, just under, just over.
  const target = random.pick([
    0,
    random.int(8),
    max - 1,
    max,
    max + 1,
    max + 2,
    random.int(max * 3 + 4),
  ]);
  for (let guard = 0; bytes.length < target && guard < 10_000; guard++) {
    switch (random.int(7)) {
      case 0:
        bytes.push(...random.pick(INVALID_UTF8));
        break;
      case 1:
        bytes.push(0); // NUL
        break;
      case 2:
        bytes.push(13); // a lone `\r` inside the line
        break;
      case 3:
        bytes.push(...encoder.encode(random.pick(TEXTS)));
        break;
      case 4:
        bytes.push(random.int(256) === 10 ? 11 : random.int(256));
        break;
      default:
        bytes.push(0x61 + random.int(26));
    }
  }
  return bytes.filter((b) => b !== 10);
}

/** A random stream: lines with `\n` or `\r\n`, maybe an unfinished last one. */
function randomStream(random: Random, max: number): Uint8Array {
  const bytes: number[] = [];
  const lines = random.int(12);
  for (let i = 0; i < lines; i++) {
    bytes.push(...randomLineBody(random, max));
    const ending = random.int(10);
    if (ending < 5) bytes.push(10);
    else if (ending < 8) bytes.push(13, 10);
    else if (ending < 9) bytes.push(13, 13, 10);
    else bytes.push(13); // a `\r` that ends nothing; the line goes on
  }
  if (random.chance(0.5)) bytes.push(...randomLineBody(random, max));
  if (random.chance(0.2)) bytes.push(13);
  return new Uint8Array(bytes);
}

/** Cuts `bytes` into pieces at random points (empty pieces included). */
function randomSplit(random: Random, bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    const size = random.chance(0.1) ? 0 : 1 + random.int(
      random.chance(0.5) ? 4 : bytes.length,
    );
    pieces.push(bytes.subarray(start, start + size));
    start += size;
  }
  if (random.chance(0.3)) pieces.push(new Uint8Array(0));
  return pieces;
}

interface Framed {
  lines: Line[];
  rest: string | null;
}

function frameWhole(bytes: Uint8Array, max: number): Framed {
  const splitter = new LineSplitter({ maxLineBytes: max });
  const lines: Line[] = [];
  splitter.push(bytes, lines);
  return { lines, rest: splitter.takeRest() };
}

function framePieces(pieces: Uint8Array[], max: number): Framed {
  const splitter = new LineSplitter({ maxLineBytes: max });
  const lines: Line[] = [];
  // Copies, so that a splitter keeping a view of its input would show.
  for (const piece of pieces) {
    const copy = piece.slice();
    splitter.push(copy, lines);
    copy.fill(0x21);
  }
  return { lines, rest: splitter.takeRest() };
}

/** A reader that hands out `bytes` in random amounts, never over the ask. */
class ChunkedReader implements ByteReader {
  #bytes: Uint8Array;
  #offset = 0;
  #random: Random;
  constructor(bytes: Uint8Array, random: Random) {
    this.#bytes = bytes;
    this.#random = random;
  }
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#offset >= this.#bytes.length) return Promise.resolve(null);
    const left = this.#bytes.length - this.#offset;
    const want = this.#random.chance(0.5)
      ? buffer.length // fill it, so the reader grows its buffer
      : 1 + this.#random.int(Math.min(buffer.length, 64));
    const n = Math.min(want, buffer.length, left);
    buffer.set(this.#bytes.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return Promise.resolve(n);
  }
}

async function frameReader(
  bytes: Uint8Array,
  max: number,
  random: Random,
): Promise<Framed> {
  const reader = new LineReader(new ChunkedReader(bytes, random), {
    maxLineBytes: max,
    minReadBytes: 1 + random.int(32),
    maxReadBytes: 1 + random.int(512),
  });
  const lines: Line[] = [];
  // Each batch holds one line at least, so this ends within length + 1.
  for (let i = 0; i <= bytes.length; i++) {
    const batch = await reader.next();
    if (batch === null) break;
    assert.ok(batch.length > 0, "an empty batch");
    lines.push(...batch);
  }
  return { lines, rest: reader.rest() };
}

const modelDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The rules, written plainly: lines end at `\n`; one `\r` before it goes; a
 * line over `max` bytes is one LINE_TOO_LONG; invalid UTF-8 becomes U+FFFD.
 * An unfinished last line over `max + 1` bytes is reported at once; one
 * within the limit (after dropping a last `\r`) is the rest.
 */
function frameModel(bytes: Uint8Array, max: number): Framed {
  const lines: Line[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    lines.push(decodeLine(bytes.subarray(start, i), max));
    start = i + 1;
  }
  const tail = bytes.subarray(start);
  let rest: string | null = null;
  if (tail.length > max + 1) {
    lines.push(LINE_TOO_LONG);
  } else if (tail.length > 0) {
    const line = decodeLine(tail, max);
    rest = typeof line === "string" ? line : null;
  }
  return { lines, rest };
}

function decodeLine(line: Uint8Array, max: number): Line {
  const end = line.length > 0 && line[line.length - 1] === 13
    ? line.length - 1
    : line.length;
  return end > max ? LINE_TOO_LONG : modelDecoder.decode(line.subarray(0, end));
}

function show(framed: Framed): string {
  return JSON.stringify({
    lines: framed.lines.map((l) => typeof l === "string" ? l : "<TOO LONG>"),
    rest: framed.rest,
  });
}

Deno.test("line splitter gives the same lines however the stream is split", () => {
  for (let c = 0; c < CASES; c++) {
    const seed = (BASE_SEED + c * 0x9e3779b9) >>> 0;
    const random = new Random(seed);
    const max = random.chance(0.8) ? 1 + random.int(24) : 1 + random.int(600);
    const stream = randomStream(random, max);
    const whole = frameWhole(stream, max);
    const model = frameModel(stream, max);
    const why = `PROPERTY_SEED=${BASE_SEED} case ${c} (seed ${seed}), ` +
      `maxLineBytes ${max}, stream ${JSON.stringify([...stream])}`;
    assert.equal(show(whole), show(model), `whole vs model; ${why}`);
    for (let s = 0; s < 4; s++) {
      const pieces = randomSplit(random, stream);
      const split = framePieces(pieces, max);
      assert.equal(
        show(split),
        show(whole),
        `split vs whole at ${
          JSON.stringify(pieces.map((p) => p.length))
        }; ${why}`,
      );
    }
  }
});

Deno.test("line reader gives the same lines however reads cut the stream", async () => {
  for (let c = 0; c < CASES; c++) {
    const seed = (BASE_SEED ^ 0xa5a5a5a5) + c * 0x9e3779b9 >>> 0;
    const random = new Random(seed);
    const max = random.chance(0.8) ? 1 + random.int(24) : 1 + random.int(600);
    const stream = randomStream(random, max);
    const whole = frameWhole(stream, max);
    const read = await frameReader(stream, max, random);
    assert.equal(
      show(read),
      show(whole),
      `PROPERTY_SEED=${BASE_SEED} case ${c} (seed ${seed}), ` +
        `maxLineBytes ${max}, stream ${JSON.stringify([...stream])}`,
    );
  }
});

Deno.test("line splitter holds no more than the limit of an unfinished line", () => {
  for (let c = 0; c < CASES; c++) {
    const seed = (BASE_SEED ^ 0x3c3c3c3c) + c * 0x9e3779b9 >>> 0;
    const random = new Random(seed);
    const max = 1 + random.int(64);
    const splitter = new LineSplitter({ maxLineBytes: max });
    const lines: Line[] = [];
    for (const piece of randomSplit(random, randomStream(random, max))) {
      splitter.push(piece, lines);
      assert.ok(
        splitter.pendingBytes <= max + 1,
        `pending ${splitter.pendingBytes} > ${max + 1}; ` +
          `PROPERTY_SEED=${BASE_SEED} case ${c} (seed ${seed})`,
      );
    }
  }
});
