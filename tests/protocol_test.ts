import assert from "node:assert/strict";
import {
  type Command,
  COMMANDS,
  HELP_LINES,
  isExitWord,
  parseCommand,
} from "../lib/languages/line/protocol.ts";
import { stripControls } from "../lib/room/sanitize.ts";

// deno-lint-ignore no-control-regex
const ANY_CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

Deno.test("parseCommand treats empty and whitespace-only lines as empty", () => {
  for (const text of ["", " ", "   ", "\t", " \t  "]) {
    assert.deepEqual(
      parseCommand(text),
      { kind: "empty" },
      JSON.stringify(text),
    );
  }
});

Deno.test("parseCommand reads exit in any case and with surrounding spaces", () => {
  for (
    const text of [
      "exit",
      "EXIT",
      "Exit",
      "eXiT",
      "  exit  ",
      "\texit",
      "EXIT ",
    ]
  ) {
    assert.deepEqual(
      parseCommand(text),
      { kind: "exit", message: "" },
      JSON.stringify(text),
    );
  }
});

Deno.test("parseCommand reads /quit and /exit as exit", () => {
  for (const text of ["/quit", "/exit", "/QUIT", "/Exit", "  /quit  "]) {
    assert.deepEqual(
      parseCommand(text),
      { kind: "exit", message: "" },
      JSON.stringify(text),
    );
  }
});

Deno.test("parseCommand does not read words that only contain exit as exit", () => {
  assert.deepEqual(parseCommand("exit now"), { kind: "say", text: "exit now" });
  assert.deepEqual(parseCommand("exits"), { kind: "say", text: "exits" });
  assert.deepEqual(parseCommand("e xit"), { kind: "say", text: "e xit" });
  assert.deepEqual(parseCommand("exit, please"), {
    kind: "say",
    text: "exit, please",
  });
});

Deno.test("parseCommand reads /who and /help in any case", () => {
  assert.deepEqual(parseCommand("/who"), { kind: "who", room: null });
  assert.deepEqual(parseCommand("/WHO"), { kind: "who", room: null });
  assert.deepEqual(parseCommand(" /Who "), { kind: "who", room: null });
  assert.deepEqual(parseCommand("/who #games"), {
    kind: "who",
    room: "#games",
  });
  assert.deepEqual(parseCommand("/quit see you"), {
    kind: "exit",
    message: "see you",
  });
  assert.deepEqual(parseCommand("/help"), { kind: "help" });
  assert.deepEqual(parseCommand("/HELP"), { kind: "help" });
});

Deno.test("parseCommand reads an unknown slash word as unknown, keeping its spelling", () => {
  assert.deepEqual(parseCommand("/dance"), { kind: "unknown", word: "/dance" });
  assert.deepEqual(parseCommand("/Dance with me"), {
    kind: "unknown",
    word: "/Dance",
  });
  assert.deepEqual(parseCommand("/whoami"), {
    kind: "unknown",
    word: "/whoami",
  });
  assert.deepEqual(parseCommand("/"), { kind: "unknown", word: "/" });
});

Deno.test("parseCommand reads @name text as a private message", () => {
  assert.deepEqual(parseCommand("@bob hello there"), {
    kind: "private",
    target: "bob",
    text: "hello there",
  });
  assert.deepEqual(parseCommand("@Bob    spaced out"), {
    kind: "private",
    target: "Bob",
    text: "spaced out",
  });
  assert.deepEqual(parseCommand("  @zoë\thi  "), {
    kind: "private",
    target: "zoë",
    text: "hi",
  });
  assert.deepEqual(parseCommand("@bob exit"), {
    kind: "private",
    target: "bob",
    text: "exit",
  });
});

Deno.test("parseCommand reads @name without text as a usage error", () => {
  for (const text of ["@bob", "@bob   ", "  @bob", "@", "@ hello", "@\thi"]) {
    assert.deepEqual(
      parseCommand(text),
      { kind: "privateUsage" },
      JSON.stringify(text),
    );
  }
});

Deno.test("parseCommand reads anything else as a message to everyone", () => {
  for (
    const text of [
      "hello",
      "hi",
      "a",
      "hello, world!",
      "héllo wörld",
      "2 + 2 = 4",
      "email me@example.com",
      "ok /who",
    ]
  ) {
    assert.deepEqual(parseCommand(text), { kind: "say", text }, text);
  }
});

