import assert from "node:assert/strict";
import { HELP_LINES } from "../lib/languages/line/protocol.ts";
import {
  INVALID_NAME,
  joined,
  LAST_WELCOME_LINE,
  left,
  type LineCollector,
  linesBefore,
  NAME_PROMPT,
  SHUTTING_DOWN,
  startTestServer,
  type TestClient,
  waitUntil,
  withServer,
} from "./helpers.ts";

// The protocol's texts come from helpers.ts, where they are written out as
// the spec gives them (not taken from lib/texts.ts).
const USAGE = "Usage: @<client_name> <message>";

const encoder = new TextEncoder();
// deno-lint-ignore no-control-regex
const ANY_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

const taken = (name: string) =>
  `Name "${name}" is already taken. Please enter another name:`;
const tooLong = (limit: number) =>
  `Message too long (limit ${limit} bytes); it was not delivered.`;

/** The lines received after `from` (exclusive) and before `to`. */
async function linesBetween(
  collector: LineCollector,
  from: string,
  to: string,
): Promise<string[]> {
  const before = await linesBefore(collector, to);
  const start = before.indexOf(from);
  assert.ok(start !== -1, `${JSON.stringify(from)} came before ${to}`);
  return before.slice(start + 1);
}

Deno.test("chat server tells every other client of each join", async () => {
  await withServer({}, async ({ join }) => {
    const names = ["ann", "ben", "cat", "dan", "eve"];
    const clients: TestClient[] = [];
    for (const name of names) clients.push(await join(name));

    await clients[4].send("marker from eve");
    for (let i = 0; i < 4; i++) {
      const before = await linesBefore(
        clients[i].received,
        "eve: marker from eve",
      );
      assert.deepEqual(
        before.filter((l) => l.startsWith("*** ")),
        names.slice(i + 1).map(joined),
        `${names[i]} sees each later join once, and not its own`,
      );
    }
    await clients[0].send("marker from ann");
    const eveBefore = await linesBefore(
      clients[4].received,
      "ann: marker from ann",
    );
    assert.deepEqual(eveBefore.filter((l) => l.startsWith("*** ")), []);
  });
});

Deno.test("chat server sends the whole welcome to a client that joins", async () => {
  await withServer({}, async ({ connect }) => {
    const client = await connect();
    await client.next(NAME_PROMPT);
    await client.send("Zoë");
    await client.next(LAST_WELCOME_LINE);
    assert.deepEqual(client.received.lines, [
      NAME_PROMPT,
      "Welcome Zoë!",
      "Use '@<client_name> <message>' for private message.",
      "To send to all, just type your message.",
      "To disconnect, send 'exit'.",
      LAST_WELCOME_LINE,
    ]);
  });
});

Deno.test("broadcast reaches every other client and not the sender", async () => {
  await withServer({}, async ({ join }) => {
    const names = ["ann", "ben", "cat", "dan", "eve"];
    const clients: TestClient[] = [];
    for (const name of names) clients.push(await join(name));
    const [ann, ben] = clients;

    await ann.send("hello, all of you");
    for (const other of clients.slice(1)) {
      assert.equal(await other.next(/^ann: /), "ann: hello, all of you");
    }
    await ben.send("marker");
    const annBefore = await linesBefore(ann.received, "ben: marker");
    assert.ok(
      !annBefore.some((l) => l.includes("hello, all of you")),
      `the sender got its own message back: ${JSON.stringify(annBefore)}`,
    );
  });
});

Deno.test("broadcast keeps the order in which a client sent its messages", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    for (let i = 0; i < 10; i++) await ann.send(`message ${i}`);
    await ann.send("last");
    const before = await linesBefore(ben.received, "ann: last");
    assert.deepEqual(
      before.filter((l) => l.startsWith("ann: ")),
      Array.from({ length: 10 }, (_, i) => `ann: message ${i}`),
    );
  });
});

Deno.test("private message reaches only its target", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    const cat = await join("cat");
    const dan = await join("dan");

    await ann.send("@ben the secret plan");
    assert.equal(
      await ben.next(/^Private message from /),
      "Private message from ann: the secret plan",
    );
    await ann.send("public marker");
    for (const other of [cat, dan]) {
      const before = await linesBefore(other.received, "ann: public marker");
      assert.ok(
        !before.some((l) => l.includes("secret plan")),
        `a bystander saw the private message: ${JSON.stringify(before)}`,
      );
    }
    await ben.send("ben marker");
    const annBefore = await linesBefore(ann.received, "ben: ben marker");
    assert.ok(
      !annBefore.some((l) => l.includes("secret plan")),
      `the sender got a copy: ${JSON.stringify(annBefore)}`,
    );
    const benBefore = await linesBefore(ben.received, "ann: public marker");
    assert.equal(
      benBefore.filter((l) => l.includes("secret plan")).length,
      1,
      "the target gets it exactly once",
    );
  });
});

