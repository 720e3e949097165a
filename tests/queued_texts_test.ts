import assert from "node:assert/strict";
import { QueuedTexts } from "../lib/transports/http/queued_texts.ts";
import { textFrame } from "../lib/transports/http/websocket.ts";

function queue(...outputs: (string | string[])[]): QueuedTexts {
  let node = QueuedTexts.none;
  for (const output of outputs) node = node.add(output);
  return node;
}

Deno.test("queued texts: one text frame of them all, in order, lines apart", () => {
  const run = ["b", "c"];
  assert.deepEqual(queue("a", run, "d").frame(), textFrame("a\nb\nc\nd"));
  assert.deepEqual(queue("only").frame(), textFrame("only"));
  QueuedTexts.endRound();
});

Deno.test("queued texts: sockets handed the same outputs share one node and one frame", () => {
  const run = ["x", "y"];
  const first = queue("a", run);
  const second = queue("a", run);
  assert.equal(second, first);
  assert.equal(second.frame(), first.frame());
  // One socket missed "a" (its sender), another got something of its own
  // in between: each its own texts, the others' node unchanged.
  assert.deepEqual(queue(run).frame(), textFrame("x\ny"));
  assert.deepEqual(queue("a", "own", run).frame(), textFrame("a\nown\nx\ny"));
  assert.equal(queue("a", run), first);
  // Outputs alternating at one node (two formats or rooms) are kept apart.
  const other = ["z"];
  const a = QueuedTexts.none.add("a");
  assert.equal(a.add(other), a.add(other));
  assert.equal(a.add(run), first);
  assert.deepEqual(a.add(other).frame(), textFrame("a\nz"));
  QueuedTexts.endRound();
});

Deno.test("queued texts: a new round starts a new tree", () => {
  const before = queue("a");
  QueuedTexts.endRound();
  const after = queue("a");
  assert.notEqual(after, before);
  assert.deepEqual(after.frame(), before.frame());
  QueuedTexts.endRound();
});
