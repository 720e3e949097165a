import assert from "node:assert/strict";
import {
  encodeCommand,
  RespError,
  RespParser,
  type RespParserOptions,
  RespProtocolError,
  RespPush,
  type RespValue,
} from "../lib/engine/resp.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Parses `input` fed in one chunk. */
function parseAll(
  input: string | Uint8Array,
  options?: RespParserOptions,
): RespValue[] {
  const out: RespValue[] = [];
  new RespParser(options).push(
    typeof input === "string" ? bytes(input) : input,
    out,
  );
  return out;
}

/** Parses `input` cut in two at every byte, and one byte a chunk. */
function assertEverySplit(input: string, expected: RespValue[]): void {
  const data = bytes(input);
  for (let cut = 0; cut <= data.length; cut++) {
    const parser = new RespParser();
    const out: RespValue[] = [];
    parser.push(data.subarray(0, cut), out);
    parser.push(data.subarray(cut), out);
    assert.deepEqual(out, expected, `cut at byte ${cut}`);
    assert.equal(parser.inReply, false, `nothing held after cut ${cut}`);
  }
  const parser = new RespParser();
  const out: RespValue[] = [];
  for (let i = 0; i < data.length; i++) {
    parser.push(data.subarray(i, i + 1), out);
  }
  assert.deepEqual(out, expected, "one byte a chunk");
}

Deno.test("encodeCommand writes an array of bulk strings", () => {
  assert.equal(
    decoder.decode(encodeCommand(["SET", "key", "välue", 42])),
    "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvälue\r\n$2\r\n42\r\n",
  );
  assert.equal(decoder.decode(encodeCommand([])), "*0\r\n");
  const raw = encodeCommand([new Uint8Array([0, 13, 10, 255])]);
  assert.deepEqual(
    raw,
    new Uint8Array([...bytes("*1\r\n$4\r\n"), 0, 13, 10, 255, 13, 10]),
  );
});

Deno.test("encodeCommand counts UTF-8 bytes as TextEncoder writes them", () => {
  const texts = [
    "ascii",
    "é",
    "€",
    "😀 pair",
    "lone \ud800 high",
    "lone \udc00",
    "end \ud83d",
  ];
  for (const text of texts) {
    const utf8 = encoder.encode(text);
    const expected = new Uint8Array([
      ...bytes(`*1\r\n$${utf8.length}\r\n`),
      ...utf8,
      13,
      10,
    ]);
    assert.deepEqual(encodeCommand([text]), expected, JSON.stringify(text));
  }
});

Deno.test("encodeCommand output parses back to the same strings", () => {
  const args = ["", "a", "x".repeat(9), "y".repeat(10), "z".repeat(1000)];
  assert.deepEqual(parseAll(encodeCommand(args)), [args]);
});

Deno.test("every RESP2 type parses whole and split at every byte", () => {
  const input = "+OK\r\n" +
    "-ERR unknown command 'FOO'\r\n" +
    ":42\r\n:-7\r\n" +
    "$5\r\nhello\r\n$0\r\n\r\n$-1\r\n" +
    "*2\r\n$1\r\na\r\n:1\r\n*0\r\n*-1\r\n" +
    "$4\r\na\r\nb\r\n";
  const expected: RespValue[] = [
    "OK",
    new RespError("ERR unknown command 'FOO'"),
    42,
    -7,
    "hello",
    "",
    null,
    ["a", 1],
    [],
    null,
    "a\r\nb",
  ];
  assertEverySplit(input, expected);
});

Deno.test("nested arrays, with errors and nulls inside", () => {
  const input = "*3\r\n*2\r\n*1\r\n:1\r\n*0\r\n-WRONGTYPE bad\r\n" +
    "*2\r\n$-1\r\n*1\r\n+deep\r\n";
  const expected: RespValue[] = [
    [[[1], []], new RespError("WRONGTYPE bad"), [null, ["deep"]]],
  ];
  assertEverySplit(input, expected);
});

Deno.test("an error reply carries its code", () => {
  const [error] = parseAll("-NOSCRIPT No matching script.\r\n");
  assert.ok(error instanceof RespError);
  assert.equal(error.code, "NOSCRIPT");
  assert.equal(error.message, "NOSCRIPT No matching script.");
  const [bare] = parseAll("-ERR\r\n");
  assert.ok(bare instanceof RespError);
  assert.equal(bare.code, "ERR");
});

Deno.test("integers beyond 2^53 become bigints", () => {
  assert.deepEqual(parseAll(":9007199254740993\r\n:-9223372036854775808\r\n"), [
    9007199254740993n,
    -9223372036854775808n,
  ]);
});