Deno.test("private message target is matched without regard to case", async () => {
  await withServer({}, async ({ join, events }) => {
    const bob = await join("Bob");
    const amy = await join("amy");
    await amy.send("@bob lower case");
    assert.equal(
      await bob.next(/^Private message/),
      "Private message from amy: lower case",
    );
    await amy.send("@BOB upper case");
    assert.equal(
      await bob.next(/^Private message/),
      "Private message from amy: upper case",
    );
    await waitUntil(
      () => events().includes("amy -> Bob: upper case"),
      "the private message in the log under the target's own name",
    );
    assert.ok(events().includes("amy -> Bob: lower case"));
  });
});

Deno.test("private message to an unknown name answers Client not found", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.send("@nobody are you there?");
    assert.equal(await ann.next(/not found/), 'Client "nobody" not found.');
    await ann.send("marker");
    const benBefore = await linesBefore(ben.received, "ann: marker");
    assert.ok(!benBefore.some((l) => l.includes("are you there")));
  });
});

Deno.test("private message without text answers with the usage", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.send("@ben");
    assert.equal(await ann.next(/^Usage/), USAGE);
    await ann.send("@ben    ");
    assert.equal(await ann.next(/^Usage/), USAGE);
    await ann.send("marker");
    const benBefore = await linesBefore(ben.received, "ann: marker");
    assert.ok(!benBefore.some((l) => l.startsWith("Private message")));
    assert.ok(!benBefore.some((l) => l.startsWith("ann: @ben")));
  });
});

Deno.test("chat server refuses a taken name in any case, then accepts another", async () => {
  await withServer({}, async ({ join, connect }) => {
    const alice = await join("alice");
    const other = await connect();
    await other.next(NAME_PROMPT);
    await other.send("alice");
    assert.equal(await other.next(/taken/), taken("alice"));
    await other.send("ALICE");
    assert.equal(await other.next(/taken/), taken("ALICE"));
    await other.send("  Alice  ");
    assert.equal(await other.next(/taken/), taken("Alice"));
    await other.send("alice2");
    assert.equal(await other.next(/^Welcome/), "Welcome alice2!");
    await other.next(LAST_WELCOME_LINE);

    const aliceBefore = await linesBefore(alice.received, joined("alice2"));
    assert.deepEqual(
      aliceBefore.filter((l) => l.startsWith("*** ")),
      [],
      "refused attempts are not announced",
    );
    await other.send("/who");
    assert.equal(await other.next(/^Online/), "Online (2): alice, alice2");
  });
});

Deno.test("chat server refuses an invalid name, then accepts a valid one", async () => {
  await withServer({}, async ({ join, connect }) => {
    const watcher = await join("watcher");
    const client = await connect();
    await client.next(NAME_PROMPT);
    const invalid = [
      "two words",
      "bad*",
      "a".repeat(33),
      "@at",
      "/slash",
      "a:b",
    ];
    for (const name of invalid) {
      await client.send(name);
      assert.equal(await client.next(/^Invalid name/), INVALID_NAME, name);
    }
    await client.send("good_name-1.0");
    assert.equal(await client.next(/^Welcome/), "Welcome good_name-1.0!");
    const before = await linesBefore(watcher.received, joined("good_name-1.0"));
    assert.deepEqual(before.filter((l) => l.startsWith("*** ")), []);
  });
});

Deno.test("chat server accepts a 32-character name and a non-ASCII one", async () => {
  await withServer({}, async ({ join }) => {
    const long = "n".repeat(32);
    const first = await join(long);
    await join("Ärger_Ünd.Öl");
    assert.equal(await first.next(/^\*\*\* Ä/), joined("Ärger_Ünd.Öl"));
  });
});

Deno.test("chat server stores a name in NFC, so the decomposed form is taken", async () => {
  await withServer({}, async ({ join, connect }) => {
    await join("Ren\u00e9e");
    const client = await connect();
    await client.next(NAME_PROMPT);
    await client.send("rene\u0301e");
    assert.equal(await client.next(/taken/), taken("ren\u00e9e"));
  });
});

