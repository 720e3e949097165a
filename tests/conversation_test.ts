/**
 * History on join, /nick, /me, /msg and the server console, over real
 * sockets (in-process servers, and the server as a subprocess for its
 * console).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatServerOptions } from "../lib/app/chat_server.ts";
import {
  INVALID_NAME,
  joined,
  LAST_WELCOME_LINE,
  linesBefore,
  NAME_PROMPT,
  readLogEventsSync,
  spawnServer,
  type TestClient,
  TestScope,
  type TestServer,
  withServer,
} from "./helpers.ts";

// The texts as the issue gives them.
const END_OF_HISTORY = (n: number) =>
  `*** End of history (${n} ${n === 1 ? "message" : "messages"}).`;
const STAMP = String.raw`\[\d\d:\d\d\]`;
const renamedNotice = (from: string, to: string) =>
  `*** ${from} is now known as ${to}.`;
const INVALID_PLAIN =
  "Invalid name: use 1-32 letters, digits, '_', '-', '.' or any of [ ] \\ ` ^ { } |.";

/**
 * Runs `body` against a fresh server (see {@linkcode withServer}) with flood
 * control and the per-address limit off: these tests are about the language.
 */
function withRoom(
  options: ChatServerOptions,
  body: (ts: TestServer) => Promise<void>,
): Promise<void> {
  return withServer({
    ...options,
    limits: { floodRate: 0, maxPerIp: 0, ...options.limits },
  }, body);
}

/** Sends `lines` from `client` and waits until `watcher` saw the last. */
async function say(
  client: TestClient,
  name: string,
  watcher: TestClient,
  lines: string[],
): Promise<void> {
  for (const line of lines) await client.send(line);
  const last = lines.at(-1)!;
  await watcher.next(
    last.startsWith("/me ") ? `* ${name} ${last.slice(4)}` : `${name}: ${last}`,
  );
}

Deno.test("history is replayed after the welcome, oldest first, then its end line", async () => {
  await withRoom({}, async ({ join }) => {
    const ann = await join("ann");
    const watcher = await join("watcher");
    await say(ann, "ann", watcher, [
      "first",
      "/me waves",
      "third: with a colon",
    ]);
    const bob = await join("bob");
    const before = await linesBefore(bob.received, END_OF_HISTORY(3));
    assert.deepEqual(before.slice(0, 2), [NAME_PROMPT, "Welcome bob!"]);
    const history = before.slice(before.indexOf(LAST_WELCOME_LINE) + 1);
    assert.equal(history.length, 3);
    assert.match(history[0], new RegExp(`^${STAMP} ann: first$`));
    assert.match(history[1], new RegExp(`^${STAMP} \\* ann waves$`));
    assert.match(history[2], new RegExp(`^${STAMP} ann: third: with a colon$`));
    // Live lines come after the history.
    await ann.send("live");
    await bob.next("ann: live");
  });
});

Deno.test("history is not sent when there is none, and never holds private messages or notices", async () => {
  await withRoom({}, async ({ join }) => {
    const ann = await join("ann");
    const bob = await join("bob");
    await ann.send("@bob secret");
    await bob.next("Private message from ann: secret");
    await ann.send("/who");
    await ann.next(/^Online/);
    const carl = await join("carl");
    await carl.send("/who");
    const online = await carl.next(/^Online/);
    const lines = carl.received.lines;
    assert.ok(!lines.some((l) => l.includes("secret")), lines.join("|"));
    assert.ok(!lines.some((l) => l.startsWith("*** End of history")));
    assert.equal(online, "Online (3): ann, bob, carl");
  });
});

