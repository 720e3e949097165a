// Unit tests of the room through its public API (`new ChatRoom`, `start`,
// `serve`, `announce`, `kick`, `shutdown`, `members`), with fake connections
// and injected clocks: no sockets. What each connection gets is checked as
// the TCP protocol's lines, byte for byte, as README.md gives them.

import assert from "node:assert/strict";
import { LINE_TOO_LONG } from "../lib/io/line_reader.ts";
import { ChatRoom, type ChatRoomOptions } from "../lib/room/chat_room.ts";
import {
  INVALID_NAME,
  joined,
  LAST_WELCOME_LINE,
  left,
  NAME_PROMPT,
  SHUTTING_DOWN,
  WAIT_MS,
  waitUntil,
  within,
} from "./helpers.ts";
import {
  FakeConnection,
  type FakeConnectionOptions,
} from "./support/fake_connection.ts";

// The protocol's texts as README.md gives them (not imported from lib/: a
// test must fail if the server's text changes).
const welcome = (name: string) => [
  `Welcome ${name}!`,
  "Use '@<client_name> <message>' for private message.",
  "To send to all, just type your message.",
  "To disconnect, send 'exit'.",
  LAST_WELCOME_LINE,
];
const INVALID_PLAIN =
  "Invalid name: use 1-32 letters, digits, '_', '-', '.' or any of [ ] \\ ` ^ { } |.";
const taken = (name: string) =>
  `Name "${name}" is already taken. Please enter another name:`;
const reserved = (name: string) =>
  `Name "${name}" is reserved. Please enter another name:`;
const HELP = [
  "Commands:",
  "  <message>                                  send to your current room",
  "  @<client_name> <message>                   send to one person only",
  "  /msg <client_name> <message>               the same as @<client_name>",
  "  /me <action>                               say what you are doing",
  "  /nick <new_name>                           change your name",
  "  /who [#room]                               list who is in a room",
  "  /join #room                                join a room, or switch to it",
  "  /part [#room] [reason]                     leave a room (the current one)",
  "  /rooms                                     list the rooms",
  "  /msg #room <message>                       say something in another room you are in",
  "  /topic [text]                              show or set the topic",
  "  /op, /deop <client_name>                   make or unmake a room operator",
  "  /kick <client_name> [reason]               put someone out of the room",
  "  /topiclock on|off                          only operators set the topic",
  "  /register <password>                       register your name",
  "  /password <old> <new>                      change your name's password",
  "  /unregister <password>                     give your name up",
  "  /ignore, /unignore <client_name>           hide or show someone's lines to you (/ignore lists)",
  "  /ban, /unban <client_name>                 operators: keep a name or an address out (/bans lists)",
  "  /mute, /unmute, /disconnect <client_name>  operators: silence or remove someone",
  "  /help                                      show this list",
  "  exit, /quit, /exit                         leave the chat",
];

/** The bytes of `lines` as the server sends them. */
function wire(...lines: (string | string[])[]): string {
  return lines.flat().map((line) => `${line}\n`).join("");
}

// A wall clock far from today, so history shows the date: 2020-01-02 09:05
// in the server's time zone.
const WALL_START = new Date(2020, 0, 2, 9, 5).getTime();

/** A room under test with its console and clocks; shut down when disposed. */
class TestRoom implements AsyncDisposable {
  readonly room: ChatRoom;
  /** Every line the room printed on its console. */
  readonly console: string[] = [];
  /** The monotonic clock flood control reads, in ms; tests move it. */
  now = 0;
  /** The wall clock of the room's events, in ms since the epoch. */
  wall = WALL_START;
  readonly #serving = new Map<FakeConnection, Promise<void>>();

  private constructor(options: ChatRoomOptions) {
    this.room = new ChatRoom({
      ...options,
      // Flood control off unless a test is about it: the clock stands still.
      limits: { floodRate: 0, ...options.limits },
      onConsole: (line) => this.console.push(line),
      now: () => this.now,
      clock: () => this.wall,
    });
  }

