/**
 * Faults of a room over several nodes: a node killed, Redis killed and
 * restarted empty, subscribers cut, a node frozen past its lease while
 * Redis's output buffer limit cuts it, and Redis unreachable at start.
 * Nodes run with a short lease (`--redis-lease-ms`) so that this is quick.
 *
 * @module
 */

import assert from "node:assert/strict";
import { freePort, RedisServer } from "./support/redis_server.ts";
import { Nodes, redisCommand } from "./support/nodes.ts";
import { RedisSubscriber } from "../lib/engine/redis_client.ts";
import {
  assertNoStackTrace,
  closeAll,
  holdsFor,
  joined,
  left,
  NAME_PROMPT,
  readLogEventsSync,
  spawnProgram,
  TestClient,
  waitUntil,
} from "./helpers.ts";

const TEST = { sanitizeOps: true, sanitizeResources: true };
const LEASE_MS = 1_500;
const SPLIT =
  "*** The room is split: for now only the users of this server hear you.";
const WHOLE = "*** The room is whole again.";
const UNAVAILABLE =
  "The room cannot be reached right now; please try again in a moment.";
const LOST_PLACE = "This server lost its place in the room; please reconnect.";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Registers `name`, asking again while the node answers that the room
// cannot be reached (it is still taking its place).
async function joinWhenReady(port: number, name: string): Promise<TestClient> {
  const client = await TestClient.connect(port);
  try {
    await client.next(NAME_PROMPT);
    for (let attempt = 0;; attempt++) {
      await client.send(name);
      const answer = await client.next((line) =>
        line === `Welcome ${name}!` || line === UNAVAILABLE
      );
      if (answer !== UNAVAILABLE) break;
      assert.ok(attempt < 50, "the node never took its place again");
      await client.next(NAME_PROMPT);
      await sleep(100);
    }
    await client.next(/^Type '\/who'/);
  } catch (error) {
    await client.close();
    throw error;
  }
  return client;
}

function count(client: TestClient, line: string): number {
  return client.received.lines.filter((l) => l === line).length;
}

