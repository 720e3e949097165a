/**
 * The client on a real terminal: `client.ts` runs in a tmux pane of a
 * fixed size against an in-process server on a real loopback socket; the
 * tests type with `send-keys` and read the screen with `capture-pane`.
 */

import assert from "node:assert/strict";
import {
  startTestServer,
  TestClient,
  type TestServer,
  waitUntil,
} from "./helpers.ts";
import { drawnWidth, shellQuote, TmuxPane } from "./support/tmux.ts";
import { SqliteStore } from "../lib/engine/sqlite_store.ts";
import { Accounts } from "../lib/room/accounts.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const WELCOME_LAST =
  "Type '/who' to see who is online, '/help' for all commands.";
const PROMPT = "> ";
// deno-lint-ignore no-control-regex -- escape sequences are what it finds
const ESCAPE = /\x1b\[/;

/** How a test's client runs. */
interface RunOptions {
  /** Client flags after `--port`. */
  args?: string[];
  /** Columns and rows. */
  width?: number;
  height?: number;
  /** Set NO_COLOR for the client. */
  noColor?: boolean;
  /** A shell command whose output is the client's stdin (not a terminal). */
  pipeFrom?: string;
  /** Options of the test server. */
  server?: Parameters<typeof startTestServer>[0];
}

/** What a test gets. */
interface Scope {
  ts: TestServer;
  pane: TmuxPane;
  /** Registers a test client; closed at the end. */
  join(name: string): Promise<TestClient>;
}

const quote = shellQuote;

/**
 * The shell command of the pane: the client, then a line with its exit code
 * and whether the terminal's settings are as before (stty -g), then a sleep
 * that keeps the pane for reading.
 */
function paneCommand(port: number, options: RunOptions): string {
  const client = [
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-net",
    "--allow-read",
    "--allow-env=CHAT_PASSWORD,CHAT_ACCOUNT_PASSWORD,NO_COLOR",
    `${ROOT}client.ts`,
    "--port",
    String(port),
    ...(options.args ?? []),
  ].map(quote).join(" ");
  const env = options.noColor ? "env NO_COLOR=1" : "env -u NO_COLOR";
  const pipe = options.pipeFrom === undefined ? "" : `${options.pipeFrom} | `;
  return `before=$(stty -g); ${pipe}${env} ${client}; code=$?; ` +
    `if [ "$(stty -g)" = "$before" ]; then t=restored; else t=changed; fi; ` +
    `echo "[exit $code tty $t]"; exec sleep 600`;
}

async function scoped(
  options: RunOptions,
  body: (scope: Scope) => Promise<void>,
): Promise<void> {
  const ts = await startTestServer(options.server);
  const clients: TestClient[] = [];
  let pane: TmuxPane | undefined;
  try {
    pane = await TmuxPane.start({
      command: paneCommand(ts.port, options),
      width: options.width ?? 80,
      height: options.height ?? 20,
    });
    await body({
      ts,
      pane,
      async join(name) {
        const client = await TestClient.join(ts.port, name);
        clients.push(client);
        return client;
      },
    });
  } finally {
    await pane?.kill();
    for (const client of clients) await client.close();
    await ts.cleanup();
  }
}

/** Waits until `name` is registered in the room. */
async function registered(ts: TestServer, name: string): Promise<void> {
  await waitUntil(
    () => ts.server.room.names().includes(name),
    `${name} in the room`,
    15_000,
  );
}

/** Starts the client as alice and waits for its welcome and /who. */
async function alice(scope: Scope): Promise<void> {
  await scope.pane.waitForText("Welcome alice!", 15_000);
  await registered(scope.ts, "alice");
}

/** The last `n` visible rows. */
function lastRows(rows: string[], n: number): string[] {
  return rows.slice(-n);
}

Deno.test("tty client keeps a half-typed line whole and prints an incoming line above it", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    await scope.pane.type("half typed");
    await scope.pane.waitFor(
      (rows) => rows.at(-1) === `${PROMPT}half typed`,
      "the typed text",
    );
    await bob.send("interrupt");
    const rows = await scope.pane.waitFor(
      (rows) => rows.includes("bob: interrupt"),
      "the incoming line",
    );
    assert.deepEqual(lastRows(rows, 2), ["bob: interrupt", "> half typed"]);
    const cursor = await scope.pane.cursor();
    assert.deepEqual(cursor, {
      x: `${PROMPT}half typed`.length,
      y: rows.length - 1,
      visible: true,
    });
    await scope.pane.type(" and more");
    await scope.pane.press("Enter");
    assert.equal(await bob.next(/^alice: /), "alice: half typed and more");
    // What was sent shows once, as the others see it; the input is empty.
    const after = await scope.pane.waitFor(
      (rows) => rows.at(-1) === PROMPT.trimEnd(),
      "the empty input",
    );
    assert.equal(
      after.filter((r) => r.includes("half typed and more")).length,
      1,
    );
    assert.equal(after.at(-2), "alice: half typed and more");
  });
});

