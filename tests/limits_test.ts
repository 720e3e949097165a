/**
 * Hardening tests of the server's limits: registration timeout and name
 * attempts, connection caps, flood control and the send queue, and the
 * refusal of bad limit flags at start.
 *
 * Real TCP on 127.0.0.1; servers on port 0.
 */

import assert from "node:assert/strict";
import {
  chatInRounds,
  INVALID_NAME,
  LAST_WELCOME_LINE,
  NAME_PROMPT,
  readLogEvents,
  startTestServer,
  type TestClient,
  TestScope,
  waitUntil,
  waitUntilAsync,
} from "./helpers.ts";

/** The lines `client` received from `name`'s broadcasts, without the prefix. */
function saidBy(client: TestClient, name: string): string[] {
  const prefix = `${name}: `;
  return client.received.lines.filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

Deno.test("registration timeout closes a connection that chose no name", async () => {
  await using ts = await startTestServer({
    limits: { registrationTimeoutMs: 200 },
  });
  const { server, console: consoleLines } = ts;
  const alice = await ts.join("alice");
  const idle = await ts.connect();
  await idle.next(NAME_PROMPT);
  await idle.next("Registration timed out.");
  await idle.received.closed();
  await waitUntil(
    () => consoleLines.some((l) => /closed \(registration timed out\)/.test(l)),
    "the console to report the timeout",
  );
  await waitUntil(
    () => server.room.connectionCount === 1,
    "the timed out connection to leave the room",
  );
  // A registered client is not subject to the timeout.
  assert.equal(alice.received.ended, false, "alice was cut by the timeout");
  await alice.send("/who");
  assert.equal(await alice.next(/^Online/), "Online (1): alice");
});

Deno.test("name attempts past the limit end the connection", async () => {
  await using ts = await startTestServer();
  const { server } = ts;
  const client = await ts.connect();
  await client.next(NAME_PROMPT);
  const names = Array.from({ length: 11 }, (_, i) => `bad name ${i}`);
  await client.sendRaw(new TextEncoder().encode(names.join("\n") + "\n"));
  await client.next("Too many attempts.");
  await client.received.closed();
  const invalid = client.received.lines.filter((l) => l === INVALID_NAME);
  assert.equal(invalid.length, 10, "one refusal for each of 10 attempts");
  assert.equal(
    client.received.lines.at(-1),
    "Too many attempts.",
    "nothing after the last notice",
  );
  await waitUntil(
    () => server.room.connectionCount === 0,
    "the connection to leave the room",
  );
  assert.deepEqual(server.room.names(), []);
});

Deno.test("max clients refuses the connection past the limit and serves the others", async () => {
  await using ts = await startTestServer({
    limits: { maxClients: 3 },
  });
  const { server } = ts;
  const clients: TestClient[] = [];
  for (const name of ["a1", "b2", "c3"]) clients.push(await ts.join(name));
  const [a, b, c] = clients;
  const fourth = await ts.connect();
  assert.equal(
    await fourth.next(() => true),
    "Server is full. Try again later.",
  );
  await fourth.received.closed();
  assert.equal(fourth.received.lines.length, 1, "only the refusal");

  await a.send("still here");
  assert.equal(await b.next(/^a1:/), "a1: still here");
  assert.equal(await c.next(/^a1:/), "a1: still here");
  await c.send("me too");
  assert.equal(await a.next(/^c3:/), "c3: me too");
  assert.deepEqual(server.room.names(), ["a1", "b2", "c3"]);

  // A slot freed is a slot given again.
  await c.send("exit");
  await c.next("Goodbye c3!");
  await c.received.closed();
  await waitUntil(
    () => server.room.connectionCount === 2,
    "c3 to leave the room",
  );
  await ts.join("d4");
  await a.next("*** d4 has joined the chat.");
});

Deno.test("max per ip refuses connections 51 to 60 from one address", async () => {
  await using ts = await startTestServer();
  const { server } = ts;
  const clients: TestClient[] = [];
  assert.equal(server.room.limits.maxPerIp, 50, "the default is 50");
  for (let i = 0; i < 60; i++) {
    const client = await ts.connect();
    clients.push(client);
    // One at a time, so connection i is the i-th the server counts.
    const first = await client.next(() => true);
    if (i < 50) {
      assert.equal(first, NAME_PROMPT, `connection ${i + 1} was refused`);
    } else {
      assert.equal(
        first,
        "Too many connections from your address.",
        `connection ${i + 1}`,
      );
    }
  }
  for (const client of clients.slice(50)) {
    await client.received.closed();
    assert.equal(client.received.lines.length, 1, "only the refusal");
  }
  assert.equal(server.room.connectionCount, 50);

  // The first 50 still work: all register and one reaches all others.
  const served = clients.slice(0, 50);
  for (let i = 0; i < served.length; i++) {
    await served[i].send(`u${i}`);
    await served[i].next(LAST_WELCOME_LINE);
  }
  assert.equal(server.room.names().length, 50);
  await served[0].send("hello all");
  for (const client of served.slice(1)) {
    assert.equal(await client.next(/^u0:/), "u0: hello all");
  }

  // One leaves: a connection from the address is accepted again.
  await served[49].send("exit");
  await served[49].next("Goodbye u49!");
  await waitUntil(
    () => server.room.connectionCount === 49,
    "u49 to leave the room",
  );
  const again = await ts.connect();
  assert.equal(await again.next(() => true), NAME_PROMPT);
});

Deno.test("flood control delivers a 50 line paste complete and in order", async () => {
  await using ts = await startTestServer();
  const { server } = ts;
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  assert.equal(server.room.limits.floodRate, 10, "the default rate");
  assert.equal(server.room.limits.floodBurst, 20, "the default burst");
  await alice.next("*** bob has joined the chat.");
  const paste = Array.from({ length: 50 }, (_, i) => `paste line ${i + 1}`);
  await alice.sendRaw(new TextEncoder().encode(paste.join("\n") + "\n"));
  // 20 at once, then 10 a second: about 3 s; 15 s before calling it lost.
  await waitUntil(
    () => saidBy(bob, "alice").length >= 50,
    "all 50 pasted lines at bob",
    15_000,
  );
  assert.deepEqual(saidBy(bob, "alice"), paste, "all lines, in order");
});

Deno.test("flood control off relays 10000 lines in order while others still chat", async () => {
  await using ts = await startTestServer({
    limits: { floodRate: 0 },
  });
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  const carol = await ts.join("carol");
  await bob.next("*** carol has joined the chat.");
  const flood = Array.from(
    { length: 10_000 },
    (_, i) => `flood ${String(i).padStart(5, "0")}`,
  );
  const flooding = alice.sendRaw(
    new TextEncoder().encode(flood.join("\n") + "\n"),
  );
  await bob.next("alice: flood 00000");
  const carolSays = ["carol 1", "carol 2", "carol 3", "carol 4", "carol 5"];
  for (const line of carolSays) await carol.send(line);
  await flooding;

  await waitUntil(
    () =>
      saidBy(bob, "alice").length >= flood.length &&
      saidBy(bob, "carol").length >= carolSays.length &&
      saidBy(carol, "alice").length >= flood.length &&
      saidBy(alice, "carol").length >= carolSays.length,
    "the flood and carol's lines everywhere",
    20_000,
  );
  assert.deepEqual(saidBy(bob, "alice"), flood, "flood at bob, in order");
  assert.deepEqual(saidBy(carol, "alice"), flood, "flood at carol");
  assert.deepEqual(saidBy(bob, "carol"), carolSays, "carol at bob");
  assert.deepEqual(saidBy(alice, "carol"), carolSays, "carol at alice");
});

Deno.test("flood control slows the flooder only, not the others", async () => {
  await using ts = await startTestServer();
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  const carol = await ts.join("carol");
  await bob.next("*** carol has joined the chat.");
  // 50 lines at 10 a second after a burst of 20: a backlog of ~3 s.
  const flood = Array.from({ length: 50 }, (_, i) => `flood ${i + 1}`);
  await alice.sendRaw(new TextEncoder().encode(flood.join("\n") + "\n"));
  await bob.next("alice: flood 1");
  await carol.send("carol is not slowed");
  await bob.next("carol: carol is not slowed");
  const lines = bob.received.lines;
  const carolAt = lines.indexOf("carol: carol is not slowed");
  const lastFloodAt = lines.indexOf("alice: flood 50");
  assert.ok(
    lastFloodAt === -1 || carolAt < lastFloodAt,
    "carol's line waited behind the flooder's backlog",
  );
  await waitUntil(
    () => saidBy(bob, "alice").length >= flood.length,
    "the whole flood at bob",
    15_000,
  );
  assert.deepEqual(saidBy(bob, "alice"), flood, "the flood, in order");
});

Deno.test("send queue limit cuts a client that never reads", async () => {
  await using ts = await startTestServer({
    limits: { maxSendqBytes: 64 * 1024, floodRate: 0 },
  });
  const { server, logPath, console: consoleLines } = ts;
  const alice = await ts.join("alice");
  const bob = await ts.join("bob");
  const stuck = await ts.connect({ read: false });
  await stuck.send("stuck");
  await waitUntil(
    () => server.room.names().includes("stuck"),
    "stuck to register",
  );
  await bob.next("*** stuck has joined the chat.");
  const cutLine = "Client stuck disconnected (send queue exceeded).";
  // Rounds well under the limit, so that bob, who reads, is never cut.
  await chatInRounds(alice, "alice", bob, {
    done: () => consoleLines.includes(cutLine),
    roundBytes: 40_000,
    maxBytes: 64 * 1024 * 1024,
    timeoutMs: 30_000,
  });
  await alice.next("*** stuck has left the chat.");
  await bob.next("*** stuck has left the chat.");
  await waitUntilAsync(
    async () =>
      (await readLogEvents(logPath)).includes(
        "stuck has been disconnected (send queue exceeded)",
      ),
    "the cut in the log",
  );
  assert.deepEqual(server.room.names(), ["alice", "bob"]);

  // The others chat on.
  await bob.send("are we still on?");
  assert.equal(await alice.next(/^bob: are/), "bob: are we still on?");
  await alice.send("yes");
  assert.equal(await bob.next("alice: yes"), "alice: yes");
});

Deno.test("server flags with bad limit values are refused at start with code 2", async () => {
  await using scope = new TestScope();
  const dir = await scope.tempDir("chat_flags_");
  const cases: [string[], RegExp][] = [
    [["--max-clients", "-1"], /--max-clients/],
    [["--max-clients=-1"], /Invalid value for --max-clients: "-1"/],
    [["--flood-rate", "abc"], /Invalid value for --flood-rate: "abc"/],
    [
      ["--registration-timeout", "x"],
      /Invalid value for --registration-timeout: "x"/,
    ],
    [["--max-sendq", "1.5"], /Invalid value for --max-sendq: "1.5"/],
  ];
  const runs = cases.map(([flags], i) =>
    scope.spawn("server.ts", [
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log",
      `${dir}/log${i}.txt`,
      ...flags,
    ])
  );
  for (let i = 0; i < cases.length; i++) {
    const [flags, message] = cases[i];
    const status = await runs[i].status(15_000);
    const stderr = runs[i].stderr.lines.join("\n");
    assert.equal(status.code, 2, `${flags.join(" ")}: exit code`);
    assert.match(stderr, message, `${flags.join(" ")}: the error`);
    assert.deepEqual(
      runs[i].stdout.lines.filter((l) => /listening/i.test(l)),
      [],
      `${flags.join(" ")}: it must not listen`,
    );
    // Refused before anything was opened: no log file.
    await assert.rejects(
      Deno.stat(`${dir}/log${i}.txt`),
      Deno.errors.NotFound,
      `${flags.join(" ")}: the log was created`,
    );
  }
});