  /** A started room with `options` (the clocks and console are the test's). */
  static async start(options: ChatRoomOptions = {}): Promise<TestRoom> {
    const test = new TestRoom(options);
    await test.room.start();
    return test;
  }

  /** A new connection, served by the room. */
  connect(options?: FakeConnectionOptions): FakeConnection {
    const conn = new FakeConnection(options);
    this.#serving.set(conn, this.room.serve(conn));
    return conn;
  }

  /** Connects and registers `name`, waiting for the whole welcome. */
  async join(
    name: string,
    options?: FakeConnectionOptions & { password?: string },
  ): Promise<FakeConnection> {
    const conn = this.connect(options);
    await conn.next(NAME_PROMPT);
    conn.send(name);
    if (options?.password !== undefined) {
      await conn.next("Password:");
      conn.send(options.password);
    }
    await conn.next(`Welcome ${name}!`);
    await conn.next(LAST_WELCOME_LINE);
    return conn;
  }

  /**
   * Registers `names` in turn and waits until each saw every later join;
   * marks each connection there (see {@linkcode since}).
   */
  async joinAll(...names: string[]): Promise<FakeConnection[]> {
    const conns: FakeConnection[] = [];
    for (const name of names) {
      const conn = await this.join(name);
      for (const earlier of conns) await earlier.next(joined(name));
      conns.push(conn);
    }
    for (const conn of conns) marks.set(conn, conn.received.lines.length);
    return conns;
  }

  /** Waits until the room is done serving `conn`. */
  async served(conn: FakeConnection): Promise<void> {
    const serving = this.#serving.get(conn);
    assert.ok(serving !== undefined, `${conn.address} was served`);
    await within(serving, WAIT_MS, `the room to be done with ${conn.address}`);
  }

