/**
 * The engine contract, run against both engines: the memory engine and the
 * Redis engine (on a real redis-server), each with a fake sink. Also what
 * only a shared engine has: two nodes on one Redis.
 *
 * @module
 */

import assert from "node:assert/strict";
import type {
  EngineSink,
  Holder,
  KickRequest,
  PrivateMessage,
  RoomEngine,
  RoomInfo,
  RoomMessage,
  Unfollowing,
} from "../lib/engine/engine.ts";
import { MemoryEngine } from "../lib/engine/memory_engine.ts";
import { RedisEngine } from "../lib/engine/redis_engine.ts";
import type { HistoryEntry } from "../lib/room/events.ts";
import { RedisServer } from "./support/redis_server.ts";
import { redisCommand } from "./support/nodes.ts";
import { waitUntil } from "./helpers.ts";

const TEST = { sanitizeOps: true, sanitizeResources: true };

/** A sink that keeps what it was handed. */
class FakeSink implements EngineSink {
  /** Called as each room event is handed over, before the next. */
  onReceive: ((message: RoomMessage) => void) | null = null;
  readonly received: RoomMessage[] = [];
  readonly privates: PrivateMessage[] = [];
  readonly statuses: string[] = [];
  readonly kicks: KickRequest[] = [];
  readonly follows: string[][] = [];
  readonly unfollows: Unfollowing[] = [];
  receive(message: RoomMessage): void {
    this.received.push(message);
    this.onReceive?.(message);
  }
  receivePrivate(message: PrivateMessage): void {
    this.privates.push(message);
  }
  receiveKick(request: KickRequest): void {
    this.kicks.push(request);
  }
  status(state: "split" | "whole" | "lostPlace"): void {
    this.statuses.push(state);
  }
  following(present: Holder[]): void {
    this.follows.push(present.map((h) => h.name));
  }
  unfollowing(why: Unfollowing): void {
    this.unfollows.push(why);
  }
}

interface Harness {
  engine: RoomEngine;
  sink: FakeSink;
}

type Factory = (
  options: { historyLimit: number; history?: HistoryEntry[] },
) => Promise<Harness & { close(): Promise<void> }>;

function holder(engine: RoomEngine, name: string): Holder {
  return {
    name,
    transport: "tcp",
    address: "127.0.0.1:1",
    present: false,
    node: engine.node,
  };
}

function said(
  engine: RoomEngine,
  text: string,
  from = "ann",
  room = "#chat",
): RoomMessage {
  return {
    event: {
      type: "message",
      time: Date.now(),
      from,
      text,
      own: false,
      via: "tcp",
      room,
    },
    from: "1",
    node: engine.node,
  };
}

/** A room just made by `by`. */
function made(name: string, by: string): RoomInfo {
  return {
    name,
    topic: null,
    topicBy: null,
    topicAt: 0,
    topicLocked: false,
    operators: [by],
    createdAt: 1_000,
  };
}

function texts(sink: FakeSink): string[] {
  return sink.received.flatMap((m) =>
    m.event.type === "message" ? [m.event.text] : []
  );
}

const memory: Factory = async (options) => {
  const engine = new MemoryEngine(options);
  const sink = new FakeSink();
  await engine.start(sink);
  return { engine, sink, close: () => engine.close() };
};

const redis: Factory = async (options) => {
  const server = await RedisServer.start();
  const engine = new RedisEngine({ url: server.url, ...options });
  const sink = new FakeSink();
  try {
    await engine.start(sink);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    engine,
    sink,
    async close() {
      await engine.close();
      await server.stop();
    },
  };
};