Deno.test("tty client wraps a typed line longer than the window and sends it whole", async () => {
  await scoped({ args: ["--name", "alice"], width: 30 }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    const long = Array.from({ length: 7 }, (_, i) => `word${i}-abcdefghij`)
      .join(" "); // 7 * 16 + 6 = 118 characters
    await scope.pane.type(long);
    const input = `${PROMPT}${long}`;
    const expected = [0, 30, 60, 90].map((i) => input.slice(i, i + 30));
    await scope.pane.waitFor(
      (rows) => lastRows(rows, 4).join("|") === expected.join("|"),
      "the long line over four rows",
    );
    await bob.send("a line from bob");
    const rows = await scope.pane.waitFor(
      (rows) => rows.includes("bob: a line from bob"),
      "the incoming line",
    );
    assert.deepEqual(lastRows(rows, 5), ["bob: a line from bob", ...expected]);
    // The input fills its four rows exactly: the cursor waits on a fifth.
    assert.equal(input.length, 120);
    const cursor = await scope.pane.cursor();
    assert.equal(cursor.x, 0);
    assert.equal(cursor.y, rows.length);
    // Home goes to the first row, just after the prompt.
    await scope.pane.press("Home");
    await scope.pane.waitForCursor(PROMPT.length, rows.length - 4);
    await scope.pane.type("X");
    await scope.pane.waitFor(
      // One more character: five rows now.
      (rows) => rows.at(-5) === `${PROMPT}X${long}`.slice(0, 30),
      "X at the start",
    );
    await scope.pane.press("Enter");
    assert.equal(await bob.next(/^alice: /), `alice: X${long}`);
  });
});

Deno.test("tty client places the cursor right in a line of wide characters", async () => {
  await scoped({ args: ["--name", "alice"], width: 20 }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    // "> " + 9 wide characters = 20 columns; the emoji starts row two.
    await scope.pane.type("漢字漢字テストです😀ok");
    await scope.pane.waitFor(
      (rows) =>
        rows.at(-2) === "> 漢字漢字テストです" && rows.at(-1) === "😀ok",
      "the wide line on two rows",
    );
    assert.deepEqual(await scope.pane.cursor(), {
      x: 4,
      y: (await scope.pane.visibleRows()).length - 1,
      visible: true,
    });
    await scope.pane.press("Left", "Left", "Left");
    await scope.pane.type("中");
    await scope.pane.waitFor(
      (rows) => rows.at(-1) === "中😀ok",
      "the character inserted before the emoji",
    );
    await bob.send("漢字 😀 bob");
    const rows = await scope.pane.waitForText("bob: 漢字 😀 bob");
    assert.deepEqual(lastRows(rows, 2), ["> 漢字漢字テストです", "中😀ok"]);
    const cursor = await scope.pane.cursor();
    assert.equal(cursor.x, 2);
    await scope.pane.press("Enter");
    assert.equal(
      await bob.next(/^alice: /),
      "alice: 漢字漢字テストです中😀ok",
    );
  });
});