Deno.test("chat server says Goodbye! to exit at the name prompt, closes, and tells nobody", async () => {
  await withServer({}, async (ts) => {
    const watcher = await ts.join("watcher");
    for (const word of ["exit", "  EXIT  ", "Exit", "/quit", "/exit"]) {
      const client = await ts.connect();
      await client.next(NAME_PROMPT);
      await client.send(word);
      assert.equal(await client.next(/Goodbye/), "Goodbye!", word);
      await client.received.closed();
      assert.deepEqual(client.received.lines, [NAME_PROMPT, "Goodbye!"], word);
    }
    await ts.join("later");
    const before = await linesBefore(watcher.received, joined("later"));
    assert.deepEqual(
      before.slice(before.indexOf(LAST_WELCOME_LINE) + 1),
      [],
      "nobody hears of connections that left before registering",
    );
    assert.ok(
      !ts.console.some((l) => l.includes("disconnected")),
      JSON.stringify(ts.console),
    );
  });
});

Deno.test("chat server lets a client leave with exit, /quit or /exit", async () => {
  await withServer({}, async ({ join, events }) => {
    const watcher = await join("watcher");
    const words = ["exit", "  ExIt ", "/quit", "/EXIT"];
    for (const [i, word] of words.entries()) {
      const name = `leaver${i}`;
      const client = await join(name);
      await client.send(word);
      assert.equal(await client.next(/^Goodbye/), `Goodbye ${name}!`, word);
      await client.received.closed();
      assert.equal(await watcher.next(/has left/), left(name), word);
    }
    await waitUntil(
      () => events().includes("leaver3 has left the chat"),
      "the last leave in the log",
    );
    for (let i = 0; i < words.length; i++) {
      assert.ok(events().includes(`leaver${i} has left the chat`));
    }
    assert.ok(!events().some((e) => e.startsWith("watcher: ")));
  });
});

Deno.test("/who lists everyone online, sorted, including the asker", async () => {
  await withServer({}, async ({ join }) => {
    await join("carol");
    await join("Bob");
    const alice = await join("alice");
    await alice.send("/who");
    assert.equal(await alice.next(/^Online/), "Online (3): alice, Bob, carol");
    await alice.send("/WHO");
    assert.equal(await alice.next(/^Online/), "Online (3): alice, Bob, carol");
  });
});

Deno.test("/who is answered only to the asker and not relayed", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.send("/who");
    await ann.next(/^Online/);
    await ann.send("marker");
    const benBefore = await linesBefore(ben.received, "ann: marker");
    assert.ok(
      !benBefore.some((l) => l.startsWith("Online") || l.startsWith("ann: ")),
      JSON.stringify(benBefore),
    );
  });
});

Deno.test("/help answers with every command line", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    await ann.send("/help");
    await ann.next("Commands:");
    const lines = ann.received.lines;
    const start = lines.indexOf("Commands:");
    await waitUntil(
      () => lines.length >= start + HELP_LINES.length,
      "the whole help",
    );
    const help = lines.slice(start, start + HELP_LINES.length);
    assert.deepEqual(help, [...HELP_LINES]);
    for (const word of ["/who", "/help", "exit", "@<client_name> <message>"]) {
      assert.ok(help.some((l) => l.includes(word)), word);
    }
  });
});

Deno.test("unknown command is answered and not relayed", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.send("/dance with me");
    assert.equal(
      await ann.next(/^Unknown command/),
      'Unknown command "/dance". Type /help for the list of commands.',
    );
    await ann.send("marker");
    const benBefore = await linesBefore(ben.received, "ann: marker");
    assert.ok(!benBefore.some((l) => l.includes("dance")));
  });
});

Deno.test("chat server reads CRLF line endings without the CR", async () => {
  await withServer({}, async ({ join, connect }) => {
    const ben = await join("ben");
    const carl = await connect();
    await carl.next(NAME_PROMPT);
    await carl.sendRaw(encoder.encode("carl\r\n"));
    assert.equal(await carl.next(/^Welcome/), "Welcome carl!");
    await carl.sendRaw(encoder.encode("hello over CRLF\r\n"));
    assert.equal(await ben.next(/^carl: /), "carl: hello over CRLF");
    await carl.sendRaw(encoder.encode("@ben private CRLF\r\n"));
    assert.equal(
      await ben.next(/^Private/),
      "Private message from carl: private CRLF",
    );
    await carl.sendRaw(encoder.encode("exit\r\n"));
    assert.equal(await carl.next(/^Goodbye/), "Goodbye carl!");
    assert.equal(await ben.next(/has left/), left("carl"));
  });
});

