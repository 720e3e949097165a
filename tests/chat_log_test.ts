import assert from "node:assert/strict";
import { ChatLog } from "../lib/io/chat_log.ts";
import { waitUntil } from "./helpers.ts";

const ISO_LINE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (.*)$/;

/** Runs `body` with a fresh temp dir, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat_log_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function fileLines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
}

Deno.test("chat log writes each event as an ISO-8601 timestamp, a space and the event", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const log = await ChatLog.open({ path, now: () => at });
    log.record("Server is now alive and listening on 127.0.0.1:2025");
    log.record("alice: hello  world");
    assert.equal(await log.close(), 0);
    assert.equal(
      await Deno.readTextFile(path),
      "2024-01-02T03:04:05.678Z Server is now alive and listening on 127.0.0.1:2025\n" +
        "2024-01-02T03:04:05.678Z alice: hello  world\n",
    );
  });
});

Deno.test("chat log timestamps events with the current time", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    const before = Date.now();
    const log = await ChatLog.open({ path });
    log.record("event");
    await log.close();
    const after = Date.now();
    const [line] = fileLines(path);
    const match = line.match(ISO_LINE);
    assert.ok(match, line);
    assert.equal(match[2], "event");
    const stamp = Date.parse(match[1]);
    assert.ok(stamp >= before && stamp <= after, `${match[1]} not in range`);
  });
});

Deno.test("chat log appends to an existing file across two instances and never truncates", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    await Deno.writeTextFile(path, "earlier content\n");
    const first = await ChatLog.open({ path });
    first.record("first run");
    await first.close();
    const afterFirst = await Deno.readTextFile(path);

    const second = await ChatLog.open({ path });
    // Opening alone must leave the file as it was.
    assert.equal(await Deno.readTextFile(path), afterFirst);
    second.record("second run");
    await second.close();

    const text = await Deno.readTextFile(path);
    assert.ok(text.startsWith(afterFirst), "the first run's lines are intact");
    const lines = text.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 3);
    assert.equal(lines[0], "earlier content");
    assert.match(lines[1], ISO_LINE);
    assert.ok(lines[1].endsWith(" first run"), lines[1]);
    assert.match(lines[2], ISO_LINE);
    assert.ok(lines[2].endsWith(" second run"), lines[2]);
  });
});

Deno.test("chat log puts events on disk within a second without close()", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    const log = await ChatLog.open({ path });
    try {
      log.record("early event");
      log.record("second event");
      await waitUntil(
        () => fileLines(path).length === 2,
        "the events in the file",
        1_000,
      );
      const events = fileLines(path).map((l) => l.match(ISO_LINE)?.[2]);
      assert.deepEqual(events, ["early event", "second event"]);
      // Later events are written too, without a close.
      log.record("third event");
      await waitUntil(
        () => fileLines(path).length === 3,
        "the third event in the file",
        1_000,
      );
    } finally {
      await log.close();
    }
  });
});

Deno.test("chat log close() writes every event still in memory, in order", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    // A long interval: nothing is written before close().
    const log = await ChatLog.open({ path, flushIntervalMs: 60_000 });
    const events = Array.from({ length: 1000 }, (_, i) => `event ${i}`);
    for (const event of events) log.record(event);
    assert.equal(await Deno.readTextFile(path), "");
    assert.equal(await log.close(), 0);
    const written = fileLines(path).map((l) => l.match(ISO_LINE)?.[2]);
    assert.deepEqual(written, events);
  });
});

Deno.test("chat log flush() writes what was recorded so far", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    const log = await ChatLog.open({ path, flushIntervalMs: 60_000 });
    try {
      log.record("flushed");
      await log.flush();
      assert.deepEqual(fileLines(path).map((l) => l.match(ISO_LINE)?.[2]), [
        "flushed",
      ]);
    } finally {
      await log.close();
    }
  });
});

Deno.test("chat log ignores events recorded after close()", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    const log = await ChatLog.open({ path });
    log.record("before");
    await log.close();
    log.record("after");
    assert.equal(await log.close(), 0);
    assert.deepEqual(fileLines(path).map((l) => l.match(ISO_LINE)?.[2]), [
      "before",
    ]);
  });
});

Deno.test("chat log open creates the file if it is missing", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/new.txt`;
    const log = await ChatLog.open({ path });
    await log.close();
    assert.equal((await Deno.stat(path)).isFile, true);
  });
});

Deno.test("chat log open fails with a clear message for an unwritable path", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/no/such/dir/log.txt`;
    await assert.rejects(ChatLog.open({ path }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(
        error.message.startsWith(`Cannot open the chat log "${path}": `),
        error.message,
      );
      assert.doesNotMatch(error.message, /os error/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
});

Deno.test("chat log open fails with a clear message when the path is a directory", async () => {
  await inTempDir(async (dir) => {
    await assert.rejects(ChatLog.open({ path: dir }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(
        error.message.startsWith(`Cannot open the chat log "${dir}": `),
        error.message,
      );
      return true;
    });
  });
});

Deno.test("chat log ends a last line that was cut short before writing its own, and only then", async () => {
  await inTempDir(async (dir) => {
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const cut = `${dir}/cut.txt`;
    await Deno.writeTextFile(cut, "2024-01-01T00:00:00.000Z alice: hal");
    const log = await ChatLog.open({ path: cut, now: () => at });
    log.record("one");
    await log.flush();
    log.record("two");
    await log.close();
    assert.equal(
      await Deno.readTextFile(cut),
      "2024-01-01T00:00:00.000Z alice: hal\n" +
        "2024-01-02T03:04:05.678Z one\n2024-01-02T03:04:05.678Z two\n",
    );
    // A whole last line, or an empty file, gets nothing added.
    for (const content of ["2024-01-01T00:00:00.000Z Chat finished\n", ""]) {
      const path = `${dir}/whole.txt`;
      await Deno.writeTextFile(path, content);
      const whole = await ChatLog.open({ path, now: () => at });
      whole.record("three");
      await whole.close();
      assert.equal(
        await Deno.readTextFile(path),
        content + "2024-01-02T03:04:05.678Z three\n",
      );
    }
  });
});

Deno.test("chat log tells its problems as values: failing with a reason, then recovered", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/sub/log.txt`;
    await Deno.mkdir(`${dir}/sub`);
    const problems: unknown[] = [];
    const log = await ChatLog.open({
      path,
      flushIntervalMs: 10,
      onProblem: (problem) => problems.push(problem),
    });
    await Deno.remove(`${dir}/sub`, { recursive: true });
    log.record("lost for now");
    await waitUntil(() => problems.length === 1, "the failure");
    assert.deepEqual(Object.keys(problems[0] as object).sort(), [
      "kind",
      "path",
      "reason",
    ]);
    assert.equal((problems[0] as { kind: string }).kind, "failing");
    await Deno.mkdir(`${dir}/sub`);
    await waitUntil(() => problems.length === 2, "the recovery");
    assert.deepEqual(problems[1], { kind: "recovered", path });
    await log.close();
    assert.match(await Deno.readTextFile(path), / lost for now\n$/);
  });
});

Deno.test("chat log writes any text as UTF-8, byte for byte, across many batches", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/log.txt`;
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const log = await ChatLog.open({ path, now: () => at });
    const events: string[] = [];
    for (let i = 0; i < 5000; i++) {
      events.push(
        i % 5 === 0
          ? `zoë -> 漢字: ${i} 🙂 ${"é".repeat(i % 300)}`
          : `ann -> bob: ${i} ${"x".repeat(i % 700)}`,
      );
    }
    // A lone surrogate goes to the file as U+FFFD, as TextEncoder has it.
    events.push("half \ud83d of a pair");
    for (const [i, event] of events.entries()) {
      log.record(event);
      if (i % 1000 === 999) await log.flush();
    }
    assert.equal(await log.close(), 0);
    const stamp = "2024-01-02T03:04:05.678Z";
    assert.deepEqual(
      await Deno.readFile(path),
      new TextEncoder().encode(
        events.map((event) => `${stamp} ${event}\n`).join(""),
      ),
    );
  });
});

Deno.test("chat log keeps the newest events within its bound while it cannot write, and counts the rest lost", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/sub/log.txt`;
    await Deno.mkdir(`${dir}/sub`);
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const problems: string[] = [];
    const log = await ChatLog.open({
      path,
      now: () => at,
      flushIntervalMs: 10,
      // Room for ten lines of 24 + 1 + 9 + 1 bytes and no more.
      maxBufferedBytes: 350,
      onProblem: (problem) => problems.push(problem.kind),
    });
    await Deno.remove(`${dir}/sub`, { recursive: true });
    log.record("event 00");
    await waitUntil(() => problems.length === 1, "the failure");
    for (let i = 1; i < 25; i++) {
      log.record(`event ${String(i).padStart(2, "0")}`);
    }
    assert.equal(log.lost, 15);
    assert.equal(log.pending, 10);
    await Deno.mkdir(`${dir}/sub`);
    await waitUntil(() => problems.length === 2, "the recovery");
    assert.equal(await log.close(), 15);
    assert.deepEqual(
      fileLines(path).map((line) => line.match(ISO_LINE)?.[2]),
      Array.from({ length: 10 }, (_, i) => `event ${i + 15}`),
    );
  });
});

Deno.test("chat log keeps exactly the newest lines that fit its bound through thousands of drops", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/sub/log.txt`;
    await Deno.mkdir(`${dir}/sub`);
    const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    const stamp = "2024-01-02T03:04:05.678Z";
    const problems: string[] = [];
    const maxBufferedBytes = 10_000;
    const log = await ChatLog.open({
      path,
      now: () => at,
      flushIntervalMs: 10,
      maxBufferedBytes,
      onProblem: (problem) => problems.push(problem.kind),
    });
    await Deno.remove(`${dir}/sub`, { recursive: true });
    log.record("first");
    await waitUntil(() => problems.length === 1, "the failure");
    const events = ["first"];
    for (let i = 0; i < 20_000; i++) {
      const event = `${i} ${i % 3 === 0 ? "é" : "x"}`.padEnd(i % 97, "-");
      events.push(event);
      log.record(event);
    }
    // The newest lines whose bytes fit the bound, and the rest lost.
    const encoder = new TextEncoder();
    let bytes = 0;
    let kept = 0;
    for (let i = events.length - 1; i >= 0; i--) {
      bytes += encoder.encode(`${stamp} ${events[i]}\n`).length;
      if (bytes > maxBufferedBytes) break;
      kept++;
    }
    assert.equal(log.pending, kept);
    assert.equal(log.lost, events.length - kept);
    await Deno.mkdir(`${dir}/sub`);
    await waitUntil(() => problems.length === 2, "the recovery");
    assert.equal(await log.close(), events.length - kept);
    assert.equal(
      await Deno.readTextFile(path),
      events.slice(-kept).map((event) => `${stamp} ${event}\n`).join(""),
    );
  });
});