Deno.test("tty client Up and Down walk the history and give back the draft", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    await scope.pane.type("first line");
    await scope.pane.press("Enter");
    await bob.next("alice: first line");
    await scope.pane.type("second line");
    await scope.pane.press("Enter");
    await bob.next("alice: second line");
    await scope.pane.type("a draft");
    const input = (text: string) => (rows: string[]) =>
      rows.at(-1) === PROMPT + text;
    await scope.pane.waitFor(input("a draft"), "the draft");
    await scope.pane.press("Up");
    await scope.pane.waitFor(input("second line"), "Up once");
    await scope.pane.press("Up");
    await scope.pane.waitFor(input("first line"), "Up twice");
    await scope.pane.press("Up");
    await scope.pane.waitFor(input("first line"), "Up at the oldest");
    await scope.pane.press("Down");
    await scope.pane.waitFor(input("second line"), "Down once");
    await scope.pane.press("Down");
    await scope.pane.waitFor(input("a draft"), "the draft back");
    // A line from history can be edited and sent.
    await scope.pane.press("Up", "C-a", "C-k");
    await scope.pane.type("edited");
    await scope.pane.press("Enter");
    assert.equal(await bob.next(/^alice: /), "alice: edited");
  });
});

Deno.test("tty client Tab completes the name of someone who joined after it", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    await scope.join("bob");
    await alice(scope);
    const zoe = await scope.join("zoe_late");
    await scope.pane.waitForText("*** zoe_late has joined the chat.");
    await scope.pane.type("@zo");
    await scope.pane.press("Tab");
    await scope.pane.waitFor(
      (rows) => rows.at(-1) === "> @zoe_late",
      "the completed name",
    );
    await scope.pane.type("hello");
    await scope.pane.press("Enter");
    assert.equal(
      await zoe.next(/^Private/),
      "Private message from alice: hello",
    );
    const rows = await scope.pane.waitForText("-> zoe_late: hello");
    // The client's own /who after the welcome is not shown.
    assert.ok(!rows.some((r) => r.startsWith("Online (")), rows.join("\n"));
    // A command completes too, and /who typed by the user is answered.
    await scope.pane.type("/wh");
    await scope.pane.press("Tab");
    await scope.pane.waitFor((rows) => rows.at(-1) === "> /who", "/who");
    await scope.pane.press("Enter");
    await scope.pane.waitForText("Online (3): alice, bob, zoe_late");
  });
});

for (const [key, what] of [["C-c", "Ctrl+C"], ["C-d", "Ctrl+D"]] as const) {
  Deno.test(`tty client ${what} leaves with exit 0 and the terminal restored`, async () => {
    await scoped({ args: ["--name", "alice"] }, async (scope) => {
      const bob = await scope.join("bob");
      await alice(scope);
      if (key === "C-c") await scope.pane.type("typed, not sent");
      await scope.pane.press(key);
      assert.equal(await bob.next(/has left/), "*** alice has left the chat.");
      const rows = await scope.pane.waitForText("[exit ");
      assert.ok(rows.includes("Goodbye alice!"), rows.join("\n"));
      assert.ok(rows.includes("[exit 0 tty restored]"), rows.join("\n"));
      assert.ok(!rows.some((r) => r.includes("typed, not sent")));
      assert.equal((await scope.pane.cursor()).visible, true);
    });
  });
}

Deno.test("tty client colours names, private messages and mentions", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    await bob.send("hello alice");
    await bob.send("@alice psst");
    await scope.pane.waitForText("Private message from bob: psst");
    const rows = await scope.pane.screen({ escapes: true });
    const mention = rows.find((r) => r.includes("hello alice"))!;
    const pm = rows.find((r) => r.includes("psst"))!;
    assert.match(mention, ESCAPE, "the mention has colour");
    assert.match(pm, ESCAPE, "the private message has colour");
  });
});

Deno.test("tty client with NO_COLOR shows no escape sequences", async () => {
  await scoped({ args: ["--name", "alice"], noColor: true }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    await bob.send("hello alice");
    await bob.send("@alice psst");
    await scope.pane.type("my own line");
    await scope.pane.press("Enter");
    await bob.next("alice: my own line");
    await scope.pane.waitForText("Private message from bob: psst");
    await scope.pane.waitForText("alice: my own line");
    const rows = await scope.pane.screen({ escapes: true });
    for (const row of rows) assert.doesNotMatch(row, ESCAPE, row);
  });
});

