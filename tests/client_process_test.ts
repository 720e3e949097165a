import assert from "node:assert/strict";
import {
  assertNoStackTrace,
  joined,
  LAST_WELCOME_LINE,
  left,
  LineCollector,
  linesBefore,
  NAME_PROMPT,
  nonEmpty,
  readAll,
  readLogEventsSync,
  SHUTTING_DOWN,
  spawnProgram,
  START_MS,
  startTestServer,
  type Subprocess,
  TestClient,
  type TestServer,
  waitUntil,
  writeAll,
} from "./helpers.ts";
import { runChatClient } from "../lib/client/chat_client.ts";
import { SqliteStore } from "../lib/engine/sqlite_store.ts";
import { Accounts } from "../lib/room/accounts.ts";
import { serverText } from "../lib/room/texts.ts";

const DISCONNECTED = "Disconnected from server.";

/** What a test gets: a server, test clients, and client subprocesses. */
interface Scope {
  ts: TestServer;
  port: number;
  /** Registers a test client; closed at the end. */
  join(name: string): Promise<TestClient>;
  /** Starts `client.ts` against the server; killed at the end if need be. */
  spawnClient(args?: string[]): Subprocess;
  /** The log's events so far. */
  events(): string[];
}

async function scoped(body: (scope: Scope) => Promise<void>): Promise<void> {
  const ts = await startTestServer();
  const clients: TestClient[] = [];
  const processes: Subprocess[] = [];
  try {
    await body({
      ts,
      port: ts.port,
      async join(name) {
        const client = await TestClient.connect(ts.port);
        clients.push(client);
        await client.register(name);
        return client;
      },
      spawnClient(args = []) {
        const process = spawnProgram("client.ts", [
          "--port",
          String(ts.port),
          ...args,
        ]);
        processes.push(process);
        return process;
      },
      events: () => readLogEventsSync(ts.logPath),
    });
  } finally {
    for (const process of processes) await process.cleanup();
    for (const client of clients) await client.close();
    await ts.cleanup();
  }
}

/** Starts a client subprocess with `--name` and waits for its welcome. */
async function spawnJoined(
  scope: Scope,
  name: string,
  args: string[] = [],
): Promise<Subprocess> {
  const client = scope.spawnClient(["--name", name, ...args]);
  await client.stdout.next(LAST_WELCOME_LINE, START_MS);
  return client;
}

Deno.test("client process prints Connecting to HOST:PORT... and then the server's lines", async () => {
  await scoped(async ({ port, spawnClient }) => {
    const client = spawnClient();
    await client.stdout.next(NAME_PROMPT, START_MS);
    assert.deepEqual(client.stdout.lines.slice(0, 2), [
      `Connecting to 127.0.0.1:${port}...`,
      NAME_PROMPT,
    ]);
    await client.write("alice\n");
    await client.stdout.next(LAST_WELCOME_LINE);
    assert.deepEqual(client.stdout.lines.slice(2), [
      "Welcome alice!",
      "Use '@<client_name> <message>' for private message.",
      "To send to all, just type your message.",
      "To disconnect, send 'exit'.",
      LAST_WELCOME_LINE,
    ]);
    await client.write("exit\n");
    assert.equal(await client.stdout.next(/^Goodbye/), "Goodbye alice!");
    assert.equal((await client.status()).code, 0);
  });
});

Deno.test("client process --name answers the prompt and sends lines typed early as messages", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = scope.spawnClient(["--name", "alice"]);
    // Typed at once, before the server even asked for a name.
    await alice.write("typed early\nsecond early line\n");
    await alice.stdout.next("Welcome alice!", START_MS);
    assert.equal(await bob.next(/^\*\*\* /), joined("alice"));
    assert.equal(await bob.next(/^alice: /), "alice: typed early");
    assert.equal(await bob.next(/^alice: /), "alice: second early line");

    await bob.send("marker");
    const before = await linesBefore(alice.stdout, "bob: marker", START_MS);
    assert.ok(
      !before.some((l) => l.startsWith("Invalid name") || l.includes("taken")),
      JSON.stringify(before),
    );
    assert.equal(before.filter((l) => l === NAME_PROMPT).length, 1);
    await bob.send("/who");
    assert.equal(await bob.next(/^Online/), "Online (2): alice, bob");
  });
});

