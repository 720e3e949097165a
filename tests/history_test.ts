import assert from "node:assert/strict";
import { parseLogMessage, readLogTail } from "../lib/io/log_tail.ts";
import { History } from "../lib/room/history.ts";
import { historyStamp } from "../lib/transports/line_format.ts";

const encoder = new TextEncoder();

function entry(text: string, time = 0) {
  return { time, from: "ann", text, action: false };
}

async function withLog(
  content: string | Uint8Array,
  body: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat_history_" });
  const path = `${dir}/chat_documentation.txt`;
  try {
    await Deno.writeFile(
      path,
      typeof content === "string" ? encoder.encode(content) : content,
    );
    await body(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("history ring keeps the newest messages, oldest first", () => {
  const history = new History({ limit: 3 });
  for (const text of ["a", "b", "c", "d", "e"]) history.add(entry(text));
  assert.deepEqual(history.entries().map((e) => e.text), ["c", "d", "e"]);
  assert.equal(history.size, 3);
});

Deno.test("history ring with limit 0 keeps nothing", () => {
  const history = new History({ limit: 0 });
  history.add(entry("a"));
  assert.deepEqual(history.entries(), []);
});

Deno.test("history ring below its limit returns what it has in order", () => {
  const history = new History({ limit: 20 });
  history.add(entry("a"));
  history.add(entry("b"));
  assert.deepEqual(history.entries().map((e) => e.text), ["a", "b"]);
});

Deno.test("parseLogMessage reads broadcasts and actions, nothing else", () => {
  const at = "2026-12-01T10:00:00.000Z";
  const time = Date.parse(at);
  assert.deepEqual(parseLogMessage(`${at} ann: hi: there`), {
    time,
    from: "ann",
    text: "hi: there",
    action: false,
  });
  assert.deepEqual(parseLogMessage(`${at} * ann waves`), {
    time,
    from: "ann",
    text: "waves",
    action: true,
  });
  for (
    const other of [
      `${at} ann -> bob: secret`,
      `${at} Client ann has joined the chat room (127.0.0.1:5000)`,
      `${at} Server is now alive and listening on 0.0.0.0:2025`,
      `${at} ann has left the chat`,
      `${at} ann is now known as bob`,
      `${at} Announcement: tea is ready`,
      `not a time ann: hi`,
      `${at.slice(0, 12)}`,
      "",
    ]
  ) {
    assert.equal(parseLogMessage(other), null, other);
  }
});

Deno.test("readLogTail returns the newest public messages and never a private one", async () => {
  const lines = [
    "2026-12-01T10:00:00.000Z Server is now alive and listening on 0.0.0.0:2025",
    "2026-12-01T10:00:01.000Z ann: one",
    "2026-12-01T10:00:02.000Z ann -> bob: secret",
    "2026-12-01T10:00:03.000Z * bob two",
    "2026-12-01T10:00:04.000Z bob: three",
    "2026-12-01T10:00:05.000Z Server has been shutdown",
  ];
  await withLog(lines.join("\n") + "\n", async (path) => {
    const tail = await readLogTail({ path, limit: 2, maxBytes: 1 << 20 });
    assert.deepEqual(tail.entries.map((e) => e.text), ["two", "three"]);
    const all = await readLogTail({ path, limit: 20, maxBytes: 1 << 20 });
    assert.deepEqual(all.entries.map((e) => e.text), ["one", "two", "three"]);
  });
});

Deno.test("readLogTail skips a last line that was cut off", async () => {
  const text = "2026-12-01T10:00:01.000Z ann: whole\n" +
    "2026-12-01T10:00:02.000Z ann: cut o";
  await withLog(text, async (path) => {
    const tail = await readLogTail({ path, limit: 20, maxBytes: 1 << 20 });
    assert.deepEqual(tail.entries.map((e) => e.text), ["whole"]);
  });
});

Deno.test("readLogTail survives invalid UTF-8 and garbage lines", async () => {
  const good = encoder.encode("2026-12-01T10:00:01.000Z ann: fine\n");
  const bad = new Uint8Array([0xff, 0xfe, 0x0a, 0xc3, 0x28, 0x20, 0x0a]);
  const bad2 = encoder.encode("2026-12-01T10:00:02.000Z ann: caf");
  const content = new Uint8Array([
    ...good,
    ...bad,
    ...bad2,
    0xe9,
    0x0a,
    ...encoder.encode("garbage without a time\n"),
  ]);
  await withLog(content, async (path) => {
    const tail = await readLogTail({ path, limit: 20, maxBytes: 1 << 20 });
    assert.deepEqual(tail.entries.map((e) => e.text), ["fine", "caf\ufffd"]);
  });
});

Deno.test("readLogTail of a missing log is an empty history", async () => {
  const tail = await readLogTail({
    path: "/nonexistent/chat_documentation.txt",
    limit: 20,
    maxBytes: 1000,
  });
  assert.deepEqual(tail, { entries: [], bytesRead: 0 });
});

Deno.test("readLogTail of a 200 MB log reads only its end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat_history_big_" });
  const path = `${dir}/chat_documentation.txt`;
  try {
    // A sparse 200 MB file (the disk holds almost none of it), then a tail.
    const file = await Deno.open(path, { write: true, create: true });
    await file.truncate(200 * 1024 * 1024);
    file.close();
    const tail = [];
    for (let i = 0; i < 30; i++) {
      tail.push(
        `2026-12-01T10:00:${String(i).padStart(2, "0")}.000Z ann: m${i}`,
      );
    }
    await Deno.writeTextFile(path, tail.join("\n") + "\n", { append: true });
    const maxBytes = 20 * (4096 + 200);
    const read = await readLogTail({ path, limit: 20, maxBytes });
    assert.equal(read.bytesRead, maxBytes);
    assert.deepEqual(
      read.entries.map((e) => e.text),
      Array.from({ length: 20 }, (_, i) => `m${i + 10}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("historyStamp shows HH:MM today and the date before it otherwise", () => {
  const now = new Date(2026, 11, 1, 15, 30).getTime();
  assert.equal(
    historyStamp(new Date(2026, 11, 1, 9, 5).getTime(), now),
    "09:05",
  );
  assert.equal(
    historyStamp(new Date(2026, 10, 30, 23, 59).getTime(), now),
    "2026-11-30 23:59",
  );
});