Deno.test("two messages in one TCP write arrive as two lines", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.sendRaw(encoder.encode("first of two\nsecond of two\n"));
    assert.equal(await ben.next(/^ann: /), "ann: first of two");
    assert.equal(await ben.next(/^ann: /), "ann: second of two");
  });
});

Deno.test("one message split over many TCP writes arrives as one line", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    (ann.conn as Deno.TcpConn).setNoDelay(true);
    const data = encoder.encode("split into many small writes, é and 😀\n");
    for (const byte of data) await ann.sendRaw(Uint8Array.of(byte));
    assert.equal(
      await ben.next(/^ann: /),
      "ann: split into many small writes, é and 😀",
    );
    await ann.send("marker");
    const before = await linesBefore(ben.received, "ann: marker");
    assert.equal(before.filter((l) => l.startsWith("ann: ")).length, 1);
  });
});

Deno.test("over-long line gets the notice and the connection goes on (default limit 4096)", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.send("x".repeat(4097));
    assert.equal(await ann.next(/^Message too long/), tooLong(4096));
    const atLimit = "y".repeat(4096);
    await ann.send(atLimit);
    assert.equal(await ben.next(/^ann: /), `ann: ${atLimit}`);
    await ann.send("still here");
    assert.equal(await ben.next(/^ann: /), "ann: still here");
    const before = await linesBefore(ben.received, "ann: still here");
    assert.ok(!before.some((l) => l.includes("xxxx")), "nothing of it relayed");
  });
});

Deno.test("over-long line gets the notice with a 16-byte limit, counted in bytes", async () => {
  await withServer({ limits: { maxLineBytes: 16 } }, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.send("abcdefghijklmnopq");
    assert.equal(await ann.next(/^Message too long/), tooLong(16));
    await ann.sendRaw(encoder.encode("abcdefghijklmnop\r\n"));
    assert.equal(await ben.next(/^ann: /), "ann: abcdefghijklmnop");
    // Eight two-byte characters fit; nine do not.
    await ann.send("é".repeat(9));
    assert.equal(await ann.next(/^Message too long/), tooLong(16));
    await ann.send("é".repeat(8));
    assert.equal(await ben.next(/^ann: /), `ann: ${"é".repeat(8)}`);
    const before = await linesBefore(ben.received, `ann: ${"é".repeat(8)}`);
    assert.deepEqual(before.filter((l) => l.startsWith("ann: ")), [
      "ann: abcdefghijklmnop",
    ]);
  });
});

Deno.test("over-long line sent in pieces gets one notice and the next line is intact", async () => {
  await withServer({ limits: { maxLineBytes: 16 } }, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    (ann.conn as Deno.TcpConn).setNoDelay(true);
    for (let i = 0; i < 5; i++) await ann.sendRaw(encoder.encode("0123456789"));
    await ann.sendRaw(encoder.encode("\nafter\n"));
    assert.equal(await ben.next(/^ann: /), "ann: after");
    await ann.send("/who");
    const before = await linesBefore(ann.received, "Online (2): ann, ben");
    assert.equal(before.filter((l) => l === tooLong(16)).length, 1);
  });
});

Deno.test("over-long line at the name prompt gets the notice and registration goes on", async () => {
  await withServer({ limits: { maxLineBytes: 16 } }, async ({ connect }) => {
    const client = await connect();
    await client.next(NAME_PROMPT);
    await client.send("n".repeat(40));
    assert.equal(await client.next(/^Message too long/), tooLong(16));
    await client.send("neo");
    assert.equal(await client.next(/^Welcome/), "Welcome neo!");
  });
});

Deno.test("invalid UTF-8 is relayed as U+FFFD", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.sendRaw(Uint8Array.of(0x68, 0x69, 0xff, 0x21, 0xc3, 0x28, 0x0a));
    assert.equal(await ben.next(/^ann: /), "ann: hi\uFFFD!\uFFFD(");
  });
});

