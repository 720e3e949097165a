import assert from "node:assert/strict";
import {
  type ByteReader,
  type Line,
  LINE_TOO_LONG,
  LineReader,
  LineSplitter,
} from "../lib/io/line_reader.ts";

const encoder = new TextEncoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Pushes every chunk through one splitter and returns all lines. */
function split(maxLineBytes: number, ...chunks: Uint8Array[]): Line[] {
  const splitter = new LineSplitter({ maxLineBytes });
  const out: Line[] = [];
  for (const chunk of chunks) splitter.push(chunk, out);
  return out;
}

/** Every byte of `data` as its own chunk. */
function byteByByte(data: Uint8Array): Uint8Array[] {
  return [...data].map((b) => Uint8Array.of(b));
}

/** A reader that hands out the given chunks (cut to the buffer size). */
class ChunkReader implements ByteReader {
  #chunks: Uint8Array[];
  reads = 0;

  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.map((c) => c.slice());
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.reads++;
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    const count = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, count));
    if (count < chunk.length) this.#chunks.unshift(chunk.subarray(count));
    return Promise.resolve(count);
  }
}

/** Reads every batch until the end of input. */
async function readAll(reader: LineReader): Promise<Line[][]> {
  const batches: Line[][] = [];
  for (let i = 0; i < 10_000; i++) {
    const batch = await reader.next();
    if (batch === null) return batches;
    batches.push(batch);
  }
  throw new Error("LineReader did not reach the end of input");
}

Deno.test("line splitter drops the CR of a CRLF ending", () => {
  assert.deepEqual(split(100, bytes("hello\r\nworld\r\n")), [
    "hello",
    "world",
  ]);
});

Deno.test("line splitter keeps a CR that is not at the end of the line", () => {
  assert.deepEqual(split(100, bytes("a\rb\n")), ["a\rb"]);
});

Deno.test("line splitter yields two lines from one chunk", () => {
  assert.deepEqual(split(100, bytes("first\nsecond\n")), ["first", "second"]);
});

Deno.test("line splitter holds an unfinished line until its newline", () => {
  const splitter = new LineSplitter({ maxLineBytes: 100 });
  const out: Line[] = [];
  splitter.push(bytes("one\ntw"), out);
  assert.deepEqual(out, ["one"]);
  assert.equal(splitter.pendingBytes, 2);
  splitter.push(bytes("o\n"), out);
  assert.deepEqual(out, ["one", "two"]);
  assert.equal(splitter.pendingBytes, 0);
});

Deno.test("line splitter joins one line given byte by byte", () => {
  const text = "a line sent one byte at a time\r\n";
  assert.deepEqual(split(100, ...byteByByte(bytes(text))), [
    "a line sent one byte at a time",
  ]);
});

Deno.test("line splitter yields empty lines for bare newlines", () => {
  assert.deepEqual(split(10, bytes("\n\r\n\nx\n")), ["", "", "", "x"]);
  assert.deepEqual(split(10, ...byteByByte(bytes("\r\n\n"))), ["", ""]);
});

Deno.test("line splitter reports an over-long line once and keeps the next line intact", () => {
  const input = bytes("abcdefghij\nnext\n");
  assert.deepEqual(split(5, input), [LINE_TOO_LONG, "next"]);
});

Deno.test("line splitter reports an over-long line given in many chunks once", () => {
  const input = bytes("abcdefghijklmnopqrstuvwxyz\r\nnext\r\n");
  assert.deepEqual(split(5, ...byteByByte(input)), [LINE_TOO_LONG, "next"]);
  assert.deepEqual(
    split(5, bytes("abc"), bytes("defgh"), bytes("ijk"), bytes("l\nok\n")),
    [LINE_TOO_LONG, "ok"],
  );
});

Deno.test("line splitter discards an over-long line that spans chunks up to its newline", () => {
  const splitter = new LineSplitter({ maxLineBytes: 4 });
  const out: Line[] = [];
  splitter.push(bytes("123456"), out);
  assert.deepEqual(out, [LINE_TOO_LONG]);
  splitter.push(bytes("789"), out);
  splitter.push(bytes("0"), out);
  assert.deepEqual(out, [LINE_TOO_LONG]);
  assert.equal(splitter.pendingBytes, 0);
  splitter.push(bytes("\nfine\n"), out);
  assert.deepEqual(out, [LINE_TOO_LONG, "fine"]);
});

Deno.test("line splitter accepts a line of exactly the limit", () => {
  assert.deepEqual(split(5, bytes("abcde\n")), ["abcde"]);
  assert.deepEqual(split(5, ...byteByByte(bytes("abcde\n"))), ["abcde"]);
  assert.deepEqual(split(5, bytes("abc"), bytes("de\n")), ["abcde"]);
});

Deno.test("line splitter accepts a line of exactly the limit followed by CRLF", () => {
  assert.deepEqual(split(5, bytes("abcde\r\n")), ["abcde"]);
  assert.deepEqual(split(5, ...byteByByte(bytes("abcde\r\n"))), ["abcde"]);
  assert.deepEqual(split(5, bytes("abcde\r"), bytes("\n")), ["abcde"]);
});

Deno.test("line splitter rejects a line one byte over the limit", () => {
  assert.deepEqual(split(5, bytes("abcdef\n")), [LINE_TOO_LONG]);
  assert.deepEqual(split(5, bytes("abcdef\r\n")), [LINE_TOO_LONG]);
  assert.deepEqual(split(5, ...byteByByte(bytes("abcdef\r\n"))), [
    LINE_TOO_LONG,
  ]);
  // The CR allowance does not let a sixth byte in: "abcde\r" then "x".
  assert.deepEqual(split(5, bytes("abcde\r"), bytes("x\n")), [LINE_TOO_LONG]);
});

