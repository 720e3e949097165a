import assert from "node:assert/strict";
import {
  parseRedisUrl,
  RedisClient,
  RedisConnectionError,
  type RedisOptions,
  RedisScript,
  RedisSubscriber,
} from "../lib/engine/redis_client.ts";
import { RespError } from "../lib/engine/resp.ts";
import { waitUntil, waitUntilAsync } from "./helpers.ts";
import { freePort, RedisServer } from "./support/redis_server.ts";

// Reconnect quickly, so that the tests of a lost Redis take milliseconds.
const FAST: Omit<RedisOptions, "url"> = {
  retryInitialMs: 20,
  retryMaxMs: 100,
  connectTimeoutMs: 2000,
};

/** Asserts that `promise` rejects with a `RedisConnectionError` matching `message`. */
async function assertConnectionError(
  promise: Promise<unknown>,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RedisConnectionError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

/** The calls of one command in `INFO commandstats`, counting failed ones. */
async function commandCalls(
  client: RedisClient,
  command: string,
): Promise<number> {
  const info = await client.command(["INFO", "commandstats"]);
  assert.equal(typeof info, "string");
  const line = (info as string).split("\r\n").find((line) =>
    line.startsWith(`cmdstat_${command}:`)
  );
  return Number(line?.match(/calls=(\d+)/)?.[1] ?? 0);
}

Deno.test("parseRedisUrl reads host, port, password, database and TLS", () => {
  assert.deepEqual(parseRedisUrl("redis://127.0.0.1:6380"), {
    url: "redis://127.0.0.1:6380",
    tls: false,
    hostname: "127.0.0.1",
    port: 6380,
    db: 0,
  });
  assert.deepEqual(parseRedisUrl("rediss://:p%40ss@cache.example:7000/3"), {
    url: "rediss://:***@cache.example:7000/3",
    tls: true,
    hostname: "cache.example",
    port: 7000,
    password: "p@ss",
    db: 3,
  });
  const withUser = parseRedisUrl("redis://chat:secret@[::1]/");
  assert.equal(withUser.username, "chat");
  assert.equal(withUser.password, "secret");
  assert.equal(withUser.hostname, "[::1]");
  assert.equal(withUser.port, 6379);
  assert.equal(withUser.url, "redis://chat:***@[::1]/");
});

Deno.test("parseRedisUrl refuses what is not a Redis URL, hiding the password", () => {
  assert.throws(
    () => parseRedisUrl("http://localhost:6379"),
    /Invalid Redis URL "http:\/\/localhost:6379": it must start with redis:\/\//,
  );
  assert.throws(
    () => parseRedisUrl("redis://:secret@localhost:6379/x"),
    /Invalid Redis URL "redis:\/\/:\*\*\*@localhost:6379\/x": the database "x"/,
  );
  assert.throws(
    () => parseRedisUrl("localhost:6379"),
    /Invalid Redis URL "localhost:6379"/,
  );
  assert.throws(
    () => parseRedisUrl("redis://:secret@"),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
});

Deno.test("commands get their replies; error replies reject with their code", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({ url: `${server.url}/2` });
  assert.equal(client.connected, true);
  assert.equal(await client.command(["SET", "greeting", "héllo"]), "OK");
  assert.equal(await client.command(["GET", "greeting"]), "héllo");
  assert.equal(await client.command(["GET", "missing"]), null);
  assert.deepEqual(
    await client.command(["CLIENT", "INFO"]).then((info) =>
      String(info).match(/ db=(\d+) /)?.[1]
    ),
    "2",
  );
  await client.command(["RPUSH", "list", "a"]);
  const wrongType = client.command(["INCR", "list"]);
  const after = client.command(["LLEN", "list"]);
  await assert.rejects(wrongType, (error: unknown) => {
    assert.ok(error instanceof RespError);
    assert.equal(error.code, "WRONGTYPE");
    return true;
  });
  assert.equal(await after, 1, "the pipeline goes on after an error reply");
});

Deno.test("10,000 pipelined commands keep their order", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({ url: server.url });
  const count = 10_000;
  const replies: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) replies.push(client.command(["INCR", "n"]));
  const values = await Promise.all(replies);
  assert.deepEqual(values, Array.from({ length: count }, (_, i) => i + 1));
  // Mixed commands with payloads of their own, answered each in its place.
  const echoes = await Promise.all(
    Array.from({ length: count }, (_, i) => client.command(["ECHO", `m${i}`])),
  );
  assert.deepEqual(echoes, Array.from({ length: count }, (_, i) => `m${i}`));
});

