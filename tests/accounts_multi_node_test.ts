/**
 * Registered names and moderation across nodes (issue 20): two server
 * processes on one real Redis. Operators registered on one node act on
 * the other, a ban or a mute made on one holds on the other at once, a
 * private message kept on one is delivered at a login on the other, and a
 * ghost held on one node is taken over from the other.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RedisServer } from "./support/redis_server.ts";
import { type Node, Nodes } from "./support/nodes.ts";
import {
  closeAll,
  joined,
  LAST_WELCOME_LINE,
  NAME_PROMPT,
  TestClient,
} from "./helpers.ts";

const TEST = { sanitizeOps: true, sanitizeResources: true };
const PASSWORD = "correct horse";

// Logs in to a registered name on `node`.
async function login(node: Node, name: string): Promise<TestClient> {
  const client = await TestClient.connect(node.port);
  await client.next(NAME_PROMPT);
  await client.send(name);
  await client.next(`Password for ${name}:`);
  await client.send(PASSWORD);
  await client.next(`Welcome ${name}!`);
  await client.next(LAST_WELCOME_LINE);
  return client;
}

// Registers `name` from `node`'s console and waits for its answer.
async function registerOnConsole(node: Node, name: string): Promise<void> {
  await node.process.write(`register ${name} ${PASSWORD}\n`);
  await node.process.stdout.next(
    `Name "${name}" is now registered. You will be asked for this password when you use it.`,
  );
}

Deno.test({
  ...TEST,
  name:
    "accounts on two nodes: operators registered on A act on B, a mute on A holds on B, a ban on A disconnects the member on B",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 2,
    args: ["--operator", "boss", "--operator", "chief"],
  });
  const [a, b] = [nodes.at(0), nodes.at(1)];
  const clients: TestClient[] = [];
  try {
    await registerOnConsole(a, "boss");
    await registerOnConsole(a, "chief");
    const boss = await login(a, "boss");
    clients.push(boss);
    // Registered on A, an operator on B.
    const chief = await login(b, "chief");
    clients.push(chief);
    const carol = await TestClient.join(b.port, "carol");
    clients.push(carol);
    const dave = await TestClient.join(a.port, "dave");
    clients.push(dave);
    await carol.next(joined("dave"));

    await boss.send("/mute carol");
    await boss.next("carol is muted.");
    await carol.send("can anyone hear me");
    assert.equal(await carol.next(/muted/), "You are muted.");
    await carol.send("@chief sorry");
    await chief.next("Private message from carol: sorry");
    await dave.send("marker");
    await carol.next("dave: marker");
    assert.ok(!dave.received.lines.some((l) => l.includes("hear me")));
    await chief.send("/unmute carol");
    await chief.next("carol is no longer muted.");
    await carol.send("back");
    await dave.next("carol: back");

    // An operator on B removes a member of A.
    await chief.send("/disconnect dave enough");
    await chief.next("dave was disconnected.");
    await dave.next(/removed from the chat/);
    await dave.received.closed();

    await boss.send("/ban carol 2h spamming");
    await boss.next(/^Banned carol until/);
    assert.match(
      await carol.next(/banned/),
      /^You are banned from this chat until \d{4}-\d\d-\d\d \d\d:\d\d \(spamming\)\.$/,
    );
    await carol.received.closed();
    // Nor can the name come back in on B.
    const again = await TestClient.connect(b.port);
    clients.push(again);
    await again.next(NAME_PROMPT);
    await again.send("carol");
    await again.next(/^You are banned/);
    await again.received.closed();
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "accounts on two nodes: a login on B gets what was said and kept on A while away, an ignore on B holds for a member of A, a ghost held on B is taken over from A without a word to the others",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  const [a, b] = [nodes.at(0), nodes.at(1)];
  const clients: TestClient[] = [];
  try {
    const ada = await TestClient.join(a.port, "ada");
    clients.push(ada);
    await ada.send(`/register ${PASSWORD}`);
    await ada.next(/now registered/);
    await ada.send("exit");
    await ada.received.closed();

    const bob = await TestClient.join(a.port, "bob");
    clients.push(bob);
    await bob.send("@ada see you tomorrow");
    await bob.next(
      "ada is offline; your message will be delivered when ada logs in.",
    );
    await bob.send("said while ada was away");
    // What was said since it left, from the room's history on Redis.
    const onB = await login(b, "ada");
    clients.push(onB);
    assert.match(
      await onB.next(/said while ada was away/),
      /^\[\d\d:\d\d\] bob: said while ada was away$/,
    );
    assert.equal(
      await onB.next(/End of history/),
      "*** End of history (1 message since you left).",
    );
    assert.match(
      await onB.next(/Private message from bob/),
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d\] Private message from bob: see you tomorrow$/,
    );
    // Its ignore list holds across nodes: bob's lines stop at ada's node.
    await onB.send("/ignore bob");
    await onB.next(/^You are ignoring bob;/);
    await bob.send("@ada psst");
    await bob.send("can you hear me");
    // Redis keeps one order: once another's later line is there, bob's
    // were delivered (or not) before it.
    const carol = await TestClient.join(a.port, "carol");
    clients.push(carol);
    await carol.send("marker");
    await onB.next("carol: marker");
    await onB.send("/unignore bob");
    await onB.next("You are no longer ignoring bob.");
    await bob.send("and now");
    await onB.next("bob: and now");
    assert.ok(
      !onB.received.lines.some((l) => /can you hear me|psst/.test(l)),
      onB.received.lines.join("|"),
    );
    await bob.next(joined("ada"));
    const watcher = await TestClient.join(b.port, "watcher");
    clients.push(watcher);
    await bob.next(joined("watcher"));
    const bobMark = bob.received.lines.length;
    const watcherMark = watcher.received.lines.length;

    // The name held on B, logged in to on A.
    const onA = await login(a, "ada");
    clients.push(onA);
    assert.equal(
      await onB.next(/elsewhere/),
      "This name was logged in from elsewhere.",
    );
    await onB.received.closed();
    await onA.send("still here");
    await bob.next("ada: still here");
    await watcher.next("ada: still here");
    assert.deepEqual(bob.received.lines.slice(bobMark), ["ada: still here"]);
    assert.deepEqual(watcher.received.lines.slice(watcherMark), [
      "ada: still here",
    ]);
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "accounts on two nodes: a registered name held on a node killed with -9 is logged in to on the other once that node's lease ends",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 2,
    leaseMs: 4000,
  });
  const [a, b] = [nodes.at(0), nodes.at(1)];
  const clients: TestClient[] = [];
  try {
    const ada = await TestClient.join(a.port, "ada");
    clients.push(ada);
    await ada.send(`/register ${PASSWORD}`);
    await ada.next(/now registered/);
    a.process.child.kill("SIGKILL");
    await a.process.status(15_000);
    await ada.received.closed();
    // At once, while A's lease still runs: the login waits for the name.
    const back = await TestClient.connect(b.port);
    clients.push(back);
    await back.next(NAME_PROMPT);
    await back.send("ada");
    await back.next("Password for ada:");
    await back.send(PASSWORD);
    await back.next("Welcome ada!", 20_000);
    await back.send("/who");
    assert.equal(await back.next(/^Online/), "Online (1): ada");
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "accounts on two nodes: a ghost is taken over from a node that has no members (and so does not follow the others)",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  const [a, b] = [nodes.at(0), nodes.at(1)];
  const clients: TestClient[] = [];
  try {
    const onB = await TestClient.join(b.port, "ada");
    clients.push(onB);
    await onB.send(`/register ${PASSWORD}`);
    await onB.next(/now registered/);
    const onA = await login(a, "ada");
    clients.push(onA);
    assert.equal(
      await onB.next(/elsewhere/),
      "This name was logged in from elsewhere.",
    );
    await onB.received.closed();
    await onA.send("/who");
    assert.equal(await onA.next(/^Online/), "Online (1): ada");
  } finally {
    await closeAll(clients);
  }
});
