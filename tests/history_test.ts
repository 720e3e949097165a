import assert from "node:assert/strict";
import { readLogTail } from "../lib/io/log_tail.ts";
import { readLogStart } from "../lib/app/log_start.ts";
import { parseLogMessage } from "../lib/room/log_review.ts";
import { History } from "../lib/room/history.ts";
import { historyStamp } from "../lib/languages/line/line_format.ts";

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
      `${at} The previous run ended without a shutdown`,
      `${at} ann has been disconnected (server stopped without a shutdown)`,
      `${at} Client ann is in the chat room on another server (10.0.0.1:5)`,
      `${at} ann is no longer followed here (no client on this server)`,
      `${at} Lost the link to the room's other servers; only this server's users hear each other until it is back`,
      `${at} The link to the room's other servers is back`,
      `${at} This server lost its place in the room; its users were disconnected and it starts afresh`,
      `not a time ann: hi`,
      `${at.slice(0, 12)}`,
      "",
    ]
  ) {
    assert.equal(parseLogMessage(other), null, other);
  }
});

/** The history a start reads from the log at `path`. */
async function historyOf(
  path: string,
  limit: number,
  historyBytes = 1 << 20,
) {
  return (await readLogStart({ path, historyLimit: limit, historyBytes }))
    .history;
}

Deno.test("the log's history: the newest public messages and never a private one", async () => {
  const lines = [
    "2026-12-01T10:00:00.000Z Server is now alive and listening on 0.0.0.0:2025",
    "2026-12-01T10:00:01.000Z ann: one",
    "2026-12-01T10:00:02.000Z ann -> bob: secret",
    "2026-12-01T10:00:03.000Z * bob two",
    "2026-12-01T10:00:04.000Z bob: three",
    "2026-12-01T10:00:05.000Z Server has been shutdown",
  ];
  await withLog(lines.join("\n") + "\n", async (path) => {
    const two = await historyOf(path, 2);
    assert.deepEqual(two.map((e) => e.text), ["two", "three"]);
    const all = await historyOf(path, 20);
    assert.deepEqual(all.map((e) => e.text), ["one", "two", "three"]);
  });
});

Deno.test("the log's history skips a last line that was cut off", async () => {
  const text = "2026-12-01T10:00:01.000Z ann: whole\n" +
    "2026-12-01T10:00:02.000Z ann: cut o";
  await withLog(text, async (path) => {
    const history = await historyOf(path, 20);
    assert.deepEqual(history.map((e) => e.text), ["whole"]);
  });
});

Deno.test("the log's history survives invalid UTF-8 and garbage lines", async () => {
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
    const history = await historyOf(path, 20);
    assert.deepEqual(history.map((e) => e.text), ["fine", "caf\ufffd"]);
  });
});

Deno.test("a missing log is an empty history and no recovery", async () => {
  const start = await readLogStart({
    path: "/nonexistent/chat_documentation.txt",
    historyLimit: 20,
    historyBytes: 1000,
  });
  assert.deepEqual(start, { history: [], recovery: [] });
  const tail = await readLogTail({
    path: "/nonexistent/chat_documentation.txt",
    maxBytes: 1000,
    visit: () => true,
  });
  assert.deepEqual(tail, { bytesRead: 0, size: 0, cutShort: false });
});

Deno.test("a 200 MB log: only its end is read, for history and for how it ended", async () => {
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
    let visited = 0;
    const read = await readLogTail({
      path,
      maxBytes,
      visit: () => ++visited < 1000,
    });
    assert.equal(read.bytesRead, maxBytes);
    // The first line of the tail runs on from the zeros before it.
    assert.equal(visited, 29);
    // History stops at its limit; a clean end needs no more.
    await Deno.writeTextFile(path, "2026-12-01T10:01:00.000Z Chat finished\n", {
      append: true,
    });
    const start = await readLogStart({
      path,
      historyLimit: 20,
      historyBytes: maxBytes,
    });
    assert.deepEqual(
      start.history.map((e) => e.text),
      Array.from({ length: 20 }, (_, i) => `m${i + 10}`),
    );
    assert.deepEqual(start.recovery, []);
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

Deno.test("readLogTail: lines newest first across chunks, the cut end and an overlong line skipped", async () => {
  const lines = Array.from(
    { length: 50 },
    (_, i) => `line ${i} ` + "é".repeat(i),
  );
  const long = "x".repeat(300);
  const content = [...lines.slice(0, 25), long, ...lines.slice(25)].join("\n") +
    "\ncut sho";
  await withLog(content, async (path) => {
    for (const chunkBytes of [1, 7, 64, 1 << 16]) {
      const seen: string[] = [];
      const offsets: number[] = [];
      const tail = await readLogTail({
        path,
        maxBytes: 1 << 20,
        chunkBytes,
        maxLineBytes: 200,
        visit: (line, fromEnd) => {
          seen.push(line);
          offsets.push(fromEnd);
          return true;
        },
      });
      assert.equal(tail.cutShort, true);
      assert.deepEqual(
        seen,
        lines.slice().reverse(),
        `chunks of ${chunkBytes}`,
      );
      const size = encoder.encode(content).length;
      assert.equal(tail.size, size);
      // Each offset is where its line begins.
      const bytes = await Deno.readFile(path);
      for (const [i, line] of seen.entries()) {
        const at = size - offsets[i];
        assert.equal(
          new TextDecoder().decode(
            bytes.subarray(at, at + encoder.encode(line).length),
          ),
          line,
        );
      }
    }
    // Stops when asked, and a window that begins mid-line skips that line.
    const few: string[] = [];
    await readLogTail({
      path,
      maxBytes: 1 << 20,
      visit: (line) => few.push(line) < 3,
    });
    assert.deepEqual(few, [
      "line 49 " + "é".repeat(49),
      "line 48 " + "é".repeat(48),
      "line 47 " + "é".repeat(47),
    ]);
    const last: string[] = [];
    await readLogTail({
      path,
      maxBytes: 20,
      visit: (line) => last.push(line) > 0,
    });
    assert.deepEqual(last, []);
  });
});