for (const [kind, make] of [["memory", memory], ["redis", redis]] as const) {
  Deno.test({
    ...TEST,
    name: `${kind} engine: claim, taken in any case, release, claim again`,
  }, async () => {
    const { engine, close } = await make({ historyLimit: 5 });
    try {
      const ann = holder(engine, "Ann");
      assert.equal(await engine.claim(ann), "ok");
      assert.equal(engine.find("ANN")?.name, "Ann");
      assert.equal(await engine.claim(holder(engine, "aNN")), "taken");
      engine.release(ann);
      assert.equal(engine.find("ann"), undefined);
      assert.equal(await engine.claim(holder(engine, "ann")), "ok");
    } finally {
      await close();
    }
  });

  Deno.test({
    ...TEST,
    name: `${kind} engine: rename, taken target, case-only rename`,
  }, async () => {
    const { engine, close } = await make({ historyLimit: 5 });
    try {
      const ann = holder(engine, "ann");
      const bob = holder(engine, "bob");
      assert.equal(await engine.claim(ann), "ok");
      assert.equal(await engine.claim(bob), "ok");
      assert.equal(await engine.rename(ann, "BOB"), "taken");
      assert.equal(ann.name, "ann");
      assert.equal(await engine.rename(ann, "cat"), "ok");
      assert.equal(ann.name, "cat");
      assert.equal(engine.find("ann"), undefined);
      assert.equal(engine.find("CAT"), ann);
      assert.equal(await engine.rename(ann, "Cat"), "ok");
      assert.equal(engine.find("cat")?.name, "Cat");
      assert.equal(await engine.claim(holder(engine, "ann")), "ok");
    } finally {
      await close();
    }
  });

  Deno.test({ ...TEST, name: `${kind} engine: presence` }, async () => {
    const { engine, close } = await make({ historyLimit: 5 });
    try {
      const ann = holder(engine, "ann");
      const bob = holder(engine, "bob");
      await engine.claim(ann);
      await engine.claim(bob);
      assert.deepEqual(engine.present(), []);
      engine.setPresent(ann, true);
      assert.deepEqual(engine.present().map((h) => h.name), ["ann"]);
      engine.setPresent(bob, true);
      engine.setPresent(ann, false);
      assert.deepEqual(engine.present().map((h) => h.name), ["bob"]);
      engine.release(bob);
      assert.deepEqual(engine.present(), []);
    } finally {
      await close();
    }
  });

  Deno.test({
    ...TEST,
    name:
      `${kind} engine: published events come back through receive, in order`,
  }, async () => {
    const { engine, sink, close } = await make({ historyLimit: 5 });
    try {
      await engine.claim(holder(engine, "ann"));
      const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
      for (const text of sent) engine.publish(said(engine, text));
      await waitUntil(() => sink.received.length >= 50, "50 events back");
      assert.deepEqual(texts(sink), sent);
      assert.ok(sink.received.every((m) => m.node === engine.node));
    } finally {
      await close();
    }
  });

  Deno.test({
    ...TEST,
    name: `${kind} engine: a private message reaches the target's node`,
  }, async () => {
    const { engine, sink, close } = await make({ historyLimit: 5 });
    try {
      await engine.claim(holder(engine, "bob"));
      engine.sendPrivate({
        event: {
          type: "private",
          time: Date.now(),
          from: "ann",
          to: "bob",
          text: "psst",
          own: false,
          via: "tcp",
        },
        node: engine.node,
      });
      await waitUntil(() => sink.privates.length === 1, "the private");
      assert.equal(sink.privates[0].event.text, "psst");
    } finally {
      await close();
    }
  });

  Deno.test({
    ...TEST,
    name:
      `${kind} engine: a member's attributes and activity stay with its name`,
  }, async () => {
    const { engine, sink, close } = await make({ historyLimit: 5 });
    try {
      const ann = { ...holder(engine, "ann"), realName: "Ann E", active: 1 };
      assert.equal(await engine.claim(ann), "ok");
      engine.update(ann, { user: "a", realName: "Ann E", away: "lunch" });
      engine.touch(ann, 5_000);
      assert.equal(await engine.rename(ann, "anna"), "ok");
      const found = engine.find("ANNA")!;
      assert.deepEqual(
        [found.user, found.realName, found.away, found.active],
        ["a", "Ann E", "lunch", 5_000],
      );
      // Back: the away message is gone, the rest stays.
      engine.update(ann, { user: "a", realName: "Ann E" });
      assert.equal(engine.find("anna")!.away, undefined);
      assert.equal(engine.find("anna")!.realName, "Ann E");
      // A CTCP goes the way of a private message.
      engine.sendPrivate({
        event: {
          type: "ctcp",
          from: "bob",
          to: "anna",
          text: "VERSION",
          notice: false,
          via: "irc",
        },
        node: engine.node,
      });
      await waitUntil(() => sink.privates.length === 1, "the CTCP");
      assert.equal(sink.privates[0].event.type, "ctcp");
    } finally {
      await close();
    }
  });

  Deno.test({
    ...TEST,
    name: `${kind} engine: a kick reaches the holder's node, in any case`,
  }, async () => {
    const { engine, sink, close } = await make({ historyLimit: 5 });
    try {
      await engine.claim(holder(engine, "Ivan"));
      assert.deepEqual(await engine.kick({ name: "IVAN", reason: "spam" }), {
        kind: "sent",
        name: "Ivan",
      });
      await waitUntil(() => sink.kicks.length === 1, "the kick");
      assert.deepEqual(sink.kicks, [
        { name: "Ivan", reason: "spam", ghost: false },
      ]);
      assert.deepEqual(await engine.kick({ name: "bob", reason: "" }), {
        kind: "notFound",
      });
    } finally {
      await close();
    }
  });

  Deno.test({
    ...TEST,
    name: `${kind} engine: history keeps the last messages up to its limit`,
  }, async () => {
    const old = [{ time: 1, from: "old", text: "before", action: false }];
    const { engine, sink, close } = await make({
      historyLimit: 3,
      history: old,
    });
    try {
      await engine.claim(holder(engine, "ann"));
      assert.deepEqual(engine.history().map((e) => e.text), ["before"]);
      for (const text of ["a", "b", "c", "d"]) {
        engine.publish(said(engine, text));
      }
      await waitUntil(() => sink.received.length === 4, "4 events back");
      assert.deepEqual(engine.history().map((e) => e.text), ["b", "c", "d"]);
    } finally {
      await close();
    }
  });

  Deno.test({
    ...TEST,
    name:
      `${kind} engine: a holder's rooms, a room's info, a history per room, and the room forgotten with its history`,
  }, async () => {
    const { engine, sink, close } = await make({ historyLimit: 3 });
    try {
      const ann = holder(engine, "ann");
      assert.equal(await engine.claim(ann), "ok");
      engine.setPresent(ann, true);
      // A room is made by its first member: its info, then the join.
      engine.setRoomInfo("#Games", made("#Games", "ann"));
      engine.setRooms(ann, ["#chat", "#Games"]);
      assert.deepEqual(engine.find("ANN")?.rooms, ["#chat", "#Games"]);
      assert.deepEqual(engine.present()[0].rooms, ["#chat", "#Games"]);
      assert.deepEqual(engine.roomInfo("#GAMES"), made("#Games", "ann"));
      assert.equal(engine.roomInfo("#dice"), undefined);
      // A change is read at once on the node that made it.
      const topic = { ...made("#Games", "ann"), topic: "dice", topicBy: "ann" };
      engine.setRoomInfo("#games", topic);
      assert.deepEqual(engine.roomInfo("#Games"), topic);
      const sent = [["g1", "#Games"], ["m1", "#chat"], ["g2", "#games"]];
      for (
        const [text, room] of [...sent, ["g3", "#games"], ["g4", "#games"]]
      ) {
        engine.publish(said(engine, text, "ann", room));
      }
      await waitUntil(() => sink.received.length === 5, "5 events back");
      assert.deepEqual(engine.history("#GAMES").map((e) => e.text), [
        "g2",
        "g3",
        "g4",
      ]);
      assert.deepEqual(engine.history().map((e) => e.text), ["m1"]);
      assert.deepEqual(engine.history("#chat").map((e) => e.text), ["m1"]);
      assert.deepEqual(engine.history("#dice"), []);
      // The last member left: the room goes with its history, but the
      // main room's stays.
      engine.setRooms(ann, ["#chat"]);
      engine.setRoomInfo("#games", null);
      assert.equal(engine.roomInfo("#games"), undefined);
      assert.deepEqual(engine.history("#games"), []);
      // Still so once everything before a marker came back.
      engine.publish(said(engine, "marker"));
      await waitUntil(() => texts(sink).includes("marker"), "the marker");
      assert.equal(engine.roomInfo("#games"), undefined);
      assert.deepEqual(engine.history("#games"), []);
      assert.deepEqual(engine.history().map((e) => e.text), ["m1", "marker"]);
      assert.deepEqual(engine.find("ann")?.rooms, ["#chat"]);
    } finally {
      await close();
    }
  });
}

