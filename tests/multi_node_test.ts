/**
 * One room over several server processes on one Redis: broadcasts once
 * and in one order for everyone, private messages, `/nick` and `/who`
 * across nodes, the race for one name, and history from the room.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RedisServer } from "./support/redis_server.ts";
import { type Node, Nodes } from "./support/nodes.ts";
import { IrcLineClient } from "./support/irc_line_client.ts";
import {
  closeAll,
  joined,
  left,
  NAME_PROMPT,
  spawnServer,
  TestClient,
  waitUntil,
} from "./helpers.ts";

const TEST = { sanitizeOps: true, sanitizeResources: true };

Deno.test({
  ...TEST,
  name:
    "three nodes: two senders on different nodes, every receiver gets each broadcast once and in one order",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 3 });
  const clients: TestClient[] = [];
  try {
    const join = async (node: number, name: string) => {
      const client = await TestClient.join(nodes.at(node).port, name);
      clients.push(client);
      return client;
    };
    const ann = await join(0, "ann");
    const bob = await join(1, "bob");
    const watchers = [
      await join(0, "w0"),
      await join(1, "w1"),
      await join(2, "w2"),
    ];
    await ann.next(joined("w2"));
    await bob.next(joined("w2"));
    const count = 40;
    await Promise.all([ann, bob].map(async (sender, s) => {
      for (let i = 0; i < count; i++) {
        await sender.send(`${s === 0 ? "a" : "b"}${i}`);
      }
    }));
    const said = (line: string) => /^(ann: a|bob: b)\d+$/.test(line);
    for (const watcher of watchers) {
      await waitUntil(
        () => watcher.received.lines.filter(said).length >= 2 * count,
        "every broadcast at a watcher",
        10_000,
      );
    }
    // Events come in the room's one order: a duplicate would come before
    // a marker sent after everything else.
    await ann.send("marker");
    for (const watcher of watchers) await watcher.next("ann: marker");
    const orders = watchers.map((w) => w.received.lines.filter(said));
    assert.equal(orders[0].length, 2 * count);
    assert.equal(new Set(orders[0]).size, 2 * count);
    assert.deepEqual(orders[1], orders[0]);
    assert.deepEqual(orders[2], orders[0]);
    // The senders get each other's lines once, in the same order.
    const fromBob = orders[0].filter((line) => line.startsWith("bob: "));
    assert.deepEqual(ann.received.lines.filter(said), fromBob);
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name: "two nodes: private messages, /nick, /me and /who across nodes",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  const clients: TestClient[] = [];
  try {
    const ann = await TestClient.join(nodes.at(0).port, "ann");
    clients.push(ann);
    const bob = await TestClient.join(nodes.at(1).port, "bob");
    clients.push(bob);
    await ann.next(joined("bob"));
    await ann.send("/who");
    await ann.next("Online (2): ann, bob");
    await bob.send("/who");
    await bob.next("Online (2): ann, bob");
    await ann.send("@BOB lunch?");
    await bob.next("Private message from ann: lunch?");
    await bob.send("@ann yes");
    await ann.next("Private message from bob: yes");
    await bob.send("/nick Robert");
    await ann.next("*** bob is now known as Robert.");
    await ann.send("@robert ok");
    await bob.next("Private message from ann: ok");
    await ann.send("@bob hello");
    await ann.next('Client "bob" not found.');
    await ann.send("/nick robert");
    await ann.next(/taken/);
    await bob.send("/nick ROBERT");
    await ann.next("*** Robert is now known as ROBERT.");
    await bob.send("/me waves");
    await ann.next("* ROBERT waves");
    await ann.send("/who");
    await ann.next("Online (2): ann, ROBERT");
    // A name taken on one node is taken on the other.
    const late = await TestClient.connect(nodes.at(1).port);
    clients.push(late);
    await late.next(NAME_PROMPT);
    await late.send("Ann");
    await late.next('Name "Ann" is already taken. Please enter another name:');
    await bob.send("exit");
    await ann.next(left("ROBERT"));
    await ann.send("/who");
    await ann.next("Online (1): ann");
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name: "two nodes: 200 simultaneous claims of one name, exactly one wins",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      const client = await TestClient.connect(nodes.at(i % 2).port);
      clients.push(client);
    }
    await Promise.all(clients.map((client) => client.next(NAME_PROMPT)));
    await Promise.all(clients.map((client) => client.send("racer")));
    const answered = (client: TestClient) =>
      client.received.lines.some((line) =>
        line === "Welcome racer!" || line.startsWith('Name "racer" is')
      );
    await waitUntil(
      () => clients.every(answered),
      "an answer to every claim",
      15_000,
    );
    const winners = clients.filter((client) =>
      client.received.lines.includes("Welcome racer!")
    );
    assert.equal(winners.length, 1);
  } finally {
    await closeAll(clients);
  }
});

Deno.test({
  ...TEST,
  name:
    "history on join comes from the room, also after a node restart; an empty stream is seeded once",
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat_seed_" });
  const clients: TestClient[] = [];
  try {
    // A log from a server of its own, as before the room was shared.
    const old = await spawnServer([
      "--no-web",
      "--max-per-ip",
      "0",
      "--log",
      `${dir}/old.txt`,
    ]);
    try {
      const early = await TestClient.join(old.port, "early");
      clients.push(early);
      await early.send("old one");
      await early.send("old two");
      await early.send("/who");
      await early.next(/^Online/);
      await early.close();
    } finally {
      old.child.kill("SIGTERM");
      await old.status(15_000);
      await old.cleanup();
    }
    await Deno.copyFile(`${dir}/old.txt`, `${dir}/a.txt`);
    await Deno.copyFile(`${dir}/old.txt`, `${dir}/b.txt`);
    await using redis = await RedisServer.start();
    await using nodes = await Nodes.start({
      redisUrl: redis.url,
      count: 0,
      dir,
    });
    const a = await nodes.add(`${dir}/a.txt`);
    const b = await nodes.add(`${dir}/b.txt`);
    const ann = await TestClient.join(a.port, "ann");
    clients.push(ann);
    await ann.next("*** End of history (2 messages).");
    const seeded = ann.received.lines.filter((l) => l.includes("old "));
    assert.equal(seeded.length, 2);
    await ann.send("new one");
    const bob = await TestClient.join(b.port, "bob");
    clients.push(bob);
    await bob.next("*** End of history (3 messages).");
    await bob.close();
    // Node b restarts with an empty log: history still comes from Redis.
    await nodes.shutDown(b);
    await Deno.remove(`${dir}/b.txt`);
    const b2 = await nodes.add(`${dir}/b2.txt`);
    await ann.send("new two");
    await ann.send("/who");
    await ann.next(/^Online/);
    const cat = await TestClient.join(b2.port, "cat");
    clients.push(cat);
    const end = await cat.next(/^\*\*\* End of history/);
    assert.equal(end, "*** End of history (4 messages).");
    const texts = cat.received.lines
      .filter((line) => /^\[[^\]]+\] /.test(line))
      .map((line) => line.replace(/^\[[^\]]+\] /, ""));
    assert.deepEqual(texts, [
      "early: old one",
      "early: old two",
      "ann: new one",
      "ann: new two",
    ]);
  } finally {
    await closeAll(clients);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  ...TEST,
  name:
    "two nodes: clients joining at once hear each join after their own exactly once",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  const clients: TestClient[] = [];
  try {
    const names = Array.from({ length: 24 }, (_, i) => `c${i}`);
    await Promise.all(names.map(async (name, i) => {
      clients[i] = await TestClient.join(nodes.at(i % 2).port, name);
    }));
    // Everything before the marker in the room's order reaches everyone
    // before it.
    await clients[0].send("marker");
    for (const client of clients.slice(1)) await client.next("c0: marker");
    let notices = 0;
    const heard = new Set<string>();
    for (const [i, client] of clients.entries()) {
      for (const line of client.received.lines) {
        const match = line.match(/^\*\*\* (c\d+) has joined the chat\.$/);
        if (match === null) continue;
        notices++;
        assert.notEqual(match[1], names[i], `${names[i]} heard its own join`);
        const [a, b] = [names[i], match[1]].sort();
        assert.ok(
          !heard.has(`${a} ${b}`),
          `${a} and ${b} both heard the other join`,
        );
        heard.add(`${a} ${b}`);
      }
    }
    // Of every two, exactly the one that joined first hears the other.
    assert.equal(notices, (names.length * (names.length - 1)) / 2);
  } finally {
    await closeAll(clients.filter((c) => c !== undefined));
  }
});

Deno.test({
  ...TEST,
  name:
    "three nodes: the console's kick reaches a member on another node, with a local kick's texts, also from a node with no member",
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 3 });
  const clients: TestClient[] = [];
  try {
    const [a, b, c] = [nodes.at(0), nodes.at(1), nodes.at(2)];
    const ann = await TestClient.join(a.port, "ann");
    clients.push(ann);
    const ivan = await TestClient.join(b.port, "ivan");
    clients.push(ivan);
    const bob = await TestClient.join(b.port, "bob");
    clients.push(bob);
    await ann.next(joined("bob"));
    await a.process.write("who\n");
    await a.process.stdout.next(/^\s+ivan\s/);
    // Any case, as a local kick.
    await a.process.write("kick IVAN spam and eggs\n");
    await ivan.next("You were removed from the chat (spam and eggs).");
    await ivan.received.closed();
    await ann.next("*** ivan was removed from the chat.");
    await bob.next("*** ivan was removed from the chat.");
    const removed = "Client ivan was removed from the chat (spam and eggs).";
    await a.process.stdout.next(removed);
    await b.process.stdout.next(removed);
    // Node c has no member of its own, so it does not follow the room.
    await c.process.write("kick bob\n");
    await bob.next("You were removed from the chat.");
    await bob.received.closed();
    await ann.next("*** bob was removed from the chat.");
    await c.process.stdout.next("Client bob was removed from the chat.");
    // Someone no node holds.
    await c.process.write("kick nobody\n");
    await c.process.stdout.next('No one called "nobody" is online.');
    for (const node of [a, c]) {
      assert.deepEqual(
        node.process.stdout.lines.filter((l) => l.startsWith("No one")),
        node === c ? ['No one called "nobody" is online.'] : [],
      );
    }
    await waitUntil(
      () =>
        Deno.readTextFileSync(b.logPath).includes(
          " ivan was removed from the chat (spam and eggs)\n",
        ),
      "node b's log of the kick",
    );
  } finally {
    await closeAll(clients);
  }
});

// The IRC door's port of a node started with `--irc-port 0`.
async function ircPort(node: Node): Promise<number> {
  const listening = /^IRC at 127\.0\.0\.1:(\d+), /;
  await waitUntil(
    () => node.process.stdout.lines.some((line) => listening.test(line)),
    "the IRC door's address",
  );
  const line = node.process.stdout.lines.find((l) => listening.test(l))!;
  return Number(line.match(listening)![1]);
}

Deno.test({
  ...TEST,
  name:
    "two nodes: WHO, WHOIS, USERHOST and AWAY answer alike for an IRC member on the other node; CTCP reaches it",
}, async () => {
  const S = "irc.test";
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({
    redisUrl: redis.url,
    count: 2,
    args: ["--irc-port", "0", "--irc-server-name", S],
  });
  await using ann = await IrcLineClient.joined(
    await ircPort(nodes.at(0)),
    "ann",
  );
  await using bob = await IrcLineClient.joined(
    await ircPort(nodes.at(1)),
    "bob",
  );
  await using cat = await IrcLineClient.joined(
    await ircPort(nodes.at(1)),
    "cat",
  );
  await ann.next(":cat!irc@chat JOIN #chat");
  await ann.send("AWAY :at lunch");
  await ann.next(`:${S} 306 ann :You have been marked as being away`);
  // What ann says comes after her away in the room's order.
  await ann.send("PRIVMSG #chat :back soon");
  await bob.next(":ann!irc@chat PRIVMSG #chat :back soon");
  await cat.next(":ann!irc@chat PRIVMSG #chat :back soon");
  // bob sees ann (node a) as cat (node b) sees bob: the same lines.
  for (const [asker, who] of [[bob, "ann"], [cat, "bob"]] as const) {
    await asker.send(`WHOIS ${who}`);
    const me = asker === bob ? "bob" : "cat";
    const lines = await asker.until(/ 318 /);
    assert.deepEqual(lines.filter((l) => !/ 317 /.test(l)), [
      `:${S} 311 ${me} ${who} ~${who} chat * :${who} Test`,
      `:${S} 319 ${me} ${who} :#chat`,
      `:${S} 312 ${me} ${who} ${S} :Deno chat`,
      ...(who === "ann" ? [`:${S} 301 ${me} ann :at lunch`] : []),
      `:${S} 318 ${me} ${who} :End of /WHOIS list`,
    ]);
    assert.match(
      lines.at(-2)!,
      new RegExp(`^:${S} 317 ${me} ${who} \\d+ \\d+ :seconds idle, signon`),
    );
  }
  await bob.send("WHO ann");
  await bob.next(`:${S} 352 bob #chat ~ann chat ${S} ann G :0 ann Test`);
  await bob.send("USERHOST ann cat");
  await bob.next(`:${S} 302 bob :ann=-~ann@chat cat=+~cat@chat`);
  await bob.send("PRIVMSG ann :are you there?");
  await bob.next(`:${S} 301 bob ann :at lunch`);
  await ann.next(":bob!irc@chat PRIVMSG ann :are you there?");
  // CTCP in private, both ways across the nodes, and to the channel.
  await bob.send("PRIVMSG ann :\x01VERSION\x01");
  await ann.next(":bob!irc@chat PRIVMSG ann :\x01VERSION\x01");
  await ann.send("NOTICE bob :\x01VERSION irssi 1.4\x01");
  await bob.next(":ann!irc@chat NOTICE bob :\x01VERSION irssi 1.4\x01");
  await bob.send("PRIVMSG #chat :\x01PING 12345\x01");
  await ann.next(":bob!irc@chat PRIVMSG #chat :\x01PING 12345\x01");
  await cat.next(":bob!irc@chat PRIVMSG #chat :\x01PING 12345\x01");
  // Back: the other node sees it too.
  await ann.send("AWAY");
  await ann.next(`:${S} 305 ann :You are no longer marked as being away`);
  await ann.send("PRIVMSG #chat :here");
  await bob.next(":ann!irc@chat PRIVMSG #chat :here");
  await bob.send("USERHOST ann");
  await bob.next(`:${S} 302 bob :ann=+~ann@chat`);
  assert.ok(!bob.lines.some((line) => line.includes("is not on IRC")));
});