Deno.test("tty client with piped input prints today's lines, no editor and no colours", async () => {
  await scoped({
    args: ["--name", "alice"],
    pipeFrom: "{ sleep 1; printf 'from a script\\n'; sleep 1; }",
  }, async (scope) => {
    const bob = await scope.join("bob");
    assert.equal(await bob.next(/^alice: /, 15_000), "alice: from a script");
    const rows = await scope.pane.waitForText("[exit ", 15_000);
    const port = scope.ts.port;
    const history = rows.filter((r) => r.startsWith("*** End of history"));
    assert.deepEqual(rows.filter((r) => !history.includes(r)), [
      `Connecting to 127.0.0.1:${port}...`,
      "Hello client. Please enter your name:",
      "Welcome alice!",
      "Use '@<client_name> <message>' for private message.",
      "To send to all, just type your message.",
      "To disconnect, send 'exit'.",
      WELCOME_LAST,
      "Goodbye alice!",
      "[exit 0 tty restored]",
    ]);
    for (const row of await scope.pane.screen({ escapes: true })) {
      assert.doesNotMatch(row, ESCAPE, row);
    }
  });
});

Deno.test("tty client redraws the typed line whole after the window is resized", async () => {
  await scoped({ args: ["--name", "alice"], width: 40 }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    const text = "resize me: " + "0123456789".repeat(5); // 61 characters
    await scope.pane.type(text);
    await scope.pane.waitFor(
      (rows) => rows.at(-1) === (PROMPT + text).slice(40),
      "the line on two rows",
    );
    await scope.pane.resize(25, 20);
    const input = PROMPT + text;
    const expected = [0, 25, 50].map((i) => input.slice(i, i + 25));
    await scope.pane.waitFor(
      (rows) => lastRows(rows, 3).join("|") === expected.join("|"),
      "the line on three rows of 25",
    );
    await bob.send("after the resize");
    const rows = await scope.pane.waitForText("bob: after the resize");
    assert.deepEqual(lastRows(rows, 4), ["bob: after the resize", ...expected]);
    assert.equal(rows.filter((r) => r.includes("resize me")).length, 1);
    await scope.pane.press("Enter");
    assert.equal(await bob.next(/^alice: /), `alice: ${text}`);
  });
});

Deno.test("tty client --reconnect comes back under its name after a server restart", async () => {
  let second: TestServer | undefined;
  try {
    await scoped(
      { args: ["--name", "alice", "--reconnect"] },
      async (scope) => {
        await alice(scope);
        const port = scope.ts.port;
        await scope.pane.type("half a line");
        await scope.ts.server.shutdown();
        await scope.pane.waitForText("Disconnected; reconnecting in ");
        second = await startTestServer({ port });
        const bob = await TestClient.join(port, "bob");
        try {
          await registered(second, "alice");
          const rows = await scope.pane.waitForText("Reconnected as alice.");
          assert.equal(rows.filter((r) => r === "Welcome alice!").length, 1);
          assert.ok(
            rows.filter((r) => r.startsWith("*** End of history")).length <= 1,
            rows.join("\n"),
          );
          assert.equal(rows.at(-1), "> half a line");
          await scope.pane.press("Enter");
          assert.equal(await bob.next(/^alice: /), "alice: half a line");
        } finally {
          await bob.close();
        }
      },
    );
  } finally {
    await second?.cleanup();
  }
});

Deno.test("tty client indents the continuation rows of a long incoming line, so padding cannot fake a sender", async () => {
  await scoped({ args: ["--name", "alice"], width: 80 }, async (scope) => {
    const mallory = await scope.join("mallory");
    await alice(scope);
    // "mallory: ok" and spaces to the window's edge: the terminal alone
    // would start the next row with "bob: I quit".
    const padding = " ".repeat(80 - "mallory: ok".length);
    await mallory.send(`ok${padding}bob: I quit`);
    const rows = await scope.pane.waitForText("I quit");
    assert.ok(!rows.some((r) => r.startsWith("bob:")), rows.join("\n"));
    const first = rows.findIndex((r) => r.startsWith("mallory: ok"));
    assert.ok(first >= 0, rows.join("\n"));
    assert.equal(rows[first + 1], "  bob: I quit");
  });
});

Deno.test("tty client places the cursor after emoji with skin tones and VS16 where tmux draws it", async () => {
  await scoped({ args: ["--name", "alice"], width: 60 }, async (scope) => {
    await alice(scope);
    for (const text of ["hi 👋🏽 x", "I ❤️ u", "🧑🏽‍💻 ok 🇫🇷"]) {
      await scope.pane.press("C-u");
      await scope.pane.type(text);
      const rows = await scope.pane.waitFor(
        (rows) => rows.at(-1) === PROMPT + text,
        JSON.stringify(text),
      );
      const x = PROMPT.length + await drawnWidth(text);
      await scope.pane.waitForCursor(x, rows.length - 1);
    }
  });
});

