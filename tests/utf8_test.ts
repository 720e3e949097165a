import assert from "node:assert/strict";
import { writeUtf8 } from "../lib/io/utf8.ts";

const encoder = new TextEncoder();

Deno.test("writeUtf8 writes what TextEncoder makes, from the offset given", () => {
  for (
    const text of [
      "",
      "hello",
      "héllo",
      "名前 ok",
      "a\uD800b",
      "🙂🙂",
      "x\u2028",
    ]
  ) {
    const buffer = new Uint8Array(4 + text.length * 3).fill(0xff);
    const end = writeUtf8(text, buffer, 4);
    assert.deepEqual(buffer.subarray(4, end), encoder.encode(text), text);
    assert.deepEqual([...buffer.subarray(0, 4)], [255, 255, 255, 255]);
  }
});