Deno.test("client process sends typed lines to the other clients", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice");
    await alice.write("hello from the terminal\n");
    assert.equal(await bob.next(/^alice: /), "alice: hello from the terminal");
    await alice.write("@bob a private word\n");
    assert.equal(
      await bob.next(/^Private/),
      "Private message from alice: a private word",
    );
    await bob.send("hi alice");
    assert.equal(await alice.stdout.next(/^bob: /), "bob: hi alice");
  });
});

Deno.test("client process never prints its own message back", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice");
    await alice.write("my own words\n");
    await bob.next("alice: my own words");
    await bob.send("marker");
    const before = await linesBefore(alice.stdout, "bob: marker", START_MS);
    assert.ok(
      !before.some((l) => l.includes("my own words")),
      JSON.stringify(before),
    );
  });
});

Deno.test("client process exit leaves the chat and exits 0 within 2 seconds", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice");
    const started = performance.now();
    await alice.write("exit\n");
    assert.equal((await alice.status(2_000)).code, 0);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2_000, `took ${elapsed.toFixed(0)} ms`);
    assert.ok(alice.stdout.lines.includes("Goodbye alice!"));
    assert.ok(!alice.stdout.lines.includes(DISCONNECTED));
    assert.equal(await bob.next(/has left/), left("alice"));
    await waitUntil(
      () => scope.events().includes("alice has left the chat"),
      "the leave in the log",
    );
  });
});

Deno.test("client process sends unfinished typed text at end of input, then leaves with exit code 0", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice");
    await alice.write("last words without a newline");
    await alice.closeStdin();
    assert.equal(
      await bob.next(/^alice: /),
      "alice: last words without a newline",
    );
    assert.equal(await bob.next(/has left/), left("alice"));
    assert.equal((await alice.status()).code, 0);
    await waitUntil(
      () => scope.events().includes("alice has left the chat"),
      "the leave (not a disconnection) in the log",
    );
  });
});

Deno.test("client process leaves at end of input with nothing typed", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice");
    await alice.closeStdin();
    assert.equal(await bob.next(/has left/), left("alice"));
    assert.equal((await alice.status()).code, 0);
    const before = await linesBefore(bob.received, left("alice"), START_MS);
    assert.ok(!before.some((l) => l.startsWith("alice: ")));
  });
});

Deno.test("client process sends exit on SIGINT and exits 0", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice");
    alice.child.kill("SIGINT");
    assert.equal(await bob.next(/has left/), left("alice"));
    assert.equal((await alice.status()).code, 0);
    assert.ok(alice.stdout.lines.includes("Goodbye alice!"));
    await waitUntil(
      () => scope.events().includes("alice has left the chat"),
      "the leave (not a disconnection) in the log",
    );
    assertNoStackTrace(alice.stderr.lines);
  });
});

Deno.test("client process prints Disconnected from server. when the server shuts down first, and exits 0", async () => {
  await scoped(async (scope) => {
    const alice = await spawnJoined(scope, "alice");
    await scope.ts.server.shutdown();
    await alice.stdout.next(SHUTTING_DOWN);
    await alice.stdout.next(DISCONNECTED);
    assert.equal((await alice.status()).code, 0);
    assert.deepEqual(alice.stdout.lines.slice(-2), [
      SHUTTING_DOWN,
      DISCONNECTED,
    ]);
    assert.deepEqual(nonEmpty(alice.stderr.lines), []);
  });
});