Deno.test("tty client keeps a long draft with a skin-tone emoji whole when a line comes in", async () => {
  await scoped({ args: ["--name", "alice"], width: 60 }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    // "> " + 50 + " 👋🏽 " (tmux: 6 columns) fills the first row with "bb".
    const draft = `${"a".repeat(50)} 👋🏽 ${"b".repeat(30)}`;
    const expected = [`${PROMPT}${"a".repeat(50)} 👋🏽 bb`, "b".repeat(28)];
    assert.equal(await drawnWidth(expected[0]), 60);
    await scope.pane.type(draft);
    await scope.pane.waitFor(
      (rows) => lastRows(rows, 2).join("|") === expected.join("|"),
      "the draft on two rows",
    );
    await bob.send("a line from bob");
    await bob.send("and another");
    const rows = await scope.pane.waitForText("bob: and another");
    assert.deepEqual(lastRows(rows, 4), [
      "bob: a line from bob",
      "bob: and another",
      ...expected,
    ]);
    assert.equal(rows.filter((r) => r.startsWith("> aaa")).length, 1);
    await scope.pane.waitForCursor(28, rows.length - 1);
    await scope.pane.press("Enter");
    assert.equal(await bob.next(/^alice: /), `alice: ${draft}`);
  });
});

Deno.test("tty client screen: a width the terminal disagrees with costs a misplaced cursor, never stale rows", async () => {
  // The screen of the client, driven in tmux with a wrong guess on purpose:
  // it counts "👋🏽" as 2 columns where tmux draws 4.
  const draft = `${"a".repeat(50)} 👋🏽 ${"b".repeat(30)}`;
  assert.equal(await drawnWidth("👋🏽"), 4);
  const driver = [
    Deno.execPath(),
    "run",
    "--quiet",
    `${ROOT}tests/support/screen_driver.ts`,
    draft,
    "👋🏽=2",
    "bob: first",
    "bob: second",
  ].map(quote).join(" ");
  const pane = await TmuxPane.start({
    command: `${driver}; exec sleep 600`,
    width: 60,
    height: 10,
  });
  try {
    const rows = await pane.waitForText("bob: second", 15_000);
    // The screen's guess: "> " + 50 + " 👋🏽 " + 4 b fill its first row; the
    // terminal has room for 2 of those b, and the row ends there.
    assert.deepEqual(await pane.visibleRows(), [
      "bob: first",
      "bob: second",
      `${PROMPT}${"a".repeat(50)} 👋🏽 bb`,
      "b".repeat(26),
    ], rows.join("\n"));
    const cursor = await pane.cursor();
    assert.deepEqual([cursor.x, cursor.y], [26, 3]);
  } finally {
    await pane.kill();
  }
});

Deno.test("tty client keeps the name typed at the prompt on screen, and never a password", async () => {
  await scoped({ server: { password: "sesame" } }, async (scope) => {
    await scope.pane.waitForText("Hello client. Please enter your name:");
    await scope.pane.type("ada");
    await scope.pane.press("Enter");
    await scope.pane.waitForText("Password:");
    await scope.pane.type("sesame");
    await scope.pane.press("Enter");
    const rows = await scope.pane.waitForText("Welcome ada!", 15_000);
    const prompt = rows.indexOf("Hello client. Please enter your name:");
    assert.deepEqual(rows.slice(prompt, prompt + 4), [
      "Hello client. Please enter your name:",
      "> ada",
      "Password:",
      "Welcome ada!",
    ]);
    assert.ok(!rows.some((r) => r.includes("sesame")), rows.join("\n"));
  });
});

/** The input row, the prompt and what is typed (tmux drops the end spaces). */
function inputIs(text: string) {
  return (rows: string[]) => rows.at(-1) === text.trimEnd();
}