Deno.test({
  ...TEST,
  name:
    "kill -9 of a node: its names are freed and gone from /who, everyone else sees them leave once",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 3,
    leaseMs: LEASE_MS,
  });
  const clients: TestClient[] = [];
  // What goes through Redis says why in codes, not in English.
  await using events = await RedisSubscriber.connect({ url: redis.url });
  const leaves: { name: string; reason: unknown }[] = [];
  await events.subscribe("chat:events", (text) => {
    const event = JSON.parse(text).m?.event;
    if (event?.type === "leave") leaves.push(event);
  });
  try {
    const ann = await TestClient.join(nodes.at(0).port, "ann");
    clients.push(ann);
    const bob = await TestClient.join(nodes.at(1).port, "bob");
    clients.push(bob);
    const eve = await TestClient.join(nodes.at(1).port, "eve");
    clients.push(eve);
    await eve.send("exit");
    await ann.next(left("eve"));
    const cat = await TestClient.join(nodes.at(2).port, "cat");
    clients.push(cat);
    const dan = await TestClient.join(nodes.at(2).port, "dan");
    clients.push(dan);
    await ann.next(joined("dan"));
    await bob.next(joined("dan"));
    const started = performance.now();
    nodes.at(2).process.child.kill("SIGKILL");
    for (const client of [ann, bob]) {
      await waitUntil(
        () => count(client, left("cat")) + count(client, left("dan")) >= 2,
        "the dead node's users to leave",
        20_000,
      );
    }
    assert.ok(performance.now() - started < 20_000);
    await ann.send("/who");
    await ann.next("Online (2): ann, bob");
    // Another sweep round or two: nobody hears it twice.
    await holdsFor(
      () =>
        [ann, bob].every((client) =>
          count(client, left("cat")) === 1 && count(client, left("dan")) === 1
        ),
      "each leave heard once",
      LEASE_MS,
    );
    const again = await TestClient.join(nodes.at(1).port, "cat");
    clients.push(again);
    await ann.next(joined("cat"));
    assert.deepEqual(
      leaves.map((e) => [e.name, e.reason]).sort(),
      [["cat", "serverLost"], ["dan", "serverLost"], ["eve", "exit"]],
    );
    // The log says it in English, as before.
    await waitUntil(
      () =>
        readLogEventsSync(nodes.at(0).logPath).includes(
          "cat has been disconnected (server lost)",
        ),
      "the log of cat's leave",
    );
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "Redis killed and restarted empty: split notice, registrations refused, names re-asserted, whole again",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 2,
    leaseMs: LEASE_MS,
  });
  const clients: TestClient[] = [];
  try {
    const ann = await TestClient.join(nodes.at(0).port, "ann");
    clients.push(ann);
    const bob = await TestClient.join(nodes.at(1).port, "bob");
    clients.push(bob);
    await ann.next(joined("bob"));
    await redis.kill();
    await ann.next(SPLIT);
    await bob.next(SPLIT);
    // Only this node's users hear it.
    await ann.send("alone here");
    const newcomer = await TestClient.connect(nodes.at(0).port);
    clients.push(newcomer);
    await newcomer.next(NAME_PROMPT);
    await newcomer.send("cat");
    await newcomer.next(UNAVAILABLE);
    await ann.send("/nick anna");
    await ann.next(UNAVAILABLE);
    // The console's kick of a member of the other node cannot get there.
    await nodes.at(0).process.write("kick bob\n");
    await nodes.at(0).process.stdout.next(
      'The room cannot be reached right now; "bob" was not removed.',
    );
    await redis.restart();
    await ann.next(WHOLE, 15_000);
    await bob.next(WHOLE, 15_000);
    assert.equal(count(ann, SPLIT), 1);
    // The console says so too, once each way.
    const consoleLines = nodes.at(0).process.stdout.lines;
    assert.equal(
      consoleLines.filter((l) => l.startsWith("Lost the link to the room's"))
        .length,
      1,
    );
    await nodes.at(0).process.stdout.next(
      "The link to the room's other servers is back.",
    );
    assert.ok(!bob.received.lines.includes("ann: alone here"));
    // No duplicate names: the room's names are back in Redis.
    const twin = await TestClient.connect(nodes.at(1).port);
    clients.push(twin);
    await twin.next(NAME_PROMPT);
    await twin.send("ann");
    await twin.next(/^Name "ann" is already taken/);
    await twin.send("dora");
    await twin.next("Welcome dora!");
    await ann.next(joined("dora"));
    await ann.send("/who");
    await ann.next("Online (3): ann, bob, dora");
    await ann.send("together again");
    await bob.next("ann: together again");
    // The log says it as the console does, in its place among the chat.
    for (const node of nodes.list) {
      await waitUntil(
        () => readLogEventsSync(node.logPath).includes("ann: together again"),
        "the log to be written",
      );
      const events = readLogEventsSync(node.logPath);
      const split = events.indexOf(
        "Lost the link to the room's other servers; only this server's users hear each other until it is back",
      );
      const whole = events.indexOf(
        "The link to the room's other servers is back",
      );
      assert.ok(split !== -1 && whole > split, events.join("\n"));
      if (node === nodes.at(0)) {
        const alone = events.indexOf("ann: alone here");
        assert.ok(split < alone && alone < whole, events.join("\n"));
      }
    }
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "CLIENT KILL TYPE pubsub: the nodes subscribe again and the chat goes on",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 2,
    leaseMs: LEASE_MS,
  });
  const clients: TestClient[] = [];
  try {
    const ann = await TestClient.join(nodes.at(0).port, "ann");
    clients.push(ann);
    const bob = await TestClient.join(nodes.at(1).port, "bob");
    clients.push(bob);
    await ann.next(joined("bob"));
    const killed = await redisCommand(redis.url, [
      "CLIENT",
      "KILL",
      "TYPE",
      "pubsub",
    ]);
    // Each node's room engine and its account store subscribe.
    assert.equal(killed, 4);
    await ann.next(WHOLE, 10_000);
    await bob.next(WHOLE, 10_000);
    await ann.send("still here");
    await bob.next("ann: still here");
    await bob.send("@ann and you?");
    await ann.next("Private message from bob: and you?");
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "a node frozen past its lease: Redis cuts its subscriber at the output limit, the room sees its users leave, on resume they get the lost-place line",
}, async () => {
  await using redis = await RedisServer.start({
    args: ["--client-output-buffer-limit", "pubsub 64kb 32kb 1"],
  });
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 2,
    leaseMs: LEASE_MS,
    args: ["--flood-rate", "0"],
  });
  const clients: TestClient[] = [];
  try {
    const ann = await TestClient.join(nodes.at(0).port, "ann");
    clients.push(ann);
    const bob = await TestClient.join(nodes.at(1).port, "bob");
    clients.push(bob);
    await ann.next(joined("bob"));
    const frozen = nodes.at(1).process.child;
    frozen.kill("SIGSTOP");
    try {
      // More than the kernel's socket buffers and the subscriber's hard
      // limit, while it cannot read: Redis must cut it, not hold it all.
      const encoder = new TextEncoder();
      const chunk = encoder.encode(
        Array.from({ length: 250 }, (_, i) => `${i} ${"x".repeat(3_990)}\n`)
          .join(""),
      );
      const numsub = () =>
        redisCommand(redis.url, ["PUBSUB", "NUMSUB", "chat:events"]);
      let rounds = 0;
      while (String(await numsub()) !== "chat:events,1") {
        assert.ok(++rounds <= 40, "the frozen subscriber was never cut");
        await ann.sendRaw(chunk);
        await sleep(50);
      }
      await ann.next(left("bob"), 10_000);
    } finally {
      frozen.kill("SIGCONT");
    }
    await bob.next(LOST_PLACE, 10_000);
    await bob.received.closed(10_000);
    assert.equal(count(ann, left("bob")), 1);
    // It started afresh: the same name can be had there again.
    const back = await joinWhenReady(nodes.at(1).port, "bob");
    clients.push(back);
    await ann.next(joined("bob"));
    await back.send("back");
    await ann.next("bob: back");
    await holdsFor(
      () => count(ann, left("bob")) === 1,
      "bob's leave heard once",
      300,
    );
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name: "Redis unreachable at start: one line on stderr, exit code 2",
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat_noredis_" });
  const server = spawnProgram("server.ts", [
    "--port",
    "0",
    "--no-web",
    "--log",
    `${dir}/log.txt`,
    "--redis",
    `redis://127.0.0.1:${freePort()}`,
  ]);
  try {
    await server.closeStdin();
    const status = await server.status(15_000);
    assert.equal(status.code, 2);
    const lines = server.stderr.lines.filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, lines.join(" | "));
    assert.match(lines[0], /Redis/);
    assertNoStackTrace(lines);
    await waitUntil(() => server.stdout.ended, "stdout to end");
    assert.ok(
      !server.stdout.lines.some((l) => l.startsWith("Server is listening")),
    );
  } finally {
    await server.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
