/**
 * Rooms over several server processes on one real Redis (issue 19,
 * "Several nodes"): a room across nodes (its lines reach its members on
 * every node once and in one order; `/rooms`, `/who #room` and topics
 * agree everywhere; operators and kicks reach across), and a node's death
 * (kill -9) or shutdown, which takes its members out of their rooms once,
 * while a room only they were in disappears everywhere.
 *
 * The texts are written out as the issue gives them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RedisServer } from "./support/redis_server.ts";
import { Nodes, redisCommand } from "./support/nodes.ts";
import {
  closeAll,
  holdsFor,
  joined,
  left,
  TestClient,
  waitUntil,
  waitUntilAsync,
} from "./helpers.ts";

const TEST = { sanitizeOps: true, sanitizeResources: true };
const LEASE_MS = 1_500;
const SPLIT =
  "*** The room is split: for now only the users of this server hear you.";
const WHOLE = "*** The room is whole again.";

const youJoined = (room: string, members: number, topic?: string) =>
  `*** You joined ${room} (${members} ${
    members === 1 ? "member" : "members"
  }).${topic === undefined ? "" : ` Topic: ${topic}`}`;
const joinedRoom = (name: string, room: string) =>
  `*** ${name} has joined ${room}.`;
const onlineIn = (room: string, ...names: string[]) =>
  `Online in ${room} (${names.length}): ${names.join(", ")}`;
const topicSet = (name: string, room: string, topic: string) =>
  `*** ${name} set the topic of ${room}: ${topic}`;
const opped = (by: string, name: string, room: string) =>
  `*** ${by} made ${name} an operator of ${room}.`;
const topicLocked = (by: string, room: string) =>
  `*** ${by} locked the topic of ${room}.`;
const youWereKicked = (room: string, by: string, reason: string) =>
  `*** You were kicked from ${room} by ${by} (${reason}).`;
const wasKicked = (name: string, room: string, by: string, reason: string) =>
  `*** ${name} was kicked from ${room} by ${by} (${reason}).`;
const leftRoom = (name: string, room: string) =>
  `*** ${name} has left ${room}.`;
const endOfHistory = (n: number) =>
  `*** End of history (${n} ${n === 1 ? "message" : "messages"}).`;
const noSuchRoom = (room: string) => `No room called ${room}.`;

let markers = 0;

/**
 * Every line `client` got since its last wait, up to a marker of its own
 * (the answer to a private message to no one, which comes after all the
 * server sent it before).
 */
async function since(client: TestClient): Promise<string[]> {
  const marker = `zzmark${++markers}`;
  await client.send(`@${marker} .`);
  const lines = await client.received.until(`Client "${marker}" not found.`);
  return lines.slice(0, -1);
}

/** Sends `line` and returns what `client` got in answer. */
async function ask(client: TestClient, line: string): Promise<string[]> {
  await client.send(line);
  return await since(client);
}

/** `/rooms` as `client` sees it: the header and the sorted room lines. */
async function rooms(client: TestClient): Promise<string[]> {
  const answer = await ask(client, "/rooms");
  const at = answer.findIndex((line) => /^Rooms \(\d+\):$/.test(line));
  assert.ok(at !== -1, answer.join("\n"));
  const count = Number(answer[at].match(/\d+/)![0]);
  return [answer[at], ...answer.slice(at + 1, at + 1 + count).sort()];
}

function count(client: TestClient, line: string): number {
  return client.received.lines.filter((l) => l === line).length;
}