Deno.test({
  ...TEST,
  name:
    "redis engine: two nodes share names, presence, events in one order and history",
}, async () => {
  await using server = await RedisServer.start();
  const a = new RedisEngine({ url: server.url, historyLimit: 10 });
  const b = new RedisEngine({ url: server.url, historyLimit: 10 });
  const sinkA = new FakeSink(), sinkB = new FakeSink();
  await a.start(sinkA);
  try {
    await b.start(sinkB);
    try {
      const ann = holder(a, "ann");
      assert.equal(await a.claim(ann), "ok");
      assert.equal(await b.claim(holder(b, "ANN")), "taken");
      assert.equal(await b.claim(holder(b, "bob")), "ok");
      // b began to follow the room when it claimed a name.
      assert.deepEqual(sinkB.follows, [[]]);
      a.setPresent(ann, true);
      await waitUntil(() => b.find("ann")?.present === true, "ann at b");
      assert.equal(b.find("ann")?.node, a.node);
      assert.deepEqual(b.present().map((h) => h.name), ["ann"]);
      // Two publishers: both sinks get one sequence.
      for (let i = 0; i < 20; i++) {
        a.publish(said(a, `a${i}`));
        b.publish(said(b, `b${i}`, "bob"));
      }
      await waitUntil(
        () => sinkA.received.length === 40 && sinkB.received.length === 40,
        "40 events at each node",
      );
      assert.deepEqual(texts(sinkA), texts(sinkB));
      assert.deepEqual(a.history(), b.history());
      assert.equal(a.history().length, 10);
      // A rename is seen by the other node, and frees the old name.
      assert.equal(await a.rename(ann, "anna"), "ok");
      await waitUntil(() => b.find("anna") !== undefined, "anna at b");
      assert.equal(b.find("ann"), undefined);
      assert.equal(await b.rename(b.find("bob")!, "ANNA"), "taken");
      // A kick from a node reaches the holder's node only.
      assert.deepEqual(await b.kick({ name: "Anna", reason: "why" }), {
        kind: "sent",
        name: "anna",
      });
      await waitUntil(() => sinkA.kicks.length === 1, "the kick at a");
      assert.deepEqual(sinkA.kicks, [
        { name: "anna", reason: "why", ghost: false },
      ]);
      assert.deepEqual(sinkB.kicks, []);
      // Claims take one round trip.
      const times: number[] = [];
      for (let i = 0; i < 200; i++) {
        const started = performance.now();
        assert.equal(await a.claim(holder(a, `u${i}`)), "ok");
        times.push(performance.now() - started);
      }
      times.sort((x, y) => x - y);
      const p99 = times[Math.floor(times.length * 0.99)];
      console.log(
        `claim p50 ${times[100].toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
      );
      assert.ok(p99 < 50, `claim p99 ${p99} ms`);
    } finally {
      await b.close();
    }
    assert.deepEqual(sinkB.unfollows, ["shutdown"]);
    // b is gone: its names are free at once.
    await waitUntil(() => a.find("bob") === undefined, "bob freed at a");
    assert.equal(await a.claim(holder(a, "bob")), "ok");
  } finally {
    await a.close();
  }
});

Deno.test({
  ...TEST,
  name:
    "redis engine: the other node sees a member's attributes at once, its activity at most once in activeShareMs",
}, async () => {
  await using server = await RedisServer.start();
  const a = new RedisEngine({
    url: server.url,
    historyLimit: 10,
    activeShareMs: 60_000,
  });
  const b = new RedisEngine({ url: server.url, historyLimit: 10 });
  const sinkA = new FakeSink(), sinkB = new FakeSink();
  await a.start(sinkA);
  try {
    await b.start(sinkB);
    try {
      assert.equal(await b.claim(holder(b, "bob")), "ok");
      const ann: Holder = {
        ...holder(a, "ann"),
        user: "annie",
        realName: "Ann Example",
        signedOn: 1_000,
        active: 1_000,
      };
      assert.equal(await a.claim(ann), "ok");
      await waitUntil(() => b.find("ann") !== undefined, "ann at b");
      const seen = () => b.find("ann")!;
      assert.deepEqual(
        [seen().user, seen().realName, seen().signedOn, seen().active],
        ["annie", "Ann Example", 1_000, 1_000],
      );
      a.update(ann, { user: "annie", realName: "Ann Example", away: "out" });
      await waitUntil(() => seen().away === "out", "the away message at b");
      // Activity within activeShareMs of the last write is this node's
      // only: a marker published after it comes before any write of it.
      a.touch(ann, 30_000);
      assert.equal(a.find("ann")!.active, 30_000);
      a.publish(said(a, "marker"));
      await waitUntil(() => texts(sinkB).includes("marker"), "the marker");
      assert.equal(seen().active, 1_000);
      // Once activeShareMs passed since the last write, it is written.
      a.touch(ann, 61_000);
      await waitUntil(() => seen().active === 61_000, "the activity at b");
      a.update(ann, { user: "annie", realName: "Ann Example" });
      await waitUntil(() => seen().away === undefined, "back at b");
      // A rename moves the attributes with the name.
      assert.equal(await a.rename(ann, "anna"), "ok");
      await waitUntil(() => b.find("anna") !== undefined, "anna at b");
      assert.equal(b.find("anna")!.realName, "Ann Example");
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
});

Deno.test({
  ...TEST,
  name:
    "redis engine: start rejects with a clear error when Redis is unreachable",
}, async () => {
  const server = await RedisServer.start();
  const url = server.url;
  await server.stop();
  const engine = new RedisEngine({ url, historyLimit: 5 });
  await assert.rejects(
    () => engine.start(new FakeSink()),
    /Cannot connect to Redis at "127\.0\.0\.1:\d+": connection refused/,
  );
});

/** Two started nodes on one fresh Redis; `close()` stops them and Redis. */
async function twoNodes(historyLimit = 10) {
  const server = await RedisServer.start();
  const a = new RedisEngine({ url: server.url, historyLimit });
  const b = new RedisEngine({ url: server.url, historyLimit });
  const sinkA = new FakeSink(), sinkB = new FakeSink();
  try {
    await a.start(sinkA);
    await b.start(sinkB);
  } catch (error) {
    await a.close();
    await server.stop();
    throw error;
  }
  return {
    server,
    a,
    b,
    sinkA,
    sinkB,
    async close() {
      await b.close();
      await a.close();
      await server.stop();
    },
  };
}

/** A present holder of `engine`'s node, with its name claimed. */
async function member(engine: RoomEngine, name: string): Promise<Holder> {
  const h = holder(engine, name);
  assert.equal(await engine.claim(h), "ok");
  engine.setPresent(h, true);
  return h;
}

Deno.test({
  ...TEST,
  name:
    "redis engine: two nodes see who is in which room, a room's info and its history; the last one out takes the room away in Redis",
}, async () => {
  const { server, a, b, sinkA, sinkB, close } = await twoNodes();
  try {
    const ann = await member(a, "ann");
    const bob = await member(b, "bob");
    a.setRoomInfo("#Games", made("#Games", "ann"));
    a.setRooms(ann, ["#chat", "#Games"]);
    await waitUntil(() => b.roomInfo("#games") !== undefined, "#games at b");
    assert.deepEqual(b.roomInfo("#games"), made("#Games", "ann"));
    assert.deepEqual(b.find("ann")?.rooms, ["#chat", "#Games"]);
    // Joined from the other node: the room is the same one.
    b.setRooms(bob, ["#chat", "#games"]);
    await waitUntil(
      () => a.find("bob")?.rooms?.includes("#games") === true,
      "bob in #games at a",
    );
    const topic = {
      ...made("#Games", "ann"),
      topic: "dice",
      topicBy: "bob",
      topicAt: 2_000,
    };
    b.setRoomInfo("#GAMES", topic);
    await waitUntil(() => a.roomInfo("#games")?.topic === "dice", "the topic");
    assert.deepEqual(a.roomInfo("#games"), topic);
    for (let i = 0; i < 6; i++) {
      a.publish(said(a, `a${i}`, "ann", "#Games"));
      b.publish(said(b, `b${i}`, "bob", "#games"));
    }
    b.publish(said(b, "main", "bob"));
    for (const sink of [sinkA, sinkB]) {
      await waitUntil(() => texts(sink).includes("main"), "13 events");
    }
    assert.deepEqual(texts(sinkA), texts(sinkB));
    assert.equal(a.history("#games").length, 10);
    assert.deepEqual(a.history("#games"), b.history("#GAMES"));
    assert.deepEqual(a.history().map((e) => e.text), ["main"]);
    assert.deepEqual(b.history().map((e) => e.text), ["main"]);
    // A node that starts following later loads the rooms and histories.
    const c = new RedisEngine({ url: server.url, historyLimit: 10 });
    await c.start(new FakeSink());
    try {
      await member(c, "cat");
      assert.deepEqual(c.roomInfo("#games"), topic);
      assert.deepEqual(c.history("#games"), a.history("#games"));
      assert.deepEqual(c.find("bob")?.rooms, ["#chat", "#games"]);
    } finally {
      await c.close();
    }
    // One leaves: the room stays. The last leaves: Redis forgets it and
    // its stream, and both nodes hear so, with no one deleting it.
    a.setRooms(ann, ["#chat"]);
    a.publish(said(a, "out"));
    await waitUntil(() => texts(sinkB).includes("out"), "out at b");
    assert.deepEqual(b.roomInfo("#games"), topic);
    b.setRooms(bob, ["#chat"]);
    for (const node of [a, b]) {
      await waitUntil(() => node.roomInfo("#games") === undefined, "gone");
      assert.deepEqual(node.history("#games"), []);
      assert.deepEqual(node.history().map((e) => e.text), ["main", "out"]);
    }
    assert.equal(await redisCommand(server.url, ["HLEN", "chat:rooms"]), 0);
    assert.equal(
      await redisCommand(server.url, ["EXISTS", "chat:history:#games"]),
      0,
    );
    assert.equal(await redisCommand(server.url, ["EXISTS", "chat:history"]), 1);
  } finally {
    await close();
  }
});

Deno.test({
  ...TEST,
  name:
    "redis engine: a holder's rooms and a room's info are changed on the other node before the event that follows them",
}, async () => {
  const { a, b, sinkB, close } = await twoNodes();
  try {
    const ann = await member(a, "ann");
    await member(b, "bob");
    // What b sees of ann's rooms and of #games' topic as each event of
    // a's comes: it must be what a had when it published the event.
    const seen: string[] = [];
    sinkB.onReceive = (message) => {
      if (message.event.type !== "message") return;
      const rooms = b.find("ann")?.rooms?.join(",") ?? "-";
      const topic = b.roomInfo("#games")?.topic ?? "-";
      seen.push(`${message.event.text} ${rooms} ${topic}`);
    };
    const expected: string[] = [];
    let info = made("#games", "ann");
    a.setRoomInfo("#games", info);
    for (let i = 0; i < 40; i++) {
      const rooms = i % 3 === 2 ? ["#chat"] : ["#chat", "#games", `#r${i}`];
      if (i % 3 === 0) {
        // Back in #games after it was forgotten: made again.
        info = { ...made("#games", "ann"), topic: `t${i}` };
        a.setRoomInfo("#games", info);
      }
      a.setRooms(ann, rooms);
      if (i % 3 === 1) {
        info = { ...info, topic: `t${i}` };
        a.setRoomInfo("#games", info);
      }
      a.publish(said(a, `e${i}`));
      const topic = rooms.includes("#games") ? info.topic : "-";
      expected.push(`e${i} ${rooms.join(",")} ${topic}`);
    }
    await waitUntil(() => seen.length === 40, "40 events at b");
    assert.deepEqual(seen, expected);
  } finally {
    await close();
  }
});

Deno.test({
  ...TEST,
  name:
    "redis engine: the last member leaving on one node while another joins on the other leaves the room, with its info, on both nodes, in either order",
}, async () => {
  const { server, a, b, sinkA, sinkB, close } = await twoNodes();
  try {
    const ann = await member(a, "ann");
    const bob = await member(b, "bob");
    for (let i = 0; i < 20; i++) {
      const room = `#g${i}`;
      a.setRoomInfo(room, made(room, "ann"));
      a.setRooms(ann, ["#chat", room]);
      await waitUntil(() => b.roomInfo(room) !== undefined, `${room} at b`);
      // At once: ann leaves and her node, seeing the room empty, forgets
      // it, while bob's node, which has not heard of it yet, joins it.
      // Which comes first in Redis alternates.
      if (i % 2 === 0) b.setRooms(bob, ["#chat", room]);
      a.setRooms(ann, ["#chat"]);
      a.setRoomInfo(room, null);
      if (i % 2 === 1) b.setRooms(bob, ["#chat", room]);
      a.publish(said(a, `a${i}`));
      b.publish(said(b, `b${i}`, "bob"));
      for (const sink of [sinkA, sinkB]) {
        await waitUntil(
          () => texts(sink).includes(`a${i}`) && texts(sink).includes(`b${i}`),
          "both markers",
        );
      }
      assert.deepEqual(a.roomInfo(room), made(room, "ann"), room);
      assert.deepEqual(b.roomInfo(room), made(room, "ann"), room);
      assert.equal(
        await redisCommand(server.url, ["HGET", "chat:room-members", room]),
        "1",
      );
      // bob leaves too: now it is gone everywhere.
      b.setRooms(bob, ["#chat"]);
      b.publish(said(b, `c${i}`, "bob"));
      await waitUntil(() => texts(sinkA).includes(`c${i}`), "the last one");
      assert.equal(a.roomInfo(room), undefined);
    }
    assert.equal(await redisCommand(server.url, ["HLEN", "chat:rooms"]), 0);
  } finally {
    await close();
  }
});

Deno.test({
  ...TEST,
  name:
    "redis engine: a node never forgets the info of a room one of its members is in, even when told the room is gone",
}, async () => {
  const { server, a, b, sinkA, close } = await twoNodes();
  try {
    const ann = await member(a, "ann");
    await member(b, "bob");
    a.setRoomInfo("#games", made("#games", "ann"));
    a.setRooms(ann, ["#chat", "#games"]);
    await waitUntil(() => b.roomInfo("#games") !== undefined, "#games at b");
    // What a node hears in the moment between another's drop of a room
    // and its own member's join making it again.
    await redisCommand(server.url, [
      "PUBLISH",
      "chat:events",
      JSON.stringify({ k: "room", key: "#games", r: null }),
    ]);
    b.publish(said(b, "after", "bob"));
    await waitUntil(() => texts(sinkA).includes("after"), "the marker");
    assert.deepEqual(a.roomInfo("#games"), made("#games", "ann"));
    await waitUntil(() => b.roomInfo("#games") === undefined, "gone at b");
  } finally {
    await close();
  }
});