Deno.test("tty client shows the current room in the prompt, and today's prompt in the main room alone", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    await alice(scope);
    const { pane } = scope;
    await pane.waitFor(inputIs(PROMPT), "today's prompt");
    await pane.type("/join #games");
    await pane.press("Enter");
    await pane.waitForText("*** You joined #games (1 member).");
    await pane.waitFor(inputIs("#games> "), "the prompt in #games");
    await pane.type("/join lab");
    await pane.press("Enter");
    await pane.waitFor(inputIs("#lab> "), "the prompt in #lab");
    // Back to the main room by name: it is named now, and not alone.
    await pane.type("/join #chat");
    await pane.press("Enter");
    await pane.waitForText("*** Your current room is #chat.");
    await pane.waitFor(inputIs("#chat> "), "the prompt in #chat");
    await pane.type("/part #lab");
    await pane.press("Enter");
    await pane.waitForText("*** You left #lab. Your current room is #chat.");
    await pane.type("/part #games");
    await pane.press("Enter");
    await pane.waitForText("*** You left #games. Your current room is #chat.");
    await pane.waitFor(inputIs(PROMPT), "today's prompt again");
    await pane.type("/part");
    await pane.press("Enter");
    await pane.waitForText("*** You left #chat. You are in no room;");
    await pane.waitFor(inputIs("(no room)> "), "the prompt in no room");
    // Typed in no room: the server's answer, and no echo of the line.
    await pane.type("anyone here?");
    await pane.press("Enter");
    const rows = await pane.waitForText(
      "You are in no room; /join #room to talk.",
    );
    assert.ok(!rows.some((r) => r.includes("alice: anyone")), rows.join("\n"));
  });
});

Deno.test("tty client Tab completes room names after /join, /part and /msg", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    const bob = await scope.join("bob");
    await bob.send("/join #games");
    await bob.next("*** You joined #games (1 member).");
    await bob.send("/join #gardening");
    await bob.next("*** You joined #gardening (1 member).");
    await alice(scope);
    const { pane } = scope;
    // The rooms are known from /rooms.
    await pane.type("/rooms");
    await pane.press("Enter");
    await pane.waitForText("#gardening (1)");
    await pane.type("/join ga");
    await pane.press("Tab");
    await pane.waitForText("#games  #gardening");
    await pane.waitFor(inputIs("> /join #ga"), "the common start");
    await pane.type("m");
    await pane.press("Tab");
    await pane.waitFor(inputIs("> /join #games "), "the room completed");
    await pane.press("Enter");
    await pane.waitFor(inputIs("#games> "), "the prompt in #games");
    // /part offers only the rooms one is in.
    await pane.type("/part #");
    await pane.press("Tab");
    await pane.waitFor(inputIs("#games> /part #"), "more than one room");
    await pane.waitForText("#chat  #games");
    await pane.type("g");
    await pane.press("Tab");
    await pane.waitFor(inputIs("#games> /part #games "), "/part completed");
    await pane.press("C-u");
    // /msg offers the rooms one is in after #, names otherwise.
    await pane.type("/msg #ch");
    await pane.press("Tab");
    await pane.waitFor(inputIs("#games> /msg #chat "), "/msg #chat");
    await pane.type("hello main");
    await pane.press("Enter");
    assert.equal(
      await bob.next(/^\[#chat\] alice: /),
      "[#chat] alice: hello main",
    );
    await pane.waitForText("[#chat] alice: hello main");
    await pane.type("/msg b");
    await pane.press("Tab");
    await pane.waitFor(inputIs("#games> /msg bob "), "/msg bob");
  });
});

// Colour codes as tmux writes them (one attribute at a time).
const SGR = "\\x1b\\[[0-9;]*m";
// A background colour (40-47, 100-107) set right before the tag.
const BACKGROUND = "\\x1b\\[(?:[0-9;]*;)?(?:4[0-7]|10[0-7])(?:;[0-9;]*)?m";
const ROOM_TAG = (room: string) => new RegExp(`${BACKGROUND}\\[${room}\\]`);

