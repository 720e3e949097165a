/**
 * Fault tests: clients that die, stall or misbehave, a chat log that stops
 * being writable, and shutdown with a stuck client. Each fault must end at
 * most the connection it belongs to, never the chat.
 *
 * Real TCP on 127.0.0.1; servers on port 0.
 */

import assert from "node:assert/strict";
import {
  chatInRounds,
  closeQuietly,
  concat,
  LOG_ENDING,
  NAME_PROMPT,
  readLogEvents,
  SHUTTING_DOWN,
  spawnServer,
  startTestServer,
  type TestClient,
  TestScope,
  waitUntil,
  waitUntilAsync,
  within,
} from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Lets `ms` pass. Only for a negative check ("nothing more happened in this
 * window"), never to wait for something to happen.
 */
function observationWindow(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads everything left on `conn` until its end (or an error). */
async function readToEnd(conn: Deno.Conn, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(256 * 1024);
  let total = 0;
  try {
    // Bounded by the bytes read; each read by the test's timeout.
    while (total <= maxBytes) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      total += n;
    }
  } catch {
    // Reset: the end too.
  }
  return decoder.decode(concat(chunks));
}

/**
 * Sends broadcasts from `sender` in rounds of about `roundBytes`, each only
 * after `watcher` got the previous one (so the watcher never falls behind),
 * until `totalBytes` were sent. Returns the last line sent.
 */
async function chatBytes(
  sender: TestClient,
  senderName: string,
  watcher: TestClient,
  totalBytes: number,
  roundBytes: number,
): Promise<string> {
  const { lastLine } = await chatInRounds(sender, senderName, watcher, {
    done: (sentBytes) => sentBytes >= totalBytes,
    roundBytes,
    timeoutMs: 30_000,
  });
  return lastLine;
}

/** Connects a raw socket, which the test reads only when it wants to. */
async function connectStuck(port: number, name: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(`${name}\n`));
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
  return conn;
}

Deno.test("client killed mid-line is reported as left and its half line is dropped", async () => {
  await using ts = await startTestServer();
  const { server } = ts;
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  const mallory = await ts.join("mallory");
  await alice.next("*** mallory has joined the chat.");
  await bob.next("*** mallory has joined the chat.");

  await mallory.sendRaw(encoder.encode("this half line never ends"));
  await mallory.close();
  await alice.next("*** mallory has left the chat.");
  await bob.next("*** mallory has left the chat.");
  await waitUntil(
    () => server.room.connectionCount === 2,
    "mallory's connection to leave the room",
  );

  // The server goes on, and accepts (and names) new clients.
  const dave = await ts.join("dave");
  await alice.next("*** dave has joined the chat.");
  await dave.send("hello");
  assert.equal(await bob.next(/^dave:/), "dave: hello");
  // The name is free again.
  await ts.join("mallory");
  await bob.next("*** mallory has joined the chat.");

  for (const client of [alice, bob, dave]) {
    assert.deepEqual(
      client.received.lines.filter((l) => l.includes("half line")),
      [],
      "the half line was delivered",
    );
  }
});

Deno.test("registration timeout closes connections that never register", async () => {
  await using ts = await startTestServer({
    limits: { registrationTimeoutMs: 200 },
  });
  const { server, console: consoleLines } = ts;
  const alice = await ts.join("alice");
  // One says nothing; one sends part of a name and stalls; one never reads.
  const silent = await ts.connect();
  const partial = await ts.connect();
  await ts.connect({ read: false });
  await partial.next(NAME_PROMPT);
  await partial.sendRaw(encoder.encode("ali"));

  for (const client of [silent, partial]) {
    await client.next("Registration timed out.");
    await client.received.closed();
  }
  await waitUntil(
    () => server.room.connectionCount === 1,
    "all three unregistered connections to be closed",
  );
  assert.equal(
    consoleLines.filter((l) => /closed \(registration timed out\)\.$/.test(l))
      .length,
    3,
  );
  assert.deepEqual(server.room.names(), ["alice"]);
  assert.equal(alice.received.ended, false);
});