Deno.test("pub/sub: messages reach the handler until unsubscribed", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({ url: server.url });
  await using subscriber = await RedisSubscriber.connect({ url: server.url });
  const got: [string, string][] = [];
  await subscriber.subscribe("room:a", (message, channel) => {
    got.push([channel, message]);
  });
  await subscriber.subscribe("room:b", (message, channel) => {
    got.push([channel, message]);
  });
  assert.deepEqual(subscriber.channels, ["room:a", "room:b"]);
  assert.equal(await client.command(["PUBLISH", "room:a", "one"]), 1);
  assert.equal(await client.command(["PUBLISH", "room:b", "twö"]), 1);
  assert.equal(await client.command(["PUBLISH", "room:c", "none"]), 0);
  await waitUntil(() => got.length === 2, "two messages");
  assert.deepEqual(got, [["room:a", "one"], ["room:b", "twö"]]);
  await subscriber.unsubscribe("room:a");
  assert.equal(await client.command(["PUBLISH", "room:a", "gone"]), 0);
  assert.equal(await client.command(["PUBLISH", "room:b", "three"]), 1);
  await waitUntil(() => got.length === 3, "the third message");
  assert.deepEqual(got[2], ["room:b", "three"]);
});

Deno.test("Lua: EVAL first on a connection, then EVALSHA, EVAL again after NOSCRIPT", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({ url: server.url });
  const script = new RedisScript(
    "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  );
  assert.match(script.sha1, /^[0-9a-f]{40}$/);
  assert.deepEqual(
    await Promise.all([
      client.evalScript(script, ["counter"], [2]),
      client.evalScript(script, ["counter"], [3]),
    ]),
    [2, 5],
  );
  assert.equal(await commandCalls(client, "eval"), 1);
  assert.equal(await commandCalls(client, "evalsha"), 1);
  // Redis forgets its scripts (as after SCRIPT FLUSH or a failover).
  assert.equal(await client.command(["SCRIPT", "FLUSH"]), "OK");
  assert.equal(await client.evalScript(script, ["counter"], [5]), 10);
  assert.equal(await commandCalls(client, "evalsha"), 2, "EVALSHA was tried");
  assert.equal(await commandCalls(client, "eval"), 2, "then EVAL");
  assert.deepEqual(
    await client.command(["SCRIPT", "EXISTS", script.sha1]),
    [1],
  );
  const broken = new RedisScript("return redis.call('NOSUCHCOMMAND')");
  await assert.rejects(client.evalScript(broken, [], []), RespError);
});

Deno.test("AUTH: the password in the URL logs in; a wrong or missing one is one clear error", async () => {
  await using server = await RedisServer.start({ password: "s3cret pass" });
  await using client = await RedisClient.connect({ url: server.url });
  assert.equal(await client.command(["PING"]), "PONG");
  await using subscriber = await RedisSubscriber.connect({ url: server.url });
  assert.equal(subscriber.connected, true);
  await assertConnectionError(
    RedisClient.connect({ url: `redis://:wrong@127.0.0.1:${server.port}` }),
    new RegExp(
      `^Cannot connect to Redis at "127\\.0\\.0\\.1:${server.port}": ` +
        "AUTH was refused: WRONGPASS",
    ),
  );
  await assertConnectionError(
    RedisClient.connect({ url: `redis://127.0.0.1:${server.port}` }),
    /^Cannot connect to Redis at "[^"]+": PING was refused: NOAUTH/,
  );
});

