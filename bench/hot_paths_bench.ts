/**
 * Micro-benchmarks of the server's hot paths: `deno task bench:micro`.
 *
 * @module
 */

import {
  type Line,
  LINE_TOO_LONG,
  LineSplitter,
} from "../lib/io/line_reader.ts";
import { Outbox } from "../lib/io/outbox.ts";
import { parseCommand } from "../lib/languages/line/protocol.ts";
import { stripControls } from "../lib/room/sanitize.ts";
import { Registry } from "../lib/room/registry.ts";
import { serverText } from "../lib/room/texts.ts";

const encoder = new TextEncoder();
const message = "0123456789 the quick brown fox jumps over the lazy dog ok";
// 64 lines of 58 bytes in one chunk, as a busy sender's read returns them.
const chunk = encoder.encode(`${message}\r\n`.repeat(64));

Deno.bench("line splitting: 64 lines in one chunk", { group: "lines" }, () => {
  const splitter = new LineSplitter({ maxLineBytes: 4096 });
  const out: Line[] = [];
  splitter.push(chunk, out);
  if (out.length !== 64 || out[0] === LINE_TOO_LONG) throw new Error("bad");
});

Deno.bench(
  "line splitting: 64 lines in 16-byte pieces",
  { group: "lines" },
  () => {
    const splitter = new LineSplitter({ maxLineBytes: 4096 });
    const out: Line[] = [];
    for (let i = 0; i < chunk.length; i += 16) {
      splitter.push(chunk.subarray(i, i + 16), out);
    }
    if (out.length !== 64) throw new Error("bad");
  },
);

Deno.bench("parse and format a broadcast", { group: "protocol" }, () => {
  const command = parseCommand(stripControls(message));
  if (command.kind !== "say") throw new Error("bad");
  encoder.encode(`${serverText.broadcast("alice", command.text)}\n`);
});

Deno.bench("parse a private message", { group: "protocol" }, () => {
  const command = parseCommand(stripControls(`@bob ${message}`));
  if (command.kind !== "private") throw new Error("bad");
});

Deno.bench(
  "strip controls from an escape-laden line",
  { group: "protocol" },
  () => {
    stripControls("\x1b[31mred\x1b[0m and \x07bell and \x9b csi");
  },
);

const registry = new Registry<number>();
for (let i = 0; i < 10_000; i++) registry.claim(`user${i}`, i);

Deno.bench(
  "registry lookup among 10,000 (any case)",
  { group: "registry" },
  () => {
    if (registry.find("USER5000")?.member !== 5000) throw new Error("bad");
  },
);

// Distinct names, as real churn has: V8's Map is pathologically slow (tens of
// microseconds) when one key is added and deleted over and over in a large
// map, which would measure the benchmark rather than the registry.
let newcomer = 0;
Deno.bench("registry claim and release", { group: "registry" }, () => {
  const name = `newcomer${newcomer++ % 4096}`;
  registry.claim(name, -1);
  registry.release(name, -1);
});

const sink = { write: (bytes: Uint8Array) => Promise.resolve(bytes.length) };
const line = encoder.encode(`alice: ${message}\n`);

Deno.bench("outbox: 32 sends coalesced into one write", {
  group: "outbox",
}, async () => {
  const outbox = new Outbox({ writer: sink, maxQueuedBytes: 1 << 20 });
  for (let i = 0; i < 32; i++) outbox.send(line);
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  await outbox.drain();
});

Deno.bench("outbox: one send, one write", { group: "outbox" }, async () => {
  const outbox = new Outbox({ writer: sink, maxQueuedBytes: 1 << 20 });
  outbox.send(line);
  await new Promise<void>((resolve) => queueMicrotask(resolve));
  await outbox.drain();
});
