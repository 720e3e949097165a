/**
 * Registered names and moderation over the line protocol (issue 20): an
 * in-process server with a SQLite account store in a temporary directory.
 */
import assert from "node:assert/strict";
import { SqliteStore } from "../lib/engine/sqlite_store.ts";
import { LoginLimiter } from "../lib/engine/login_limiter.ts";
import { Accounts } from "../lib/room/accounts.ts";
import { runConsoleLine } from "../lib/app/server_console.ts";
import { WebTestClient } from "./support/web_client.ts";
import {
  LAST_WELCOME_LINE,
  NAME_PROMPT,
  startTestServer,
  TestClient,
  type TestServer,
  waitUntil,
  waitUntilAsync,
} from "./helpers.ts";

const PASSWORD = "correct horse";

interface Setup {
  ts: TestServer;
  accounts: Accounts;
  dir: string;
  [Symbol.asyncDispose](): Promise<void>;
}

async function setup(
  options: {
    operators?: string[];
    limiter?: LoginLimiter;
    trustProxy?: string[];
    web?: boolean;
  } = {},
): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "chat_accounts_" });
  const accounts = new Accounts({
    store: await SqliteStore.open({ dir }),
    operators: options.operators,
    limiter: options.limiter,
  });
  await accounts.start();
  const ts = await startTestServer({
    accounts: () => Promise.resolve(accounts),
    limits: { floodRate: 0 },
    trustProxy: options.trustProxy,
    webPort: options.web === true ? 0 : undefined,
  });
  return {
    ts,
    accounts,
    dir,
    async [Symbol.asyncDispose]() {
      await ts.cleanup();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

// Logs in to a registered name: name, its password, the welcome.
async function login(
  ts: TestServer,
  name: string,
  password = PASSWORD,
): Promise<TestClient> {
  const client = await ts.connect();
  await client.next(NAME_PROMPT);
  await client.send(name);
  await client.next(`Password for ${name}:`);
  await client.send(password);
  await client.next(`Welcome ${name}!`);
  await client.next(LAST_WELCOME_LINE);
  return client;
}

function consoleLine(ts: TestServer, line: string): void {
  runConsoleLine(line, {
    room: ts.server.room,
    print: (l) => ts.console.push(l),
  });
}

Deno.test("accounts: /register, then the name asks its password; a wrong one gets the name prompt again", async () => {
  await using s = await setup();
  const ada = await s.ts.join("ada");
  await ada.send("/register short");
  assert.equal(
    await ada.next(/password needs/),
    "A password needs at least 8 characters; it was not taken.",
  );
  await ada.send(`/register ${"x".repeat(600)}`);
  assert.equal(
    await ada.next(/at most/),
    "A password may have at most 512 bytes; it was not taken.",
  );
  await ada.send(`/register ${PASSWORD}`);
  assert.equal(
    await ada.next(/registered/),
    'Name "ada" is now registered. You will be asked for this password when you use it.',
  );
  await ada.send("exit");
  await ada.received.closed();

  const again = await s.ts.connect();
  await again.next(NAME_PROMPT);
  await again.send("ADA");
  assert.equal(await again.next(/^Password for/), "Password for ADA:");
  await again.send("not the password");
  assert.equal(await again.next(/^Wrong/), "Wrong password for ADA.");
  await again.next(NAME_PROMPT);
  await again.send("ada");
  await again.next("Password for ada:");
  await again.send(PASSWORD);
  await again.next("Welcome ada!");
  // An unregistered name is not asked anything.
  await s.ts.join("bob");
  // The password never reaches the log.
  const log = await Deno.readTextFile(s.ts.logPath);
  assert.ok(!log.includes(PASSWORD));
  assert.ok(!s.ts.console.some((line) => line.includes(PASSWORD)));
});

Deno.test("accounts: a ghost is taken over; the old connection is told and closed, the others see nothing", async () => {
  await using s = await setup();
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  const bob = await s.ts.join("bob");
  await ada.next("*** bob has joined the chat.");
  const mark = bob.received.lines.length;
  const ada2 = await login(s.ts, "ada");
  assert.equal(
    await ada.next(/elsewhere/),
    "This name was logged in from elsewhere.",
  );
  await ada.received.closed();
  await ada2.send("still here");
  await bob.next("ada: still here");
  assert.deepEqual(bob.received.lines.slice(mark), ["ada: still here"]);
});

Deno.test("accounts: /password and /unregister need the password", async () => {
  await using s = await setup();
  const ada = await s.ts.join("ada");
  await ada.send("/register hunter2hunter2");
  await ada.next(/registered/);
  await ada.send("/password wrong-one another-pass");
  assert.equal(
    await ada.next(/nothing was changed/),
    "Wrong password; nothing was changed.",
  );
  await ada.send("/password hunter2hunter2 newpass99");
  assert.equal(
    await ada.next(/was changed/),
    'The password of "ada" was changed.',
  );
  await ada.send("/unregister hunter2hunter2");
  assert.equal(
    await ada.next(/nothing was changed/),
    "Wrong password; nothing was changed.",
  );
  await ada.send("/unregister newpass99");
  assert.equal(
    await ada.next(/no longer registered/),
    'Name "ada" is no longer registered.',
  );
  assert.equal(await s.accounts.account("ada"), undefined);
});

Deno.test("accounts: an --operator name is reserved until the console registers it; then it moderates", async () => {
  await using s = await setup({ operators: ["boss"] });
  const someone = await s.ts.connect();
  await someone.next(NAME_PROMPT);
  await someone.send("boss");
  assert.equal(
    await someone.next(/reserved/),
    'Name "boss" is reserved. Please enter another name:',
  );
  const bob = await s.ts.join("bob");
  await bob.send("/ban carol");
  assert.equal(await bob.next(/operators/), "Only operators can do that.");

  consoleLine(s.ts, `register boss ${PASSWORD}`);
  await waitUntil(
    () => s.ts.console.some((l) => l.includes('"boss" is now registered')),
    "the console's answer",
  );
  assert.ok(!s.ts.console.some((l) => l.includes(PASSWORD)));
  const boss = await login(s.ts, "boss");
  const carol = await s.ts.join("carol");
  await boss.send("/mute carol 10m");
  await boss.next(/carol is muted until/);
  await carol.send("can anyone hear me");
  assert.match(await carol.next(/muted/), /^You are muted until \d\d:\d\d\.$/);
  await carol.send("@boss sorry");
  await boss.next("Private message from carol: sorry");
  await boss.send("/unmute carol");
  await boss.next("carol is no longer muted.");
  await carol.send("back");
  await bob.next("carol: back");

  await boss.send("/ban carol 2h spamming");
  assert.match(
    await carol.next(/banned/),
    /^You are banned from this chat until \d{4}-\d\d-\d\d \d\d:\d\d \(spamming\)\.$/,
  );
  await carol.received.closed();
  const again = await s.ts.connect();
  await again.next(NAME_PROMPT);
  await again.send("Carol");
  await again.next(/banned/);
  await again.received.closed();
  await boss.send("/bans");
  assert.match(
    await boss.next(/^carol until/),
    /^carol until .* by boss \(spamming\)$/,
  );
  await boss.send("/unban carol");
  await boss.next("carol is no longer banned.");
  await s.ts.join("carol");

  await boss.send("/disconnect bob bye");
  await bob.next(/removed from the chat/);
  await bob.received.closed();
});

Deno.test("accounts: an address ban holds the address, and a private message to an offline registered name waits for it", async () => {
  await using s = await setup({ operators: ["boss"] });
  consoleLine(s.ts, `register boss ${PASSWORD}`);
  await waitUntil(
    () => s.ts.console.some((l) => l.includes("now registered")),
    "the console's answer",
  );
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("exit");
  await ada.received.closed();
  const boss = await login(s.ts, "boss");
  await boss.send("@ada see you tomorrow");
  assert.equal(
    await boss.next(/offline/),
    "ada is offline; your message will be delivered when ada logs in.",
  );
  await boss.send("@nobody hello");
  await boss.next('Client "nobody" not found.');
  const back = await login(s.ts, "ada");
  assert.match(
    await back.next(/Private message from boss/),
    /^\[\d{4}-\d\d-\d\d \d\d:\d\d\] Private message from boss: see you tomorrow$/,
  );

  consoleLine(s.ts, "ban 127.0.0.0/8 testing");
  await back.next(/banned/);
  await back.received.closed();
  const refused = await TestClient.connect(s.ts.port);
  assert.match(await refused.next(/banned/), /^You are banned from this chat/);
  await refused.received.closed();
  await refused.close();
});

Deno.test("accounts: failed logins are limited per name and address together", async () => {
  let now = 1_000_000;
  const limiter = new LoginLimiter({ now: () => now, freeFailures: 2 });
  await using s = await setup({ limiter });
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("exit");
  await ada.received.closed();
  const guesser = await s.ts.connect();
  await guesser.next(NAME_PROMPT);
  for (let i = 0; i < 2; i++) {
    await guesser.send("ada");
    await guesser.next("Password for ada:");
    await guesser.send(`guess${i}guess`);
    await guesser.next("Wrong password for ada.");
  }
  await guesser.send("ada");
  await guesser.next("Password for ada:");
  await guesser.send("guess2guess");
  await guesser.next("Wrong password for ada.");
  await guesser.send("ada");
  await guesser.next("Password for ada:");
  await guesser.send(PASSWORD);
  assert.match(
    await guesser.next(/Too many/),
    /^Too many wrong passwords for ada; try again in \d+ seconds?\.$/,
  );
  // Waiting it out, the right password goes through.
  now += 10 * 60_000;
  await guesser.send("ada");
  await guesser.next("Password for ada:");
  await guesser.send(PASSWORD);
  await guesser.next("Welcome ada!");
});

Deno.test("accounts: /ignore hides a member's public and private lines from the one who ignores, for the session when unregistered", async () => {
  await using s = await setup();
  const ada = await s.ts.join("ada");
  const bob = await s.ts.join("bob");
  const carol = await s.ts.join("carol");
  await ada.next("*** carol has joined the chat.");
  await ada.send("/ignore");
  assert.equal(await ada.next(/ignoring/), "You are ignoring no one.");
  await ada.send("/ignore ada");
  assert.equal(await ada.next(/yourself/), "You cannot ignore yourself.");
  await ada.send("/ignore BOB");
  assert.equal(
    await ada.next(/ignoring/),
    "You are ignoring BOB for this session; /unignore BOB shows its lines again.",
  );
  await ada.send("/ignore bob");
  assert.equal(await ada.next(/already/), "You are ignoring bob already.");
  const mark = ada.received.lines.length;
  await bob.send("hello all");
  await bob.send("/me waves");
  await bob.send("@ada psst");
  await carol.next("bob: hello all");
  await carol.next("* bob waves");
  await carol.send("marker");
  await ada.next("carol: marker");
  assert.deepEqual(ada.received.lines.slice(mark), ["carol: marker"]);
  // A room other than the main one too.
  await ada.send("/join #side");
  await ada.next(/#side/);
  await bob.send("/join #side");
  await ada.next(/bob has joined #side/);
  await bob.send("side talk");
  await carol.send("marker 2");
  await ada.next(/carol: marker 2/);
  assert.ok(!ada.received.lines.some((l) => l.includes("side talk")));
  await ada.send("/ignore");
  assert.equal(await ada.next(/ignoring/), "You are ignoring: BOB.");
  await ada.send("/unignore carol");
  assert.equal(await ada.next(/not ignoring/), "You are not ignoring carol.");
  await ada.send("/unignore bob");
  assert.equal(await ada.next(/no longer/), "You are no longer ignoring bob.");
  await bob.send("@ada again");
  await ada.next("Private message from bob: again");
});

Deno.test("accounts: a registered member's ignore list is kept: after a new login its lines and kept messages stay hidden", async () => {
  await using s = await setup();
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("/ignore bob");
  assert.equal(
    await ada.next(/ignoring/),
    "You are ignoring bob; /unignore bob shows its lines again.",
  );
  await ada.send("exit");
  await ada.received.closed();
  assert.deepEqual(await s.accounts.ignored("ada"), ["bob"]);
  const bob = await s.ts.join("bob");
  const carol = await s.ts.join("carol");
  await bob.send("@ada while you were out");
  await bob.next(/ada is offline/);
  await carol.send("@ada hi from carol");
  await carol.next(/ada is offline/);
  const back = await login(s.ts, "ada");
  await back.next(/Private message from carol: hi from carol/);
  await bob.send("can you hear me");
  await carol.send("marker");
  await back.next("carol: marker");
  assert.ok(!back.received.lines.some((l) => l.includes("bob:")));
  assert.ok(!back.received.lines.some((l) => l.includes("while you were")));
});

Deno.test("accounts: a registered member back gets what was said since it left, ending with the count since it left", async () => {
  await using s = await setup();
  const bob = await s.ts.join("bob");
  await bob.send("before ada");
  const ada = await s.ts.join("ada");
  await ada.next(/bob: before ada$/);
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("said by ada");
  await bob.next("ada: said by ada");
  await ada.send("exit");
  await ada.received.closed();
  await waitUntilAsync(
    async () => (await s.accounts.account("ada"))?.lastSeen !== null,
    "ada's last seen",
  );
  await bob.send("one");
  await bob.send("/me two");
  const back = await s.ts.connect();
  await back.next(NAME_PROMPT);
  await back.send("ada");
  await back.next("Password for ada:");
  await back.send(PASSWORD);
  await back.next("Welcome ada!");
  const end = await back.next(/End of history/);
  assert.equal(end, "*** End of history (2 messages since you left).");
  const history = back.received.lines.filter((l) => /^\[\d/.test(l));
  assert.equal(history.length, 2);
  assert.match(history[0], /^\[\d\d:\d\d\] bob: one$/);
  assert.match(history[1], /^\[\d\d:\d\d\] \* bob two$/);
  // Someone who never registered gets the last --history lines as before.
  const carol = await s.ts.connect();
  await carol.next(NAME_PROMPT);
  await carol.send("carol");
  assert.match(
    await carol.next(/End of history/),
    /^\*\*\* End of history \(\d+ messages\)\.$/,
  );
});

// A connection through a trusted proxy that presents `address` (a PROXY v1
// header), at the name prompt.
async function from(ts: TestServer, address: string): Promise<TestClient> {
  const client = await ts.connect();
  const family = address.includes(":") ? "TCP6" : "TCP4";
  const local = family === "TCP6" ? "::1" : "127.0.0.1";
  await client.sendRaw(
    new TextEncoder().encode(
      `PROXY ${family} ${address} ${local} 51000 2025\r\n`,
    ),
  );
  await client.next(NAME_PROMPT);
  return client;
}

// Tries `password` for `name` and returns the answer after the password.
async function tryPassword(
  client: TestClient,
  name: string,
  password: string,
): Promise<string> {
  await client.send(name);
  await client.next(`Password for ${name}:`);
  await client.send(password);
  return await client.next(/^(Wrong|Too many|Welcome)/);
}

Deno.test("accounts: over TCP, a guesser from one address delays and locks the name for that address only; an IPv6 guesser counts per /64", async () => {
  let now = 1_000_000;
  const limiter = new LoginLimiter({
    now: () => now,
    freeFailures: 1,
    lockAfter: 3,
  });
  await using s = await setup({ limiter, trustProxy: ["127.0.0.1"] });
  // Every connection comes through the proxy.
  const ada = await from(s.ts, "192.0.2.1");
  await ada.send("ada");
  await ada.next(LAST_WELCOME_LINE);
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("exit");
  await ada.received.closed();

  const guesser = await from(s.ts, "203.0.113.7");
  assert.equal(
    await tryPassword(guesser, "ada", "guess-one"),
    "Wrong password for ada.",
  );
  await guesser.next(NAME_PROMPT);
  assert.equal(
    await tryPassword(guesser, "ada", "guess-two"),
    "Wrong password for ada.",
  );
  await guesser.next(NAME_PROMPT);
  // The second failure costs a wait, even for the right password.
  assert.match(
    await tryPassword(guesser, "ada", PASSWORD),
    /^Too many wrong passwords for ada; try again in \d+ seconds?\.$/,
  );
  await guesser.next(NAME_PROMPT);
  now += 10 * 60_000;
  assert.equal(
    await tryPassword(guesser, "ada", "guess-three"),
    "Wrong password for ada.",
  );
  await guesser.next(NAME_PROMPT);
  now += 10 * 60_000;
  // Locked for that address, whatever the password.
  assert.match(
    await tryPassword(guesser, "ada", PASSWORD),
    /^Too many wrong passwords for ada; try again after [\d: -]+\.$/,
  );
  // The owner, from another address, is let in at once.
  const owner = await from(s.ts, "198.51.100.9");
  assert.equal(await tryPassword(owner, "ada", PASSWORD), "Welcome ada!");
  await owner.send("exit");
  await owner.received.closed();

  // IPv6: one /64 is one source; another /64 is someone else.
  const six = await from(s.ts, "2001:db8::1");
  assert.equal(
    await tryPassword(six, "ada", "guess-one"),
    "Wrong password for ada.",
  );
  await six.next(NAME_PROMPT);
  assert.equal(
    await tryPassword(six, "ada", "guess-two"),
    "Wrong password for ada.",
  );
  const sameNetwork = await from(s.ts, "2001:db8::beef");
  assert.match(
    await tryPassword(sameNetwork, "ada", PASSWORD),
    /^Too many wrong passwords for ada; try again in/,
  );
  const otherNetwork = await from(s.ts, "2001:db8:0:1::1");
  assert.equal(
    await tryPassword(otherNetwork, "ada", PASSWORD),
    "Welcome ada!",
  );
});

Deno.test("accounts: a registered member back rejoining a room gets what was said there since it left, once", async () => {
  await using s = await setup();
  const bob = await s.ts.join("bob");
  await bob.send("/join #side");
  await bob.next(/#side/);
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("/join #side");
  await ada.next(/#side/);
  await bob.send("before ada left");
  await ada.next(/bob: before ada left/);
  await ada.send("exit");
  await ada.received.closed();
  await waitUntilAsync(
    async () => (await s.accounts.account("ada"))?.lastSeen !== null,
    "ada's last seen",
  );
  await bob.send("side one");
  await bob.send("side two");
  const back = await login(s.ts, "ada");
  // Nothing was said in the main room meanwhile.
  await back.next("*** End of history (0 messages since you left).");
  await back.send("/join #side");
  assert.equal(
    await back.next(/End of history/),
    "*** End of history (2 messages since you left).",
  );
  const replayed = back.received.lines.filter((l) => l.includes("bob: side"));
  assert.equal(replayed.length, 2, replayed.join("|"));
  assert.match(replayed[0], /^\[\d\d:\d\d\] bob: side one$/);
  // Once: a later join is an ordinary one.
  await back.send("/part #side");
  await back.next(/You left #side/);
  await back.send("/join #side");
  assert.equal(
    await back.next(/End of history \(\d+ messages\)/),
    "*** End of history (3 messages).",
  );
});

Deno.test("accounts: /nick to someone else's registered name is refused; one's own case is not", async () => {
  await using s = await setup();
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("exit");
  await ada.received.closed();
  const bob = await s.ts.join("bob");
  await bob.send("/nick ada");
  assert.equal(
    await bob.next(/registered/),
    'Name "ada" is registered; it is had by logging in to it.',
  );
  await bob.send("/nick Bob");
  assert.equal(await bob.next(/known as/), "You are now known as Bob.");
  const back = await login(s.ts, "ada");
  await back.send("/nick ADA");
  assert.equal(await back.next(/known as/), "You are now known as ADA.");
});

Deno.test("accounts: a name taken over stays in its rooms and stays their operator", async () => {
  await using s = await setup();
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("/join #games");
  await ada.next(/You joined #games/);
  const bob = await s.ts.join("bob");
  await bob.send("/join #games");
  await bob.next(/You joined #games/);
  await ada.next("*** bob has joined #games.");
  const ada2 = await login(s.ts, "ada");
  await ada.next(/elsewhere/);
  await ada2.send("/who #games");
  assert.equal(await ada2.next(/^Online in/), "Online in #games (2): ada, bob");
  await ada2.send("/join #games");
  await ada2.send("/who");
  await ada2.next("Online (2): ada, bob");
  assert.equal(await ada2.next(/^Operators/), "Operators: ada");
});

Deno.test("accounts: a banned registered name logging in gets the ban's line and nothing after it", async () => {
  await using s = await setup({ operators: ["boss"] });
  consoleLine(s.ts, `register boss ${PASSWORD}`);
  await waitUntil(
    () => s.ts.console.some((l) => l.includes("now registered")),
    "the console's answer",
  );
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("exit");
  await ada.received.closed();
  const boss = await login(s.ts, "boss");
  await boss.send("/ban ada");
  await boss.next(/Banned/);
  const back = await s.ts.connect();
  await back.next(NAME_PROMPT);
  await back.send("ada");
  await back.next("Password for ada:");
  await back.send(PASSWORD);
  await back.received.closed();
  assert.deepEqual(back.received.lines.slice(2), [
    "You are banned from this chat.",
  ]);
});

Deno.test("accounts: every act of moderation goes to the log with who did it", async () => {
  await using s = await setup({ operators: ["boss"] });
  consoleLine(s.ts, `register boss ${PASSWORD}`);
  await waitUntil(
    () => s.ts.console.some((l) => l.includes("now registered")),
    "the console's answer",
  );
  const boss = await login(s.ts, "boss");
  const carol = await s.ts.join("carol");
  await boss.send("/mute carol");
  await boss.next("carol is muted.");
  await boss.send("/unmute carol");
  await boss.next("carol is no longer muted.");
  await boss.send("/ban 10.1.2.0/24 2h spam");
  await boss.next(/^Banned/);
  consoleLine(s.ts, "unban 10.1.2.0/24");
  await boss.send("/disconnect carol bye");
  await carol.received.closed();
  await waitUntil(
    () => s.ts.events().some((l) => l.startsWith("boss disconnected")),
    "the log's lines",
  );
  const acts = s.ts.events().filter((l) =>
    /^(boss|console) (muted|unmuted|banned|unbanned|disconnected)/.test(l)
  );
  assert.equal(acts.length, 5, acts.join(" | "));
  assert.equal(acts[0], "boss muted carol");
  assert.equal(acts[1], "boss unmuted carol");
  assert.match(acts[2], /^boss banned 10\.1\.2\.0\/24 until \S+ \S+ \(spam\)$/);
  assert.equal(acts[3], "console unbanned 10.1.2.0/24");
  assert.equal(acts[4], "boss disconnected carol (bye)");
  assert.ok(!s.ts.events().some((l) => l.includes(PASSWORD)));
});

Deno.test("accounts: on the page, a registered member back gets the room's lines since it left, counted", async () => {
  await using s = await setup({ web: true });
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/registered/);
  await ada.send("exit");
  await ada.received.closed();
  const bob = await s.ts.join("bob");
  await bob.send("while you were out");
  await waitUntil(
    () => s.ts.events().includes("bob: while you were out"),
    "bob's line in the log",
  );
  await using page = await WebTestClient.connect(s.ts.server.webAddr!.port);
  await page.next((f) => f.type === "prompt");
  page.send("ada");
  await page.next((f) => f.type === "prompt" && f.prompt === "password");
  page.send(PASSWORD);
  await page.next((f) => f.type === "welcome");
  const line = await page.next((f) => f.type === "history");
  assert.equal(line.text, "while you were out");
  const end = await page.next((f) => f.type === "historyEnd");
  assert.equal(end.sinceLeft, true);
  assert.equal(end.text, "*** End of history (1 message since you left).");
});
