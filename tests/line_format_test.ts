/**
 * The line format's bytes for a private message: exactly the text of
 * lib/room/texts.ts and a `\n`, encoded as UTF-8, whatever the characters
 * and however many are rendered in a row (they share a slab; a line
 * rendered earlier must never change).
 */

import assert from "node:assert/strict";
import { lineFormat } from "../lib/languages/line/line_format.ts";
import { serverText } from "../lib/room/texts.ts";

const encoder = new TextEncoder();

function rendered(from: string, text: string): Uint8Array {
  const output = lineFormat.render({
    type: "private",
    time: 0,
    from,
    to: "bob",
    text,
    own: false,
    via: "tcp",
  });
  assert.ok(output instanceof Uint8Array);
  return output;
}

function expected(from: string, text: string): Uint8Array {
  return encoder.encode(`${serverText.privateMessage(from, text)}\n`);
}

Deno.test("line format: a private message is its text and a newline, byte for byte", () => {
  const cases: [string, string][] = [
    ["ann", "hello"],
    ["ann", ""],
    ["zoë", "déjà vu"],
    ["漢字", "你好 🙂 and ascii"],
    ["ann", "tab\there and ~ DEL-free ascii !#$%&'()*+,-./:;<=>?@[\\]^_`{|}"],
    // A lone surrogate is encoded as U+FFFD, as TextEncoder does.
    ["ann", "half \ud83d of a pair"],
    ["ann", "x".repeat(63)],
    ["ann", "x".repeat(64)],
    ["ann", "long ".repeat(2000)],
    ["ann", "é".repeat(3000)],
  ];
  // Around the longest line put together in the shared slab.
  for (let n = 80; n < 140; n++) {
    cases.push(["ann", "y".repeat(n)], ["ann", `${"y".repeat(n)}é`]);
  }
  for (const [from, text] of cases) {
    assert.deepEqual(rendered(from, text), expected(from, text), text);
  }
});

Deno.test("line format: private messages rendered earlier keep their bytes", () => {
  const outputs: [Uint8Array, Uint8Array][] = [];
  // Enough lines, of varied lengths and scripts, to go through many slabs.
  for (let i = 0; i < 3000; i++) {
    const text = i % 7 === 0
      ? `ünïcödé ${i} ${"ä".repeat(i % 40)}`
      : `#${i} ${"x".repeat(i % 90)}`;
    outputs.push([
      rendered(`user${i % 13}`, text),
      expected(`user${i % 13}`, text),
    ]);
  }
  for (const [got, want] of outputs) assert.deepEqual(got, want);
});

Deno.test("line format: one's own private message is not echoed", () => {
  assert.equal(
    lineFormat.render({
      type: "private",
      time: 0,
      from: "ann",
      to: "bob",
      text: "hi",
      own: true,
      via: "tcp",
    }),
    null,
  );
});