Deno.test("tty client shows a line of another room with its [#room] tag in a colour of its own", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    await scope.pane.type("/join #games");
    await scope.pane.press("Enter");
    await scope.pane.waitFor(inputIs("#games> "), "the prompt in #games");
    await bob.send("hello from the main room");
    await scope.pane.waitForText("[#chat] bob: hello from the main room");
    await bob.send("/join #games");
    await bob.send("in games now");
    await scope.pane.waitForText("bob: in games now");
    const rows = await scope.pane.screen({ escapes: true });
    const tagged = rows.find((r) => r.includes("hello from the main room"))!;
    assert.match(tagged, ROOM_TAG("#chat"), JSON.stringify(tagged));
    // bob's name keeps its colour after the tag.
    assert.match(
      tagged,
      new RegExp(`\\[#chat\\](?:${SGR})* ${SGR}bob${SGR}: hello`),
      JSON.stringify(tagged),
    );
    // A line of the current room has no tag and no background.
    const current = rows.find((r) => r.includes("in games now"))!;
    assert.doesNotMatch(
      current,
      new RegExp(BACKGROUND),
      JSON.stringify(current),
    );
  });
});

Deno.test("tty client with NO_COLOR shows [#room] lines with no escape sequences", async () => {
  await scoped({ args: ["--name", "alice"], noColor: true }, async (scope) => {
    const bob = await scope.join("bob");
    await alice(scope);
    await scope.pane.type("/join #games");
    await scope.pane.press("Enter");
    await scope.pane.waitFor(inputIs("#games> "), "the prompt in #games");
    await bob.send("hello from the main room");
    await scope.pane.waitForText("[#chat] bob: hello from the main room");
    for (const row of await scope.pane.screen({ escapes: true })) {
      assert.doesNotMatch(row, ESCAPE, row);
    }
  });
});