Deno.test("client process reports a closed port on stderr and exits 1", async () => {
  const ts = await startTestServer();
  const port = ts.port;
  await ts.cleanup();
  const client = spawnProgram("client.ts", ["--port", String(port)]);
  try {
    const status = await client.status(START_MS);
    assert.equal(status.code, 1);
    const errors = nonEmpty(client.stderr.lines);
    assert.equal(errors.length, 1, errors.join(" | "));
    assert.match(
      errors[0],
      new RegExp(`^Could not connect to 127\\.0\\.0\\.1:${port}: \\S`),
    );
    assert.doesNotMatch(errors[0], /os error/);
    assertNoStackTrace(client.stderr.lines);
    assert.deepEqual(nonEmpty(client.stdout.lines), [
      `Connecting to 127.0.0.1:${port}...`,
    ]);
  } finally {
    await client.cleanup();
  }
});

for (
  const args of [
    ["--bogus"],
    ["--port", "abc"],
    ["--port", "0"],
    ["--port", "70000"],
    ["--name"],
  ]
) {
  Deno.test(`client process rejects ${args.join(" ")} with one line on stderr and exit code 2`, async () => {
    const client = spawnProgram("client.ts", args);
    try {
      const status = await client.status(START_MS);
      assert.equal(status.code, 2);
      const errors = nonEmpty(client.stderr.lines);
      assert.equal(errors.length, 1, errors.join(" | "));
      assertNoStackTrace(client.stderr.lines);
      assert.deepEqual(nonEmpty(client.stdout.lines), []);
    } finally {
      await client.cleanup();
    }
  });
}

Deno.test("client process --help prints the usage and exits 0", async () => {
  const client = spawnProgram("client.ts", ["--help"]);
  try {
    const status = await client.status(START_MS);
    assert.equal(status.code, 0);
    const text = client.stdout.lines.join("\n");
    assert.match(text, /^Usage: /);
    for (const flag of ["--host", "--port", "--name", "--help"]) {
      assert.ok(text.includes(flag), flag);
    }
    assert.deepEqual(nonEmpty(client.stderr.lines), []);
  } finally {
    await client.cleanup();
  }
});

Deno.test("client process with piped input prints today's output byte for byte", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = scope.spawnClient(["--name", "alice"]);
    await alice.stdout.next(LAST_WELCOME_LINE, START_MS);
    await bob.next(joined("alice"));
    await bob.send("hi alice");
    await alice.stdout.next("bob: hi alice");
    await alice.write("hello bob\n/who\n");
    await alice.stdout.next(/^Online/);
    await alice.write("exit\n");
    assert.equal((await alice.status()).code, 0);
    // Whatever history the server sends on join sits between the welcome
    // and bob's line; the client adds nothing of its own.
    const lines = alice.stdout.lines.filter((l) =>
      !/^\*\*\* End of history|^\[\d\d:\d\d\] /.test(l)
    );
    assert.equal(
      lines.join("\n") + "\n",
      [
        `Connecting to 127.0.0.1:${scope.port}...`,
        NAME_PROMPT,
        "Welcome alice!",
        "Use '@<client_name> <message>' for private message.",
        "To send to all, just type your message.",
        "To disconnect, send 'exit'.",
        LAST_WELCOME_LINE,
        "bob: hi alice",
        "Online (2): alice, bob",
        "Goodbye alice!",
        "",
      ].join("\n"),
    );
    assert.ok(!alice.stdout.lines.some((l) => l.includes("\x1b")));
    assert.deepEqual(nonEmpty(alice.stderr.lines), []);
  });
});

/** How the client ends its sentence about a server that is not ours. */
const CHECK_PORT = "check --host, --port and --tls (the chat port is 2025 " +
  "unless the server was given another).";

/**
 * A server that is not ours: on each connection it writes `greeting` (if
 * any) and closes after `closeAfterMs` (never when null).
 */
async function withFakeServer(
  options: { greeting?: string; closeAfterMs: number | null },
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const serving = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      if (options.greeting !== undefined) {
        await conn.write(new TextEncoder().encode(options.greeting))
          .catch(() => {});
      }
      if (options.closeAfterMs !== null) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          open.delete(conn);
          conn.close();
        }, options.closeAfterMs);
        timers.add(timer);
      }
    }
  })();
  try {
    await body(listener.addr.port);
  } finally {
    listener.close();
    await serving.catch(() => {});
    for (const timer of timers) clearTimeout(timer);
    for (const conn of open) conn.close();
  }
}