Deno.test("chat log that becomes unwritable is reported once and written again later", async () => {
  await using ts = await startTestServer();
  const { server, logPath, console: consoleLines } = ts;
  const problems = () =>
    consoleLines.filter((l) => l.startsWith("Cannot write the chat log"));
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  await alice.send("before");
  await bob.next("alice: before");
  await waitUntilAsync(
    async () => (await readLogEvents(logPath)).includes("alice: before"),
    "the first message in the log",
  );

  // Root ignores file modes, so a directory in its way is what stops it.
  await Deno.remove(logPath);
  await Deno.mkdir(logPath);
  await alice.send("during 1");
  assert.equal(await bob.next(/^alice: during/), "alice: during 1");
  await waitUntil(() => problems().length > 0, "the console to report");
  for (const line of ["during 2", "during 3"]) {
    await bob.send(line);
    assert.equal(await alice.next(`bob: ${line}`), `bob: ${line}`);
  }
  // Several flush intervals (100 ms) of failing writes: still one report.
  await observationWindow(500);
  assert.equal(problems().length, 1, `reports: ${problems().join(" | ")}`);
  assert.match(problems()[0], /^Cannot write the chat log ".*": /);
  assert.ok(
    !consoleLines.some((l) => /is writable again/.test(l)),
    "recovery reported while the path was still a directory",
  );

  await Deno.remove(logPath);
  await waitUntil(
    () => consoleLines.some((l) => /is writable again/.test(l)),
    "the console to report recovery",
  );
  await alice.send("after");
  await bob.next("alice: after");
  assert.equal(problems().length, 1);

  await server.shutdown();
  const events = await readLogEvents(logPath);
  const expected = [
    "alice: during 1",
    "bob: during 2",
    "bob: during 3",
    "alice: after",
    "Server has been shutdown",
    "Chat finished",
  ];
  assert.deepEqual(
    events.filter((e) => expected.includes(e)),
    expected,
    `log: ${JSON.stringify(events)}`,
  );
  assert.deepEqual(events.slice(-2), LOG_ENDING);
});

Deno.test("shutdown with a stuck client ends at the shutdown timeout", async () => {
  const shutdownTimeoutMs = 500;
  await using ts = await startTestServer({
    limits: { maxSendqBytes: 0, floodRate: 0, shutdownTimeoutMs },
  });
  const { port, server, logPath } = ts;
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  const stuck = ts.track(await connectStuck(port, "stuck"));
  await bob.next("*** stuck has joined the chat.");
  // Far more than socket buffers hold: output queues up for `stuck`.
  const last = await chatBytes(alice, "alice", bob, 16 << 20, 256_000);

  // The deadline plus generous slack; without a deadline it never ends.
  await within(server.shutdown(), shutdownTimeoutMs + 4_500, "shutdown");

  for (const client of [alice, bob]) {
    await client.next(SHUTTING_DOWN);
    await client.received.closed();
  }
  // What the stuck client can still read ends without the later output,
  // which shows that output was stuck when the server shut down.
  const stuckGot = await within(readToEnd(stuck, 64 << 20), 10_000, "read");
  assert.ok(!stuckGot.includes(SHUTTING_DOWN), "stuck got the notice");
  assert.ok(!stuckGot.includes(last), "stuck got all output: test invalid");
  const events = await readLogEvents(logPath);
  assert.deepEqual(events.slice(-2), LOG_ENDING);
});

Deno.test("server process with a stuck client exits 0 after --shutdown-timeout", async () => {
  await using scope = new TestScope();
  const logPath = `${await scope.tempDir("chat_fault_")}/log.txt`;
  const server = scope.track(
    await spawnServer([
      "--log",
      logPath,
      "--shutdown-timeout",
      "1",
      "--max-sendq",
      "0",
      "--flood-rate",
      "0",
    ]),
  );
  const alice = await scope.join(server.port, "alice");
  const bob = await scope.join(server.port, "bob");
  scope.track(await connectStuck(server.port, "stuck"));
  await bob.next("*** stuck has joined the chat.");
  await chatBytes(alice, "alice", bob, 16 << 20, 256_000);

  await server.write("Terminate server\n");
  // 1 s of shutdown timeout, and a few more before calling it hung.
  const status = await server.status(6_000);
  assert.equal(status.code, 0, `stderr: ${server.stderr.lines.join(" | ")}`);
  for (const client of [alice, bob]) {
    await client.next(SHUTTING_DOWN);
    await client.received.closed();
  }
  const events = await readLogEvents(logPath);
  assert.deepEqual(events.slice(-2), LOG_ENDING);
});