Deno.test({
  ...TEST,
  name:
    "three nodes: a room across nodes: its lines reach its members on every node once and in one order, /rooms, /who #room and its topic agree on every node",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 3 });
  const clients: TestClient[] = [];
  const join = async (node: number, name: string) => {
    const client = await TestClient.join(nodes.at(node).port, name);
    clients.push(client);
    return client;
  };
  try {
    const ann = await join(0, "ann");
    const bob = await join(1, "bob");
    const cat = await join(2, "cat");
    const dan = await join(0, "dan");
    for (const client of [ann, bob, cat]) {
      await client.next(joined("dan"));
      await since(client);
    }
    assert.deepEqual(await ask(ann, "/join #Games"), [youJoined("#Games", 1)]);
    assert.deepEqual(await ask(bob, "/join games"), [youJoined("#Games", 2)]);
    await ann.next(joinedRoom("bob", "#Games"));
    await ann.send("before cat");
    await bob.next("ann: before cat");
    await ann.send("/topic Board games tonight");
    await bob.next(topicSet("ann", "#Games", "Board games tonight"));
    // Every node answers alike: the whole server's rooms and members.
    for (const client of [ann, bob, cat, dan]) {
      assert.deepEqual(await rooms(client), [
        "Rooms (2):",
        "#Games (2): Board games tonight",
        "#chat (4)",
      ]);
      assert.deepEqual(await ask(client, "/who #games"), [
        onlineIn("#Games", "ann", "bob"),
      ]);
    }
    // The topic set on node a is there on node c, and so is the history.
    const catJoin = await ask(cat, "/join #games");
    assert.equal(catJoin[0], youJoined("#Games", 3, "Board games tonight"));
    assert.match(catJoin[1], /^\[\d\d:\d\d\] ann: before cat$/);
    assert.deepEqual(catJoin.slice(2), [endOfHistory(1)]);
    await ann.next(joinedRoom("cat", "#Games"));
    await bob.next(joinedRoom("cat", "#Games"));
    assert.deepEqual(await ask(cat, "/topic"), [
      "Topic of #Games: Board games tonight",
    ]);
    // Two senders on two nodes, a watcher on a third: each line once, and
    // one order for everyone.
    const lines = 30;
    await Promise.all([ann, bob].map(async (sender, s) => {
      for (let i = 0; i < lines; i++) {
        await sender.send(`${s === 0 ? "a" : "b"}${i}`);
      }
    }));
    await ann.send("/msg #chat marker");
    for (const client of [bob, cat, dan]) {
      await client.next(/^(\[#chat\] )?ann: marker$/, 10_000);
    }
    const said = (line: string) => /^(ann: a|bob: b)\d+$/.test(line);
    const order = cat.received.lines.filter(said);
    assert.equal(order.length, 2 * lines);
    assert.equal(new Set(order).size, 2 * lines);
    assert.deepEqual(
      ann.received.lines.filter(said),
      order.filter((line) => line.startsWith("bob: ")),
    );
    assert.deepEqual(
      bob.received.lines.filter(said),
      order.filter((line) => line.startsWith("ann: ")),
    );
    // dan is in #chat only.
    assert.deepEqual(dan.received.lines.filter(said), []);
    // The history of #Games is the same wherever one joins it.
    await since(dan);
    const danJoin = await ask(dan, "/join #GAMES");
    assert.deepEqual(danJoin.slice(-1), [endOfHistory(20)]);
    assert.deepEqual(
      danJoin.slice(1, -1).map((line) => line.replace(/^\[\d\d:\d\d\] /, "")),
      order.slice(-20),
    );
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "two nodes: an operator on one node ops, kicks and is obeyed on the other; the last member's /part takes the room away on both; a shut-down node's members leave the rooms they shared",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  const clients: TestClient[] = [];
  try {
    const ann = await TestClient.join(nodes.at(0).port, "ann");
    clients.push(ann);
    const bob = await TestClient.join(nodes.at(1).port, "bob");
    clients.push(bob);
    await since(ann);
    await ask(ann, "/join #games");
    await ask(bob, "/join #games");
    await ann.next(joinedRoom("bob", "#games"));
    // bob is no operator of #games, until ann (node a) makes him one.
    assert.deepEqual(await ask(bob, "/topiclock on"), [
      "Only operators of #games can do that.",
    ]);
    await ann.send("/op bob");
    await bob.next(opped("ann", "bob", "#games"));
    assert.deepEqual(await ask(bob, "/topiclock on"), [
      topicLocked("bob", "#games"),
    ]);
    await ann.next(topicLocked("bob", "#games"));
    assert.deepEqual((await ask(ann, "/who")).slice(-1), [
      "Operators: ann, bob",
    ]);
    // A kick from node a takes bob (node b) out of #games, not the chat.
    await ann.send("/kick bob too loud");
    await bob.next(youWereKicked("#games", "ann", "too loud"));
    await ann.next(wasKicked("bob", "#games", "ann", "too loud"));
    for (const client of [ann, bob]) {
      assert.deepEqual(await ask(client, "/who #games"), [
        onlineIn("#games", "ann"),
      ]);
    }
    // A room of node b's only: gone everywhere when its last member parts.
    await ask(bob, "/join #dice");
    await ask(bob, "/topic old news");
    assert.deepEqual(await rooms(ann), [
      "Rooms (3):",
      "#chat (2)",
      "#dice (1): old news",
      "#games (1)",
    ]);
    await bob.send("/part");
    await bob.next(/^\*\*\* You left #dice\./);
    for (const client of [ann, bob]) {
      // Node a hears of it in the room's order, a moment later.
      await waitUntilAsync(
        async () => (await rooms(client)).length === 3,
        "#dice gone",
      );
      assert.deepEqual(await rooms(client), [
        "Rooms (2):",
        "#chat (2)",
        "#games (1)",
      ]);
      assert.deepEqual(await ask(client, "/who #dice"), [noSuchRoom("#dice")]);
    }
    assert.equal(
      await redisCommand(redis.url, ["HEXISTS", "chat:rooms", "#dice"]),
      0,
    );
    // Back in #games and in a room of his own, bob's node shuts down: the
    // others hear him leave once, and his own room is gone.
    await ask(bob, "/join #games");
    await ann.next(joinedRoom("bob", "#games"));
    await ask(bob, "/join #solo");
    await nodes.shutDown(nodes.at(1));
    await ann.next(left("bob"));
    assert.deepEqual(await rooms(ann), [
      "Rooms (2):",
      "#chat (1)",
      "#games (1)",
    ]);
    assert.equal(count(ann, left("bob")), 1);
    assert.equal(
      await redisCommand(redis.url, ["HEXISTS", "chat:rooms", "#solo"]),
      0,
    );
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "three nodes: kill -9 of a node takes its members out of their rooms once; a room only they were in disappears on every node, with its topic and history",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 3,
    leaseMs: LEASE_MS,
  });
  const clients: TestClient[] = [];
  const join = async (node: number, name: string) => {
    const client = await TestClient.join(nodes.at(node).port, name);
    clients.push(client);
    return client;
  };
  try {
    const ann = await join(0, "ann");
    const cat = await join(2, "cat");
    const bob = await join(1, "bob");
    const eve = await join(1, "eve");
    await ask(ann, "/join #games");
    await ask(cat, "/join #games");
    await ask(bob, "/join #games");
    await ask(bob, "/join #dice");
    await ask(eve, "/join #dice");
    await ask(eve, "/topic roll them");
    await eve.send("six!");
    await bob.next("eve: six!");
    // cat is in #games only: it shares it with bob, and #chat with eve.
    await ask(cat, "/part #chat");
    for (const client of [ann, cat]) {
      assert.deepEqual(await rooms(client), [
        "Rooms (3):",
        "#chat (3)",
        "#dice (2): roll them",
        "#games (3)",
      ]);
    }
    nodes.at(1).process.child.kill("SIGKILL");
    await waitUntil(
      () =>
        count(ann, left("bob")) + count(ann, left("eve")) +
            count(cat, left("bob")) === 3,
      "the dead node's members to leave",
      20_000,
    );
    for (const client of [ann, cat]) {
      assert.deepEqual(await rooms(client), [
        "Rooms (2):",
        "#chat (1)",
        "#games (2)",
      ]);
      assert.deepEqual(await ask(client, "/who #games"), [
        onlineIn("#games", "ann", "cat"),
      ]);
      assert.deepEqual(await ask(client, "/who #dice"), [noSuchRoom("#dice")]);
    }
    // Another sweep round or two: nobody hears a leave twice, and cat,
    // who shared no room with eve, never hears hers.
    await holdsFor(
      () =>
        count(ann, left("bob")) === 1 && count(ann, left("eve")) === 1 &&
        count(cat, left("bob")) === 1 && count(cat, left("eve")) === 0,
      "each leave heard once",
      LEASE_MS,
    );
    assert.equal(
      await redisCommand(redis.url, ["HEXISTS", "chat:rooms", "#dice"]),
      0,
    );
    assert.equal(
      await redisCommand(redis.url, ["EXISTS", "chat:history:#dice"]),
      0,
    );
    // #dice is made afresh: no topic, no history, its maker its operator.
    assert.deepEqual(await ask(cat, "/join #dice"), [youJoined("#dice", 1)]);
    assert.deepEqual((await ask(cat, "/who")).slice(-1), ["Operators: cat"]);
    await ann.send("/join #dice");
    await ann.next(youJoined("#dice", 2));
    await cat.next(joinedRoom("ann", "#dice"));
    await cat.send("/part #dice");
    await ann.next(leftRoom("cat", "#dice"));
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "two nodes: Redis restarted empty: the rooms, their members and topics are made again from the nodes",
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
    await ask(ann, "/join #games");
    await ask(bob, "/join #games");
    await ann.next(joinedRoom("bob", "#games"));
    await ask(ann, "/topic dice night");
    await bob.next(topicSet("ann", "#games", "dice night"));
    await redis.kill();
    await ann.next(SPLIT);
    await bob.next(SPLIT);
    await redis.restart();
    await ann.next(WHOLE, 15_000);
    await bob.next(WHOLE, 15_000);
    const expected = ["Rooms (2):", "#chat (2)", "#games (2): dice night"];
    for (const client of [ann, bob]) {
      // The other node may still be healing.
      await waitUntilAsync(
        async () => (await rooms(client)).join("\n") === expected.join("\n"),
        "the rooms as before",
        10_000,
      );
      assert.deepEqual(await ask(client, "/who #games"), [
        onlineIn("#games", "ann", "bob"),
      ]);
    }
    await ann.send("back");
    await bob.next("ann: back");
    // A node started now learns them from Redis alone.
    const cat = await TestClient.join((await nodes.add()).port, "cat");
    clients.push(cat);
    assert.deepEqual(await rooms(cat), [
      "Rooms (2):",
      "#chat (3)",
      "#games (2): dice night",
    ]);
  } finally {
    await closeAll(clients);
  }
});