Deno.test("escape sequences and control characters are stripped before relay", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ann.send(
      "\x1b[31mred\x1b[0m and \u009b1mbold\u009b0m\x07 done\x7f\tTAB",
    );
    assert.equal(
      await ben.next(/^ann: /),
      "ann: [31mred[0m and 1mbold0m done\tTAB",
    );
    await ann.send("@ben \x1b[2J\x1b[Hcleared?");
    assert.equal(
      await ben.next(/^Private/),
      "Private message from ann: [2J[Hcleared?",
    );
    await ann.send("marker");
    const before = await linesBefore(ben.received, "ann: marker");
    for (const line of before) assert.doesNotMatch(line, ANY_CONTROL);
  });
});

Deno.test("empty and whitespace-only lines are ignored, at the prompt and after", async () => {
  await withServer({}, async ({ connect, join }) => {
    const ann = await connect();
    await ann.next(NAME_PROMPT);
    await ann.sendRaw(encoder.encode("\n   \n\t\n\r\nann\n"));
    await ann.next(LAST_WELCOME_LINE);
    assert.equal(ann.received.lines[1], "Welcome ann!");

    const ben = await join("ben");
    await ann.next(joined("ben"));
    await ann.sendRaw(encoder.encode("\n  \n\t\t\n \r\nafter blanks\n"));
    const benLines = await linesBetween(
      ben.received,
      LAST_WELCOME_LINE,
      "ann: after blanks",
    );
    assert.deepEqual(benLines, []);
    await ben.send("marker");
    const annLines = await linesBetween(
      ann.received,
      joined("ben"),
      "ben: marker",
    );
    assert.deepEqual(annLines, [], "no answer to blank lines");
  });
});

Deno.test("client dropped without exit is announced as left and logged as disconnected", async () => {
  await withServer({}, async (ts) => {
    const ann = await ts.join("ann");
    const ben = await ts.join("ben");
    await ben.close();
    assert.equal(await ann.next(/has left/), left("ben"));
    await waitUntil(
      () =>
        ts.events().some((e) => /^ben has been disconnected \(.+\)$/.test(e)),
      "the disconnection in the log",
    );
    assert.ok(!ts.events().includes("ben has left the chat"));
    await waitUntil(
      () => ts.console.some((l) => l.startsWith("Client ben disconnected")),
      "the disconnection on the console",
    );
    await ann.send("/who");
    assert.equal(await ann.next(/^Online/), "Online (1): ann");
  });
});

Deno.test("name of a dropped client is free again", async () => {
  await withServer({}, async ({ join }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    await ben.close();
    await ann.next(left("ben"));
    await join("BEN");
    assert.equal(await ann.next(/joined/), joined("BEN"));
  });
});

Deno.test("client that never reads does not delay the others", async () => {
  // 200 lines of 32 000 bytes are more than the kernel buffers of the stuck
  // connection hold (4 MiB at most on Linux), so its output has to queue.
  await withServer(
    {
      limits: {
        floodRate: 0,
        maxLineBytes: 64 * 1024,
        maxSendqBytes: 64 * 1024 * 1024,
        shutdownTimeoutMs: 1_000,
      },
    },
    async ({ join, connect }) => {
      const ann = await join("ann");
      const ben = await join("ben");
      const stuck = await connect({ read: false });
      await stuck.sendRaw(encoder.encode("stuck\n"));
      await ann.next(joined("stuck"));
      await ben.next(joined("stuck"));

      const padding = "z".repeat(32_000);
      const started = performance.now();
      for (let i = 0; i < 200; i++) {
        await ann.send(`msg ${i} ${padding}`);
        assert.equal(
          await ben.next((l) => l.startsWith("ann: msg "), 1_000),
          `ann: msg ${i} ${padding}`,
        );
      }
      const elapsed = performance.now() - started;
      assert.ok(
        elapsed < 5_000,
        `200 broadcasts took ${elapsed.toFixed(0)} ms`,
      );
      // The room still answers at once.
      await ben.send("/who");
      assert.match(
        await ben.next(/^Online/, 1_000),
        /^Online \(\d\): ann, ben/,
      );
    },
  );
});

