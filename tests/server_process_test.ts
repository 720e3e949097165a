import assert from "node:assert/strict";
import {
  assertNoStackTrace,
  joined,
  LOG_ENDING,
  NAME_PROMPT,
  nonEmpty,
  scoped,
  SHUTTING_DOWN,
  spawnProgram,
  spawnServer,
  START_MS,
  type Subprocess,
  waitUntil,
} from "./helpers.ts";
import { RedisServer } from "./support/redis_server.ts";

const SHUT_DOWN = "Server has been shut down.";

type Server = Subprocess & { port: number };

/** The log's events, without timestamps, after checking every timestamp. */
function logEvents(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "").map(
    (line) => {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
      return line.slice(line.indexOf(" ") + 1);
    },
  );
}

/**
 * Starts a server with a log in the temp dir, registers a client and keeps
 * an unregistered one, stops the server with `stop`, and checks that it
 * stopped gracefully.
 */
async function checkGracefulStop(
  stop: (server: Server) => Promise<void>,
): Promise<void> {
  await scoped(async ({ dir, join, connect, track }) => {
    const logPath = `${dir}/chat.log`;
    const server = track(
      await spawnServer(["--log", logPath], { cwd: dir }),
    );
    const alice = await join(server.port, "alice");
    const lurker = await connect(server.port);
    await lurker.next(NAME_PROMPT);
    await alice.send("hello from alice");
    // Handled before what follows it: the stop cannot overtake it.
    await alice.send("/who");
    await alice.next("Online (1): alice");
    await server.stdout.next("Client alice has joined.");

    await stop(server);
    for (const client of [alice, lurker]) {
      await client.received.closed();
      const lines = client.received.lines;
      assert.equal(lines[lines.length - 1], SHUTTING_DOWN);
    }
    await server.stdout.next(SHUT_DOWN);
    const status = await server.status();
    assert.equal(status.code, 0);
    assert.deepEqual(nonEmpty(server.stderr.lines), []);

    const events = logEvents(logPath);
    assert.equal(
      events[0],
      `Server is now alive and listening on 127.0.0.1:${server.port}`,
    );
    assert.match(
      events[1],
      /^Client alice has joined the chat room \(127\.0\.0\.1:\d+\)$/,
    );
    assert.equal(events[2], "alice: hello from alice");
    assert.deepEqual(events.slice(-2), LOG_ENDING);
  });
}

Deno.test("server process stops gracefully on Terminate server", async () => {
  await checkGracefulStop((server) => server.write("Terminate server\n"));
});

Deno.test("server process stops gracefully on terminate server in any case with spaces", async () => {
  await checkGracefulStop((server) => server.write("  terminate SERVER  \n"));
});

Deno.test("server process stops gracefully on SIGTERM", async () => {
  await checkGracefulStop((server) => {
    server.child.kill("SIGTERM");
    return Promise.resolve();
  });
});

Deno.test("server process stops gracefully on SIGINT", async () => {
  await checkGracefulStop((server) => {
    server.child.kill("SIGINT");
    return Promise.resolve();
  });
});

Deno.test("server process stops gracefully on SIGHUP", async () => {
  await checkGracefulStop((server) => {
    server.child.kill("SIGHUP");
    return Promise.resolve();
  });
});

Deno.test("server process on SIGHUP logs the message just said, tells members and closes the log", async () => {
  await scoped(async ({ dir, join, track }) => {
    const logPath = `${dir}/chat.log`;
    const server = track(await spawnServer(["--log", logPath], { cwd: dir }));
    const alice = await join(server.port, "alice");
    const bob = await join(server.port, "bob");
    await alice.next(joined("bob"));
    await alice.send("said just before the hang-up");
    // Once bob has it, the server has taken it: the log must keep it.
    await bob.next("alice: said just before the hang-up");
    server.child.kill("SIGHUP");
    for (const client of [alice, bob]) {
      assert.equal(await client.next(/shutting down/), SHUTTING_DOWN);
      await client.received.closed();
    }
    await server.stdout.next(SHUT_DOWN);
    const status = await server.status();
    assert.equal(status.code, 0);
    assert.equal(status.signal, null);
    const events = logEvents(logPath);
    assert.ok(events.includes("alice: said just before the hang-up"));
    assert.deepEqual(events.slice(-2), LOG_ENDING);
  });
});

Deno.test("server process answers other console input with how to quit and keeps running", async () => {
  await scoped(async ({ dir, join, track }) => {
    const server = track(
      await spawnServer(["--log", `${dir}/chat.log`], { cwd: dir }),
    );
    await server.stdout.next("Type 'Terminate server' to quit.");
    await server.write("terminate\nhello\n");
    await server.stdout.next("Type 'Terminate server' to quit.");
    const alice = await join(server.port, "alice");
    await alice.send("/who");
    assert.equal(await alice.next(/^Online/), "Online (1): alice");
    await server.write("Terminate server\n");
    assert.equal((await server.status()).code, 0);
  });
});