/** Runs the client against `port`; its exit code and stdout and stderr. */
async function runAgainst(
  port: number,
  args: string[] = [],
): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const client = spawnProgram("client.ts", ["--port", String(port), ...args]);
  try {
    const { code } = await client.status(START_MS);
    return {
      code,
      stdout: nonEmpty(client.stdout.lines),
      stderr: nonEmpty(client.stderr.lines),
    };
  } finally {
    await client.cleanup();
  }
}

Deno.test("client process on the web port says it is a web port and exits 1", async () => {
  const ts = await startTestServer({ webPort: 0 });
  try {
    const webPort = ts.webPort!;
    // A name given, a name typed, nothing at all: the web server waits for
    // a request's end in each case, and the client asks it.
    for (
      const [args, typed] of [[["--name", "alice"], ""], [[], "alice\n"], [
        [],
        "",
      ]] as const
    ) {
      const client = spawnProgram("client.ts", [
        "--port",
        String(webPort),
        ...args,
      ]);
      try {
        if (typed !== "") await client.write(typed);
        const status = await client.status(START_MS);
        assert.equal(status.code, 1);
        const errors = nonEmpty(client.stderr.lines);
        assert.deepEqual(errors, [
          `127.0.0.1:${webPort} is a web port, not the chat port: open ` +
          `http://127.0.0.1:${webPort}/ in a browser, or connect the client ` +
          `to the chat port (2025 unless the server was given another --port).`,
        ]);
        assert.deepEqual(nonEmpty(client.stdout.lines), [
          `Connecting to 127.0.0.1:${webPort}...`,
        ]);
        assertNoStackTrace(client.stderr.lines);
      } finally {
        await client.cleanup();
      }
    }
  } finally {
    await ts.cleanup();
  }
});

Deno.test("client process against a server that greets otherwise says so in one sentence and exits 1", async () => {
  await withFakeServer(
    { greeting: "SSH-2.0-OpenSSH_9.2\r\n", closeAfterMs: null },
    async (port) => {
      const { code, stdout, stderr } = await runAgainst(port, [
        "--name",
        "alice",
      ]);
      assert.equal(code, 1);
      assert.deepEqual(stderr, [
        `127.0.0.1:${port} does not greet like a chat server (it said ` +
        `"SSH-2.0-OpenSSH_9.2"): ${CHECK_PORT}`,
      ]);
      assert.deepEqual(stdout, [`Connecting to 127.0.0.1:${port}...`]);
    },
  );
  // Escape sequences and length from a stranger are not shown as they are.
  await withFakeServer(
    {
      greeting: `\x1b[2J\x1b]0;owned\x07${"x".repeat(500)}\n`,
      closeAfterMs: 0,
    },
    async (port) => {
      const { code, stderr } = await runAgainst(port);
      assert.equal(code, 1);
      assert.equal(stderr.length, 1, stderr.join(" | "));
      // deno-lint-ignore no-control-regex -- controls are what it looks for
      assert.doesNotMatch(stderr[0], /[\x00-\x1f\x7f]/);
      assert.ok(stderr[0].length < 300, stderr[0]);
    },
  );
});

Deno.test("client process against a server that closes without a word says so and exits 1", async () => {
  await withFakeServer({ closeAfterMs: 0 }, async (port) => {
    const { code, stdout, stderr } = await runAgainst(port);
    assert.equal(code, 1);
    assert.deepEqual(stderr, [
      `127.0.0.1:${port} closed the connection without greeting: ${CHECK_PORT}`,
    ]);
    assert.deepEqual(stdout, [`Connecting to 127.0.0.1:${port}...`]);
  });
});