Deno.test("client that never reads is cut once its send queue passes the limit, and only it", async () => {
  await withServer(
    {
      limits: {
        floodRate: 0,
        maxLineBytes: 64 * 1024,
        maxSendqBytes: 256 * 1024,
      },
    },
    async ({ join, connect, events }) => {
      const ann = await join("ann");
      const ben = await join("ben");
      const stuck = await connect({ read: false });
      await stuck.sendRaw(encoder.encode("stuck\n"));
      await ben.next(joined("stuck"));

      // In lockstep with ben, so that only the stuck connection falls
      // behind: 32 000 bytes a line, up to 38.4 MB in all, far more than its
      // kernel buffers (4 MiB at most on Linux) and 64 times its queue's cap
      // (16 MiB), past which it is cut however little time that took.
      const padding = "q".repeat(32_000);
      const cut = left("stuck");
      for (let i = 0; i < 1200 && !ben.received.lines.includes(cut); i++) {
        await ann.send(`msg ${i} ${padding}`);
        await ben.next((l) => l.startsWith(`ann: msg ${i} `), 2_000);
      }
      assert.ok(ben.received.lines.includes(cut), "the stuck client was cut");
      await waitUntil(
        () =>
          events().includes(
            "stuck has been disconnected (send queue exceeded)",
          ),
        "the cut in the log",
      );
      await ben.send("/who");
      assert.equal(await ben.next(/^Online/), "Online (2): ann, ben");
    },
  );
});

Deno.test("unregistered connections get no chat lines", async () => {
  await withServer({}, async ({ join, connect }) => {
    const ann = await join("ann");
    const ben = await join("ben");
    const lurker = await connect();
    await lurker.next(NAME_PROMPT);
    await join("cat");
    await ann.send("hello everyone");
    await ann.send("@ben psst");
    await ben.next("ann: hello everyone");
    await ben.next("Private message from ann: psst");
    await ben.send("exit");
    await ann.next(left("ben"));

    await lurker.send("late");
    const before = await linesBefore(lurker.received, "Welcome late!");
    assert.deepEqual(before, [NAME_PROMPT]);
    await ann.send("after registering");
    assert.equal(await lurker.next(/^ann: /), "ann: after registering");
  });
});