Deno.test("server process appends to its log across two runs", async () => {
  await scoped(async ({ dir, join, track }) => {
    const logPath = `${dir}/chat.log`;
    const first = track(await spawnServer(["--log", logPath], { cwd: dir }));
    const alice = await join(first.port, "alice");
    await alice.send("first run message");
    await alice.send("/who");
    await alice.next("Online (1): alice");
    await first.write("Terminate server\n");
    assert.equal((await first.status()).code, 0);
    const afterFirst = await Deno.readTextFile(logPath);
    assert.ok(afterFirst.includes(" alice: first run message\n"), afterFirst);

    const second = track(await spawnServer(["--log", logPath], { cwd: dir }));
    await second.write("Terminate server\n");
    assert.equal((await second.status()).code, 0);
    const afterSecond = await Deno.readTextFile(logPath);
    assert.ok(
      afterSecond.startsWith(afterFirst),
      "the first run's lines are intact",
    );
    const events = logEvents(logPath);
    assert.equal(
      events.filter((e) =>
        e.startsWith("Server is now alive and listening on ")
      )
        .length,
      2,
    );
    assert.equal(events.filter((e) => e === "Chat finished").length, 2);
    assert.ok(afterSecond.length > afterFirst.length);
  });
});

Deno.test("server process logs to chat_documentation.txt in its working directory by default", async () => {
  await scoped(async ({ dir, track }) => {
    const server = track(await spawnServer([], { cwd: dir }));
    await server.write("Terminate server\n");
    assert.equal((await server.status()).code, 0);
    const events = logEvents(`${dir}/chat_documentation.txt`);
    assert.deepEqual(events, [
      `Server is now alive and listening on 127.0.0.1:${server.port}`,
      "Server has been shutdown",
      "Chat finished",
    ]);
  });
});

Deno.test("server process prints accepted connections, joins and leaves on its console", async () => {
  await scoped(async ({ dir, join, track }) => {
    const server = track(
      await spawnServer(["--log", `${dir}/chat.log`], { cwd: dir }),
    );
    const alice = await join(server.port, "alice");
    const alicePort = (alice.conn.localAddr as Deno.NetAddr).port;
    await server.stdout.next(
      `Accepted connection from: 127.0.0.1:${alicePort}`,
    );
    await server.stdout.next("Client alice has joined.");
    await alice.send("exit");
    await alice.received.closed();
    await server.stdout.next("Client alice disconnected.");

    const bob = await join(server.port, "bob");
    const bobPort = (bob.conn.localAddr as Deno.NetAddr).port;
    await server.stdout.next(`Accepted connection from: 127.0.0.1:${bobPort}`);
    await server.stdout.next("Client bob has joined.");
    await bob.close();
    await server.stdout.next("Client bob disconnected.");

    server.child.kill("SIGTERM");
    assert.equal((await server.status()).code, 0);
  });
});

Deno.test("server process keeps running when its stdin is closed, and stops on SIGTERM", async () => {
  await scoped(async ({ dir, join, track }) => {
    const server = track(
      await spawnServer(["--log", `${dir}/chat.log`], { cwd: dir }),
    );
    await server.closeStdin();
    const alice = await join(server.port, "alice");
    await alice.send("/who");
    assert.equal(await alice.next(/^Online/), "Online (1): alice");
    const bob = await join(server.port, "bob");
    assert.equal(await alice.next(/joined/), "*** bob has joined the chat.");
    server.child.kill("SIGTERM");
    assert.equal(await alice.next(/shutting down/), SHUTTING_DOWN);
    assert.equal(await bob.next(/shutting down/), SHUTTING_DOWN);
    await server.stdout.next(SHUT_DOWN);
    assert.equal((await server.status()).code, 0);
  });
});

/**
 * Starts the server on 127.0.0.1 with `args` and a log in a temp dir, and
 * checks that it exits 2 without a stack trace; returns the lines it printed
 * (blank ones left out) and the files it left in the dir.
 */
async function startRefused(
  args: string[],
): Promise<{ errors: string[]; stdout: string[]; files: string[] }> {
  return await scoped(async ({ dir, track }) => {
    const server = track(spawnProgram("server.ts", [
      "--host",
      "127.0.0.1",
      ...args,
      "--log",
      `${dir}/chat.log`,
    ], { cwd: dir }));
    const status = await server.status(START_MS);
    assert.equal(status.code, 2);
    assertNoStackTrace(server.stderr.lines);
    return {
      errors: nonEmpty(server.stderr.lines),
      stdout: nonEmpty(server.stdout.lines),
      files: [...Deno.readDirSync(dir)].map((entry) => entry.name),
    };
  });
}