Deno.test("Redis killed with commands pending: they reject, down, then up after restart", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({ url: server.url, ...FAST });
  await using observer = await RedisClient.connect({
    url: server.url,
    ...FAST,
  });
  const events: string[] = [];
  const downErrors: RedisConnectionError[] = [];
  client.on("down", (error) => {
    events.push("down");
    downErrors.push(error);
  });
  client.on("up", () => events.push("up"));

  // BLPOP blocks the connection, so everything after it waits too.
  const pending = [
    client.command(["BLPOP", "never", 0]),
    ...Array.from({ length: 100 }, (_, i) => client.command(["ECHO", i])),
  ];
  const settled = Promise.allSettled(pending);
  await waitUntilAsync(
    async () =>
      /blocked_clients:1\r\n/.test(
        String(await observer.command(["INFO", "clients"])),
      ),
    "the client to be blocked in BLPOP",
  );
  await server.kill("SIGKILL");

  const results = await settled;
  for (const result of results) {
    assert.equal(result.status, "rejected");
    assert.ok(result.reason instanceof RedisConnectionError);
    assert.match(
      result.reason.message,
      new RegExp(
        `^Lost the connection to Redis at "127\\.0\\.0\\.1:${server.port}" ` +
          "\\(.+\\); the command may or may not have run$",
      ),
    );
  }
  await waitUntil(() => events.includes("down"), "the down event");
  assert.equal(
    downErrors[0],
    results[0].status === "rejected" && results[0].reason,
  );
  assert.equal(client.connected, false);
  await assertConnectionError(
    client.command(["PING"]),
    /^Not connected to Redis at "[^"]+"; reconnecting$/,
  );

  await server.restart();
  await waitUntil(() => events.includes("up"), "the up event");
  assert.deepEqual(events, ["down", "up"]);
  assert.equal(client.connected, true);
  assert.equal(await client.command(["PING"]), "PONG");
});

Deno.test("CLIENT KILL TYPE pubsub: the subscriber reconnects and subscribes again", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({ url: server.url });
  await using subscriber = await RedisSubscriber.connect({
    url: server.url,
    ...FAST,
  });
  const events: string[] = [];
  subscriber.on("down", () => events.push("down"));
  subscriber.on("up", () => events.push("up"));
  const got: string[] = [];
  await subscriber.subscribe("room", (message) => got.push(message));

  assert.equal(await client.command(["CLIENT", "KILL", "TYPE", "pubsub"]), 1);
  await waitUntil(() => events.includes("up"), "the subscriber to be back");
  assert.deepEqual(events, ["down", "up"]);
  assert.deepEqual(subscriber.channels, ["room"]);
  assert.equal(await client.command(["PUBLISH", "room", "again"]), 1);
  await waitUntil(() => got.length === 1, "the message after the reconnect");
  assert.deepEqual(got, ["again"]);
});

Deno.test("a frozen Redis: replies time out, down, then up once it thaws", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({
    url: server.url,
    ...FAST,
    replyTimeoutMs: 300,
  });
  const events: string[] = [];
  client.on("down", () => events.push("down"));
  client.on("up", () => events.push("up"));
  assert.equal(await client.command(["PING"]), "PONG");
  await server.kill("SIGSTOP");
  const started = performance.now();
  await assertConnectionError(
    client.command(["PING"]),
    /^Lost the connection to Redis at "[^"]+" \(no reply within 300 ms\)/,
  );
  assert.ok(performance.now() - started >= 290, "not before the timeout");
  assert.deepEqual(events, ["down"]);
  await server.kill("SIGCONT");
  await waitUntil(() => events.includes("up"), "the up event after SIGCONT");
  assert.equal(await client.command(["PING"]), "PONG");
});

