import assert from "node:assert/strict";
import { concatBytes, SharedJoin } from "../lib/io/shared_join.ts";

Deno.test("concatBytes joins chunks in order and hands over a lone one", () => {
  const one = new Uint8Array([1]);
  assert.equal(concatBytes([one]), one);
  assert.deepEqual(
    concatBytes([one, new Uint8Array([2, 3]), new Uint8Array(0)]),
    new Uint8Array([1, 2, 3]),
  );
});

Deno.test("SharedJoin joins the same chunks once, anything else anew", () => {
  let calls = 0;
  const shared = new SharedJoin<string>((parts) => {
    calls++;
    return parts.join("|");
  });
  const a = "a", b = "b";
  const first = shared.join([a, b]);
  assert.equal(shared.join([a, b]), first);
  assert.equal(calls, 1);
  assert.equal(shared.join([b, a]), "b|a");
  assert.equal(shared.join(["x"]), "x");
  assert.equal(calls, 2);
  shared.forget();
  assert.equal(shared.join([b, a]), "b|a");
  assert.equal(calls, 3);
});
