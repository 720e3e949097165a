/**
 * What the Redis account store does beyond the contract: several nodes
 * share it and hear each other's changes, it survives a restart of a
 * Redis that keeps an append-only file, and an unreachable Redis is one
 * clear line.
 */
import assert from "node:assert/strict";
import { StoreError } from "../lib/engine/accounts.ts";
import { RedisStore } from "../lib/engine/redis_store.ts";
import { Secret } from "../lib/engine/secret.ts";
import { waitUntil, waitUntilAsync } from "./helpers.ts";
import { freePort, RedisServer } from "./support/redis_server.ts";

const HASH = "$scrypt$ln=10,r=8,p=1$c2FsdA$aGFzaA";
const FAST = { retryInitialMs: 20, retryMaxMs: 200 };

/** Opens a store on `url`, closed with `await using`. */
function open(url: string, prefix?: string): Promise<RedisStore> {
  return RedisStore.open({ url, prefix, ...FAST });
}

Deno.test("a change on one node is heard on the other, and by its own node once", async () => {
  await using redis = await RedisServer.start();
  await using nodeA = await open(redis.url);
  await using nodeB = await open(redis.url);
  const heardA: string[] = [];
  const heardB: string[] = [];
  nodeA.onChange((kind, key) => heardA.push(`${kind} ${key}`));
  nodeB.onChange((kind, key) => heardB.push(`${kind} ${key}`));

  await nodeA.register("Grace", new Secret(HASH), { operator: true });
  await nodeA.ban({
    target: { kind: "name", name: "Mallory" },
    until: null,
    reason: "spamming",
    by: "grace",
    at: Date.now(),
  });
  await nodeA.ban({
    target: { kind: "address", network: "10.0.0.0/24" },
    until: null,
    reason: "",
    by: "grace",
    at: Date.now(),
  });
  await nodeA.mute({ name: "Bob", until: null, by: "grace", at: Date.now() });
  await nodeA.keepMessage("grace", { from: "bob", time: 1, text: "hi" });
  const expected = [
    "account grace",
    "ban name:mallory",
    "ban address:10.0.0.0/24",
    "mute bob",
    "inbox grace",
  ];
  // Its own node was told as each call returned.
  assert.deepEqual(heardA, expected);
  await waitUntil(
    () => heardB.length >= expected.length,
    "node B to hear node A's changes",
  );
  assert.deepEqual(heardB, expected);
  // And B reads what A wrote.
  assert.equal(
    (await nodeB.banOf({ kind: "name", name: "mallory" }))?.reason,
    "spamming",
  );
  assert.equal((await nodeB.account("grace"))?.operator, true);

  // B's changes come back to A, and A does not hear its own twice.
  await nodeB.unban({ kind: "name", name: "MALLORY" });
  await waitUntil(() => heardA.length > expected.length, "node A to hear B");
  assert.deepEqual(heardA.slice(expected.length), ["ban name:mallory"]);
  assert.deepEqual(heardB.slice(expected.length), ["ban name:mallory"]);
});

Deno.test("stores with different prefixes share a Redis without seeing each other", async () => {
  await using redis = await RedisServer.start();
  await using one = await open(redis.url, "one:");
  await using two = await open(redis.url, "two:");
  await using twoElsewhere = await open(redis.url, "two:");
  const heard: string[] = [];
  two.onChange((kind, key) => heard.push(`${kind} ${key}`));
  await one.register("ada", new Secret(HASH));
  assert.equal(await two.account("ada"), undefined);
  // Pub/sub keeps its order: once two hears a later change of its own
  // prefix, it would have heard one's before it.
  await twoElsewhere.register("bob", new Secret(HASH));
  await waitUntil(() => heard.length > 0, "two to hear its own prefix");
  assert.deepEqual(heard, ["account bob"]);
});

Deno.test("with appendonly yes, accounts and bans survive Redis being killed and restarted", async () => {
  await using redis = await RedisServer.start({
    args: ["--appendonly", "yes", "--appendfsync", "always"],
  });
  await using store = await open(redis.url);
  const heard: string[] = [];
  store.onChange((kind, key) => heard.push(`${kind} ${key}`));
  await store.register("ada", new Secret(HASH), { operator: true });
  await store.ban({
    target: { kind: "address", network: "2001:db8::/32" },
    until: null,
    reason: "abuse",
    by: "ada",
    at: 1,
  });
  await store.keepMessage("ada", { from: "bob", time: 2, text: "kept" });

  await redis.restart();
  // The store reconnects by itself and reads what was written before.
  await waitUntilAsync(
    () => store.account("ada").then(() => true, () => false),
    "the store to be back",
  );
  assert.equal((await store.account("ada"))?.operator, true);
  assert.equal((await store.bans())[0]?.reason, "abuse");
  assert.deepEqual((await store.takeInbox("ada")).messages, [
    { from: "bob", time: 2, text: "kept" },
  ]);
  // Changes published while it was away are lost: its listeners are told
  // to read again.
  await waitUntil(() => heard.includes("all "), "an 'all' change");
});

Deno.test("without the append-only file, a killed Redis forgets them (why the README asks for it)", async () => {
  await using redis = await RedisServer.start();
  await using store = await open(redis.url);
  await store.register("ada", new Secret(HASH));
  await redis.restart();
  await waitUntilAsync(
    () => store.account("ada").then(() => true, () => false),
    "the store to be back",
  );
  assert.equal(await store.account("ada"), undefined);
});

Deno.test("while Redis is away, every call fails at once with a StoreError naming it", async () => {
  await using redis = await RedisServer.start({ password: "s3cret-pw" });
  await using store = await open(redis.url);
  await redis.kill();
  await waitUntilAsync(
    () => store.account("ada").then(() => false, () => true),
    "calls to fail",
  );
  for (
    const call of [
      () => store.account("ada"),
      () => store.register("ada", new Secret(HASH)),
      () => store.bans(),
      () => store.keepMessage("ada", { from: "b", time: 1, text: "x" }),
    ]
  ) {
    await assert.rejects(call(), (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.match(
        error.message,
        /^Cannot use the account store in Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: /,
      );
      assert.ok(!error.message.includes("s3cret"));
      return true;
    });
  }
});

Deno.test("a Redis that cannot be reached at start is one line, password hidden", async () => {
  const url = `redis://:hunter2@127.0.0.1:${freePort()}`;
  await assert.rejects(
    RedisStore.open({ url, ...FAST }),
    (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.match(
        error.message,
        /^Cannot use the account store in Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: connection refused\.$/,
      );
      assert.ok(!error.message.includes("hunter2"));
      return true;
    },
  );
  await assert.rejects(
    RedisStore.open({ url: "http://:hunter2@localhost" }),
    (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.match(error.message, /^Invalid Redis URL/);
      assert.ok(!error.message.includes("hunter2"));
      return true;
    },
  );
});
