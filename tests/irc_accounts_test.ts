/**
 * Registered names and moderation on the IRC door (issue 20): SASL PLAIN
 * (offered in `CAP LS` where names can be registered) logs in to a
 * registered nick and takes a ghost over; a registered nick given without
 * logging in gets 433 and a NOTICE; server operators KILL, ban with
 * `MODE #chan +b` and list the bans, others get 481 and 482.
 *
 * An in-process server with its IRC door and a SQLite account store in a
 * temporary directory; raw IRC clients and TCP members on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { SqliteStore } from "../lib/engine/sqlite_store.ts";
import { Accounts } from "../lib/room/accounts.ts";
import { LoginLimiter } from "../lib/engine/login_limiter.ts";
import { runConsoleLine } from "../lib/app/server_console.ts";
import {
  NAME_PROMPT,
  startTestServer,
  type TestServer,
  waitUntil,
} from "./helpers.ts";
import { IrcLineClient } from "./support/irc_line_client.ts";

const S = "irc.test";
const PASSWORD = "correct horse";

interface Setup {
  ts: TestServer;
  ircPort: number;
  /** A raw IRC client, closed at the end. */
  raw(): Promise<IrcLineClient>;
  /** A TCP member who registers `name` with PASSWORD and stays. */
  registered(name: string): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function setup(
  options: {
    operators?: string[];
    password?: string;
    limiter?: LoginLimiter;
  } = {},
): Promise<Setup> {
  const dir = await Deno.makeTempDir({ prefix: "chat_irc_accounts_" });
  const accounts = new Accounts({
    store: await SqliteStore.open({ dir }),
    operators: options.operators,
    limiter: options.limiter,
  });
  await accounts.start();
  const ts = await startTestServer({
    accounts: () => Promise.resolve(accounts),
    limits: { floodRate: 0 },
    password: options.password,
    irc: { port: 0, serverName: S },
  });
  const ircPort = ts.server.ircAddr!.port;
  const clients: IrcLineClient[] = [];
  return {
    ts,
    ircPort,
    async raw() {
      const client = await IrcLineClient.connect(ircPort);
      clients.push(client);
      return client;
    },
    async registered(name) {
      const member = await ts.join(name);
      await member.send(`/register ${PASSWORD}`);
      await member.next(/is now registered/);
      await member.send("exit");
      await member.received.closed();
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) {
        assert.deepEqual(client.violations, [], "wire rules");
        await client.close();
      }
      await ts.cleanup();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function plain(name: string, password: string, authzid = ""): string {
  return btoa(
    String.fromCharCode(
      ...new TextEncoder().encode(`${authzid}\0${name}\0${password}`),
    ),
  );
}

// CAP LS 302, NICK, USER, CAP REQ sasl, AUTHENTICATE PLAIN: ready for the
// credentials.
async function startSasl(c: IrcLineClient, nick: string): Promise<void> {
  await c.send("CAP LS 302");
  await c.next(`:${S} CAP * LS :batch server-time sasl=PLAIN`);
  await c.send(`NICK ${nick}`);
  await c.send(`USER ${nick} 0 * :${nick}`);
  await c.send("CAP REQ :sasl");
  await c.next(`:${S} CAP * ACK :sasl`);
  await c.send("AUTHENTICATE PLAIN");
  await c.next("AUTHENTICATE +");
}

// Logs in to `name` with SASL and completes registration.
async function saslLogin(
  s: Setup,
  name: string,
  password = PASSWORD,
): Promise<IrcLineClient> {
  const c = await s.raw();
  await startSasl(c, name);
  await c.send(`AUTHENTICATE ${plain(name, password)}`);
  await c.next(
    `:${S} 900 * ${name}!irc@chat ${name} :You are now logged in as ${name}`,
  );
  await c.next(`:${S} 903 * :SASL authentication successful`);
  await c.send("CAP END");
  await c.next(new RegExp(`^:${S} 001 ${name} `));
  await c.next(/^:\S+ (376|422) /);
  return c;
}

function consoleLine(ts: TestServer, line: string): void {
  runConsoleLine(line, {
    room: ts.server.room,
    print: (l) => ts.console.push(l),
  });
}

async function registerOperator(ts: TestServer, name: string): Promise<void> {
  consoleLine(ts, `register ${name} ${PASSWORD}`);
  await waitUntil(
    () => ts.console.some((l) => l.includes(`"${name}" is now registered`)),
    "the console's answer",
  );
}

Deno.test("irc accounts: CAP LS offers sasl (with PLAIN from 302 on); SASL PLAIN logs in to a registered nick", async () => {
  await using s = await setup();
  await s.registered("ada");
  const old = await s.raw();
  await old.send("CAP LS");
  await old.next(`:${S} CAP * LS :batch server-time sasl`);
  await old.send("CAP END");

  const c = await saslLogin(s, "ada");
  await c.send("AUTHENTICATE PLAIN");
  await c.next(`:${S} 907 ada :You have already authenticated using SASL`);
  await c.send("JOIN #chat");
  await c.next(`:ada!irc@chat JOIN #chat`);
  const bob = await s.ts.join("bob");
  await c.send("PRIVMSG #chat :hello from irc");
  await bob.next("ada: hello from irc");
});

Deno.test("irc accounts: SASL with the authzid of the same name, or in chunks of 400, logs in", async () => {
  await using s = await setup();
  // A long password: its base64 takes more than one chunk.
  const long = "p".repeat(400);
  const ada = await s.ts.join("ada");
  await ada.send(`/register ${long}`);
  await ada.next(/is now registered/);
  await ada.send("exit");
  await ada.received.closed();
  const c = await s.raw();
  await startSasl(c, "ada");
  const data = plain("ada", long, "ada");
  assert.ok(data.length > 400 && data.length < 800);
  await c.send(`AUTHENTICATE ${data.slice(0, 400)}`);
  await c.send(`AUTHENTICATE ${data.slice(400)}`);
  await c.next(`:${S} 903 * :SASL authentication successful`);
  await c.send("CAP END");
  await c.next(new RegExp(`^:${S} 001 ada `));
});

Deno.test("irc accounts: a wrong password gets 904; the registered nick then gets 433 and a NOTICE, another nick registers", async () => {
  await using s = await setup();
  await s.registered("ada");
  const c = await s.raw();
  await startSasl(c, "ada");
  await c.send(`AUTHENTICATE ${plain("ada", "not the password")}`);
  await c.next(`:${S} 904 * :SASL authentication failed`);
  // Another authzid than the name: refused without a check.
  await c.send("AUTHENTICATE PLAIN");
  await c.next("AUTHENTICATE +");
  await c.send(`AUTHENTICATE ${plain("ada", PASSWORD, "bob")}`);
  await c.next(`:${S} 904 * :SASL authentication failed`);
  // Not base64 at all.
  await c.send("AUTHENTICATE PLAIN");
  await c.next("AUTHENTICATE +");
  await c.send("AUTHENTICATE %%%");
  await c.next(`:${S} 904 * :SASL authentication failed`);
  await c.send("CAP END");
  await c.next(
    `:${S} 433 * ada :Nickname is registered: log in to it with SASL`,
  );
  assert.match(
    await c.next(/NOTICE/),
    /^:irc\.test NOTICE \* :ada is a registered name: log in to it with SASL PLAIN/,
  );
  await c.send("NICK ada2");
  await c.next(new RegExp(`^:${S} 001 ada2 `));
});

Deno.test("irc accounts: AUTHENTICATE * aborts (906), an unknown mechanism gets 908 and 904, too much gets 905", async () => {
  await using s = await setup();
  const c = await s.raw();
  await c.send("CAP LS 302");
  await c.send("CAP REQ :sasl");
  await c.next(`:${S} CAP * ACK :sasl`);
  await c.send("AUTHENTICATE SCRAM-SHA-256");
  await c.next(`:${S} 908 * PLAIN :are available SASL mechanisms`);
  await c.next(`:${S} 904 * :SASL authentication failed`);
  await c.send("AUTHENTICATE PLAIN");
  await c.next("AUTHENTICATE +");
  await c.send("AUTHENTICATE *");
  await c.next(`:${S} 906 * :SASL authentication aborted`);
  await c.send("AUTHENTICATE PLAIN");
  await c.next("AUTHENTICATE +");
  for (let i = 0; i < 4; i++) await c.send(`AUTHENTICATE ${"A".repeat(400)}`);
  await c.next(`:${S} 905 * :SASL message too long`);
  await c.send("NICK nobody");
  await c.send("USER nobody 0 * :n");
  await c.send("CAP END");
  await c.next(new RegExp(`^:${S} 001 nobody `));
});

Deno.test("irc accounts: without accounts CAP LS has no sasl and AUTHENTICATE fails", async () => {
  await using ts = await startTestServer({ irc: { port: 0, serverName: S } });
  await using c = await IrcLineClient.connect(ts.server.ircAddr!.port);
  await c.send("CAP LS 302");
  await c.next(`:${S} CAP * LS :batch server-time`);
  await c.send("CAP REQ :sasl");
  await c.next(`:${S} CAP * NAK :sasl`);
  await c.send("AUTHENTICATE PLAIN");
  await c.next(`:${S} 904 * :SASL authentication failed`);
});

Deno.test("irc accounts: a registered nick without SASL gets 433 and a NOTICE, at registration and as a rename", async () => {
  await using s = await setup({ operators: ["boss"] });
  await s.registered("ada");
  const c = await s.raw();
  await c.send("NICK Ada");
  await c.send("USER ada 0 * :Ada");
  await c.next(
    `:${S} 433 * Ada :Nickname is registered: log in to it with SASL`,
  );
  await c.next(/^:irc\.test NOTICE \* :Ada is a registered name/);
  // An --operator name no one registered yet: reserved.
  await c.send("NICK boss");
  await c.next(/^:irc\.test 432 \* boss :/);
  await c.send("NICK bob");
  await c.next(new RegExp(`^:${S} 001 bob `));
  await c.send("NICK ada");
  await c.next(
    `:${S} 433 bob ada :Nickname is registered: log in to it with SASL`,
  );
  await c.next(/^:irc\.test NOTICE bob :ada is a registered name/);
  await c.send("NICK bobby");
  await c.next(":bob!irc@chat NICK bobby");
});

Deno.test("irc accounts: SASL takes a ghost over; the old connection is told and closed, the others see nothing", async () => {
  await using s = await setup();
  await s.registered("ada");
  const ghost = await saslLogin(s, "ada");
  await ghost.send("JOIN #chat,#games");
  await ghost.next(`:${S} 366 ada #games :End of /NAMES list`);
  const bob = await s.ts.join("bob");
  await bob.send("/join #games");
  await bob.next(/#games/);
  bob.received.skip();

  const c = await s.raw();
  await startSasl(c, "ada");
  await c.send(`AUTHENTICATE ${plain("ada", PASSWORD)}`);
  await c.next(`:${S} 903 * :SASL authentication successful`);
  await c.send("CAP END");
  await ghost.next(
    `:${S} NOTICE #chat :This name was logged in from elsewhere.`,
  );
  await ghost.next(
    "ERROR :Closing link: This name was logged in from elsewhere.",
  );
  await ghost.closed();
  await c.next(new RegExp(`^:${S} 001 ada `));
  // It goes on in the channels the old connection was in.
  await c.next(":ada!irc@chat JOIN #chat");
  await c.next(":ada!irc@chat JOIN #games");
  await c.next(/^:irc\.test 353 ada = #games :@?ada bob$/);
  await c.send("PRIVMSG #games :still here");
  await bob.next("ada: still here");
  assert.ok(
    !bob.received.lines.some((line) => /ada/.test(line) && /left/.test(line)),
    "no leave or join of ada told",
  );
});

Deno.test("irc accounts: a server operator KILLs and bans with MODE +b, lists and lifts bans; others get 481 and 482", async () => {
  await using s = await setup({ operators: ["boss"] });
  await registerOperator(s.ts, "boss");
  const carol = await s.ts.join("carol");
  const dave = await s.raw();
  await dave.send("NICK dave");
  await dave.send("USER dave 0 * :Dave");
  await dave.next(/^:\S+ (376|422) /);
  await dave.send("KILL carol :go");
  await dave.next(
    `:${S} 481 dave :Permission Denied- You're not an IRC operator`,
  );
  await dave.send("JOIN #chat");
  await dave.send("MODE #chat +b carol");
  await dave.next(`:${S} 482 dave #chat :You're not channel operator`);
  await dave.send("MODE #chat b");
  await dave.next(`:${S} 368 dave #chat :End of channel ban list`);

  const boss = await saslLogin(s, "boss");
  assert.ok(boss.lines.some((line) => / 005 .*CHANMODES=b,,,nt /.test(line)));
  await boss.send("KILL nobody :x");
  await boss.next(`:${S} 401 boss nobody :No such nick/channel`);
  await boss.send("KILL dave :enough");
  await dave.next(/^ERROR :Closing link: .*enough/);
  await dave.closed();
  await boss.next(`:${S} NOTICE boss :dave was disconnected.`);

  await boss.send("MODE #chat +b carol!*@*");
  await boss.next(`:${S} NOTICE boss :Banned carol until lifted, by boss.`);
  await carol.next(/^You are banned from this chat\.$/);
  await carol.received.closed();
  const again = await s.ts.connect();
  await again.next(NAME_PROMPT);
  await again.send("carol");
  await again.next(/banned/);

  await boss.send("MODE #chat +b *!*@192.0.2.0/24");
  await boss.next(
    `:${S} NOTICE boss :Banned 192.0.2.0/24 until lifted, by boss.`,
  );
  await boss.send("MODE #chat +b car*!*@*");
  await boss.next(/^:irc\.test NOTICE boss :Cannot ban car\*!\*@\*: /);
  await boss.send("MODE #chat b");
  const list = await boss.until(/ 368 /);
  assert.deepEqual(list.map((line) => line.replace(/ \d+$/, " T")).sort(), [
    `:${S} 367 boss #chat *!*@192.0.2.0/24 boss T`,
    `:${S} 367 boss #chat carol!*@* boss T`,
    `:${S} 368 boss #chat :End of channel ban list`,
  ]);
  await boss.send("MODE #chat -b carol");
  await boss.next(`:${S} NOTICE boss :carol is no longer banned.`);
  await s.ts.join("carol");
});

Deno.test("irc accounts: a server operator operates every channel (KICK, MODE +o) without being its operator", async () => {
  await using s = await setup({ operators: ["boss"] });
  await registerOperator(s.ts, "boss");
  const bob = await s.ts.join("bob");
  await bob.send("/join #games");
  await bob.next(/#games/);
  const boss = await saslLogin(s, "boss");
  await boss.send("JOIN #games");
  await boss.next(`:${S} 366 boss #games :End of /NAMES list`);
  await boss.send("MODE #games +t");
  await boss.next(":boss!irc@chat MODE #games +t");
  await boss.send("KICK #games bob :out");
  await boss.next(":boss!irc@chat KICK #games bob :out");
  await bob.next(/kicked/);
});

Deno.test("irc accounts: a banned registered name cannot log in with SASL", async () => {
  await using s = await setup({ operators: ["boss"] });
  await registerOperator(s.ts, "boss");
  await s.registered("ada");
  const boss = await saslLogin(s, "boss");
  await boss.send("MODE #chat +b ada");
  await boss.next(/Banned ada/);
  const c = await s.raw();
  await startSasl(c, "ada");
  await c.send(`AUTHENTICATE ${plain("ada", PASSWORD)}`);
  await c.next(/ 90[34] /);
  await c.send("CAP END");
  await c.next(/banned/);
  await c.closed();
  assert.ok(!c.lines.some((line) => / 001 /.test(line)), "not welcomed");
});

Deno.test("irc accounts: the login limiter's delay comes as a NOTICE before 904; the right password waits it out", async () => {
  let now = 1_000_000;
  const limiter = new LoginLimiter({ now: () => now, freeFailures: 2 });
  await using s = await setup({ limiter });
  await s.registered("ada");
  const c = await s.raw();
  await startSasl(c, "ada");
  for (let i = 0; i < 3; i++) {
    if (i > 0) {
      await c.send("AUTHENTICATE PLAIN");
      await c.next("AUTHENTICATE +");
    }
    await c.send(`AUTHENTICATE ${plain("ada", `guess${i}guess`)}`);
    await c.next(`:${S} 904 * :SASL authentication failed`);
  }
  await c.send("AUTHENTICATE PLAIN");
  await c.next("AUTHENTICATE +");
  await c.send(`AUTHENTICATE ${plain("ada", PASSWORD)}`);
  assert.match(
    await c.next(/NOTICE/),
    /^:irc\.test NOTICE \* :Too many wrong passwords for ada; try again in \d+ seconds?\.$/,
  );
  await c.next(`:${S} 904 * :SASL authentication failed`);
  now += 10 * 60_000;
  await c.send("AUTHENTICATE PLAIN");
  await c.next("AUTHENTICATE +");
  await c.send(`AUTHENTICATE ${plain("ada", PASSWORD)}`);
  await c.next(`:${S} 903 * :SASL authentication successful`);
});

Deno.test("irc accounts: a connection that keeps failing SASL is closed", async () => {
  await using s = await setup();
  const c = await s.raw();
  await c.send("CAP LS 302");
  await c.send("CAP REQ :sasl");
  let failures = 0;
  while (!c.ended && failures < 20) {
    await c.send("AUTHENTICATE PLAIN");
    await c.next("AUTHENTICATE +");
    await c.send(`AUTHENTICATE ${plain("nobody", "whatever-it-is")}`);
    await c.next(`:${S} 904 * :SASL authentication failed`);
    failures++;
    if (c.lines.some((line) => line.startsWith("ERROR"))) break;
  }
  await c.next("ERROR :Closing link: Too many attempts.");
  await c.closed();
  assert.ok(failures > 1 && failures < 20, `closed after ${failures}`);
});

Deno.test("irc accounts: with a server password, PASS comes before SASL and stays the server's", async () => {
  await using s = await setup({ password: "letmein" });
  const ada = await s.ts.connect();
  await ada.next(NAME_PROMPT);
  await ada.send("ada");
  await ada.next("Password:");
  await ada.send("letmein");
  await ada.next(/Welcome ada!/);
  await ada.send(`/register ${PASSWORD}`);
  await ada.next(/is now registered/);
  await ada.send("exit");
  await ada.received.closed();

  const early = await s.raw();
  await startSasl(early, "ada");
  await early.send(`AUTHENTICATE ${plain("ada", PASSWORD)}`);
  await early.next(
    `:${S} NOTICE * :Give the server's password (PASS) before logging in.`,
  );
  await early.next(`:${S} 904 * :SASL authentication failed`);

  const c = await s.raw();
  await c.send("PASS letmein");
  await startSasl(c, "ada");
  await c.send(`AUTHENTICATE ${plain("ada", PASSWORD)}`);
  await c.next(`:${S} 903 * :SASL authentication successful`);
  await c.send("CAP END");
  await c.next(new RegExp(`^:${S} 001 ada `));
});

Deno.test("irc accounts: a registered member back gets what #chat said since it left on its first JOIN, with the count", async () => {
  await using s = await setup();
  await s.registered("ada");
  const bob = await s.ts.join("bob");
  await bob.send("before ada came");
  const first = await saslLogin(s, "ada");
  await first.send("JOIN #chat");
  await first.next(/before ada came/);
  // It left when it registered (over TCP).
  await first.next(
    `:${S} NOTICE #chat :End of history (1 message since you left).`,
  );
  await first.send("QUIT :later");
  await bob.next(/ada has left/);
  await bob.send("while ada was away");
  await bob.send("and again");
  const back = await saslLogin(s, "ada");
  await back.send("JOIN #chat");
  await back.next(
    /^:irc\.test NOTICE #chat :\[\d\d:\d\d\] <bob> while ada was away$/,
  );
  await back.next(/<bob> and again$/);
  await back.next(
    `:${S} NOTICE #chat :End of history (2 messages since you left).`,
  );
  assert.ok(!back.lines.some((line) => line.includes("before ada came")));
  // Once per login: a second JOIN gets the room's history as usual.
  await back.send("PART #chat");
  await back.send("JOIN #chat");
  await back.next(/before ada came/);
  await back.next(`:${S} NOTICE #chat :End of history (3 messages).`);
});