/** A listener on a free port of 127.0.0.1, to take that port. */
function takePort(): { port: number } & Disposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return {
    port: (listener.addr as Deno.NetAddr).port,
    [Symbol.dispose]: () => listener.close(),
  };
}

Deno.test("server process reports a port in use in one line without a stack trace and exits 2", async () => {
  using taken = takePort();
  const { errors, stdout } = await startRefused(["--port", `${taken.port}`]);
  assert.equal(errors.length, 1, errors.join(" | "));
  assert.ok(errors[0].includes(String(taken.port)), errors[0]);
  assert.ok(!stdout.some((l) => l.startsWith("Server is listening")));
});

Deno.test("server process reports a log it cannot open in one clear line and exits 2", async () => {
  await scoped(async ({ dir, track }) => {
    const logPath = `${dir}/missing/dir/chat.log`;
    const server = track(
      spawnProgram("server.ts", ["--port", "0", "--log", logPath], {
        cwd: dir,
      }),
    );
    const status = await server.status(START_MS);
    assert.equal(status.code, 2);
    const errors = nonEmpty(server.stderr.lines);
    assert.equal(errors.length, 1, errors.join(" | "));
    assert.ok(errors[0].includes(logPath), errors[0]);
    assert.doesNotMatch(errors[0], /os error/);
    assertNoStackTrace(server.stderr.lines);
  });
});

const BAD_FLAGS: { args: string[]; mentions: string }[] = [
  { args: ["--port", "70000"], mentions: "port" },
  { args: ["--port", "abc"], mentions: "port" },
  { args: ["--port", "-1"], mentions: "port" },
  { args: ["--bogus"], mentions: "bogus" },
  { args: ["--max-line", "0"], mentions: "max-line" },
  { args: ["--flood-rate", "-1"], mentions: "flood-rate" },
  { args: ["--flood-rate=-1"], mentions: "flood-rate" },
  { args: ["--history", "-1"], mentions: 'Invalid value for --history: "-1"' },
  { args: ["--max-clients", "1.5"], mentions: "max-clients" },
  { args: ["stray"], mentions: "stray" },
];

for (const { args, mentions } of BAD_FLAGS) {
  Deno.test(`server process rejects ${args.join(" ")} with one clear line and exit code 2`, async () => {
    await scoped(async ({ dir, track }) => {
      const server = track(spawnProgram("server.ts", args, { cwd: dir }));
      const status = await server.status(START_MS);
      assert.equal(status.code, 2);
      const errors = nonEmpty(server.stderr.lines);
      assert.equal(errors.length, 1, errors.join(" | "));
      assert.ok(errors[0].includes(mentions), errors[0]);
      assertNoStackTrace(server.stderr.lines);
      assert.deepEqual(nonEmpty(server.stdout.lines), []);
      // Nothing was started: no log file appeared.
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    });
  });
}