Deno.test("connection reset ends only that connection", async () => {
  await using ts = await startTestServer({ limits: { floodRate: 0 } });
  const { server, console: consoleLines } = ts;
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  // Never reads: the welcome stays unread, so closing sends a reset.
  const mallory = ts.track(await connectStuck(ts.port, "mallory"));
  await bob.next("*** mallory has joined the chat.");
  await alice.next("*** mallory has joined the chat.");
  closeQuietly(mallory);
  // Writes to the reset connection right away, too.
  const burst = Array.from({ length: 20 }, (_, i) => `burst ${i}`);
  await alice.sendRaw(encoder.encode(burst.join("\n") + "\n"));

  await bob.next("*** mallory has left the chat.");
  await alice.next("*** mallory has left the chat.");
  await waitUntil(
    () => consoleLines.some((l) => l.startsWith("Client mallory disconnected")),
    "the console to report mallory",
  );
  await waitUntil(
    () =>
      bob.received.lines.filter((l) => l.startsWith("alice: ")).length >= 20,
    "alice's burst at bob",
  );
  assert.deepEqual(
    bob.received.lines.filter((l) => l.startsWith("alice: ")),
    burst.map((l) => `alice: ${l}`),
  );
  assert.equal(
    bob.received.lines.filter((l) => l === "*** mallory has left the chat.")
      .length,
    1,
  );
  await bob.send("still fine");
  assert.equal(await alice.next(/^bob:/), "bob: still fine");
  await ts.join("carol");
  await waitUntil(
    () => server.room.names().join() === "alice,bob,carol",
    "the registry to hold exactly alice, bob and carol",
  );
});

Deno.test("server survives 1 MB without a newline and answers once", async () => {
  await using ts = await startTestServer();
  const { server } = ts;
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  await alice.sendRaw(new Uint8Array(1 << 20).fill(0x78));
  await alice.next(/^Message too long/);
  await alice.sendRaw(encoder.encode("\nback to normal\n"));
  assert.equal(await bob.next(/^alice:/), "alice: back to normal");
  await alice.send("/who");
  await alice.next(/^Online/);
  const tooLong = alice.received.lines.filter((l) =>
    l.startsWith("Message too long")
  );
  assert.deepEqual(tooLong, [
    "Message too long (limit 4096 bytes); it was not delivered.",
  ]);
  assert.ok(
    !bob.received.lines.some((l) => l.includes("xxxxxxxx")),
    "part of the long line was delivered",
  );
  await ts.join("carol");
  assert.equal(server.room.connectionCount, 3);
});

// Seconds of CPU a process has used (user and system), from /proc.
async function cpuSeconds(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
  }).output();
  const fields = decoder.decode(stdout).split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of the line, in clock ticks of
  // (on Linux, always) 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

Deno.test({
  name: "accept loop survives running out of file descriptors",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using scope = new TestScope();
    const dir = await scope.tempDir();
    const server = scope.track(
      await spawnServer(["--log", `${dir}/log.txt`], { fdLimit: 48 }),
    );
    const clients: Deno.Conn[] = [];
    const failures = () =>
      server.stdout.lines.filter((l) =>
        l.startsWith("Accepting connections failed: ")
      ).length;
    scope.defer(() => {
      for (const conn of clients) closeQuietly(conn);
    });
    // More connections than the server has descriptors left for: the
    // kernel queues them, and accepting one fails with EMFILE.
    for (let i = 0; i < 80; i++) {
      clients.push(
        await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
      );
    }
    await server.stdout.next(/^Accepting connections failed: /, 10_000);

    // While it stays out of descriptors it backs off: said once, and no
    // spinning (a spinning loop would use the whole second).
    const before = await cpuSeconds(server.child.pid);
    await observationWindow(1_000);
    const used = await cpuSeconds(server.child.pid) - before;
    assert.ok(used < 0.5, `server used ${used} s of CPU in 1 s while stuck`);
    assert.equal(failures(), 1, "the failure is reported once");

    // Descriptors free again: a newcomer is served.
    for (const conn of clients) closeQuietly(conn);
    clients.length = 0;
    const newcomer = await scope.connect(server.port);
    await newcomer.next(NAME_PROMPT, 10_000);
    await newcomer.close();

    server.child.kill("SIGTERM");
    assert.equal((await server.status(10_000)).code, 0);
  },
});