  /** Shuts the room down and waits until every connection was served. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.room.shutdown();
    await within(
      Promise.all(this.#serving.values()),
      WAIT_MS,
      "every connection to end",
    );
  }
}

// Where each connection's lines were when it was marked.
const marks = new WeakMap<FakeConnection, number>();

/** The lines `conn` got since it was marked (or from index `from` on). */
function since(conn: FakeConnection, from = marks.get(conn) ?? 0): string[] {
  return conn.received.lines.slice(from);
}

Deno.test("registration: the prompt, the welcome, the others told; members() lists them", async () => {
  await using test = await TestRoom.start();
  const alice = await test.join("alice");
  const bob = await test.join("bob", { ip: "198.51.100.7" });
  await alice.next(joined("bob"));
  alice.send("hi");
  await bob.next("alice: hi");
  assert.equal(alice.text, wire(NAME_PROMPT, welcome("alice"), joined("bob")));
  assert.equal(bob.text, wire(NAME_PROMPT, welcome("bob"), "alice: hi"));
  assert.deepEqual(
    test.room.members().map((m) => [
      m.name,
      m.address,
      m.transport,
      m.present,
      m.since,
    ]),
    [
      ["alice", alice.address, "tcp", true, WALL_START],
      ["bob", bob.address, "tcp", true, WALL_START],
    ],
  );
  for (
    const line of [
      `Accepted connection from: ${alice.address}`,
      "Client alice has joined.",
      "Client bob has joined.",
    ]
  ) {
    assert.ok(test.console.includes(line), `console: ${line}`);
  }
});

Deno.test("registration: invalid, reserved and taken names are refused and asked again", async () => {
  await using test = await TestRoom.start();
  const alice = await test.join("Alice");
  const conn = test.connect();
  await conn.next(NAME_PROMPT);
  for (const name of ["bad name", "x".repeat(33), "Server", "usage", "ALICE"]) {
    conn.send(name);
  }
  conn.send("   ", "  carol  ");
  await conn.next(LAST_WELCOME_LINE);
  assert.equal(
    conn.text,
    wire(
      NAME_PROMPT,
      INVALID_NAME,
      INVALID_NAME,
      reserved("Server"),
      reserved("usage"),
      taken("ALICE"),
      welcome("carol"),
    ),
  );
  await alice.next(joined("carol"));
  assert.deepEqual(test.room.members().map((m) => m.name), ["Alice", "carol"]);
});

Deno.test("registration: more refused names than allowed close the connection", async () => {
  await using test = await TestRoom.start({ limits: { maxNameAttempts: 2 } });
  const conn = test.connect();
  await conn.next(NAME_PROMPT);
  conn.send("no good", "Server", "still bad", "carol");
  await conn.waitClosed();
  assert.equal(
    conn.text,
    wire(NAME_PROMPT, INVALID_NAME, reserved("Server"), "Too many attempts."),
  );
  await test.served(conn);
  assert.deepEqual(test.room.members(), []);
});

Deno.test("registration: exit at the prompt says goodbye, closes, and no one is told", async () => {
  await using test = await TestRoom.start();
  const alice = await test.join("alice");
  const mark = alice.received.lines.length;
  for (const word of ["exit", " EXIT ", "/quit", "/Exit"]) {
    const conn = test.connect();
    await conn.next(NAME_PROMPT);
    conn.send(word, "not read");
    await conn.waitClosed();
    assert.equal(conn.text, wire(NAME_PROMPT, "Goodbye!"), word);
    await test.served(conn);
  }
  await test.join("bob");
  await alice.next(joined("bob"));
  assert.deepEqual(since(alice, mark), [joined("bob")]);
});

Deno.test("registration: an HTTP request's first line is told where the chat is", async () => {
  await using test = await TestRoom.start();
  const plain = test.connect();
  const web = test.connect({ webUrl: "http://127.0.0.1:8025/" });
  for (const conn of [plain, web]) {
    await conn.next(NAME_PROMPT);
    conn.send("GET / HTTP/1.1", "Host: 127.0.0.1", "");
    await conn.waitClosed();
  }
  assert.equal(
    plain.text,
    wire(
      NAME_PROMPT,
      "This is the chat port; connect with nc, telnet or the chat client.",
    ),
  );
  assert.equal(
    web.text,
    wire(
      NAME_PROMPT,
      "This is the chat port; the web chat is at http://127.0.0.1:8025/",
    ),
  );
  // Only the first line: later, it is a name like any other.
  const late = test.connect();
  await late.next(NAME_PROMPT);
  late.send("bad name", "GET / HTTP/1.1");
  await late.next(INVALID_NAME);
  await late.next(INVALID_NAME);
  assert.equal(late.closed, false);
});

Deno.test("registration: a connection that names no one in time is closed", async () => {
  await using test = await TestRoom.start({
    limits: { registrationTimeoutMs: 50 },
  });
  const conn = test.connect();
  await conn.next(NAME_PROMPT);
  conn.send("bad name");
  await conn.waitClosed();
  assert.equal(
    conn.text,
    wire(NAME_PROMPT, INVALID_NAME, "Registration timed out."),
  );
});

Deno.test("registration: with a password it is asked after the name", async () => {
  await using test = await TestRoom.start({ password: "s3cret pass" });
  const conn = test.connect();
  await conn.next(NAME_PROMPT);
  conn.send("alice");
  await conn.next("Password:");
  conn.send("s3cret pass");
  await conn.next(LAST_WELCOME_LINE);
  assert.equal(conn.text, wire(NAME_PROMPT, "Password:", welcome("alice")));
});

Deno.test("registration: a wrong password is told, and the close waits the delay; the name was never held", async () => {
  const delay = 500;
  await using test = await TestRoom.start({
    password: "s3cret",
    limits: { wrongPasswordDelayMs: delay },
  });
  const guesser = test.connect();
  await guesser.next(NAME_PROMPT);
  guesser.send("alice");
  await guesser.next("Password:");
  guesser.send("guess", "guess again");
  await guesser.next("Wrong password.");
  const toldAt = guesser.arrivedAt[guesser.received.lines.length - 1];
  // While the guesser waits, the name is free.
  const alice = await test.join("alice", { password: "s3cret" });
  assert.ok(
    alice.arrivedAt.at(-1)! < (guesser.closedAt ?? Infinity),
    "alice joined before the guesser's connection closed",
  );
  await guesser.waitClosed();
  assert.equal(
    guesser.text,
    wire(NAME_PROMPT, "Password:", "Wrong password."),
  );
  // A timer never fires early; 1 ms for rounding.
  assert.ok(
    guesser.closedAt! - toldAt >= delay - 1,
    `closed ${guesser.closedAt! - toldAt} ms after "Wrong password."`,
  );
});

Deno.test("registration: a taken name is told only after the right password", async () => {
  await using test = await TestRoom.start({
    password: "s3cret",
    limits: { wrongPasswordDelayMs: 0 },
  });
  await test.join("alice", { password: "s3cret" });
  // Without the password nobody learns who is online.
  const guesser = test.connect();
  await guesser.next(NAME_PROMPT);
  guesser.send("ALICE");
  await guesser.next("Password:");
  guesser.send("wrong");
  await guesser.waitClosed();
  assert.equal(guesser.text, wire(NAME_PROMPT, "Password:", "Wrong password."));
  // With it, the name is taken; the password is not asked again.
  const bob = test.connect();
  await bob.next(NAME_PROMPT);
  bob.send("ALICE");
  await bob.next("Password:");
  bob.send("s3cret");
  await bob.next(taken("ALICE"));
  bob.send("bob");
  await bob.next(LAST_WELCOME_LINE);
  assert.equal(
    bob.text,
    wire(NAME_PROMPT, "Password:", taken("ALICE"), welcome("bob")),
  );
});

Deno.test("routing: a message goes to everyone but its sender; blank lines are ignored, controls removed", async () => {
  await using test = await TestRoom.start();
  const [alice, bob, carol] = await test.joinAll("alice", "bob", "carol");
  alice.send("", "   ", "hello", "\x1b[2Jwiped? \u202Ereversed\u2028 one line");
  await carol.next("alice: [2Jwiped? reversed one line");
  bob.send("hi alice");
  await carol.next("bob: hi alice");
  await alice.next("bob: hi alice");
  assert.deepEqual(since(alice), ["bob: hi alice"]);
  assert.deepEqual(since(bob), [
    "alice: hello",
    "alice: [2Jwiped? reversed one line",
  ]);
  assert.deepEqual(since(carol), [
    "alice: hello",
    "alice: [2Jwiped? reversed one line",
    "bob: hi alice",
  ]);
});

Deno.test("routing: a private message reaches its target by any case, and no one else", async () => {
  await using test = await TestRoom.start();
  const [alice, bob, carol] = await test.joinAll("alice", "Bob", "carol");
  alice.send(
    "@BOB psst",
    "/msg bob more  words",
    "@nobody hi",
    "/msg Nobody hi",
    "@bob",
    "@bob   ",
    "/msg bob",
  );
  await bob.next("Private message from alice: more  words");
  // Everyone hears carol: after it, nothing more is on its way.
  carol.send("sync");
  await alice.next("carol: sync");
  await bob.next("carol: sync");
  assert.deepEqual(since(alice), [
    'Client "nobody" not found.',
    'Client "Nobody" not found.',
    "Usage: @<client_name> <message>",
    "Usage: @<client_name> <message>",
    "Usage: @<client_name> <message>",
    "carol: sync",
  ]);
  assert.deepEqual(since(bob), [
    "Private message from alice: psst",
    "Private message from alice: more  words",
    "carol: sync",
  ]);
  assert.deepEqual(since(carol), []);
});

Deno.test("routing: /me is an action to the others; without text, its usage", async () => {
  await using test = await TestRoom.start();
  const [alice, bob] = await test.joinAll("alice", "bob");
  alice.send("/me waves", "/me", "/me   ");
  await alice.next("Usage: /me <action>");
  await alice.next("Usage: /me <action>");
  bob.send("sync");
  await alice.next("bob: sync");
  assert.deepEqual(since(alice), [
    "Usage: /me <action>",
    "Usage: /me <action>",
    "bob: sync",
  ]);
  assert.deepEqual(since(bob), ["* alice waves"]);
});

Deno.test("routing: /nick renames under the rules of a first name", async () => {
  // Failed renames never count as attempts: one is allowed here.
  await using test = await TestRoom.start({ limits: { maxNameAttempts: 1 } });
  const [alice, bob] = await test.joinAll("alice", "bob");
  alice.send("/nick Alicia");
  await alice.next("You are now known as Alicia.");
  await bob.next("*** alice is now known as Alicia.");
  bob.send("@alicia to the new name", "@alice to the old one");
  await alice.next("Private message from bob: to the new name");
  await bob.next('Client "alice" not found.');
  bob.send("/nick ALICIA", "/nick bad name", "/nick Server", "/nick", "/who");
  await bob.next(/^Online/);
  alice.send("/nick alicia");
  await bob.next("*** Alicia is now known as alicia.");
  // The old name is free at once.
  const other = await test.join("alice");
  await bob.next(joined("alice"));
  assert.deepEqual(since(alice), [
    "You are now known as Alicia.",
    "Private message from bob: to the new name",
    "You are now known as alicia.",
    joined("alice"),
  ]);
  assert.deepEqual(since(bob), [
    "*** alice is now known as Alicia.",
    'Client "alice" not found.',
    'Name "ALICIA" is already taken.',
    INVALID_PLAIN,
    'Name "Server" is reserved.',
    "Usage: /nick <new_name>",
    "Online (2): Alicia, bob",
    "*** Alicia is now known as alicia.",
    joined("alice"),
  ]);
  assert.equal(bob.closed, false);
  assert.deepEqual(test.room.members().map((m) => m.name), [
    "alice",
    "alicia",
    "bob",
  ]);
  assert.ok(
    test.console.includes("Client alice is now known as Alicia."),
    "the console tells the rename",
  );
  assert.equal(other.received.lines.at(-1), LAST_WELCOME_LINE);
});

Deno.test("routing: /who lists everyone present, sorted, the asker included; unregistered connections are not", async () => {
  await using test = await TestRoom.start();
  const bob = await test.join("bob");
  await test.join("Alice");
  await test.join("carol");
  const waiting = test.connect();
  await waiting.next(NAME_PROMPT);
  bob.send("/who");
  assert.equal(await bob.next(/^Online/), "Online (3): Alice, bob, carol");
});

Deno.test("routing: /help lists the commands; another /word is unknown", async () => {
  await using test = await TestRoom.start();
  const alice = await test.join("alice");
  const mark = alice.received.lines.length;
  alice.send("/help", "/dance now", "/", "/WHO");
  await alice.next(/^Online/);
  assert.deepEqual(since(alice, mark), [
    ...HELP,
    'Unknown command "/dance". Type /help for the list of commands.',
    'Unknown command "/". Type /help for the list of commands.',
    "Online (1): alice",
  ]);
});

Deno.test("routing: exit says goodbye and the others are told; so is a hang-up", async () => {
  await using test = await TestRoom.start();
  const [alice, bob, carol] = await test.joinAll("alice", "bob", "carol");
  bob.send(" Exit ", "not read");
  await bob.waitClosed();
  assert.equal(bob.received.lines.at(-1), "Goodbye bob!");
  await alice.next(left("bob"));
  carol.end();
  await carol.waitClosed();
  await alice.next(left("carol"));
  await test.served(bob);
  await test.served(carol);
  assert.deepEqual(test.room.members().map((m) => m.name), ["alice"]);
  assert.ok(test.console.includes("Client bob disconnected."));
  assert.ok(test.console.includes("Client carol disconnected."));
});

Deno.test("routing: an announcement reaches the members, not who has not joined", async () => {
  await using test = await TestRoom.start();
  const alice = await test.join("alice");
  const newcomer = test.connect();
  await newcomer.next(NAME_PROMPT);
  test.room.announce("   ");
  test.room.announce("  coffee\x07 at ten  ");
  await alice.next("*** Announcement: coffee at ten");
  newcomer.send("bob");
  await newcomer.next(LAST_WELCOME_LINE);
  await alice.next(joined("bob"));
  assert.equal(newcomer.text, wire(NAME_PROMPT, welcome("bob")));
  assert.equal(
    alice.text,
    wire(
      NAME_PROMPT,
      welcome("alice"),
      "*** Announcement: coffee at ten",
      joined("bob"),
    ),
  );
});

Deno.test("routing: kick removes a member by any case with the reason", async () => {
  await using test = await TestRoom.start();
  const [alice, bob] = await test.joinAll("alice", "bob");
  assert.equal(await test.room.kick("nobody"), "notFound");
  assert.equal(await test.room.kick("BOB", " spamming\x1b "), "ok");
  await bob.waitClosed();
  assert.equal(
    bob.received.lines.at(-1),
    "You were removed from the chat (spamming).",
  );
  await alice.next("*** bob was removed from the chat.");
  await test.served(bob);
  assert.deepEqual(test.room.members().map((m) => m.name), ["alice"]);
  assert.ok(
    test.console.includes("Client bob was removed from the chat (spamming)."),
  );
  const carol = await test.join("carol");
  assert.equal(await test.room.kick("carol"), "ok");
  await carol.waitClosed();
  assert.equal(carol.received.lines.at(-1), "You were removed from the chat.");
});

Deno.test("history: a newcomer gets the public messages with their time from the room's clock", async () => {
  await using test = await TestRoom.start({
    limits: { historyMessages: 2 },
    history: [{
      time: WALL_START,
      from: "zoe",
      text: "from the log",
      action: false,
    }],
  });
  const first = await test.join("first");
  assert.deepEqual(first.received.lines.slice(-2), [
    "[2020-01-02 09:05] zoe: from the log",
    "*** End of history (1 message).",
  ]);
  const alice = await test.join("alice");
  test.wall += 60_000;
  alice.send("one", "/me two", "@first not kept", "three");
  await first.next("alice: three");
  test.room.announce("not kept either");
  await first.next("*** Announcement: not kept either");
  const bob = await test.join("bob");
  assert.equal(
    bob.text,
    wire(
      NAME_PROMPT,
      welcome("bob"),
      "[2020-01-02 09:06] * alice two",
      "[2020-01-02 09:06] alice: three",
      "*** End of history (2 messages).",
    ),
  );
});

Deno.test("limits: past the most connections, a newcomer is told the server is full", async () => {
  await using test = await TestRoom.start({ limits: { maxClients: 2 } });
  const alice = await test.join("alice");
  const waiting = test.connect();
  await waiting.next(NAME_PROMPT);
  const refused = test.connect({ ip: "198.51.100.9" });
  await refused.waitClosed();
  assert.equal(refused.text, wire("Server is full. Try again later."));
  await test.served(refused);
  waiting.send("exit");
  await test.served(waiting);
  const next = test.connect();
  await next.next(NAME_PROMPT);
  assert.equal(alice.closed, false);
});

Deno.test("limits: past the most connections from one address, it is told so; others still get in", async () => {
  await using test = await TestRoom.start({ limits: { maxPerIp: 2 } });
  await test.join("alice", { ip: "198.51.100.1" });
  const second = test.connect({ ip: "198.51.100.1" });
  await second.next(NAME_PROMPT);
  const third = test.connect({ ip: "198.51.100.1" });
  await third.waitClosed();
  assert.equal(third.text, wire("Too many connections from your address."));
  await test.join("bob", { ip: "198.51.100.2" });
});

Deno.test("limits: flood control delays lines past the burst by the room's clock and drops none", async () => {
  await using test = await TestRoom.start({
    // 1000 lines a second: a delayed line waits a millisecond or two.
    limits: { floodRate: 1000, floodBurst: 3 },
  });
  const metrics = test.room.metrics;
  const bob = await test.join("bob");
  // The name took one token of three; the clock stands still.
  const alice = await test.join("alice");
  assert.equal(metrics.floodDelays, 0);
  alice.send("m1", "m2", "m3", "m4");
  await bob.next("alice: m4");
  assert.equal(metrics.floodDelays, 2);
  // 10 ms refill 10 tokens, up to the burst of 3.
  test.now += 10;
  alice.send("m5", "m6", "m7");
  await bob.next("alice: m7");
  assert.equal(metrics.floodDelays, 2);
  alice.send("m8");
  await bob.next("alice: m8");
  assert.equal(metrics.floodDelays, 3);
  assert.deepEqual(
    bob.received.lines.filter((l) => l.startsWith("alice: ")),
    ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"].map((m) => `alice: ${m}`),
  );
});

Deno.test("limits: a line too long is not delivered and the connection goes on", async () => {
  await using test = await TestRoom.start({ limits: { maxLineBytes: 100 } });
  const bob = await test.join("bob");
  const tooLong = "Message too long (limit 100 bytes); it was not delivered.";
  const alice = test.connect();
  await alice.next(NAME_PROMPT);
  alice.send(LINE_TOO_LONG, "alice");
  await alice.next(LAST_WELCOME_LINE);
  await bob.next(joined("alice"));
  const mark = bob.received.lines.length;
  alice.send("before", LINE_TOO_LONG, "after");
  await bob.next("alice: after");
  assert.equal(
    alice.text,
    wire(NAME_PROMPT, tooLong, welcome("alice"), tooLong),
  );
  assert.deepEqual(since(bob, mark), [
    "alice: before",
    "alice: after",
  ]);
});

Deno.test("limits: a connection its transport cuts is gone at once, and the others told", async () => {
  await using test = await TestRoom.start();
  const [alice, bob] = await test.joinAll("alice", "bob");
  bob.onCut?.("sendQueue");
  await bob.waitClosed();
  await alice.next(left("bob"));
  await test.served(bob);
  assert.equal(test.room.metrics.sendqCuts, 1);
  assert.ok(
    test.console.includes("Client bob disconnected (send queue exceeded)."),
    "the console says why",
  );
});

Deno.test("shutdown: everyone is told, every session ends, newcomers are turned away", async () => {
  await using test = await TestRoom.start();
  const [alice, bob] = await test.joinAll("alice", "bob");
  const waiting = test.connect();
  await waiting.next(NAME_PROMPT);
  await within(test.room.shutdown(), WAIT_MS, "the shutdown");
  for (const conn of [alice, bob, waiting]) {
    assert.equal(conn.closed, true, conn.address);
    await test.served(conn);
  }
  // Nobody hears that the others leave.
  assert.equal(
    alice.text,
    wire(NAME_PROMPT, welcome("alice"), joined("bob"), SHUTTING_DOWN),
  );
  assert.equal(bob.text, wire(NAME_PROMPT, welcome("bob"), SHUTTING_DOWN));
  assert.equal(waiting.text, wire(NAME_PROMPT, SHUTTING_DOWN));
  assert.equal(test.room.accepting, false);
  assert.deepEqual(test.room.members(), []);
  const late = test.connect();
  await late.waitClosed();
  assert.equal(late.text, wire(SHUTTING_DOWN));
  await test.served(late);
});

Deno.test("shutdown: a connection whose peer takes nothing holds it only until the timeout", async () => {
  await using test = await TestRoom.start({
    limits: { shutdownTimeoutMs: 100 },
  });
  const stuck = await test.join("stuck", { stuck: true });
  const alice = await test.join("alice");
  await within(test.room.shutdown(), WAIT_MS, "the shutdown");
  await test.served(stuck);
  assert.equal(stuck.received.lines.at(-1), SHUTTING_DOWN);
  assert.equal(alice.received.lines.at(-1), SHUTTING_DOWN);
  await waitUntil(() => stuck.closed && alice.closed, "both closed");
});

Deno.test("the lines of one read reach each member in one delivery, in order, with the same bytes", async () => {
  await using test = await TestRoom.start();
  const [alice, bob, carol] = await test.joinAll("alice", "bob", "carol");
  const before = [bob.deliveries, carol.deliveries];
  alice.send("one", "/me waves", "three");
  await bob.next("alice: three");
  await carol.next("alice: three");
  const run = ["alice: one", "* alice waves", "alice: three"];
  assert.deepEqual(since(bob), run);
  assert.deepEqual(since(carol), run);
  // One delivery for the three lines (three, line by line).
  assert.deepEqual([bob.deliveries, carol.deliveries], [
    before[0] + 1,
    before[1] + 1,
  ]);
  assert.deepEqual(since(alice), []);
});

Deno.test("a run of broadcasts keeps its place before a private line of the same read", async () => {
  await using test = await TestRoom.start();
  const [alice, bob, carol] = await test.joinAll("alice", "bob", "carol");
  bob.send("/ignore alice");
  await bob.next(/alice/);
  marks.set(bob, bob.received.lines.length);
  alice.send("one", "@carol psst", "two", "@bob hidden?", "three");
  await carol.next("alice: three");
  assert.deepEqual(since(carol), [
    "alice: one",
    "Private message from alice: psst",
    "alice: two",
    "alice: three",
  ]);
  // Bob ignores alice: none of the run, and her private line neither.
  carol.send("after");
  await bob.next("carol: after");
  assert.deepEqual(since(bob), ["carol: after"]);
});

Deno.test("joins that come together reach each member in one delivery; a newcomer hears only the later ones", async () => {
  await using test = await TestRoom.start();
  const [alice] = await test.joinAll("alice");
  const before = alice.deliveries;
  const names = ["bob", "carol", "dave"];
  const conns = names.map(() => test.connect());
  for (const conn of conns) await conn.next(NAME_PROMPT);
  // All three names in the same moment: a join storm in small.
  conns.forEach((conn, i) => conn.send(names[i]));
  for (const name of names) await alice.next(joined(name));
  assert.deepEqual(since(alice), names.map(joined));
  assert.ok(
    alice.deliveries - before < names.length,
    `${alice.deliveries - before} deliveries for ${names.length} joins`,
  );
  // Each newcomer: its welcome, then the joins after its own.
  for (const [i, conn] of conns.entries()) {
    const lines = since(conn, 0);
    const welcomeEnd = lines.indexOf(LAST_WELCOME_LINE);
    assert.ok(welcomeEnd > 0, `${names[i]} was welcomed`);
    if (i < names.length - 1) {
      await conn.next(joined(names[names.length - 1]));
    }
    assert.deepEqual(
      since(conn, 0).slice(welcomeEnd + 1),
      names.slice(i + 1).map(joined),
      `what ${names[i]} heard after its welcome`,
    );
  }
});

Deno.test("a join held for a member goes out before it switches rooms, marked as it was said", async () => {
  await using test = await TestRoom.start();
  const [alice] = await test.joinAll("alice");
  const bob = test.connect();
  await bob.next(NAME_PROMPT);
  bob.send("bob");
  // Still in this turn of the event loop (the join is held until the
  // next): bob's registration runs to its end within these microtasks.
  for (let i = 0; i < 50; i++) await Promise.resolve();
  alice.send("/join #side");
  await alice.next(/#side/);
  assert.equal(since(alice)[0], joined("bob"));
});
