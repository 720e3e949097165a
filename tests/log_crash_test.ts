/**
 * The log after a run that ended without a shutdown (`kill -9`, a power
 * cut): the next start says so before its own start line and records the
 * members who were online as gone; history still comes back from the log.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  closeAll,
  readLogEventsSync,
  spawnServer,
  TestClient,
  waitUntil,
} from "./helpers.ts";
import { LogReview } from "../lib/room/log_review.ts";

const TEST = { sanitizeOps: true, sanitizeResources: true };
const ENDED = "The previous run ended without a shutdown";
const gone = (name: string) =>
  `${name} has been disconnected (server stopped without a shutdown)`;

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat_crash_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function server(logPath: string) {
  return spawnServer(["--no-web", "--max-per-ip", "0", "--log", logPath]);
}

const alive = (port: number) =>
  `Server is now alive and listening on 127.0.0.1:${port}`;

// Waits until the log holds `event` (the log is written in batches).
async function logged(path: string, event: string): Promise<string[]> {
  let events: string[] = [];
  await waitUntil(() => {
    events = readLogEventsSync(path);
    return events.includes(event);
  }, `"${event}" in the log`);
  return events;
}

Deno.test({
  ...TEST,
  name:
    "kill -9: the next start says the run ended without a shutdown and who was online, before its start line; history replays",
}, async () => {
  await withDir(async (dir) => {
    const logPath = `${dir}/chat.txt`;
    const clients: TestClient[] = [];
    const first = await server(logPath);
    try {
      for (const name of ["ann", "bob", "cat"]) {
        clients.push(await TestClient.join(first.port, name));
      }
      const [ann, bob, cat] = clients;
      await cat.send("exit");
      await ann.send("hello");
      await bob.send("/nick Robert");
      await bob.send("/me waves");
      await logged(logPath, "* Robert waves");
      first.child.kill("SIGKILL");
      await first.status(15_000);
    } finally {
      await first.cleanup();
      await closeAll(clients);
    }
    const before = readLogEventsSync(logPath).length;
    const second = await server(logPath);
    try {
      const start = alive(second.port);
      const events = await logged(logPath, start);
      assert.deepEqual(events.slice(before), [
        ENDED,
        gone("ann"),
        gone("Robert"),
        start,
      ]);
      // The new lines are no history.
      const dora = await TestClient.join(second.port, "dora");
      clients.push(dora);
      await dora.next("*** End of history (2 messages).");
      const history = dora.received.lines.filter((l) => l.startsWith("["))
        .map((l) => l.replace(/^\[[^\]]+\] /, ""));
      assert.deepEqual(history, ["ann: hello", "* Robert waves"]);
      await dora.send("exit");
      second.child.kill("SIGTERM");
      await second.status(15_000);
    } finally {
      await second.cleanup();
      await closeAll(clients);
    }
    // A run that ended with a shutdown gets no such line.
    const ended = readLogEventsSync(logPath).length;
    const third = await server(logPath);
    try {
      const start = alive(third.port);
      const events = await logged(logPath, start);
      assert.deepEqual(events.slice(ended), [start]);
    } finally {
      await third.cleanup();
    }
  });
});

Deno.test({
  ...TEST,
  name:
    "a log cut in the middle of a line (a power cut) gets the line ended before the next start's lines",
}, async () => {
  await withDir(async (dir) => {
    const logPath = `${dir}/chat.txt`;
    await Deno.writeTextFile(
      logPath,
      [
        "2026-01-05T10:00:00.000Z Server is now alive and listening on 0.0.0.0:2025",
        "2026-01-05T10:00:01.000Z Client ann has joined the chat room (10.0.0.1:5000)",
        "2026-01-05T10:00:02.000Z ann: first",
        "2026-01-05T10:00:03.000Z ann: seco",
      ].join("\n"),
    );
    const process = await server(logPath);
    try {
      await logged(logPath, alive(process.port));
      const text = await Deno.readTextFile(logPath);
      const lines = text.split("\n");
      assert.equal(lines[3], "2026-01-05T10:00:03.000Z ann: seco");
      assert.match(
        lines[4],
        /^\S+Z The previous run ended without a shutdown$/,
      );
      assert.match(lines[5], / ann has been disconnected \(server stopped/);
      assert.match(lines[6], / Server is now alive and listening on /);
    } finally {
      await process.cleanup();
    }
  });
});

// The review of `events` (oldest first), as a start reads them.
function review(events: string[]): string[] {
  const reviewer = new LogReview({
    historyLimit: 20,
    historyBytes: 1 << 20,
    reviewBytes: 1 << 20,
  });
  const lines = events.map((e, i) =>
    `2026-01-05T10:00:${String(i).padStart(2, "0")}.000Z ${e}`
  );
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!reviewer.take(lines[i], 0)) break;
  }
  return reviewer.recovery();
}

Deno.test("the review of a run that ended without a shutdown: joins, leaves, renames, removals, other servers' members", () => {
  const start = "Server is now alive and listening on 0.0.0.0:2025";
  assert.deepEqual(review([]), []);
  assert.deepEqual(
    review([start, "Server has been shutdown", "Chat finished"]),
    [],
  );
  assert.deepEqual(review([start]), [ENDED]);
  assert.deepEqual(
    review([
      // An earlier run's members are not this one's.
      "Client old has joined the chat room (10.0.0.9:1)",
      start,
      "Client ann has joined the chat room (10.0.0.1:1)",
      "Client bob has joined the chat room (10.0.0.2:1)",
      "Client cat has joined the chat room (10.0.0.3:1)",
      "Client dan has joined the chat room (10.0.0.4:1)",
      "Client eve has joined the chat room (10.0.0.5:1)",
      "Client hana is in the chat room on another server (10.0.1.1:1)",
      "Client ivan is in the chat room on another server (10.0.1.2:1)",
      "ann: cat has left the chat",
      "bob has left the chat",
      "cat has been disconnected (send queue exceeded)",
      "dan was removed from the chat",
      "eve is now known as Eva",
      "ann is now known as bob",
      "Client ann has joined the chat room (10.0.0.6:1)",
      "ann was removed from the chat (spam)",
      "ivan is no longer followed here (no client on this server)",
      "Client jo has joined the chat room (10.0.0.7:1)",
      "jo is now known as Jo",
      "Client kim has joined the chat room (10.0.0.8:1)",
      "kim is now known as lee",
      "lee has left the chat",
      "Client kim has joined the chat room (10.0.0.8:2)",
      "* kim waves",
    ]),
    [ENDED, gone("bob"), gone("Eva"), gone("hana"), gone("Jo"), gone("kim")],
  );
});
