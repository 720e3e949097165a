/**
 * The log of a node of a room on Redis: it records the presence of the
 * other nodes' members whose messages it records, from when it begins to
 * follow the room until it stops, so that every name that speaks in a
 * node's log was seen come in and is seen go.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RedisEngine } from "../lib/engine/redis_engine.ts";
import { RedisServer } from "./support/redis_server.ts";
import {
  closeAll,
  joined,
  left,
  readLogEventsSync,
  startTestServer,
  TestClient,
  type TestServer,
  waitUntil,
} from "./helpers.ts";

const TEST = { sanitizeOps: true, sanitizeResources: true };

// A node in this process whose engine stops following the room soon after
// its last member left.
function node(url: string): Promise<TestServer> {
  return startTestServer({
    engine: (history) =>
      new RedisEngine({
        url,
        historyLimit: 20,
        history,
        idleUnsubscribeMs: 200,
      }),
  });
}

// The log's events from the first that matches `from` on.
async function logFrom(path: string, from: string): Promise<string[]> {
  let events: string[] = [];
  await waitUntil(() => {
    events = readLogEventsSync(path);
    return events.includes(from);
  }, `"${from}" in the log`);
  return events.slice(events.indexOf(from));
}

Deno.test({
  ...TEST,
  name:
    "a node's log records the other nodes' members it hears from: already in, joined, renamed, out of its sight, left",
}, async () => {
  await using redis = await RedisServer.start();
  const a = await node(redis.url);
  const b = await node(redis.url).catch(async (error) => {
    await a.cleanup();
    throw error;
  });
  const clients: TestClient[] = [];
  try {
    const hana = await TestClient.join(a.port, "hana");
    clients.push(hana);
    // Node b has no member: it does not follow the room yet.
    await hana.send("before anyone on b");
    const ivan = await TestClient.join(b.port, "ivan");
    clients.push(ivan);
    await hana.next(joined("ivan"));
    const hanaAt = a.server.room.members().find((m) => m.name === "hana")!
      .address;
    await hana.send("hello from node A");
    await ivan.next("hana: hello from node A");
    await hana.send("/nick hanna");
    await ivan.next("*** hana is now known as hanna.");
    await ivan.send("exit");
    await hana.next(left("ivan"));
    // Node b stops following the room, and says so for hanna.
    const unfollowed =
      "hanna is no longer followed here (no client on this server)";
    await logFrom(b.logPath, unfollowed);
    await hana.send("unheard on b");
    const zoe = await TestClient.join(b.port, "zoe");
    clients.push(zoe);
    await hana.next(joined("zoe"));
    const cat = await TestClient.join(a.port, "cat");
    clients.push(cat);
    await zoe.next(joined("cat"));
    const catAt = a.server.room.members().find((m) => m.name === "cat")!
      .address;
    await hana.send("exit");
    await zoe.next(left("hanna"));
    await cat.send("marker");
    await zoe.next("cat: marker");
    await b.server.shutdown();
    const events = readLogEventsSync(b.logPath);
    const after = events.slice(1);
    const logged = after.filter((e) =>
      !e.startsWith("Client ivan ") && !e.startsWith("Client zoe ") &&
      !e.startsWith("ivan ") && !e.startsWith("zoe ")
    );
    assert.deepEqual(logged, [
      `Client hana is in the chat room on another server (${hanaAt})`,
      "hana: hello from node A",
      "hana is now known as hanna",
      unfollowed,
      `Client hanna is in the chat room on another server (${hanaAt})`,
      `Client cat has joined the chat room (${catAt})`,
      "hanna has left the chat",
      "cat: marker",
      "cat is no longer followed here (server shutdown)",
      "Server has been shutdown",
      "Chat finished",
    ]);
  } finally {
    await closeAll(clients);
    await b.cleanup().catch(() => {});
    await a.cleanup();
  }
});