Deno.test("server process --help prints the usage and exits 0", async () => {
  await scoped(async ({ dir, track }) => {
    const server = track(spawnProgram("server.ts", ["--help"], { cwd: dir }));
    const status = await server.status(START_MS);
    assert.equal(status.code, 0);
    const text = server.stdout.lines.join("\n");
    assert.match(text, /^Usage: /);
    // It opens with what it is: one room for every kind of client.
    const opening = text.split("\n\n")[1].replaceAll("\n", " ");
    assert.doesNotMatch(opening, /over TCP/);
    assert.match(
      opening,
      /^One chat room for terminals \(our client or nc\), browsers and IRC clients/,
    );
    assert.match(opening, /SIGHUP/);
    for (const flag of ["--port", "--host", "--log", "--max-line", "--help"]) {
      assert.ok(text.includes(flag), flag);
    }
    assert.deepEqual(nonEmpty(server.stderr.lines), []);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("server process serves several clients that chat with each other", async () => {
  await scoped(async ({ dir, join, track }) => {
    const logPath = `${dir}/chat.log`;
    const server = track(await spawnServer(["--log", logPath], { cwd: dir }));
    const alice = await join(server.port, "alice");
    const bob = await join(server.port, "bob");
    await alice.next("*** bob has joined the chat.");
    await bob.send("hi alice");
    assert.equal(await alice.next(/^bob: /), "bob: hi alice");
    await alice.send("@bob hi back");
    assert.equal(
      await bob.next(/^Private/),
      "Private message from alice: hi back",
    );
    await bob.send("exit");
    assert.equal(await alice.next(/left/), "*** bob has left the chat.");
    await waitUntil(
      () => logEvents(logPath).includes("bob has left the chat"),
      "the leave in the log",
    );
    assert.ok(logEvents(logPath).includes("alice -> bob: hi back"));
    server.child.kill("SIGTERM");
    assert.equal((await server.status()).code, 0);
  });
});

Deno.test("server process reports a web port in use in one line and exits 2", async () => {
  using taken = takePort();
  const { errors } = await startRefused([
    "--port",
    "0",
    "--web-port",
    `${taken.port}`,
  ]);
  assert.deepEqual(errors, [
    `Port ${taken.port} on 127.0.0.1 is already in use.`,
  ]);
});

Deno.test("server process refuses two doors on one port in one line naming both flags and exits 2", async () => {
  const { errors, stdout, files } = await startRefused([
    "--port",
    "40031",
    "--web-port",
    "40031",
  ]);
  assert.deepEqual(errors, [
    "--port and --web-port are both 40031: each door needs a port of its own.",
  ]);
  assert.deepEqual(stdout, []);
  assert.deepEqual(files, []);
});

Deno.test("server process refuses a bad IRC channel in one line and exits 2", async () => {
  const { errors } = await startRefused([
    "--port",
    "0",
    "--no-web",
    "--irc-port",
    "0",
    "--irc-channel",
    "chat",
  ]);
  assert.equal(errors.length, 1, errors.join(" | "));
  assert.match(errors[0], /IRC channel "chat"/);
});

Deno.test("server process on 0.0.0.0 prints a web and an IRC address per IPv4 address, then localhost", async () => {
  await scoped(async ({ dir, track }) => {
    const server = track(
      await spawnServer([
        "--host",
        "0.0.0.0",
        "--irc-port",
        "0",
        "--log",
        `${dir}/chat.log`,
      ], { cwd: dir }),
    );
    await server.stdout.next(/^Web chat at http:\/\/localhost:\d+\/$/);
    const web = server.stdout.lines.filter((l) => l.startsWith("Web chat at"));
    const ipv4 = Deno.networkInterfaces().filter((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    ).map((i) => i.address);
    const port = web.at(-1)!.match(/:(\d+)\/$/)![1];
    assert.deepEqual(
      web,
      [...ipv4, "localhost"].map((h) => `Web chat at http://${h}:${port}/`),
    );
    // The IRC door is named like the web door: where people can reach it.
    await server.stdout.next(/^IRC at localhost:\d+, channel #chat$/);
    const irc = server.stdout.lines.filter((l) => l.startsWith("IRC at"));
    const ircPort = irc.at(-1)!.match(/:(\d+),/)![1];
    assert.deepEqual(
      irc,
      [...ipv4, "localhost"].map((h) =>
        `IRC at ${h}:${ircPort}, channel #chat`
      ),
    );
    const page = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
    await server.write("Terminate server\n");
    assert.equal((await server.status()).code, 0);
  });
});

Deno.test("server process on Redis names the Redis address at start, never its password", async () => {
  await using redis = await RedisServer.start({ password: "pw-not-shown" });
  await scoped(async ({ dir, join, track }) => {
    const expected =
      `The room is kept in Redis at redis://127.0.0.1:${redis.port}/0 (this server is one of its nodes).`;
    // From the environment variable, and from --redis with a database.
    const fromEnv = track(
      await spawnServer(["--log", `${dir}/a.log`], {
        cwd: dir,
        env: { CHAT_REDIS_URL: redis.url },
      }),
    );
    await fromEnv.stdout.next("Type 'Terminate server' to quit.");
    const fromFlag = track(
      await spawnServer(
        ["--log", `${dir}/b.log`, "--redis", `${redis.url}/0`],
        {
          cwd: dir,
        },
      ),
    );
    await fromFlag.stdout.next("Type 'Terminate server' to quit.");
    const alice = await join(fromEnv.port, "alice");
    await alice.send("/who");
    assert.equal(await alice.next(/^Online/), "Online (1): alice");
    for (const server of [fromEnv, fromFlag]) {
      server.child.kill("SIGTERM");
      assert.equal((await server.status()).code, 0);
      const redisLines = server.stdout.lines.filter((l) => l.includes("Redis"));
      assert.deepEqual(redisLines, [expected]);
      const all = [...server.stdout.lines, ...server.stderr.lines].join("\n");
      assert.ok(!all.includes("pw-not-shown"), all);
    }
  });
});

Deno.test("server process without Redis says nothing of Redis", async () => {
  await scoped(async ({ dir, track }) => {
    const server = track(
      await spawnServer(["--log", `${dir}/chat.log`], { cwd: dir }),
    );
    await server.stdout.next("Type 'Terminate server' to quit.");
    await server.write("Terminate server\n");
    assert.equal((await server.status()).code, 0);
    assert.deepEqual(
      server.stdout.lines.filter((l) => l.includes("Redis")),
      [],
    );
  });
});