Deno.test("history keeps only the last N messages and is off with 0", async () => {
  await withRoom(
    { limits: { historyMessages: 2 } },
    async ({ join }) => {
      const ann = await join("ann");
      const watcher = await join("watcher");
      await say(ann, "ann", watcher, ["a", "b", "c"]);
      const bob = await join("bob");
      const before = await linesBefore(bob.received, END_OF_HISTORY(2));
      assert.deepEqual(
        before.slice(-2).map((l) => l.replace(/^\[\d\d:\d\d\] /, "")),
        ["ann: b", "ann: c"],
      );
    },
  );
  await withRoom(
    { limits: { historyMessages: 0 } },
    async ({ join }) => {
      const ann = await join("ann");
      const watcher = await join("watcher");
      await say(ann, "ann", watcher, ["not kept"]);
      const bob = await join("bob");
      await ann.send("marker");
      await bob.next("ann: marker");
      assert.ok(!bob.received.lines.some((l) => l.includes("not kept")));
    },
  );
});

Deno.test("history of one message says (1 message)", async () => {
  await withRoom({}, async ({ join }) => {
    const ann = await join("ann");
    const watcher = await join("watcher");
    await say(ann, "ann", watcher, ["only"]);
    const bob = await join("bob");
    await bob.next(END_OF_HISTORY(1));
  });
});

Deno.test("history survives a restart, read back from the log without private messages", async () => {
  await using scope = new TestScope();
  const logPath = `${await scope.tempDir(
    "chat_restart_",
  )}/chat_documentation.txt`;
  await withRoom({ logPath }, async ({ join }) => {
    const ann = await join("ann");
    const bob = await join("bob");
    await ann.send("before the restart");
    await ann.send("@bob private words");
    await ann.send("/me leaves soon");
    await bob.next("* ann leaves soon");
  });
  await withRoom({ logPath }, async ({ join }) => {
    const carl = await join("carl");
    const before = await linesBefore(carl.received, END_OF_HISTORY(2));
    const history = before.slice(before.indexOf(LAST_WELCOME_LINE) + 1);
    assert.match(
      history[0],
      new RegExp(`^${STAMP} ann: before the restart$`),
    );
    assert.match(history[1], new RegExp(`^${STAMP} \\* ann leaves soon$`));
    assert.ok(!carl.received.lines.some((l) => l.includes("private words")));
  });
});

Deno.test("/nick renames: everyone is told, the log and console too, the old name is free", async () => {
  await withRoom({}, async (ts) => {
    const ann = await ts.join("ann");
    const bob = await ts.join("bob");
    await ann.send("/nick anna");
    await ann.next("You are now known as anna.");
    await bob.next(renamedNotice("ann", "anna"));
    // Private messages to the new name reach at once.
    await bob.send("@anna hello");
    await ann.next("Private message from bob: hello");
    await bob.send("/who");
    assert.equal(await bob.next(/^Online/), "Online (2): anna, bob");
    // The old name is free at once.
    const other = await ts.connect();
    await other.register("ann");
    await ts.logged("ann is now known as anna");
    assert.ok(ts.console.includes("Client ann is now known as anna."));
  });
});

Deno.test("/nick to a taken or invalid name keeps the old one and never counts as attempts", async () => {
  await withRoom({}, async ({ join }) => {
    const ann = await join("ann");
    const bob = await join("bob");
    for (let i = 0; i < 12; i++) {
      await ann.send("/nick BOB");
      await ann.next('Name "BOB" is already taken.');
    }
    await ann.send("/nick *star");
    await ann.next(INVALID_PLAIN);
    await ann.send("still here");
    await bob.next("ann: still here");
    assert.ok(!ann.received.lines.includes("Too many attempts."));
  });
});

Deno.test("/nick may change only the case of one's own name", async () => {
  await withRoom({}, async ({ join }) => {
    const ann = await join("ann");
    const bob = await join("bob");
    await ann.send("/nick Ann");
    await ann.next("You are now known as Ann.");
    await bob.next(renamedNotice("ann", "Ann"));
    await ann.send("hi");
    await bob.next("Ann: hi");
  });
});

Deno.test("/nick race: two users renaming to one name at once, exactly one wins", async () => {
  await withRoom({}, async ({ join }) => {
    const ann = await join("ann");
    const bob = await join("bob");
    const carl = await join("carl");
    await Promise.all([ann.send("/nick winner"), bob.send("/nick winner")]);
    const answers = await Promise.all(
      [ann, bob].map((c) =>
        c.next((l) =>
          l === "You are now known as winner." ||
          l === 'Name "winner" is already taken.'
        )
      ),
    );
    assert.deepEqual(
      answers.sort(),
      ['Name "winner" is already taken.', "You are now known as winner."],
    );
    await carl.send("/who");
    const online = await carl.next(/^Online/);
    assert.equal(online.split("winner").length - 1, 1, online);
  });
});