Deno.test("shutdown tells every connection, closes them and completes the log", async () => {
  await withServer({}, async (ts) => {
    const ann = await ts.join("ann");
    const bob = await ts.join("bob");
    const lurker = await ts.connect();
    await lurker.next(NAME_PROMPT);
    await ann.send("hello everyone");
    await bob.next("ann: hello everyone");
    await ann.send("@bob just for you");
    await bob.next("Private message from ann: just for you");
    const cat = await ts.join("cat");
    await cat.send("exit");
    await ann.next(left("cat"));

    await ts.server.shutdown();
    for (const client of [ann, bob, lurker]) {
      await client.received.closed();
      const lines = client.received.lines;
      assert.equal(lines[lines.length - 1], SHUTTING_DOWN);
      assert.equal(lines.filter((l) => l === SHUTTING_DOWN).length, 1);
    }
    assert.ok(
      !ann.received.lines.includes(left("bob")),
      "no leave notices at shutdown",
    );

    const address = /\(127\.0\.0\.1:\d+\)$/;
    const all = ts.events();
    const ordered = all
      .filter((e) => !/ has been disconnected \(/.test(e))
      .map((e) => e.replace(address, "(ADDRESS)"));
    assert.deepEqual(ordered, [
      `Server is now alive and listening on 127.0.0.1:${ts.port}`,
      "Client ann has joined the chat room (ADDRESS)",
      "Client bob has joined the chat room (ADDRESS)",
      "ann: hello everyone",
      "ann -> bob: just for you",
      "Client cat has joined the chat room (ADDRESS)",
      "cat has left the chat",
      "Server has been shutdown",
      "Chat finished",
    ]);
    const shutdownAt = all.indexOf("Server has been shutdown");
    all.forEach((event, i) => {
      if (event.includes(" has been disconnected (")) {
        assert.ok(i < shutdownAt, `${event} after the shutdown line`);
      }
    });
  });
});

Deno.test("shutdown delivers output queued before it, then the notice", async () => {
  await withServer({}, async (ts) => {
    const ann = await ts.join("ann");
    const bob = await ts.join("bob");
    await ann.send("last words before shutdown");
    await bob.next("ann: last words before shutdown");
    await ts.server.shutdown();
    await bob.received.closed();
    const lines = bob.received.lines;
    assert.deepEqual(lines.slice(-2), [
      "ann: last words before shutdown",
      SHUTTING_DOWN,
    ]);
  });
});

Deno.test("chat server lets no user line start with the *** of a notice", async () => {
  await withServer({}, async ({ join, connect }) => {
    const bob = await join("bob");
    const mallory = await connect();
    await mallory.next(NAME_PROMPT);
    for (const name of ["***", "* x", "*** x", "***bob", "*"]) {
      await mallory.send(name);
      assert.equal(await mallory.next(/^Invalid name/), INVALID_NAME, name);
    }
    await mallory.send("mallory");
    await mallory.next(LAST_WELCOME_LINE);
    await mallory.send("*** bob has left the chat.");
    assert.equal(
      await bob.next(/^mallory: /),
      "mallory: *** bob has left the chat.",
    );
    await mallory.send("@bob *** fake notice");
    assert.equal(
      await bob.next(/^Private/),
      "Private message from mallory: *** fake notice",
    );
    await mallory.send("marker");
    const before = await linesBefore(bob.received, "mallory: marker");
    assert.deepEqual(before.filter((l) => l.startsWith("*** ")), [
      joined("mallory"),
    ]);
  });
});

Deno.test("line and paragraph separators are removed from relayed text and the log", async () => {
  await withServer({}, async ({ join, events }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const forged = "2026-12-06T03:30:00.000Z Server has been shutdown";
    await ada.send(`hi\u2028${forged}\u2029 end`);
    const line = await bob.next(/^ada: /);
    assert.equal(line, `ada: hi${forged} end`);
    await waitUntil(
      () => events().includes(`ada: hi${forged} end`),
      "the line in the log",
    );
    assert.ok(
      events().every((l) => !/[\u2028\u2029]/.test(l)),
      "no separator in the log",
    );
  });
});

Deno.test("bidirectional overrides and isolates are removed from relayed text", async () => {
  await withServer({}, async ({ join, events }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const marks = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069";
    await ada.send(`\u202e!tneserp eb lliw ${marks}x`);
    assert.equal(await bob.next(/^ada: /), "ada: !tneserp eb lliw x");
    await ada.send(`/me \u2067waves\u2069`);
    assert.equal(await bob.next(/^\* ada /), "* ada waves");
    await waitUntil(
      () => events().includes("* ada waves"),
      "the action in the log",
    );
    assert.ok(events().every((l) => !/[\u202a-\u202e\u2066-\u2069]/.test(l)));
  });
});

Deno.test("names the server or the client show as a sender are reserved", async () => {
  await withServer({}, async ({ join, connect }) => {
    const client = await connect();
    await client.next(NAME_PROMPT);
    for (const name of ["Announcement", "server", "USAGE", " Server "]) {
      await client.send(name);
      assert.equal(
        await client.next(/reserved/),
        `Name "${name.trim()}" is reserved. Please enter another name:`,
      );
    }
    await client.send("ada");
    assert.equal(await client.next(/^Welcome/), "Welcome ada!");
    await client.next(LAST_WELCOME_LINE);
    await client.send("/nick Announcement");
    assert.equal(
      await client.next(/reserved/),
      'Name "Announcement" is reserved.',
    );
    const other = await join("bob");
    await other.send("/who");
    assert.equal(await other.next(/^Online/), "Online (2): ada, bob");
  });
});

Deno.test("an HTTP request on the chat port is told where the page is and closed", async () => {
  await using ts = await startTestServer({ webPort: 0 });
  const browser = await ts.connect();
  await browser.send(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8\r\nAccept: */*\r\n",
  );
  await browser.received.closed();
  assert.deepEqual(browser.received.lines, [
    NAME_PROMPT,
    `This is the chat port; the web chat is at http://127.0.0.1:${ts.webPort}/`,
  ]);
  await browser.close();
  await waitUntil(
    () => ts.console.some((l) => l.includes("HTTP request on the chat port")),
    "the console line",
  );
  // Only the first line counts: a name that looks like a verb is a name.
  const ada = await ts.connect();
  await ada.next(NAME_PROMPT);
  await ada.send("a:b");
  await ada.next(/^Invalid name/);
  await ada.send("GET / HTTP/1.1");
  assert.equal(await ada.next(/^Invalid name/), INVALID_NAME);
  await ada.close();
});

Deno.test("an HTTP request on the chat port without a web door gets one line", async () => {
  await withServer({}, async ({ connect }) => {
    const client = await connect();
    await client.send("HEAD /index.html HTTP/1.0");
    await client.received.closed();
    assert.deepEqual(client.received.lines, [
      NAME_PROMPT,
      "This is the chat port; connect with nc, telnet or the chat client.",
    ]);
  });
});