Deno.test("line splitter counts the limit in bytes, not characters", () => {
  // "é" is two bytes in UTF-8.
  assert.deepEqual(split(4, bytes("éé\n")), ["éé"]);
  assert.deepEqual(split(4, bytes("ééé\n")), [LINE_TOO_LONG]);
});

Deno.test("line splitter turns invalid UTF-8 into U+FFFD", () => {
  const input = Uint8Array.of(0x61, 0xff, 0x62, 0xc3, 0x28, 0x0a);
  assert.deepEqual(split(100, input), ["a\uFFFDb\uFFFD("]);
  // A truncated sequence at the end of a line does not leak into the next.
  const truncated = Uint8Array.of(0x61, 0xe2, 0x82, 0x0a, 0x62, 0x0a);
  assert.deepEqual(split(100, truncated), ["a\uFFFD", "b"]);
});

Deno.test("line splitter decodes a multibyte character split across chunks", () => {
  const euro = bytes("€"); // e2 82 ac
  const grin = bytes("😀"); // four bytes
  assert.deepEqual(
    split(100, bytes("a"), euro.subarray(0, 1), euro.subarray(1), bytes("\n")),
    ["a€"],
  );
  assert.deepEqual(split(100, ...byteByByte(bytes("😀€é\n"))), ["😀€é"]);
  assert.deepEqual(
    split(100, grin.subarray(0, 3), Uint8Array.of(grin[3], 0x0a)),
    ["😀"],
  );
});

Deno.test("line reader returns lines in batches and null at the end", async () => {
  const reader = new LineReader(
    new ChunkReader([bytes("one\ntwo\nthr"), bytes("ee\n")]),
    { maxLineBytes: 100 },
  );
  assert.deepEqual(await reader.next(), ["one", "two"]);
  assert.deepEqual(await reader.next(), ["three"]);
  assert.equal(await reader.next(), null);
  assert.equal(reader.rest(), null);
});

Deno.test("line reader reads on until a batch has a line", async () => {
  const source = new ChunkReader(byteByByte(bytes("slow line\n")));
  const reader = new LineReader(source, { maxLineBytes: 100 });
  assert.deepEqual(await reader.next(), ["slow line"]);
  assert.equal(source.reads, "slow line\n".length);
});

Deno.test("line reader gives the unfinished last line from rest() at the end of input", async () => {
  const reader = new LineReader(
    new ChunkReader([bytes("done\r\nhalf "), bytes("a line")]),
    { maxLineBytes: 100 },
  );
  assert.deepEqual(await readAll(reader), [["done"]]);
  assert.equal(reader.rest(), "half a line");
  // Taken once: nothing is left afterwards.
  assert.equal(reader.rest(), null);
});

Deno.test("line reader rest() drops a trailing CR and repairs invalid UTF-8", async () => {
  const reader = new LineReader(
    new ChunkReader([Uint8Array.of(0x68, 0x69, 0xff, 0x0d)]),
    { maxLineBytes: 100 },
  );
  assert.deepEqual(await readAll(reader), []);
  assert.equal(reader.rest(), "hi\uFFFD");
});

Deno.test("line reader rest() is null after a complete last line or an over-long one", async () => {
  const complete = new LineReader(new ChunkReader([bytes("all\n")]), {
    maxLineBytes: 100,
  });
  assert.deepEqual(await readAll(complete), [["all"]]);
  assert.equal(complete.rest(), null);

  const tooLong = new LineReader(new ChunkReader([bytes("ok\nwaytoolong")]), {
    maxLineBytes: 4,
  });
  assert.deepEqual(await readAll(tooLong), [["ok", LINE_TOO_LONG]]);
  assert.equal(tooLong.rest(), null);
});

Deno.test("line reader splits a big input read through a small buffer", async () => {
  const lines = Array.from(
    { length: 500 },
    (_, i) => `line ${i} ${"x".repeat(i % 50)}`,
  );
  const reader = new LineReader(
    new ChunkReader([bytes(lines.join("\r\n") + "\r\n")]),
    { maxLineBytes: 100, minReadBytes: 16, maxReadBytes: 256 },
  );
  const batches = await readAll(reader);
  assert.deepEqual(batches.flat(), lines);
  assert.ok(batches.length > 1, "a small buffer needs more than one read");
});

Deno.test("line reader reads one whole line a read as the splitter does, its ending, limit and invalid bytes included", async () => {
  const chunks = [
    bytes("@bob hi\n"),
    bytes("crlf\r\n"),
    bytes("\n"),
    bytes("\r\n"),
    bytes("x".repeat(10) + "\n"),
    bytes("x".repeat(11) + "\n"),
    bytes("x".repeat(10) + "\r\n"),
    Uint8Array.of(0x61, 0xff, 0x62, 0x0a),
    bytes("part"),
    bytes(" of a line\n"),
    bytes("x".repeat(30)),
    bytes("rest of a long one\n"),
    bytes("after\n"),
    bytes("two\nlines\n"),
    bytes("zoë\n"),
  ];
  const reader = new LineReader(new ChunkReader(chunks), {
    maxLineBytes: 10,
    minReadBytes: 64,
  });
  const got = (await readAll(reader)).flat();
  assert.deepEqual(got, split(10, ...chunks));
  assert.deepEqual(got, [
    "@bob hi",
    "crlf",
    "",
    "",
    "x".repeat(10),
    LINE_TOO_LONG,
    "x".repeat(10),
    "a\ufffdb",
    LINE_TOO_LONG,
    LINE_TOO_LONG,
    "after",
    "two",
    "lines",
    "zoë",
  ]);
});