Deno.test("a subscribe while Redis is down completes once it is back", async () => {
  await using server = await RedisServer.start();
  await using client = await RedisClient.connect({ url: server.url, ...FAST });
  await using subscriber = await RedisSubscriber.connect({
    url: server.url,
    ...FAST,
  });
  const got: string[] = [];
  await server.kill();
  await waitUntil(() => !subscriber.connected, "the subscriber to see it");
  const subscribed = subscriber.subscribe(
    "late",
    (message) => got.push(message),
  );
  await server.restart();
  await subscribed;
  await waitUntil(() => client.connected, "the client to be back");
  assert.equal(await client.command(["PUBLISH", "late", "hi"]), 1);
  await waitUntil(() => got.length === 1, "the message");
});

Deno.test("rediss://: commands and pub/sub over TLS; an unknown CA is one clear error", async () => {
  await using server = await RedisServer.start({ tls: true, password: "pw" });
  assert.match(server.url, /^rediss:\/\/:pw@127\.0\.0\.1:\d+$/);
  const caCerts = [server.caCert!];
  await using client = await RedisClient.connect({ url: server.url, caCerts });
  await using subscriber = await RedisSubscriber.connect({
    url: server.url,
    caCerts,
  });
  const got: string[] = [];
  await subscriber.subscribe("secure", (message) => got.push(message));
  assert.equal(await client.command(["PUBLISH", "secure", "sealed"]), 1);
  await waitUntil(() => got.length === 1, "the message over TLS");
  assert.deepEqual(got, ["sealed"]);
  await assertConnectionError(
    RedisClient.connect({ url: server.url }),
    /^Cannot connect to Redis at "127\.0\.0\.1:\d+": .*certificate.*UnknownIssuer/,
  );
});

Deno.test("a bad host is one clear error and leaves nothing open", async () => {
  await assertConnectionError(
    RedisClient.connect({ url: "redis://nohost.invalid:6379" }),
    /^Cannot connect to Redis at "nohost\.invalid:6379": .+/,
  );
  const port = freePort();
  await assertConnectionError(
    RedisSubscriber.connect({ url: `redis://127.0.0.1:${port}` }),
    new RegExp(
      `^Cannot connect to Redis at "127\\.0\\.0\\.1:${port}": connection refused$`,
    ),
  );
  await assert.rejects(
    RedisClient.connect({ url: "http://127.0.0.1:6379" }),
    /Invalid Redis URL "http:\/\/127\.0\.0\.1:6379"/,
  );
});

Deno.test("a server that accepts but never answers times out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  try {
    await assertConnectionError(
      RedisClient.connect({
        url: `redis://127.0.0.1:${port}`,
        connectTimeoutMs: 200,
      }),
      /^Cannot connect to Redis at "[^"]+": no answer within 200 ms$/,
    );
  } finally {
    listener.close();
    await accepting.catch(() => {});
    for (const conn of accepted) conn.close();
  }
});

Deno.test("close is idempotent, rejects what is in flight and refuses more", async () => {
  await using server = await RedisServer.start();
  const client = await RedisClient.connect({ url: server.url });
  const blocked = assertConnectionError(
    client.command(["BLPOP", "never", 0]),
    /was closed$/,
  );
  const closing = client.close();
  await Promise.all([closing, client.close()]);
  await client.close();
  await blocked;
  await assertConnectionError(
    client.command(["PING"]),
    /^The Redis connection to "127\.0\.0\.1:\d+" was closed$/,
  );
  assert.equal(client.connected, false);

  const subscriber = await RedisSubscriber.connect({ url: server.url });
  await subscriber.close();
  await subscriber.close();
  await assertConnectionError(
    subscriber.subscribe("x", () => {}),
    /was closed$/,
  );
});

Deno.test("close during reconnecting stops it for good", async () => {
  await using server = await RedisServer.start();
  const client = await RedisClient.connect({ url: server.url, ...FAST });
  await server.kill();
  await waitUntil(() => !client.connected, "the client to see Redis gone");
  await client.close();
  await server.restart();
  assert.equal(client.connected, false);
  await assertConnectionError(client.command(["PING"]), /was closed$/);
});