Deno.test("tty client --reconnect rejoins the rooms it was in, the current one current again", async () => {
  let second: TestServer | undefined;
  try {
    await scoped(
      { args: ["--name", "alice", "--reconnect"] },
      async (scope) => {
        await alice(scope);
        const { pane } = scope;
        for (const command of ["/join #games", "/join #lab", "/join #games"]) {
          await pane.type(command);
          await pane.press("Enter");
        }
        await pane.waitForText("*** Your current room is #games.");
        await pane.waitFor(inputIs("#games> "), "the prompt in #games");
        const port = scope.ts.port;
        await pane.type("typed while away");
        await scope.ts.server.shutdown();
        await pane.waitForText("Disconnected; reconnecting in ");
        second = await startTestServer({ port });
        // Here before alice comes back: she rejoins rooms that exist.
        const bob = await TestClient.join(port, "bob");
        const cat = await TestClient.join(port, "cat");
        try {
          await bob.send("/join #games");
          await bob.next("*** You joined #games (1 member).");
          await cat.send("/join #lab");
          await cat.next("*** You joined #lab (1 member).");
          await pane.waitForText("Reconnected as alice.", 15_000);
          await pane.waitFor(
            inputIs("#games> typed while away"),
            "the prompt in #games with the typed line",
          );
          assert.equal(
            await cat.next(/alice has joined #lab/),
            "*** alice has joined #lab.",
          );
          await pane.press("Enter");
          // The typed line goes to #games, the current room again.
          assert.equal(await bob.next(/^alice: /), "alice: typed while away");
          await cat.send("in the lab");
          await pane.waitForText("[#lab] cat: in the lab");
          await bob.send("in games");
          const rows = await pane.waitForText("bob: in games");
          assert.ok(rows.includes("bob: in games"), rows.join("\n"));
        } finally {
          await bob.close();
          await cat.close();
        }
      },
    );
  } finally {
    await second?.cleanup();
  }
});

Deno.test("tty client follows a kick out of its current room to the room the server makes current", async () => {
  await scoped({ args: ["--name", "alice"] }, async (scope) => {
    const bob = await scope.join("bob");
    await bob.send("/join #games");
    await bob.next("*** You joined #games (1 member).");
    await alice(scope);
    const { pane } = scope;
    for (const command of ["/join #games", "/join #lab", "/join #games"]) {
      await pane.type(command);
      await pane.press("Enter");
    }
    await pane.waitForText("*** Your current room is #games.");
    await pane.waitFor(inputIs("#games> "), "the prompt in #games");
    await bob.send("/kick alice enough");
    await pane.waitForText("*** You were kicked from #games by bob (enough).");
    // The server's rule: the room joined last of those left.
    await pane.waitFor(inputIs("#lab> "), "the prompt in #lab");
    await pane.type("in the lab");
    await pane.press("Enter");
    await pane.waitForText("alice: in the lab");
    // The main room's lines come tagged: alice is not in it as current.
    await bob.send("/part #games");
    await bob.send("main again");
    await pane.waitForText("[#chat] bob: main again");
  });
});

const ACCOUNT_PASSWORD = "correct horse";

/** Server options with accounts in SQLite under a temporary directory. */
async function withAccounts(
  body: (
    server: Parameters<typeof startTestServer>[0],
    accounts: Accounts,
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat_tty_accounts_" });
  const accounts = new Accounts({ store: await SqliteStore.open({ dir }) });
  try {
    await accounts.start();
    await body({ accounts: () => Promise.resolve(accounts) }, accounts);
  } finally {
    // The server closes it; closing again does no harm if it never ran.
    await accounts.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("tty client asks a registered name's password after the server's own, hidden, and keeps neither", async () => {
  await withAccounts(async (server, accounts) => {
    assert.equal(await accounts.register("ada", ACCOUNT_PASSWORD), "ok");
    await scoped(
      { server: { ...server, password: "sesame" } },
      async ({ pane }) => {
        await pane.waitForText("Hello client. Please enter your name:");
        await pane.type("ada");
        await pane.press("Enter");
        await pane.waitForText("Password:");
        await pane.type("sesame");
        await pane.waitFor(inputIs(`${PROMPT}******`), "the hidden password");
        await pane.press("Enter");
        await pane.waitForText("Password for ada:");
        await pane.type(ACCOUNT_PASSWORD);
        await pane.waitFor(
          inputIs(PROMPT + "*".repeat(ACCOUNT_PASSWORD.length)),
          "the hidden account password",
        );
        await pane.press("Enter");
        const rows = await pane.waitForText("Welcome ada!", 15_000);
        const prompt = rows.indexOf("Hello client. Please enter your name:");
        assert.deepEqual(rows.slice(prompt, prompt + 5), [
          "Hello client. Please enter your name:",
          "> ada",
          "Password:",
          "Password for ada:",
          "Welcome ada!",
        ]);
        // Up brings back the name and no password.
        await pane.type("after");
        await pane.press("Enter");
        await pane.waitFor(inputIs(PROMPT), "the line sent");
        await pane.press("Up");
        await pane.waitFor(inputIs(`${PROMPT}after`), "Up once");
        await pane.press("Up");
        await pane.waitFor(inputIs(`${PROMPT}ada`), "Up twice");
        await pane.press("Up");
        const last = await pane.waitFor(inputIs(`${PROMPT}ada`), "the oldest");
        for (const row of last) {
          assert.ok(!row.includes("sesame"), row);
          assert.ok(!row.includes(ACCOUNT_PASSWORD), row);
        }
      },
    );
  });
});

Deno.test("tty client with --password hides no line typed after the prompt it answered", async () => {
  await scoped(
    {
      args: ["--name", "alice", "--password", "sesame"],
      server: { password: "sesame" },
    },
    async (scope) => {
      await alice(scope);
      await scope.pane.type("plain text");
      await scope.pane.waitFor(inputIs(`${PROMPT}plain text`), "the text");
    },
  );
});

Deno.test("tty client shows the passwords of /register and /password as * and keeps them from Up", async () => {
  await withAccounts(async (server) => {
    await scoped({ args: ["--name", "alice"], server }, async (scope) => {
      const { pane } = scope;
      await alice(scope);
      await pane.type("kept");
      await pane.press("Enter");
      await pane.waitFor(inputIs(PROMPT), "the line sent");
      await pane.type("/register hunter2hunter2");
      await pane.waitFor(
        inputIs(`${PROMPT}/register **************`),
        "the hidden password",
      );
      await pane.press("Enter");
      await pane.waitForText('Name "alice" is now registered.');
      await pane.type("/PASSWORD hunter2hunter2 newpass99");
      await pane.waitFor(
        inputIs(`${PROMPT}/PASSWORD ************** *********`),
        "the hidden passwords",
      );
      await pane.press("Enter");
      await pane.waitForText('The password of "alice" was changed.');
      await pane.press("Up");
      const rows = await pane.waitFor(inputIs(`${PROMPT}kept`), "Up once");
      for (const row of rows) {
        assert.ok(!row.includes("hunter2"), row);
        assert.ok(!row.includes("newpass99"), row);
      }
    });
  });
});