Deno.test("client that is not greeted in time says so and ends with code 1", async () => {
  await withFakeServer({ closeAfterMs: null }, async (port) => {
    const errors: string[] = [];
    const printed: string[] = [];
    const never = Promise.withResolvers<null>();
    const code = await runChatClient({
      address: `127.0.0.1:${port}`,
      connect: () => Deno.connect({ hostname: "127.0.0.1", port }),
      lines: { next: () => never.promise, rest: () => null },
      print: (line) => printed.push(line),
      printError: (line) => errors.push(line),
      greetingTimeoutMs: 400,
      // It is asked whether it speaks HTTP, and says nothing to that either.
      probeAfterMs: 50,
    });
    never.resolve(null);
    assert.equal(code, 1);
    assert.deepEqual(errors, [
      `127.0.0.1:${port} sent no greeting within 0.4 s: ${CHECK_PORT}`,
    ]);
    assert.deepEqual(printed, [`Connecting to 127.0.0.1:${port}...`]);
  });
});

Deno.test("client process on a full server still shows the server's answer and exits 0", async () => {
  const ts = await startTestServer({ limits: { maxClients: 1 } });
  const bob = await TestClient.connect(ts.port);
  try {
    await bob.register("bob");
    const { code, stdout, stderr } = await runAgainst(ts.port);
    assert.equal(code, 0);
    assert.deepEqual(stdout, [
      `Connecting to 127.0.0.1:${ts.port}...`,
      "Server is full. Try again later.",
      DISCONNECTED,
    ]);
    assert.deepEqual(stderr, []);
  } finally {
    await bob.close();
    await ts.cleanup();
  }
});

Deno.test("client process --timestamps stamps live lines once and history lines not again", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    await bob.send("said before");
    const alice = scope.spawnClient(["--name", "alice", "--timestamps"]);
    await bob.next(joined("alice"), START_MS);
    await bob.send("said after");
    await alice.stdout.next(/bob: said after$/);
    const stamp = "\\[\\d\\d:\\d\\d\\] ";
    const lines = alice.stdout.lines;
    assert.equal(
      lines.filter((l) => new RegExp(`^${stamp}bob: said before$`).test(l))
        .length,
      1,
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => new RegExp(`^${stamp}bob: said after$`).test(l)),
      lines.join("\n"),
    );
    assert.ok(
      !lines.some((l) => new RegExp(`^${stamp}${stamp}`).test(l)),
      lines.join("\n"),
    );
  });
});

Deno.test("client process with piped input passes room lines through as the server sent them", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice");
    await alice.write("/join #games\n");
    await alice.stdout.next("*** You joined #games (1 member).");
    await bob.send("hello main");
    await alice.stdout.next("[#chat] bob: hello main");
    await alice.write("/part\n");
    await alice.stdout.next(/^\*\*\* You left #games\./);
    await alice.write("exit\n");
    assert.equal((await alice.status()).code, 0);
    const after = alice.stdout.lines.slice(
      alice.stdout.lines.indexOf(LAST_WELCOME_LINE) + 1,
    ).filter((l) => !/^\*\*\* End of history|^\[\d\d:\d\d\] /.test(l));
    assert.equal(
      after.join("\n") + "\n",
      [
        "*** You joined #games (1 member).",
        "[#chat] bob: hello main",
        "*** You left #games. Your current room is #chat.",
        "Goodbye alice!",
        "",
      ].join("\n"),
    );
  });
});