Deno.test("RESP3 frames are read: push, map, set, null, boolean, double", () => {
  const input = ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n" +
    "%2\r\n+a\r\n:1\r\n+b\r\n#t\r\n" +
    "~2\r\n+x\r\n+y\r\n" +
    "_\r\n#f\r\n,1.5\r\n,-inf\r\n(12345678901234567890\r\n" +
    "=8\r\ntxt:some\r\n" +
    "|1\r\n+ttl\r\n:3\r\n+after-attribute\r\n" +
    "!10\r\nERR broken\r\n";
  const expected: RespValue[] = [
    new RespPush(["message", "ch", "hi"]),
    new Map<RespValue, RespValue>([["a", 1], ["b", true]]),
    ["x", "y"],
    null,
    false,
    1.5,
    -Infinity,
    12345678901234567890n,
    "some",
    "after-attribute",
    new RespError("ERR broken"),
  ];
  assertEverySplit(input, expected);
});

Deno.test("a big bulk string in many chunks", () => {
  const size = 3 * 1024 * 1024;
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = 97 + (i % 26);
  const head = bytes(`$${size}\r\n`);
  const tail = bytes("\r\n+next\r\n");
  const data = new Uint8Array(head.length + size + tail.length);
  data.set(head);
  data.set(payload, head.length);
  data.set(tail, head.length + size);
  const parser = new RespParser({ bulkAs: "bytes" });
  const out: RespValue[] = [];
  for (let at = 0; at < data.length; at += 65536) {
    parser.push(data.subarray(at, at + 65536), out);
  }
  assert.equal(out.length, 2);
  assert.deepEqual(out[0], payload);
  assert.equal(out[1], "next");
  assert.equal(parser.pendingBytes, 0);
});

Deno.test("a long array in many chunks keeps order", () => {
  const count = 20_000;
  let text = `*${count}\r\n`;
  for (let i = 0; i < count; i++) text += `:${i}\r\n`;
  const data = bytes(text);
  const parser = new RespParser();
  const out: RespValue[] = [];
  for (let at = 0; at < data.length; at += 777) {
    parser.push(data.subarray(at, at + 777), out);
  }
  assert.deepEqual(out, [Array.from({ length: count }, (_, i) => i)]);
});

Deno.test("bulk strings as bytes are copies, safe from buffer reuse", () => {
  const chunk = bytes("$3\r\nabc\r\n");
  const parser = new RespParser({ bulkAs: "bytes" });
  const out: RespValue[] = [];
  parser.push(chunk, out);
  chunk.fill(0);
  assert.deepEqual(out, [bytes("abc")]);
});

Deno.test("malformed input gives a clear error, not a wait", async (t) => {
  const cases: [string, RegExp][] = [
    ["?what\r\n", /Invalid RESP type byte "\?" \(0x3f\)/],
    [":12a\r\n", /Invalid RESP integer "12a"/],
    ["$abc\r\n", /Invalid RESP length "abc"/],
    ["$-2\r\n", /Invalid RESP length "-2"/],
    ["*-5\r\n", /Invalid RESP length "-5"/],
    ["$3\r\nabcde\r\n", /no "\\r\\n" after its 3 bytes/],
    ["+OK\n", /"\\n" without "\\r"/],
    ["+OK\rX", /"\\r" not followed by "\\n"/],
    ["#x\r\n", /Invalid RESP boolean "x"/],
    [",one\r\n", /Invalid RESP double "one"/],
    ["~-1\r\n", /Invalid RESP length/],
    ["\r\n", /Invalid RESP type byte/],
    ["HTTP/1.1 400 Bad Request\r\n", /Invalid RESP type byte "H"/],
  ];
  for (const [input, message] of cases) {
    await t.step(JSON.stringify(input), () => {
      assert.throws(() => parseAll(input), (error: unknown) => {
        assert.ok(error instanceof RespProtocolError);
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

Deno.test("a header line with no end is refused at the limit", () => {
  const parser = new RespParser({ maxLineBytes: 100 });
  const out: RespValue[] = [];
  parser.push(bytes("+" + "a".repeat(99)), out);
  assert.throws(
    () => parser.push(bytes("aa"), out),
    /Invalid RESP line: longer than 100 bytes at "\+aaaa/,
  );
});

Deno.test("lengths over the limits are refused before waiting", () => {
  assert.throws(
    () => parseAll("$1000\r\n", { maxBulkBytes: 999 }),
    /RESP length "1000" is over the limit of 999/,
  );
  assert.throws(
    () => parseAll("*10\r\n", { maxElements: 9 }),
    /RESP length "10" is over the limit of 9/,
  );
});

Deno.test("after an error the parser keeps failing", () => {
  const parser = new RespParser();
  const out: RespValue[] = [];
  assert.throws(
    () => parser.push(bytes("+OK\r\n?\r\n"), out),
    RespProtocolError,
  );
  assert.deepEqual(out, ["OK"], "the replies before the error are kept");
  assert.throws(() => parser.push(bytes("+OK\r\n"), out), /type byte "\?"/);
  assert.deepEqual(out, ["OK"]);
});

Deno.test("incomplete input waits without output", () => {
  const parser = new RespParser();
  const out: RespValue[] = [];
  parser.push(bytes("*2\r\n$5\r\nhel"), out);
  assert.deepEqual(out, []);
  assert.equal(parser.inReply, true);
  parser.push(bytes("lo\r\n:1\r\n"), out);
  assert.deepEqual(out, [["hello", 1]]);
  assert.equal(parser.inReply, false);
});