Deno.test("/me is shown to the others as * NAME text and logged so", async () => {
  await withRoom({}, async ({ join, logged }) => {
    const ann = await join("ann");
    const bob = await join("bob");
    await ann.send("/me waves at everyone");
    await bob.next("* ann waves at everyone");
    await ann.send("/me");
    await ann.next("Usage: /me <action>");
    await ann.send("marker");
    await bob.next("ann: marker");
    await logged("* ann waves at everyone");
    assert.ok(!ann.received.lines.includes("* ann waves at everyone"));
  });
});

Deno.test("/msg is the same as @name, with the same texts", async () => {
  await withRoom({}, async ({ join, logged }) => {
    const ann = await join("ann");
    const bob = await join("bob");
    await ann.send("/msg BOB hello there");
    await bob.next("Private message from ann: hello there");
    await ann.send("/msg nobody hi");
    await ann.next('Client "nobody" not found.');
    await ann.send("/msg bob");
    await ann.next("Usage: @<client_name> <message>");
    await ann.send("/msg");
    await ann.next("Usage: @<client_name> <message>");
    await logged("ann -> bob: hello there");
  });
});

Deno.test("/help lists /msg, /me and /nick", async () => {
  await withRoom({}, async ({ join }) => {
    const ann = await join("ann");
    await ann.send("/help");
    await ann.next("Commands:");
    const lines: string[] = [];
    for (const word of ["/msg", "/me", "/nick", "/who"]) {
      lines.push(await ann.next((l) => l.trimStart().startsWith(word)));
    }
    assert.equal(lines.length, 4);
  });
});

Deno.test("server console: who, say, kick and help", async () => {
  await using scope = new TestScope();
  const dir = await scope.tempDir("chat_console_");
  const logPath = `${dir}/chat.log`;
  const server = scope.track(
    await spawnServer(["--log", logPath, "--no-web"], { cwd: dir }),
  );
  const ann = await scope.join(server.port, "ann");
  const bob = await scope.join(server.port, "bob");
  await ann.next(joined("bob"));

  await server.write("who\n");
  await server.stdout.next("Online (2):");
  await server.stdout.next(/^ {2}NAME {2}ADDRESS +DOOR {2}CONNECTED SINCE$/);
  await server.stdout.next(/^ {2}ann {3}127\.0\.0\.1:\d+ {2}tcp {3}\d{4}-/);
  await server.stdout.next(/^ {2}bob {3}127\.0\.0\.1:\d+ {2}tcp {3}\d{4}-/);

  await server.write("say tea is ready\n");
  await ann.next("*** Announcement: tea is ready");
  await bob.next("*** Announcement: tea is ready");

  await server.write("kick BOB spamming\n");
  await bob.next("You were removed from the chat (spamming).");
  await bob.received.closed();
  await ann.next("*** bob was removed from the chat.");
  await server.stdout.next(
    "Client bob was removed from the chat (spamming).",
  );

  await server.write("kick nobody\n");
  await server.stdout.next('No one called "nobody" is online.');
  await server.write("help\n");
  await server.stdout.next("Console commands:");
  await server.write("what\n");
  await server.stdout.next("Type 'Terminate server' to quit.");

  await server.write("Terminate server\n");
  assert.equal((await server.status(10_000)).code, 0);
  const events = readLogEventsSync(logPath);
  assert.ok(events.includes("Announcement: tea is ready"), events.join("|"));
  assert.ok(events.includes("bob was removed from the chat (spamming)"));
});

Deno.test("invalid name text at the prompt keeps its re-prompt", async () => {
  await withRoom({}, async ({ connect }) => {
    const client = await connect();
    await client.next(NAME_PROMPT);
    await client.send("*bad");
    await client.next(INVALID_NAME);
  });
});
