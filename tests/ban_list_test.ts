import assert from "node:assert/strict";
import type { Ban } from "../lib/engine/accounts.ts";
import { RedisStore } from "../lib/engine/redis_store.ts";
import { SqliteStore } from "../lib/engine/sqlite_store.ts";
import { BanList } from "../lib/room/ban_list.ts";
import { TestScope, waitUntil } from "./helpers.ts";
import { RedisServer } from "./support/redis_server.ts";

const MINUTE = 60_000;

function ban(target: Ban["target"], until: number | null = null): Ban {
  return { target, until, reason: "r", by: "grace", at: 1 };
}

Deno.test("BanList answers by address and by name from what the store holds", async () => {
  await using scope = new TestScope();
  const clock = { now: 1_000_000 };
  await using store = await SqliteStore.open({
    dir: `${await scope.tempDir()}/data`,
    now: () => clock.now,
  });
  await store.ban(ban({ kind: "address", network: "10.0.0.0/8" }));
  await store.ban(ban({ kind: "address", network: "10.1.2.3" }, 2_000_000));
  await store.ban(ban({ kind: "address", network: "2001:db8::/32" }));
  await store.ban(ban({ kind: "name", name: "Mallory" }, clock.now + MINUTE));
  const list = new BanList(store, { now: () => clock.now });
  assert.equal(list.ofAddress("10.9.9.9"), undefined);
  await list.load();
  assert.equal(list.size, 4);
  const wide = { kind: "address", network: "10.0.0.0/8" };
  assert.deepEqual(list.ofAddress("10.9.9.9")?.target, wide);
  assert.deepEqual(list.ofAddress("10.1.2.4")?.target, wide);
  // The most specific network wins.
  assert.deepEqual(list.ofAddress("10.1.2.3")?.target, {
    kind: "address",
    network: "10.1.2.3",
  });
  assert.deepEqual(list.ofAddress("::ffff:10.1.2.3")?.until, 2_000_000);
  assert.ok(list.ofAddress("[2001:db8::1]"));
  assert.equal(list.ofAddress("11.0.0.1"), undefined);
  assert.equal(list.ofAddress("not an address"), undefined);
  assert.ok(list.ofName("MALLORY"));
  assert.equal(list.ofName("mallory2"), undefined);
  // A ban ends at its time, without a load.
  clock.now += MINUTE;
  assert.equal(list.ofName("mallory"), undefined);
});

Deno.test("BanList follows the store: a change is in the list once the store told of it", async () => {
  await using scope = new TestScope();
  await using store = await SqliteStore.open({
    dir: `${await scope.tempDir()}/data`,
  });
  let loads = 0;
  const list = new BanList(store, { onLoad: () => loads++ });
  await list.load();
  const stop = list.follow();
  await store.ban(ban({ kind: "name", name: "eve" }));
  await waitUntil(() => list.ofName("eve") !== undefined, "the ban of eve");
  await store.unban({ kind: "name", name: "eve" });
  await waitUntil(() => list.ofName("eve") === undefined, "eve unbanned");
  stop();
  const before = loads;
  await store.ban(ban({ kind: "name", name: "eve" }));
  assert.equal(loads, before);
  assert.equal(list.ofName("eve"), undefined);
});

Deno.test("BanList joins loads asked for while one runs into one more", async () => {
  await using scope = new TestScope();
  await using store = await SqliteStore.open({
    dir: `${await scope.tempDir()}/data`,
  });
  let loads = 0;
  const list = new BanList(store, { onLoad: () => loads++ });
  await Promise.all([list.load(), list.load(), list.load(), list.load()]);
  assert.equal(loads, 2);
});

Deno.test("a ban on node A is in node B's BanList (two stores on one Redis)", async () => {
  await using redis = await RedisServer.start();
  await using nodeA = await RedisStore.open({ url: redis.url });
  await using nodeB = await RedisStore.open({ url: redis.url });
  const listB = new BanList(nodeB);
  await listB.load();
  listB.follow();
  await nodeA.ban(ban({ kind: "address", network: "192.168.1.0/24" }));
  await waitUntil(
    () => listB.ofAddress("192.168.1.23") !== undefined,
    "node B to hold the ban made on node A",
  );
});