Deno.test("isExitWord accepts exactly exit, /quit and /exit in any case", () => {
  for (const word of ["exit", "EXIT", "/quit", "/QUIT", "/exit", "/eXit"]) {
    assert.equal(isExitWord(word), true, word);
  }
  for (const word of ["", "exi", "exits", "/quits", "quit", "/who", "exit!"]) {
    assert.equal(isExitWord(word), false, word);
  }
});

Deno.test("stripControls removes ESC and leaves the rest of a CSI sequence inert", () => {
  assert.equal(stripControls("\x1b[31mred\x1b[0m"), "[31mred[0m");
  assert.equal(stripControls("\x1b]0;title\x07text"), "]0;titletext");
  assert.doesNotMatch(stripControls("\x1b[2J\x1b[H"), ANY_CONTROL);
});

Deno.test("stripControls removes the C1 CSI and other C1 controls", () => {
  assert.equal(stripControls("\u009b31mred"), "31mred");
  assert.equal(stripControls("a\u0080b\u0085c\u009fd"), "abcd");
});

Deno.test("stripControls removes C0 controls and DEL but keeps TAB", () => {
  assert.equal(stripControls("a\x00b\x07c\x08d\x7fe"), "abcde");
  assert.equal(stripControls("bell\x07\r\n\x0b\x0c"), "bell");
  assert.equal(stripControls("col1\tcol2"), "col1\tcol2");
  let all = "";
  for (let code = 0; code <= 0xa0; code++) all += String.fromCharCode(code);
  const stripped = stripControls(all);
  assert.doesNotMatch(stripped, ANY_CONTROL);
  assert.equal(stripped, "\t" + all.slice(0x20, 0x7f) + "\u00a0");
});

Deno.test("stripControls leaves ordinary text and other Unicode alone", () => {
  for (
    const text of [
      "plain",
      "héllo wörld",
      "日本語",
      "emoji 😀",
      "\u00a0nbsp",
      "",
    ]
  ) {
    assert.equal(stripControls(text), text);
  }
});

Deno.test("HELP_LINES lists every command of COMMANDS in order", () => {
  assert.equal(HELP_LINES[0], "Commands:");
  assert.equal(HELP_LINES.length, COMMANDS.length + 1);
  COMMANDS.forEach((command, i) => {
    const line = HELP_LINES[i + 1];
    assert.ok(line.startsWith(`  ${command.usage}`), line);
    assert.ok(line.endsWith(command.summary), line);
  });
});

Deno.test("HELP_LINES aligns every summary in one column", () => {
  const columns = COMMANDS.map((command, i) =>
    HELP_LINES[i + 1].length - command.summary.length
  );
  assert.equal(new Set(columns).size, 1, JSON.stringify(HELP_LINES));
});

Deno.test("HELP_LINES covers every kind of command a client can type", () => {
  const kinds = new Set(COMMANDS.map((c) => c.kind));
  for (const kind of ["say", "private", "who", "help", "exit"] as const) {
    assert.ok(kinds.has(kind), kind);
  }
  const text = HELP_LINES.join("\n");
  for (
    const word of [
      "/who",
      "/help",
      "exit",
      "/quit",
      "/exit",
      "@<client_name> <message>",
    ]
  ) {
    assert.ok(text.includes(word), word);
  }
});

Deno.test("COMMANDS usages parse to the kind they document", () => {
  for (const command of COMMANDS) {
    // `/op, /deop <client_name>`: the last one's arguments go with each.
    const words = command.usage.split(", ");
    const last = words[words.length - 1];
    const space = last.indexOf(" ");
    const args = space === -1 || !last.startsWith("/") ? "" : last.slice(space);
    const examples = words.map((usage, i) =>
      (i === words.length - 1 || !usage.startsWith("/") ? usage : usage + args)
        .replace("<client_name>", "bob").replace("<message>", "hello there")
        .replace("<password>", "secret123").replace("<old> <new>", "old1 new1")
        .replace("on|off", "on").replace(/ \[[^\]]*\]/g, "")
    );
    for (const example of examples) {
      const parsed: Command = parseCommand(example);
      assert.equal(parsed.kind, command.kind, example);
    }
  }
});

Deno.test("stripControls removes line separators and bidirectional controls", () => {
  for (
    const mark of [
      "\u2028",
      "\u2029",
      "\u202a",
      "\u202b",
      "\u202c",
      "\u202d",
      "\u202e",
      "\u2066",
      "\u2067",
      "\u2068",
      "\u2069",
    ]
  ) {
    assert.equal(stripControls(`a${mark}b`), "ab", JSON.stringify(mark));
  }
  // Joiners and marks that carry meaning in scripts and emoji stay.
  assert.equal(stripControls("a\u200db\u200ec"), "a\u200db\u200ec");
});