Deno.test("client process --reconnect rejoins its rooms after a restart, the current one last, their history not shown again", async () => {
  const first = await startTestServer();
  const port = first.port;
  let second: TestServer | undefined;
  const alice = spawnProgram("client.ts", [
    "--port",
    String(port),
    "--name",
    "alice",
    "--reconnect",
  ]);
  const clients: TestClient[] = [];
  try {
    await alice.stdout.next(LAST_WELCOME_LINE, START_MS);
    await alice.write(
      "/join #games\nsaid in games\n/join #lab\n/join #games\n",
    );
    await alice.stdout.next("*** Your current room is #games.");
    await first.server.shutdown();
    await alice.stdout.next(/^Disconnected; reconnecting in /);
    second = await startTestServer({ port });
    for (const [name, room] of [["bob", "#games"], ["cat", "#lab"]]) {
      const client = await TestClient.join(port, name);
      clients.push(client);
      await client.send(`/join ${room}`);
      await client.next(`*** You joined ${room} (1 member).`);
      await client.send(`said in ${room} before`);
    }
    const [bob, cat] = clients;
    await alice.stdout.next("Reconnected as alice.", START_MS);
    assert.equal(
      await cat.next(/alice has joined #/),
      "*** alice has joined #lab.",
    );
    assert.equal(
      await bob.next(/alice has joined #/),
      "*** alice has joined #games.",
    );
    await alice.write("back\n");
    assert.equal(await bob.next(/^alice: /), "alice: back");
    await cat.send("marker");
    const lines = await linesBefore(alice.stdout, "[#lab] cat: marker");
    assert.deepEqual(
      lines.slice(lines.indexOf("Reconnected as alice.")),
      [
        "Reconnected as alice.",
        "*** You joined #lab (2 members).",
        "*** You joined #games (2 members).",
      ],
    );
  } finally {
    await alice.cleanup();
    for (const client of clients) await client.close();
    await second?.cleanup();
    await first.cleanup();
  }
});

Deno.test("client process --reconnect leaves for good on /quit with a reason", async () => {
  await scoped(async (scope) => {
    const bob = await scope.join("bob");
    const alice = await spawnJoined(scope, "alice", ["--reconnect"]);
    await alice.write("/quit see you tomorrow\n");
    assert.equal(
      await bob.next(/alice has left/),
      "*** alice has left the chat (see you tomorrow).",
    );
    const status = await alice.status(START_MS);
    assert.equal(status.code, 0);
    assert.ok(
      !alice.stdout.lines.some((l) => l.startsWith("Disconnected")),
      alice.stdout.lines.join("\n"),
    );
  });
});

Deno.test("client asking /who and /topic after the welcome shows neither answer, operators line included", async () => {
  // A scripted server: the welcome, then answers as a server with rooms
  // and operators gives them, then a line of its own, then it closes.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const asked: string[] = [];
  const serving = (async () => {
    const conn = await listener.accept();
    const lines = new LineCollector();
    const reading = readAll(conn, (chunk) => lines.push(chunk));
    const send = (...out: string[]) =>
      writeAll(conn, new TextEncoder().encode(out.join("\n") + "\n"));
    try {
      await send(NAME_PROMPT);
      await lines.next("ada");
      await send(...serverText.welcome("ada"));
      asked.push(await lines.next("/who"), await lines.next("/topic"));
      await send(
        serverText.online(["ada", "bob"]),
        serverText.operators(["ada"]),
        serverText.noTopic("#lobby"),
        serverText.broadcast("bob", "after the answers"),
      );
      await lines.next("exit");
      await send(serverText.goodbye("ada"));
    } finally {
      conn.close();
      await reading.catch(() => {});
    }
  })();
  const printed: string[] = [];
  try {
    const code = await runChatClient({
      address: `127.0.0.1:${port}`,
      connect: () => Deno.connect({ hostname: "127.0.0.1", port }),
      // Nothing typed: the input ends (and the client leaves) once bob's
      // line is shown.
      lines: {
        next: async () => {
          await waitUntil(
            () => printed.includes("bob: after the answers"),
            "bob's line",
          );
          return null;
        },
        rest: () => null,
      },
      name: "ada",
      print: (line) => printed.push(line),
      printError: (line) => printed.push(line),
      askWho: true,
      askRoom: true,
    });
    assert.equal(code, 0);
  } finally {
    listener.close();
    await serving;
  }
  assert.deepEqual(asked, ["/who", "/topic"]);
  assert.deepEqual(printed.slice(-3), [
    LAST_WELCOME_LINE,
    "bob: after the answers",
    "Goodbye ada!",
  ]);
});

const ACCOUNT_PASSWORD = "correct horse";

/** A server keeping accounts in SQLite under `dir`. */
async function accountServer(
  dir: string,
  options: { port?: number; operators?: string[] } = {},
): Promise<TestServer> {
  const accounts = new Accounts({
    store: await SqliteStore.open({ dir }),
    operators: options.operators,
  });
  await accounts.start();
  return await startTestServer({
    port: options.port,
    accounts: () => Promise.resolve(accounts),
    limits: { floodRate: 0 },
  });
}

/** Registers `name` with ACCOUNT_PASSWORD through a test client. */
async function registerName(ts: TestServer, name: string): Promise<void> {
  const client = await TestClient.join(ts.port, name);
  await client.send(`/register ${ACCOUNT_PASSWORD}`);
  await client.next(/is now registered/);
  await client.close();
  await waitUntil(
    () => !ts.server.room.names().includes(name),
    `${name} gone`,
  );
}

/** Logs in to a registered name through a test client. */
async function logIn(ts: TestServer, name: string): Promise<TestClient> {
  const client = await TestClient.connect(ts.port);
  await client.next(NAME_PROMPT);
  await client.send(name);
  await client.next(`Password for ${name}:`);
  await client.send(ACCOUNT_PASSWORD);
  await client.next(LAST_WELCOME_LINE);
  return client;
}

/** Runs `body` with a server keeping accounts, then cleans up. */
async function withAccounts(
  body: (ts: TestServer, dir: string) => Promise<void>,
  operators?: string[],
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat_client_accounts_" });
  const ts = await accountServer(dir, { operators });
  try {
    await body(ts, dir);
  } finally {
    await ts.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}

function assertNeverShown(process: Subprocess, secret: string): void {
  for (const line of [...process.stdout.lines, ...process.stderr.lines]) {
    assert.ok(!line.includes(secret), line);
  }
}

Deno.test("client process answers a registered name's password prompt with CHAT_ACCOUNT_PASSWORD and shows it nowhere", async () => {
  await withAccounts(async (ts) => {
    await registerName(ts, "ada");
    const bob = await TestClient.join(ts.port, "bob");
    const ada = spawnProgram(
      "client.ts",
      ["--port", String(ts.port), "--name", "ada"],
      { env: { CHAT_ACCOUNT_PASSWORD: ACCOUNT_PASSWORD } },
    );
    try {
      await ada.stdout.next(LAST_WELCOME_LINE, START_MS);
      assert.deepEqual(ada.stdout.lines.slice(0, 3), [
        `Connecting to 127.0.0.1:${ts.port}...`,
        NAME_PROMPT,
        "Password for ada:",
      ]);
      await ada.write("logged in\n");
      assert.equal(await bob.next(/^ada: /), "ada: logged in");
      await ada.write("exit\n");
      assert.equal((await ada.status(START_MS)).code, 0);
      assertNeverShown(ada, ACCOUNT_PASSWORD);
    } finally {
      await ada.cleanup();
      await bob.close();
    }
  });
});

Deno.test("client process sends a refused CHAT_ACCOUNT_PASSWORD once; then the next line typed answers", async () => {
  await withAccounts(async (ts) => {
    await registerName(ts, "ada");
    const ada = spawnProgram(
      "client.ts",
      ["--port", String(ts.port), "--name", "ada"],
      { env: { CHAT_ACCOUNT_PASSWORD: "not the password" } },
    );
    try {
      await ada.stdout.next("Wrong password for ada.", START_MS);
      await ada.stdout.next(NAME_PROMPT);
      await ada.write("ada\n");
      await ada.stdout.next("Password for ada:");
      await ada.write(`${ACCOUNT_PASSWORD}\n`);
      await ada.stdout.next(LAST_WELCOME_LINE);
      const shown = ada.stdout.lines;
      assert.deepEqual(shown.slice(1, shown.indexOf("Welcome ada!")), [
        NAME_PROMPT,
        "Password for ada:",
        "Wrong password for ada.",
        NAME_PROMPT,
        "Password for ada:",
      ]);
      assertNeverShown(ada, ACCOUNT_PASSWORD);
      assertNeverShown(ada, "not the password");
    } finally {
      await ada.cleanup();
    }
  });
});

Deno.test("client process --reconnect logs in again with the password set by /register, and shows it nowhere", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat_client_accounts_" });
  const first = await accountServer(dir);
  const port = first.port;
  let second: TestServer | undefined;
  let bob: TestClient | undefined;
  const ada = spawnProgram("client.ts", [
    "--port",
    String(port),
    "--name",
    "ada",
    "--reconnect",
  ]);
  try {
    await ada.stdout.next(LAST_WELCOME_LINE, START_MS);
    await ada.write(`/register ${ACCOUNT_PASSWORD}\n`);
    await ada.stdout.next(/is now registered/);
    await first.server.shutdown();
    await first.cleanup();
    await ada.stdout.next(/^Disconnected; reconnecting in /);
    second = await accountServer(dir, { port });
    bob = await TestClient.join(port, "bob");
    await ada.stdout.next("Reconnected as ada.", START_MS);
    await ada.write("back\n");
    assert.equal(await bob.next(/^ada: /), "ada: back");
    // The server asked: only a logged-in ada gets past the password.
    const lines = ada.stdout.lines;
    assert.deepEqual(
      lines.slice(lines.indexOf("Reconnected as ada.") - 1),
      [lines.find((l) => l.startsWith("Disconnected;")), "Reconnected as ada."],
    );
    assertNeverShown(ada, ACCOUNT_PASSWORD);
  } finally {
    await ada.cleanup();
    await bob?.close();
    await second?.cleanup();
    await first.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client process --reconnect does not come back after its name was logged in from elsewhere", async () => {
  await withAccounts(async (ts) => {
    await registerName(ts, "ada");
    const ada = spawnProgram(
      "client.ts",
      ["--port", String(ts.port), "--name", "ada", "--reconnect"],
      { env: { CHAT_ACCOUNT_PASSWORD: ACCOUNT_PASSWORD } },
    );
    let other: TestClient | undefined;
    try {
      await ada.stdout.next(LAST_WELCOME_LINE, START_MS);
      other = await logIn(ts, "ada");
      await ada.stdout.next("This name was logged in from elsewhere.");
      assert.equal((await ada.status(START_MS)).code, 0);
      assert.equal(ada.stdout.lines.at(-1), DISCONNECTED);
      await other.send("/who");
      assert.equal(await other.next(/^Online/), "Online (1): ada");
      await other.send("still mine");
      await other.send("/who");
      assert.equal(await other.next(/^Online/), "Online (1): ada");
    } finally {
      await ada.cleanup();
      await other?.close();
    }
  });
});

Deno.test("client process --reconnect does not come back once banned", async () => {
  await withAccounts(async (ts) => {
    const accounts = ts.server.room.accounts!;
    assert.equal(
      await accounts.register("boss", ACCOUNT_PASSWORD, { console: true }),
      "ok",
    );
    await waitUntil(() => accounts.isOperator("boss"), "boss an operator");
    const boss = await logIn(ts, "boss");
    const carol = spawnProgram("client.ts", [
      "--port",
      String(ts.port),
      "--name",
      "carol",
      "--reconnect",
    ]);
    try {
      await carol.stdout.next(LAST_WELCOME_LINE, START_MS);
      await boss.send("/ban carol 1h testing");
      await boss.next(/^Banned carol/);
      assert.match(
        await carol.stdout.next(/banned/),
        /^You are banned from this chat until .* \(testing\)\.$/,
      );
      assert.equal((await carol.status(START_MS)).code, 0);
      assert.equal(carol.stdout.lines.at(-1), DISCONNECTED);
    } finally {
      await carol.cleanup();
      await boss.close();
    }
  }, ["boss"]);
});
