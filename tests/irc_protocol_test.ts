/**
 * IRC door tests over real sockets: registration as real clients do it,
 * channels (the room's rooms), messages both ways with TCP members,
 * queries, keep-alive, limits and the wire rules (CRLF, 512 bytes, UTF-8),
 * with exact numerics.
 *
 * Real TCP on 127.0.0.1; the room from `startTestServer`, the door on it
 * (or the server's own door when the test asks for one), both on port 0.
 */

import assert from "node:assert/strict";
import type { ChatServerOptions } from "../lib/app/chat_server.ts";
import {
  type IrcDoor,
  type IrcDoorOptions,
  startIrcDoor,
} from "../lib/transports/irc_door.ts";
import {
  type Closable,
  joined,
  left,
  NAME_PROMPT,
  readLogEvents,
  startTestServer,
  TestClient,
  TestScope,
  type TestServer,
} from "./helpers.ts";
import { IrcLineClient } from "./support/irc_line_client.ts";

const S = "irc.test";
const RULES =
  "Invalid name: use 1-32 letters, digits, '_', '-', '.' or any of [ ] \\ ` ^ { } |.";
const encoder = new TextEncoder();

/** What a test gets: the room's server, the door's port, client makers. */
interface Setup {
  server: TestServer;
  ircPort: number;
  consoleLines: string[];
  /** Registers an IRC client (tracked: closed at the end). */
  irc(nick: string, options?: { join?: boolean }): Promise<IrcLineClient>;
  /** Connects a raw IRC client (tracked). */
  raw(): Promise<IrcLineClient>;
  /** Joins a TCP client (tracked). */
  tcp(name: string): Promise<TestClient>;
  /** Closes `thing` at the end, after the door and the server. */
  track<T extends Closable>(thing: T): T;
}

async function withIrc(
  options: {
    server?: ChatServerOptions;
    door?: Partial<IrcDoorOptions>;
  },
  body: (setup: Setup) => Promise<void>,
): Promise<void> {
  // Clients are closed after the server shut down, so that they see it.
  await using scope = new TestScope();
  await using server = await startTestServer(options.server);
  const consoleLines: string[] = [];
  const ircClients: IrcLineClient[] = [];
  // The server's own door when the test configures one (a topic for the
  // main room, say), else a door started on the room here.
  let door: IrcDoor | null = null;
  if (options.server?.irc === undefined) {
    const started = startIrcDoor({
      room: server.server.room,
      hostname: "127.0.0.1",
      port: 0,
      channel: "#chat",
      serverName: S,
      onConsole: (line) => consoleLines.push(line),
      ...options.door,
    });
    server.scope.defer(() => started.close());
    door = started;
  }
  const ircPort = door?.addr.port ?? server.server.ircAddr!.port;
  const tracked = (client: IrcLineClient) => {
    ircClients.push(client);
    return scope.track(client);
  };
  await body({
    server,
    ircPort,
    consoleLines,
    track: scope.track,
    async irc(nick, { join = true } = {}) {
      return tracked(
        join
          ? await IrcLineClient.joined(ircPort, nick)
          : await IrcLineClient.register(ircPort, nick),
      );
    },
    async raw() {
      return tracked(await IrcLineClient.connect(ircPort));
    },
    tcp: (name) => scope.join(server.port, name),
  });
  for (const client of ircClients) {
    assert.deepEqual(client.violations, [], "wire rules");
  }
}

Deno.test("irc: the console names the door's address and channel", async () => {
  await withIrc({}, ({ consoleLines, ircPort }) => {
    assert.deepEqual(consoleLines, [
      `IRC at 127.0.0.1:${ircPort}, channel #chat`,
    ]);
    return Promise.resolve();
  });
});

Deno.test("irc: CAP LS holds registration until CAP END; LIST, REQ, 410", async () => {
  await withIrc({}, async (setup) => {
    const c = await setup.raw();
    await c.send("CAP LS 302");
    await c.next(`:${S} CAP * LS :batch server-time`);
    await c.send("NICK ann");
    await c.send("USER ann 0 * :Ann Example");
    await c.send("CAP LIST");
    await c.next(`:${S} CAP * LIST :`);
    // All or nothing: one unknown capability and none is given.
    await c.send("CAP REQ :multi-prefix sasl");
    await c.next(`:${S} CAP * NAK :multi-prefix sasl`);
    await c.send("CAP REQ :server-time sasl");
    await c.next(`:${S} CAP * NAK :server-time sasl`);
    await c.send("CAP REQ :server-time batch");
    await c.next(`:${S} CAP * ACK :server-time batch`);
    await c.send("CAP REQ :-batch");
    await c.next(`:${S} CAP * ACK :-batch`);
    await c.send("CAP LIST");
    await c.next(`:${S} CAP * LIST :server-time`);
    await c.send("CAP FROB");
    await c.next(`:${S} 410 * FROB :Invalid CAP command`);
    await c.send("PING :still-waiting");
    await c.next(`:${S} PONG ${S} :still-waiting`);
    assert.ok(!c.lines.some((line) => / 001 /.test(line)), "no 001 before END");
    await c.send("CAP END");
    const burst = await c.until(/ 422 /);
    assert.equal(
      burst[0],
      `:${S} 001 ann :Welcome to the DenoChat IRC network, ann!irc@chat`,
    );
    assert.match(burst[1], new RegExp(`^:${S} 002 ann :Your host is ${S}, `));
    assert.match(
      burst[2],
      new RegExp(`^:${S} 003 ann :This server was created `),
    );
    assert.match(burst[3], new RegExp(`^:${S} 004 ann ${S} \\S+ i not o$`));
    const isupport = burst.filter((line) => / 005 /.test(line));
    assert.ok(isupport.length >= 1);
    const tokens: string[] = [];
    for (const line of isupport) {
      assert.ok(line.endsWith(" :are supported by this server"), line);
      const middle = line.split(" ").slice(3, -5);
      assert.ok(middle.length <= 13, `${middle.length} tokens: ${line}`);
      tokens.push(...middle);
    }
    for (
      const token of [
        "CASEMAPPING=ascii",
        "CHANTYPES=#",
        "CHANLIMIT=#:20",
        "NICKLEN=32",
        // The longest room name, 32, and its `#`.
        "CHANNELLEN=33",
        "NETWORK=DenoChat",
        "PREFIX=(o)@",
        "CHANMODES=,,,nt",
        "USERLEN=16",
        "TARGMAX=PRIVMSG:4,NOTICE:4,WHOIS:1",
      ]
    ) {
      assert.ok(tokens.includes(token), `${token} in ${tokens.join(" ")}`);
    }
    assert.equal(burst.at(-1), `:${S} 422 ann :MOTD File is missing`);
    // After registration, CAP LIST names the nick.
    await c.send("CAP LIST");
    await c.next(`:${S} CAP ann LIST :server-time`);
  });
});

Deno.test("irc: USER before NICK, 431, 432 with the rules, 433 across transports", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("Bob");
    const c = await setup.raw();
    await c.send("USER x 0 * :Someone");
    await c.send("NICK");
    await c.next(`:${S} 431 * :No nickname given`);
    // IRC's nick characters are allowed after the first only.
    await c.send("NICK [foo]");
    await c.next(
      `:${S} 432 * [foo] :Invalid name: it must start with a letter or a digit.`,
    );
    await c.send("NICK " + "a".repeat(33));
    await c.next(new RegExp(`^:${S} 432 \\* a{33} :Invalid name`));
    // Taken without regard to case, by a TCP member.
    await c.send("NICK bob");
    await c.next(`:${S} 433 * bob :Nickname is already in use`);
    await c.send("NICK dana");
    await c.next(
      `:${S} 001 dana :Welcome to the DenoChat IRC network, dana!irc@chat`,
    );
    // Held from registration: the TCP side cannot take it either.
    const eve = setup.track(await TestClient.connect(setup.server.port));
    await eve.next(NAME_PROMPT);
    await eve.send("DANA");
    await eve.next(
      'Name "DANA" is already taken. Please enter another name:',
    );
    await eve.send("[x]");
    await eve.next(
      "Invalid name: it must start with a letter or a digit. Please enter your name:",
    );
    await eve.close();
    // In the chat from registration, but in no room: not in the main
    // room's /who, and nobody was told.
    await bob.send("/who");
    await bob.next("Online (1): Bob");
    assert.ok(!bob.received.lines.some((line) => line.includes("dana")));
    assert.deepEqual(setup.server.server.room.names(), ["Bob", "dana"]);
  });
});

Deno.test("irc: 451 before registration, also for irssi's `JOIN :` probe", async () => {
  await withIrc({}, async (setup) => {
    const c = await setup.raw();
    await c.send("JOIN :");
    await c.next(`:${S} 451 * :You have not registered`);
    await c.send("PRIVMSG #chat :hi");
    await c.next(`:${S} 451 * :You have not registered`);
    await c.send("PING 123");
    await c.next(`:${S} PONG ${S} :123`);
  });
});

Deno.test("irc: 461 for missing parameters, 462 after registration, before either", async () => {
  await withIrc({}, async (setup) => {
    const c = await setup.raw();
    for (const line of ["CAP", "CAP :", "PASS", "USER a", "USER a b c"]) {
      await c.send(line);
      const command = line.split(" ")[0];
      await c.next(`:${S} 461 * ${command} :Not enough parameters`);
    }
    // An empty password and an empty real name are parameters all the same.
    await c.send("PASS :");
    await c.send("NICK ann");
    await c.send("USER ann 0 * :");
    await c.next(/^:\S+ 422 ann /);
    for (
      const line of [
        "JOIN",
        "JOIN :",
        "PART",
        "PART :",
        "TOPIC",
        "MODE :",
        "ISON",
        "ISON :  ",
        "USERHOST :",
      ]
    ) {
      await c.send(line);
      const command = line.split(" ")[0];
      await c.next(`:${S} 461 ann ${command} :Not enough parameters`);
    }
    // Registered already: 462 comes first, parameters or not.
    await c.send("PASS");
    await c.next(`:${S} 462 ann :You may not reregister`);
    await c.send("USER x");
    await c.next(`:${S} 462 ann :You may not reregister`);
    await c.send("PING :end");
    const tail = await c.until(`:${S} PONG ${S} :end`);
    assert.equal(tail.length, 1, tail.join(" | "));
  });
});

Deno.test("irc: JOIN echo, 353 with every transport, 366; joins announced", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const zed = await setup.irc("zed");
    const c = await setup.irc("ann", { join: false });
    await c.send("JOIN #chat");
    const lines = await c.until(/ 366 /);
    assert.deepEqual(lines, [
      ":ann!irc@chat JOIN #chat",
      `:${S} 353 ann = #chat :ann bob zed`,
      `:${S} 366 ann #chat :End of /NAMES list`,
    ]);
    // The main room's join reads as joining the chat on the line protocol.
    await bob.next(joined("ann"));
    await zed.next(":ann!irc@chat JOIN #chat");
    await bob.send("/who");
    await bob.next("Online (3): ann, bob, zed");
    // Joining again, in any case: nothing.
    await c.send("JOIN #CHAT");
    await c.send("PING :after");
    const after = await c.until(`:${S} PONG ${S} :after`);
    assert.deepEqual(after, [`:${S} PONG ${S} :after`]);
  });
});

Deno.test("irc: JOIN of several channels at once, keys ignored, 403 and 479", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    const c = await setup.irc("ann", { join: false });
    await c.send("JOIN #Games,#new,inv@lid,#bad.name,#games key1,key2");
    assert.deepEqual(await c.until(/ 479 /), [
      ":ann!irc@chat JOIN #games",
      `:${S} 353 ann = #games :ann @bob`,
      `:${S} 366 ann #games :End of /NAMES list`,
      ":ann!irc@chat JOIN #new",
      // Its maker is its operator.
      `:${S} 353 ann = #new :@ann`,
      `:${S} 366 ann #new :End of /NAMES list`,
      `:${S} 403 ann inv@lid :No such channel`,
      `:${S} 479 ann #bad.name :Invalid room name: use '#' and 1-32 letters, digits, '_' or '-'.`,
    ]);
    await bob.next("*** ann has joined #games.");
    await c.send(`JOIN #${"x".repeat(33)}`);
    await c.next(new RegExp(`^:${S} 479 ann #x{33} :Invalid room name`));
    await c.send("JOIN :#chat");
    await c.next(/ 366 ann #chat /);
    await bob.send("/rooms");
    await bob.next("Rooms (3):");
    await bob.next("#chat (2)");
    await bob.next("#games (2)");
    await bob.next("#new (1)");
  });
});

Deno.test("irc: 405 at the limit of channels per member, and of rooms", async () => {
  await withIrc({
    server: { limits: { maxJoins: 2, maxRooms: 3 } },
  }, async (setup) => {
    const c = await setup.irc("ann", { join: false });
    assert.ok(c.lines.some((line) => line.includes(" CHANLIMIT=#:2 ")));
    await c.send("JOIN #a,#b,#c");
    await c.next(/ 366 ann #b /);
    await c.next(`:${S} 405 ann #c :You are in 2 rooms, the limit.`);
    const zed = await setup.irc("zed", { join: false });
    // #chat, #a and #b are three rooms: no fourth.
    await zed.send("JOIN #d");
    await zed.next(
      `:${S} 405 zed #d :The server has reached its limit of 3 rooms.`,
    );
    await zed.send("JOIN #a");
    await zed.next(/ 366 zed #a /);
  });
});

Deno.test("irc: the topic: 332 and 333 on JOIN, none without; TOPIC asks and sets; 482 while locked, 442, 403; MOTD", async () => {
  await withIrc({
    server: {
      irc: {
        port: 0,
        serverName: S,
        topic: "Lab chat",
        motd: ["Be kind.", "Have fun."],
      },
    },
  }, async (setup) => {
    const bob = await setup.tcp("bob");
    const c = await setup.raw();
    await c.send("NICK ann");
    await c.send("USER ann 0 * :Ann");
    const motd = await c.until(/ 376 /);
    assert.deepEqual(motd.slice(-4), [
      `:${S} 375 ann :- ${S} Message of the day -`,
      `:${S} 372 ann :- Be kind.`,
      `:${S} 372 ann :- Have fun.`,
      `:${S} 376 ann :End of /MOTD command`,
    ]);
    // The main room's topic from the flag: no one set it, no 333.
    await c.send("JOIN #chat");
    assert.deepEqual((await c.until(/ 366 /)).slice(0, 3), [
      ":ann!irc@chat JOIN #chat",
      `:${S} 332 ann #chat :Lab chat`,
      `:${S} 353 ann = #chat :ann bob`,
    ]);
    await c.send("TOPIC #chat");
    await c.next(`:${S} 332 ann #chat :Lab chat`);
    // Anyone in a room sets its topic while it is not locked; all hear it.
    await c.send("TOPIC #chat :\x02new\x02 topic");
    await c.next(":ann!irc@chat TOPIC #chat :new topic");
    await bob.next("*** ann set the topic of #chat: new topic");
    await c.send("TOPIC #CHAT");
    await c.next(`:${S} 332 ann #chat :new topic`);
    await c.next(new RegExp(`^:${S} 333 ann #chat ann \\d+$`));
    // A new room has none: nothing on JOIN, 331 when asked.
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    await c.send("JOIN #games");
    assert.deepEqual(await c.until(/ 366 /), [
      ":ann!irc@chat JOIN #games",
      `:${S} 353 ann = #games :ann @bob`,
      `:${S} 366 ann #games :End of /NAMES list`,
    ]);
    await c.send("TOPIC #games");
    await c.next(`:${S} 331 ann #games :No topic is set`);
    // Locked by its operator: 482 for the others.
    await bob.send("/topiclock on");
    await c.next(":bob!tcp@chat MODE #games +t");
    await c.send("TOPIC #games :mine");
    await c.next(`:${S} 482 ann #games :You're not channel operator`);
    await bob.send("/topic Board games tonight");
    await c.next(":bob!tcp@chat TOPIC #games :Board games tonight");
    const zed = await setup.irc("zed", { join: false });
    await zed.send("JOIN #games");
    const joinLines = await zed.until(/ 366 /);
    assert.equal(joinLines[1], `:${S} 332 zed #games :Board games tonight`);
    assert.match(joinLines[2], new RegExp(`^:${S} 333 zed #games bob \\d+$`));
    // Cleared with an empty text.
    await bob.send("/topiclock off");
    await c.send("TOPIC #games :");
    await zed.next(":ann!irc@chat TOPIC #games :");
    await bob.next("*** ann cleared the topic of #games.");
    // Not in it: 442; no such channel: 403, asked or set.
    await zed.send("PART #games");
    await zed.send("TOPIC #games :from outside");
    await zed.next(`:${S} 442 zed #games :You're not on that channel`);
    await zed.send("TOPIC #games");
    await zed.next(`:${S} 331 zed #games :No topic is set`);
    await zed.send("TOPIC #nope");
    await zed.next(`:${S} 403 zed #nope :No such channel`);
    await zed.send("TOPIC #nope :x");
    await zed.next(`:${S} 403 zed #nope :No such channel`);
  });
});

Deno.test("irc: PART leaves one channel and keeps the nick in the chat and the others; JOIN 0 leaves them all", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const zed = await setup.irc("zed");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    await c.send("JOIN #games");
    await c.next(/ 366 ann #games /);
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    await c.next(":zed!irc@chat JOIN #games");
    await c.send("PART #chat :lunch");
    await c.next(":ann!irc@chat PART #chat :lunch");
    await zed.next(":ann!irc@chat PART #chat :lunch");
    await bob.next("*** ann has left #chat (lunch).");
    await c.send("PART #chat");
    await c.next(`:${S} 442 ann #chat :You're not on that channel`);
    await c.send("PART #nope,chat");
    await c.next(`:${S} 403 ann #nope :No such channel`);
    await c.next(`:${S} 403 ann chat :No such channel`);
    await c.send("PRIVMSG #chat :anyone?");
    await c.next(`:${S} 404 ann #chat :Cannot send to channel (join it first)`);
    // Still in #games, still holds the nick and gets private messages.
    await zed.send("PRIVMSG #games :still with me?");
    await c.next(":zed!irc@chat PRIVMSG #games :still with me?");
    await bob.send("@ann still there?");
    await c.next(":bob!tcp@chat PRIVMSG ann :still there?");
    await c.send("PRIVMSG bob :yes");
    await bob.next("Private message from ann: yes");
    assert.ok(setup.server.server.room.names().includes("ann"));
    await c.send("JOIN #chat");
    await c.next(/ 366 ann #chat /);
    await bob.next(joined("ann"));
    // JOIN 0: a PART of each, without a message.
    await c.send("JOIN 0");
    await c.next(":ann!irc@chat PART #games");
    await c.next(":ann!irc@chat PART #chat");
    await bob.next("*** ann has left #chat.");
    await zed.next(":ann!irc@chat PART #games");
    assert.ok(setup.server.server.room.names().includes("ann"));
    const events = await waitForLog(setup, "ann has left #chat");
    assert.ok(events.includes("ann has left #chat (lunch)"), events.join("|"));
    assert.ok(!events.includes("ann has left the chat"));
  });
});

async function waitForLog(setup: Setup, event: string): Promise<string[]> {
  let events: string[] = [];
  const deadline = performance.now() + 5_000;
  while (
    !(events = await readLogEvents(setup.server.logPath)).includes(event)
  ) {
    if (performance.now() > deadline) {
      throw new Error(
        `Timed out waiting for "${event}" in ${events.join(" | ")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return events;
}

Deno.test("irc: channel and private messages both ways with TCP, 401, 411, 412", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    await c.send("PRIVMSG #chat :hello bob");
    await bob.next("ann: hello bob");
    await c.send("NOTICE #CHAT :a notice reads the same");
    await bob.next("ann: a notice reads the same");
    await bob.send("hi ann");
    await c.next(":bob!tcp@chat PRIVMSG #chat :hi ann");
    await bob.send("@ann psst");
    await c.next(":bob!tcp@chat PRIVMSG ann :psst");
    await c.send("PRIVMSG BOB :psst back");
    await bob.next("Private message from ann: psst back");
    await c.send("PRIVMSG nobody :hello?");
    await c.next(`:${S} 401 ann nobody :No such nick/channel`);
    await c.send("PRIVMSG");
    await c.next(`:${S} 411 ann :No recipient given (PRIVMSG)`);
    await c.send("PRIVMSG #chat");
    await c.next(`:${S} 412 ann :No text to send`);
    // Formatting and control codes never reach the others.
    await c.send("PRIVMSG #chat :\x02bold\x02 \x0304,01red\x03 \x1b[31mplain");
    await bob.next("ann: bold red [31mplain");
    // The sender gets no echo of its own lines.
    await c.send("PING :end");
    const tail = await c.until(`:${S} PONG ${S} :end`);
    assert.ok(!tail.some((line) => line.includes("PRIVMSG #chat :hello bob")));
    const log = await waitForLog(setup, "ann -> bob: psst back");
    assert.ok(log.includes("ann: hello bob"));
  });
});

Deno.test("irc: CTCP ACTION is /me both ways; other CTCPs stay on IRC, VERSION answered", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const zed = await setup.irc("zed");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    await c.send("PRIVMSG #chat :\x01ACTION waves\x01");
    await bob.next("* ann waves");
    await zed.next(":ann!irc@chat PRIVMSG #chat :\x01ACTION waves\x01");
    await bob.send("/me nods");
    await c.next(":bob!tcp@chat PRIVMSG #chat :\x01ACTION nods\x01");
    // A private action reads as one to the TCP member.
    await c.send("PRIVMSG bob :\x01ACTION pokes you\x01");
    await bob.next("Private message from ann: * ann pokes you");
    // CTCP PING to the channel: the IRC user sees it, the TCP one never.
    await c.send("PRIVMSG #chat :\x01PING 12345\x01");
    await zed.next(":ann!irc@chat PRIVMSG #chat :\x01PING 12345\x01");
    await c.send("PRIVMSG #chat :marker");
    assert.equal(await bob.next(/^ann:/), "ann: marker");
    // CTCP to a TCP member: the server answers VERSION and PING for it.
    await c.send("PRIVMSG bob :\x01VERSION\x01");
    await c.next(
      // deno-lint-ignore no-control-regex
      /^:bob!tcp@chat NOTICE ann :\x01VERSION deno-chat-\S+ \(tcp member, answered by the server\)\x01$/,
    );
    await c.send("PRIVMSG bob :\x01PING 42\x01");
    await c.next(":bob!tcp@chat NOTICE ann :\x01PING 42\x01");
    await c.send("PRIVMSG bob :\x01FINGER\x01");
    await c.next(
      `:${S} NOTICE ann :bob is not on IRC: CTCP FINGER was not delivered.`,
    );
    // Between IRC users a CTCP passes as it is.
    await c.send("PRIVMSG zed :\x01VERSION\x01");
    await zed.next(":ann!irc@chat PRIVMSG zed :\x01VERSION\x01");
    await zed.send("NOTICE ann :\x01VERSION irssi 1.4\x01");
    await c.next(":zed!irc@chat NOTICE ann :\x01VERSION irssi 1.4\x01");
    await bob.send("/who");
    await bob.next("Online (3): ann, bob, zed");
    assert.ok(!bob.received.lines.some((line) => line.includes("PING")));
    assert.ok(!bob.received.lines.some((line) => line.includes("VERSION")));
  });
});

Deno.test("irc: a long message from TCP is split into PRIVMSGs that each fit", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    // Multi-byte characters without spaces: every cut is at a boundary.
    const text = "é日本🎉x".repeat(300);
    await bob.send(text);
    let got = "";
    while (got.length < text.length) {
      const line = await c.next(/^:bob!tcp@chat PRIVMSG #chat :/);
      assert.ok(encoder.encode(line).length + 2 <= 512, `${line.length}`);
      got += line.slice(":bob!tcp@chat PRIVMSG #chat :".length);
    }
    assert.equal(got, text);
    // With spaces, the cuts are at spaces and drop them.
    const words = Array.from({ length: 300 }, (_, i) => `word${i}`).join(" ");
    await bob.send(words);
    const pieces: string[] = [];
    while (pieces.join(" ").length < words.length) {
      const line = await c.next(/^:bob!tcp@chat PRIVMSG #chat :/);
      pieces.push(line.slice(":bob!tcp@chat PRIVMSG #chat :".length));
    }
    assert.ok(pieces.length >= 4);
    assert.equal(pieces.join(" "), words);
    // An action too: each piece is a whole CTCP ACTION.
    await bob.send("/me " + "z".repeat(1500));
    const first = await c.next(
      // deno-lint-ignore no-control-regex
      /^:bob!tcp@chat PRIVMSG #chat :\x01ACTION z+\x01$/,
    );
    assert.ok(encoder.encode(first).length <= 510);
    assert.deepEqual(c.violations, []);
  });
});

Deno.test("irc: a line over 512 bytes gets 417 and is dropped; the connection goes on", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    // 510 bytes of line and CRLF: the longest allowed.
    const head = "PRIVMSG #chat :";
    await c.send(head + "a".repeat(510 - head.length));
    await bob.next(`ann: ${"a".repeat(510 - head.length)}`);
    await c.send(head + "b".repeat(511 - head.length));
    await c.next(`:${S} 417 ann :Input line was too long`);
    await c.send(head + "after");
    await bob.next("ann: after");
    assert.ok(!bob.received.lines.some((line) => line.includes("bbbb")));
  });
});

Deno.test("irc: byte-by-byte writes and CRLF/LF mixes", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const c = await setup.raw();
    const bytes = encoder.encode(
      "CAP LS 302\nNICK ann\r\nUSER ann 0 * :Ann\nCAP END\r\nJOIN #chat\nPRIVMSG #chat :h\u00e9llo \u65e5\u672c\r\n",
    );
    for (const byte of bytes) await c.sendRaw(Uint8Array.of(byte));
    await c.next(/ 366 ann /);
    await bob.next("ann: h\u00e9llo \u65e5\u672c");
    // Invalid UTF-8 becomes U+FFFD, never a broken line elsewhere.
    await c.sendRaw(
      Uint8Array.of(
        ...encoder.encode("PRIVMSG #chat :x"),
        0xff,
        0xfe,
        0x0d,
        0x0a,
      ),
    );
    await bob.next("ann: x\ufffd\ufffd");
  });
});

Deno.test("irc: NICK changes are /nick both ways; 433 and 432 after registration", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const zed = await setup.irc("zed");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    await c.send("NICK anna");
    await c.next(":ann!irc@chat NICK anna");
    await bob.next("*** ann is now known as anna.");
    await zed.next(":ann!irc@chat NICK anna");
    await c.send("NICK BOB");
    await c.next(`:${S} 433 anna BOB :Nickname is already in use`);
    await c.send("NICK a:b");
    await c.next(`:${S} 432 anna a:b :${RULES}`);
    await bob.send("/nick bobby");
    await c.next(":bob!tcp@chat NICK bobby");
    await c.send("PRIVMSG #chat :hi bobby");
    await bob.next("anna: hi bobby");
  });
});

Deno.test("irc: QUIT gets ERROR and a close; its message reaches those sharing a channel, once, and the log", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const zed = await setup.irc("zed");
    const loner = await setup.irc("loner", { join: false });
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    // Two channels shared with zed: one QUIT all the same.
    await c.send("JOIN #games");
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    await c.send("QUIT :\x02bye\x02 all");
    await c.next("ERROR :Closing link: ann (Quit: bye all)");
    await c.closed();
    await bob.next("*** ann has left the chat (bye all).");
    await zed.next(":ann!irc@chat QUIT :bye all");
    await waitForLog(setup, "ann has left the chat (bye all)");
    // A QUIT without a message reads as ever.
    const una = await setup.irc("una");
    await bob.next(joined("una"));
    await una.send("QUIT");
    await bob.next(left("una"));
    await zed.next(":una!irc@chat QUIT :Left the chat");
    // A TCP member leaving is a QUIT on IRC too.
    await bob.send("exit");
    await zed.next(":bob!tcp@chat QUIT :Left the chat");
    // Nobody shared a channel with the one in none: it heard no QUIT.
    await loner.send("PING :end");
    const lines = await loner.until(`:${S} PONG ${S} :end`);
    assert.deepEqual(lines, [`:${S} PONG ${S} :end`]);
    const quits = zed.lines.filter((line) => line.includes(" QUIT "));
    assert.equal(quits.length, 3, quits.join(" | "));
  });
});

Deno.test("irc: NAMES with `@` for operators, of several channels, with none, and of no channel", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    const c = await setup.irc("ann");
    await c.send("JOIN #games,#mine");
    await c.next(/ 366 ann #mine /);
    await c.send("NAMES #GAMES,#nope,invalid,#chat");
    assert.deepEqual(await c.until(/ 366 ann #chat /), [
      `:${S} 353 ann = #games :ann @bob`,
      `:${S} 366 ann #GAMES :End of /NAMES list`,
      `:${S} 366 ann #nope :End of /NAMES list`,
      `:${S} 366 ann invalid :End of /NAMES list`,
      `:${S} 353 ann = #chat :ann bob`,
      `:${S} 366 ann #chat :End of /NAMES list`,
    ]);
    // Alone: the channels one is in, then one 366.
    await c.send("NAMES");
    assert.deepEqual(await c.until(/ 366 /), [
      `:${S} 353 ann = #chat :ann bob`,
      `:${S} 353 ann = #games :ann @bob`,
      `:${S} 353 ann = #mine :@ann`,
      `:${S} 366 ann * :End of /NAMES list`,
    ]);
    // Many names: as many lines as they need, each within the limit.
    const many: IrcLineClient[] = [];
    for (let i = 0; i < 40; i++) {
      many.push(
        await setup.irc(`member_with_a_long_name_${i}`, { join: false }),
      );
      await many[i].send("JOIN #mine");
    }
    await many[39].next(/ 366 /);
    await c.send("NAMES #mine");
    const lines = (await c.until(/ 366 ann #mine /)).filter((line) =>
      / 353 /.test(line)
    );
    assert.ok(lines.length >= 3, lines.join("\n"));
    const names = lines.flatMap((line) => line.split(" :")[1].split(" "));
    assert.equal(names.length, 41);
    assert.ok(names.includes("@ann"));
  });
});

Deno.test("irc: LIST of the channels with members, their sizes and topics; of named ones", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    await bob.send("/join #games");
    await bob.send("/topic Board games tonight");
    await bob.next(/set the topic/);
    const c = await setup.irc("ann", { join: false });
    await c.send("LIST");
    assert.deepEqual(await c.until(/ 323 /), [
      `:${S} 321 ann Channel :Users  Name`,
      `:${S} 322 ann #chat 1 :`,
      `:${S} 322 ann #games 1 :Board games tonight`,
      `:${S} 323 ann :End of /LIST`,
    ]);
    await c.send("LIST #GAMES,#nope");
    assert.deepEqual(await c.until(/ 323 /), [
      `:${S} 321 ann Channel :Users  Name`,
      `:${S} 322 ann #games 1 :Board games tonight`,
      `:${S} 323 ann :End of /LIST`,
    ]);
    // The main room always exists, but an empty channel is not listed.
    await bob.send("/part #chat");
    await bob.next(/^\*\*\* You left #chat/);
    await c.send("LIST");
    assert.deepEqual(await c.until(/ 323 /), [
      `:${S} 321 ann Channel :Users  Name`,
      `:${S} 322 ann #games 1 :Board games tonight`,
      `:${S} 323 ann :End of /LIST`,
    ]);
  });
});

Deno.test("irc: KICK by an operator out of the channel, not the chat; 482, 441, 442, 403, 401", async () => {
  await withIrc({}, async (setup) => {
    const c = await setup.irc("ann", { join: false });
    await c.send("JOIN #games");
    await c.next(/ 366 ann #games /);
    const zed = await setup.irc("zed", { join: false });
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    const bob = await setup.tcp("bob");
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    // Not an operator: 482; not in it: 442; no such channel: 403.
    await zed.send("KICK #games ann :no");
    await zed.next(`:${S} 482 zed #games :You're not channel operator`);
    const out = await setup.irc("out", { join: false });
    await out.send("KICK #games zed");
    await out.next(`:${S} 442 out #games :You're not on that channel`);
    await out.send("KICK #nope zed");
    await out.next(`:${S} 403 out #nope :No such channel`);
    await c.send("KICK #games out");
    await c.next(`:${S} 441 ann out #games :They aren't on that channel`);
    await c.send("KICK #games ghost");
    await c.next(`:${S} 401 ann ghost :No such nick/channel`);
    // With a reason: everyone in the channel sees it, the kicked one too.
    await c.send("KICK #games zed :\x02too\x02 loud");
    await c.next(":ann!irc@chat KICK #games zed :too loud");
    await zed.next(":ann!irc@chat KICK #games zed :too loud");
    await bob.next("*** zed was kicked from #games by ann (too loud).");
    // Out of the channel, still in the chat.
    await zed.send("PRIVMSG #games :back?");
    await zed.next(
      `:${S} 404 zed #games :Cannot send to channel (join it first)`,
    );
    await bob.send("@zed still here?");
    await zed.next(":bob!tcp@chat PRIVMSG zed :still here?");
    // Without a reason: the kicker's nick; a TCP member is told in words.
    await c.send("KICK #games bob");
    await c.next(":ann!irc@chat KICK #games bob :ann");
    await bob.next("*** You were kicked from #games by ann.");
    // A TCP operator kicks an IRC user: a KICK from its own mask.
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    await c.send("MODE #games +o zed");
    await zed.next(":ann!irc@chat MODE #games +o zed");
    await zed.send("KICK #games ann");
    await c.next(":zed!irc@chat KICK #games ann :zed");
    await c.send("NAMES #games");
    await c.next(`:${S} 353 ann = #games :@zed`);
    await waitForLog(
      setup,
      "[#games] zed was kicked from #games by ann (too loud)",
    );
  });
});

Deno.test("irc: MODE +o/-o and +t/-t by operators, seen by the channel; 324 follows; 482, 442, 441, 472", async () => {
  await withIrc({}, async (setup) => {
    const c = await setup.irc("ann", { join: false });
    await c.send("JOIN #games");
    await c.next(/ 366 ann #games /);
    const zed = await setup.irc("zed", { join: false });
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    const bob = await setup.tcp("bob");
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    await c.send("MODE #games");
    await c.next(`:${S} 324 ann #games +n`);
    await c.next(new RegExp(`^:${S} 329 ann #games \\d+$`));
    await zed.send("MODE #games +t");
    await zed.next(`:${S} 482 zed #games :You're not channel operator`);
    const out = await setup.irc("out", { join: false });
    await out.send("MODE #games -t");
    await out.next(`:${S} 442 out #games :You're not on that channel`);
    // Everyone in the channel hears each change, the operator too.
    await c.send("MODE #games +to zed");
    await c.next(":ann!irc@chat MODE #games +t");
    await zed.next(":ann!irc@chat MODE #games +t");
    await bob.next("*** ann locked the topic of #games.");
    await c.next(":ann!irc@chat MODE #games +o zed");
    await zed.next(":ann!irc@chat MODE #games +o zed");
    await bob.next("*** ann made zed an operator of #games.");
    await c.send("MODE #GAMES");
    await c.next(`:${S} 324 ann #games +nt`);
    await c.send("NAMES #games");
    await c.next(`:${S} 353 ann = #games :@ann bob @zed`);
    // An operator of the channel now: zed deops ann, who can no more.
    await zed.send("MODE #games -o ann");
    await c.next(":zed!irc@chat MODE #games -o ann");
    await c.send("MODE #games -t");
    await c.next(`:${S} 482 ann #games :You're not channel operator`);
    await zed.send("MODE #games -t+o bob");
    await c.next(":zed!irc@chat MODE #games -t");
    await c.next(":zed!irc@chat MODE #games +o bob");
    // A TCP operator's change shows with its own mask.
    await bob.send("/op ann");
    await c.next(":bob!tcp@chat MODE #games +o ann");
    await zed.send("MODE #games +o out");
    await zed.next(`:${S} 441 zed out #games :They aren't on that channel`);
    // Modes a room does not have: 472, each once; +n always holds.
    await zed.send("MODE #games +kvn key bob");
    await zed.next(`:${S} 472 zed k :is unknown mode char to me`);
    await zed.next(`:${S} 472 zed v :is unknown mode char to me`);
    await zed.send("PING :end");
    assert.deepEqual(await zed.until(/ PONG /), [`:${S} PONG ${S} :end`]);
    await waitForLog(setup, "[#games] zed made bob an operator of #games");
  });
});

Deno.test("irc: WHO #channel with the USER name, H/G and @; WHO masks skip the invisible but in a shared channel; WHOIS 319", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    const c = await setup.raw();
    await c.send("NICK ann");
    await c.send("USER ~Ann.B@x 0 * :Ann B");
    await c.next(/ 422 ann /);
    await c.send("JOIN #mine,#games");
    await c.next(/ 366 ann #games /);
    await c.send("AWAY :out");
    await c.next(/ 306 /);
    const zed = await setup.irc("zed", { join: false });
    await zed.send("WHO #GAMES");
    assert.deepEqual(await zed.until(/ 315 /), [
      `:${S} 352 zed #games ~~Ann.Bx chat ${S} ann G :0 Ann B`,
      `:${S} 352 zed #games tcp chat ${S} bob H@ :0 bob`,
      `:${S} 315 zed #GAMES :End of /WHO list`,
    ]);
    await zed.send("WHO #nope");
    await zed.next(`:${S} 315 zed #nope :End of /WHO list`);
    await zed.send("WHO ann");
    assert.deepEqual(await zed.until(/ 315 /), [
      `:${S} 352 zed #mine ~~Ann.Bx chat ${S} ann G@ :0 Ann B`,
      `:${S} 315 zed ann :End of /WHO list`,
    ]);
    await zed.send("WHOIS ann");
    assert.deepEqual((await zed.until(/ 318 /)).slice(0, 2), [
      `:${S} 311 zed ann ~~Ann.Bx chat * :Ann B`,
      `:${S} 319 zed ann :@#mine #games`,
    ]);
    // +i: a mask finds ann only for one who shares a channel with her.
    await c.send("MODE ann +i");
    await c.next(":ann MODE ann +i");
    await zed.send("WHO a*");
    assert.deepEqual(await zed.until(/ 315 /), [
      `:${S} 315 zed a* :End of /WHO list`,
    ]);
    await zed.send("WHO ann");
    await zed.next(/^:\S+ 352 zed #mine /);
    await zed.next(/ 315 /);
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    await zed.send("WHO a*");
    assert.deepEqual(await zed.until(/ 315 /), [
      `:${S} 352 zed #games ~~Ann.Bx chat ${S} ann G :0 Ann B`,
      `:${S} 315 zed a* :End of /WHO list`,
    ]);
    // A rename keeps +i.
    await c.send("NICK anna");
    await c.next(/ NICK anna$/);
    await zed.send("PART #games");
    await zed.send("WHO an*");
    await zed.next(":zed!irc@chat PART #games");
    assert.deepEqual(await zed.until(/ 315 /), [
      `:${S} 315 zed an* :End of /WHO list`,
    ]);
    // Gone, its +i goes with it: the next anna is found.
    await c.send("QUIT");
    await c.closed();
    const next = await setup.irc("anna", { join: false });
    await zed.send("WHO an*");
    assert.deepEqual(await zed.until(/ 315 /), [
      `:${S} 352 zed * ~anna chat ${S} anna H :0 anna Test`,
      `:${S} 315 zed an* :End of /WHO list`,
    ]);
    await next.close();
  });
});

Deno.test("irc: PRIVMSG and NOTICE to channels one is in (404, 403); NOTICE never answered with an error", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const zed = await setup.irc("zed");
    const c = await setup.irc("ann");
    await c.send("JOIN #games");
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    await c.send("PRIVMSG #games :in games");
    await zed.next(":ann!irc@chat PRIVMSG #games :in games");
    await bob.next("[#games] ann: in games").then(
      () => assert.fail("bob is not in #games"),
      () => {},
    );
    // A NOTICE to a channel: a NOTICE on IRC, a line on the line protocol.
    await c.send("NOTICE #chat :a notice");
    await zed.next(":ann!irc@chat NOTICE #chat :a notice");
    await bob.next("ann: a notice");
    await bob.send("/join #games");
    await c.send("NOTICE #games :\x01ACTION waves\x01");
    await bob.next("* ann waves");
    const out = await setup.irc("out", { join: false });
    await out.send("PRIVMSG #games :let me in");
    await out.next(
      `:${S} 404 out #games :Cannot send to channel (join it first)`,
    );
    await out.send("PRIVMSG #nope :hello?");
    await out.next(`:${S} 403 out #nope :No such channel`);
    // No error for a NOTICE, whatever is wrong with it.
    for (
      const line of [
        "NOTICE #games :let me in",
        "NOTICE #nope :hello?",
        "NOTICE nobody :hello?",
        "NOTICE #games :",
        "NOTICE",
        "NOTICE zed",
        "NOTICE zed :\x02\x02",
      ]
    ) {
      await out.send(line);
    }
    await out.send("PING :end");
    assert.deepEqual(await out.until(/ PONG /), [`:${S} PONG ${S} :end`]);
    await waitForLog(setup, "[#games] ann: in games");
  });
});

Deno.test("irc: a CTCP to a channel reaches that channel's IRC members only", async () => {
  await withIrc({}, async (setup) => {
    const zed = await setup.irc("zed");
    const elsewhere = await setup.irc("una");
    const c = await setup.irc("ann");
    await c.send("JOIN #games");
    await zed.send("JOIN #games");
    await zed.next(/ 366 zed #games /);
    await c.send("PRIVMSG #games :\x01PING 1\x01");
    await zed.next(":ann!irc@chat PRIVMSG #games :\x01PING 1\x01");
    await zed.send("NOTICE #games :\x01PING 1\x01");
    await c.next(":zed!irc@chat NOTICE #games :\x01PING 1\x01");
    // Not in the channel: neither 404 nor a CTCP delivered.
    await elsewhere.send("PRIVMSG #games :\x01VERSION\x01");
    await elsewhere.next(
      `:${S} 404 una #games :Cannot send to channel (join it first)`,
    );
    await c.send("PRIVMSG #chat :\x01PING 2\x01");
    await elsewhere.next(":ann!irc@chat PRIVMSG #chat :\x01PING 2\x01");
    assert.ok(!elsewhere.lines.some((line) => line.includes("PING 1")));
  });
});

Deno.test("irc: a long topic, PART, KICK or QUIT text from the line protocol reaches IRC cut to 512 bytes", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    const c = await setup.irc("ann", { join: false });
    await c.send("JOIN #games");
    await c.next(/ 366 ann #games /);
    const long = "x".repeat(2000);
    await bob.send(`/topic ${long}`);
    await c.next(/^:bob!tcp@chat TOPIC #games :x+$/);
    await c.send("TOPIC #games");
    await c.next(new RegExp(`^:${S} 332 ann #games :x+$`));
    await bob.send(`/kick ann ${long}`);
    await c.next(/^:bob!tcp@chat KICK #games ann :x+$/);
    await c.send("JOIN #games");
    await c.next(/ 366 ann #games /);
    await bob.send(`/part #games ${long}`);
    await c.next(/^:bob!tcp@chat PART #games :x+$/);
    await bob.send("/join #games");
    await c.next(":bob!tcp@chat JOIN #games");
    await bob.send(`/quit ${long}`);
    await c.next(/^:bob!tcp@chat QUIT :x+$/);
    // withIrc checks that every line fitted.
  });
});

Deno.test("irc: MODE queries: 324, 368, 482, 221, +i, 501, 502", async () => {
  await withIrc({}, async (setup) => {
    await setup.tcp("bob");
    const c = await setup.irc("ann");
    await c.send("MODE #chat");
    await c.next(`:${S} 324 ann #chat +n`);
    await c.next(new RegExp(`^:${S} 329 ann #chat \\d+$`));
    await c.send("MODE #chat b");
    await c.next(`:${S} 368 ann #chat :End of channel ban list`);
    await c.send("MODE #chat +b");
    await c.next(`:${S} 368 ann #chat :End of channel ban list`);
    await c.send("MODE #chat +o bob");
    await c.next(new RegExp(`^:${S} 482 ann #chat :`));
    await c.send("MODE ann");
    await c.next(`:${S} 221 ann +`);
    await c.send("MODE ann +i");
    await c.next(":ann MODE ann +i");
    await c.send("MODE ann");
    await c.next(`:${S} 221 ann +i`);
    await c.send("MODE ann +x");
    await c.next(`:${S} 501 ann :Unknown MODE flag`);
    await c.send("MODE bob +i");
    await c.next(`:${S} 502 ann :Cannot change mode for other users`);
    await c.send("MODE #other");
    await c.next(`:${S} 403 ann #other :No such channel`);
  });
});

Deno.test("irc: WHO, WHOIS (both forms), NAMES, LIST, ISON, USERHOST, 421", async () => {
  await withIrc({}, async (setup) => {
    await setup.tcp("bob");
    const c = await setup.irc("ann");
    await c.send("WHO #chat");
    assert.deepEqual(await c.until(/ 315 /), [
      `:${S} 352 ann #chat ~ann chat ${S} ann H :0 ann Test`,
      `:${S} 352 ann #chat tcp chat ${S} bob H :0 bob`,
      `:${S} 315 ann #chat :End of /WHO list`,
    ]);
    await c.send("WHO bob");
    assert.deepEqual(await c.until(/ 315 /), [
      `:${S} 352 ann #chat tcp chat ${S} bob H :0 bob`,
      `:${S} 315 ann bob :End of /WHO list`,
    ]);
    await c.send("WHO b?b");
    assert.deepEqual(await c.until(/ 315 /), [
      `:${S} 352 ann #chat tcp chat ${S} bob H :0 bob`,
      `:${S} 315 ann b?b :End of /WHO list`,
    ]);
    // Many stars match in linear time (no regular expression blows up).
    await c.send(`WHO ${"*a".repeat(200)}*b`);
    assert.equal((await c.until(/ 315 /)).length, 1);
    await c.send("WHO *O*");
    assert.deepEqual(await c.until(/ 315 /), [
      `:${S} 352 ann #chat tcp chat ${S} bob H :0 bob`,
      `:${S} 315 ann *O* :End of /WHO list`,
    ]);
    await c.send("WHOIS bob");
    assert.deepEqual(await c.until(/ 318 /), [
      `:${S} 311 ann bob tcp chat * :bob`,
      `:${S} 319 ann bob :#chat`,
      `:${S} 312 ann bob ${S} :Deno chat`,
      `:${S} 320 ann bob :is connected via tcp`,
      `:${S} 318 ann bob :End of /WHOIS list`,
    ]);
    await c.send("WHOIS ann ann");
    const whois = await c.until(/ 318 /);
    assert.equal(whois[0], `:${S} 311 ann ann ~ann chat * :ann Test`);
    assert.match(
      whois.at(-2)!,
      new RegExp(`^:${S} 317 ann ann \\d+ \\d+ :seconds idle, signon time$`),
    );
    await c.send("WHOIS ghost");
    assert.deepEqual(await c.until(/ 318 /), [
      `:${S} 401 ann ghost :No such nick/channel`,
      `:${S} 318 ann ghost :End of /WHOIS list`,
    ]);
    await c.send("WHOIS");
    await c.next(`:${S} 431 ann :No nickname given`);
    await c.send("NAMES #chat");
    assert.deepEqual(await c.until(/ 366 /), [
      `:${S} 353 ann = #chat :ann bob`,
      `:${S} 366 ann #chat :End of /NAMES list`,
    ]);
    await c.send("LIST");
    assert.deepEqual(await c.until(/ 323 /), [
      `:${S} 321 ann Channel :Users  Name`,
      `:${S} 322 ann #chat 2 :`,
      `:${S} 323 ann :End of /LIST`,
    ]);
    await c.send("ISON bob ghost ANN");
    await c.next(`:${S} 303 ann :bob ann`);
    await c.send("USERHOST bob ann");
    await c.next(`:${S} 302 ann :bob=+tcp@chat ann=+~ann@chat`);
    await c.send("FROBNICATE x");
    await c.next(`:${S} 421 ann FROBNICATE :Unknown command`);
    await c.send("USER again 0 * :x");
    await c.next(`:${S} 462 ann :You may not reregister`);
  });
});

Deno.test("irc: AWAY 306/305, 301 to senders, G in WHO", async () => {
  await withIrc({}, async (setup) => {
    const zed = await setup.irc("zed");
    const c = await setup.irc("ann");
    await c.send("AWAY :at lunch");
    await c.next(`:${S} 306 ann :You have been marked as being away`);
    await zed.send("PRIVMSG ann :are you there?");
    await zed.next(`:${S} 301 zed ann :at lunch`);
    await c.next(":zed!irc@chat PRIVMSG ann :are you there?");
    await zed.send("WHO ann");
    await zed.next(`:${S} 352 zed #chat ~ann chat ${S} ann G :0 ann Test`);
    await zed.send("USERHOST ann");
    await zed.next(`:${S} 302 zed :ann=-~ann@chat`);
    await zed.send("WHOIS ann");
    await zed.next(`:${S} 301 zed ann :at lunch`);
    await c.send("AWAY");
    await c.next(`:${S} 305 ann :You are no longer marked as being away`);
    await zed.send("PRIVMSG ann :back?");
    await c.next(":zed!irc@chat PRIVMSG ann :back?");
    await zed.send("PING :x");
    const lines = await zed.until(`:${S} PONG ${S} :x`);
    assert.ok(!lines.some((line) => / 301 /.test(line)));
  });
});

Deno.test("irc: PING/PONG both ways; a silent client is dropped", async () => {
  await withIrc({
    door: { pingIntervalMs: 150, pingTimeoutMs: 600 },
  }, async (setup) => {
    const bob = await setup.tcp("bob");
    const c = await setup.irc("ann");
    const quiet = await setup.irc("quiet");
    await bob.next(joined("quiet"));
    // One answers every PING, the other never does.
    let answering = true;
    const answered = (async () => {
      let count = 0;
      while (answering) {
        const ping = await c.next(`PING ${S}`, 300).catch(() => null);
        if (ping !== null) {
          await c.send(`PONG ${S}`);
          count++;
        }
      }
      return count;
    })();
    try {
      await quiet.next(`PING ${S}`);
      await quiet.next("ERROR :Closing link: Ping timeout: 1 seconds", 2_000);
      await quiet.closed();
      await bob.next(left("quiet"));
    } finally {
      answering = false;
    }
    assert.ok(await answered >= 2, "the answering client was PINGed again");
    assert.ok(c.lines.includes(":quiet!irc@chat QUIT :Left the chat"));
    await waitForLog(setup, "quiet has been disconnected (ping timeout)");
    assert.ok(!c.ended);
  });
});

Deno.test("irc: password: PASS right registers, wrong gets 464 and ERROR", async () => {
  await withIrc({
    server: { password: "s3cret", limits: { wrongPasswordDelayMs: 300 } },
  }, async (setup) => {
    const ok = setup.track(
      await IrcLineClient.register(setup.ircPort, "ann", {
        password: "s3cret",
      }),
    );
    assert.ok(ok.lines.some((line) => line.startsWith(`:${S} 001 ann `)));
    await ok.close();
    for (const pass of ["PASS wrong", null]) {
      const c = await setup.raw();
      if (pass !== null) await c.send(pass);
      await c.send("NICK eve");
      await c.send("USER eve 0 * :Eve");
      await c.next(`:${S} 464 * :Password incorrect`);
      const started = performance.now();
      // Nothing more is read: no second guess, no nick.
      await c.send("PASS s3cret");
      await c.send("NICK eve2");
      await c.next("ERROR :Closing link: Wrong password.");
      await c.closed();
      assert.ok(performance.now() - started >= 250, "the close waited");
      assert.equal(c.lines.filter((l) => / 00\d /.test(l)).length, 0);
    }
  });
});

Deno.test("irc: password: a taken nick gets no 433 before the password", async () => {
  await withIrc({
    server: { password: "s3cret", limits: { wrongPasswordDelayMs: 50 } },
  }, async (setup) => {
    const ann = setup.track(
      await IrcLineClient.register(setup.ircPort, "ann", {
        password: "s3cret",
      }),
    );
    // No PASS, or a wrong one: a taken nick and a free one end alike.
    for (const pass of [null, "PASS wrong"]) {
      for (const nick of ["ANN", "nobody"]) {
        const c = await setup.raw();
        if (pass !== null) await c.send(pass);
        await c.send(`NICK ${nick}`);
        await c.send(`USER ${nick} 0 * :Eve`);
        await c.next("ERROR :Closing link: Wrong password.");
        await c.closed();
        assert.deepEqual(c.lines, [
          `:${S} 464 * :Password incorrect`,
          "ERROR :Closing link: Wrong password.",
        ], `${pass} ${nick}`);
      }
    }
    // With the right password first, 433 at once.
    const c = await setup.raw();
    await c.send("PASS s3cret");
    await c.send("NICK ann");
    await c.next(`:${S} 433 * ann :Nickname is already in use`);
    // NICK before PASS: the taken nick is told once the password came.
    const d = await setup.raw();
    await d.send("NICK Ann");
    await d.send("PASS s3cret");
    await d.send("USER d 0 * :D");
    await d.next(`:${S} 433 * Ann :Nickname is already in use`);
    await d.send("NICK dee");
    await d.next(
      `:${S} 001 dee :Welcome to the DenoChat IRC network, dee!irc@chat`,
    );
    assert.ok(!d.lines.some((line) => / 464 /.test(line)));
    await ann.close();
  });
});

Deno.test("irc: a repeated PRIVMSG target gets the message once", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const zed = await setup.irc("zed");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    await c.send("PRIVMSG #chat,#chat,#CHAT,#chat :once to all");
    await c.send("PRIVMSG bob,bob,BOB,Bob :once to bob");
    await c.send("NOTICE zed,ZED,zed :once to zed");
    await c.send("PRIVMSG #chat :marker");
    await bob.next("ann: marker");
    const heard = bob.received.lines;
    assert.equal(heard.filter((l) => l === "ann: once to all").length, 1);
    assert.equal(
      heard.filter((l) => l === "Private message from ann: once to bob")
        .length,
      1,
    );
    const zedHeard = await zed.until(":ann!irc@chat PRIVMSG #chat :marker");
    assert.deepEqual(
      zedHeard.filter((l) => l.includes(" :once to ")),
      [
        ":ann!irc@chat PRIVMSG #chat :once to all",
        ":ann!irc@chat PRIVMSG zed :once to zed",
      ],
    );
    const log = await waitForLog(setup, "ann: marker");
    assert.equal(log.filter((l) => l.endsWith("ann: once to all")).length, 1);
    assert.equal(
      log.filter((l) => l.endsWith("ann -> bob: once to bob")).length,
      1,
    );
  });
});

Deno.test("irc: each distinct PRIVMSG target costs a flood token", async () => {
  await withIrc({
    server: { limits: { floodRate: 8, floodBurst: 4 } },
  }, async (setup) => {
    const bob = await setup.tcp("bob");
    const carol = await setup.tcp("carol");
    const c = await setup.irc("ann");
    await bob.next(joined("ann"));
    const metrics = setup.server.server.room.metrics;
    const before = metrics.floodDelays;
    // Eight messages from two lines; the bucket holds four at most, so at
    // least four of them wait (before, the two lines cost two tokens).
    for (let i = 0; i < 2; i++) {
      await c.send(`PRIVMSG bob,carol,nobody,#chat :round ${i}`);
    }
    await c.send("PING :done");
    await c.next(`:${S} PONG ${S} :done`);
    await bob.next("Private message from ann: round 1");
    await carol.next("Private message from ann: round 1");
    await bob.next("ann: round 1");
    assert.ok(
      metrics.floodDelays - before >= 4,
      `${metrics.floodDelays - before} delays`,
    );
  });
});

Deno.test("irc: a nick race between an IRC and a TCP client: exactly one wins", async () => {
  await withIrc({}, async (setup) => {
    for (let round = 0; round < 8; round++) {
      const name = `race${round}`;
      const irc = await setup.raw();
      const tcp = setup.track(await TestClient.connect(setup.server.port));
      await tcp.next(NAME_PROMPT);
      await Promise.all([
        irc.send(`NICK ${name}\r\nUSER ${name} 0 * :R`),
        tcp.send(round % 2 === 0 ? name : name.toUpperCase()),
      ]);
      const ircLine = await irc.next(/ (001|433) /);
      const tcpLine = await tcp.next(/^(Welcome |Name ")/);
      const ircWon = ircLine.includes(" 001 ");
      const tcpWon = tcpLine.startsWith("Welcome ");
      assert.notEqual(ircWon, tcpWon, `${ircLine} / ${tcpLine}`);
      await irc.close();
      await tcp.close();
    }
  });
});

Deno.test("irc: history on JOIN as server NOTICEs with the time; /me stays an action", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    await bob.send("earlier words");
    await bob.send("/me stretches");
    await waitForLog(setup, "* bob stretches");
    const c = await setup.irc("ann", { join: false });
    await c.send("JOIN #chat");
    const lines = await c.until(/End of history/);
    assert.match(lines[2], /^:\S+ 366 ann #chat /);
    assert.equal(lines.length, 6, lines.join(" | "));
    assert.match(
      lines[3],
      new RegExp(
        `^:${S} NOTICE #chat :\\[\\d\\d:\\d\\d\\] <bob> earlier words$`,
      ),
    );
    assert.match(
      lines[4],
      new RegExp(`^:${S} NOTICE #chat :\\[\\d\\d:\\d\\d\\] \\* bob stretches$`),
    );
    assert.equal(lines[5], `:${S} NOTICE #chat :End of history (2 messages).`);
    // A room's own history, only its own; none for a room without any.
    await bob.send("/join #games");
    await bob.send("game on");
    await c.send("JOIN #games");
    await c.next(/ 366 ann #games /);
    await c.next(
      new RegExp(`^:${S} NOTICE #games :\\[\\d\\d:\\d\\d\\] <bob> game on$`),
    );
    await c.next(`:${S} NOTICE #games :End of history (1 message).`);
    await c.send("JOIN #empty");
    await c.send("PING :end");
    assert.deepEqual((await c.until(/ PONG /)).slice(-2), [
      `:${S} 366 ann #empty :End of /NAMES list`,
      `:${S} PONG ${S} :end`,
    ]);
  });
});

Deno.test("irc: history as a chathistory batch with server-time tags for a client that asked", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    await bob.send("earlier words");
    await bob.send("/me stretches");
    await waitForLog(setup, "* bob stretches");
    const c = await setup.raw();
    await c.send("CAP LS 302");
    await c.send("NICK ann");
    await c.send("USER ann 0 * :Ann");
    await c.send("CAP REQ :batch server-time");
    await c.next(`:${S} CAP * ACK :batch server-time`);
    await c.send("CAP END");
    await c.next(/ 422 ann /);
    await c.send("JOIN #chat");
    const lines = await c.until(/ BATCH -/);
    const open = lines.findIndex((line) => line.includes(" BATCH +"));
    assert.equal(open, 3, lines.join(" | "));
    const [, reference] = lines[open].match(/ BATCH \+(\S+) /)!;
    const time = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    assert.deepEqual(lines.slice(open), [
      `:${S} BATCH +${reference} chathistory #chat`,
      lines[open + 1],
      lines[open + 2],
      `:${S} BATCH -${reference}`,
    ]);
    assert.match(
      lines[open + 1],
      new RegExp(
        `^@batch=${reference};time=${time} :bob!chat@chat PRIVMSG #chat :earlier words$`,
      ),
    );
    assert.match(
      lines[open + 2],
      new RegExp(
        `^@batch=${reference};time=${time} :bob!chat@chat PRIVMSG #chat :\x01ACTION stretches\x01$`,
      ),
    );
  });
});

Deno.test("irc: announcements are server NOTICEs; removal and shutdown are ERROR", async () => {
  let watcher: IrcLineClient | undefined;
  await withIrc({}, async (setup) => {
    const c = await setup.irc("ann");
    const zed = await setup.irc("zed");
    watcher = zed;
    setup.server.server.room.announce("pizza in the lobby");
    await c.next(`:${S} NOTICE #chat :Announcement: pizza in the lobby`);
    setup.server.server.room.kick("ann", "spam");
    await c.next("ERROR :Closing link: You were removed from the chat (spam).");
    await c.closed();
    await zed.next(":ann!irc@chat QUIT :Removed from the chat");
  });
  // Cleanup shut the room down: the last IRC user was told.
  await watcher!.next(
    "ERROR :Closing link: Server is shutting down. Disconnecting...",
  );
  assert.ok(watcher!.ended);
});

Deno.test("irc: registration timeout, per-IP cap, and TLS", async () => {
  await withIrc({
    server: { limits: { registrationTimeoutMs: 300, maxPerIp: 2 } },
  }, async (setup) => {
    const slow = await setup.raw();
    await slow.send("NICK slow");
    await slow.next("ERROR :Closing link: Registration timed out.", 3_000);
    await slow.closed();
    const a = await setup.irc("a1");
    const b = await setup.raw();
    const c = await setup.raw();
    await c.next(
      "ERROR :Closing link: Too many connections from your address.",
    );
    await c.closed();
    await b.close();
    assert.ok(!a.ended);
  });
  const fixtures = new URL("./fixtures/", import.meta.url);
  const tls = {
    cert: await Deno.readTextFile(new URL("localhost.crt", fixtures)),
    key: await Deno.readTextFile(new URL("localhost.key", fixtures)),
  };
  const ca = await Deno.readTextFile(new URL("ca.crt", fixtures));
  await withIrc({ door: { tls } }, async (setup) => {
    const c = setup.track(
      await IrcLineClient.connect(setup.ircPort, { tls: { caCerts: [ca] } }),
    );
    await c.send("NICK sec");
    await c.send("USER sec 0 * :Sec");
    await c.next(
      `:${S} 001 sec :Welcome to the DenoChat IRC network, sec!irc@chat`,
    );
    await c.send("JOIN #chat");
    await c.next(`:${S} 353 sec = #chat :sec`);
    await c.close();
  });
});

Deno.test("irc: garbage never crashes the door or affects another client", async () => {
  await withIrc({}, async (setup) => {
    const bob = await setup.tcp("bob");
    const c = await setup.irc("ann");
    const junk = [
      "",
      "   ",
      ":onlyprefix",
      "@tag=1",
      "@a=b :p PRIVMSG #chat :tagged",
      "\x00\x01\x02",
      "NICK :",
      "JOIN ,,,",
      "PRIVMSG ,,, :x",
      "MODE",
      "WHO",
      "WHO *",
      "WHOIS a,b,c",
      "NAMES ,",
      "USERHOST",
      "ISON",
      "CAP",
      "PING",
      "PART",
      "AWAY :" + "x".repeat(480),
      "PRIVMSG " + "n".repeat(490) + " :x",
      "PRIVMSG #chat :\x01",
      "PRIVMSG #chat :\x01ACTION\x01",
      "PRIVMSG bob :\x01\x01",
      "TOPIC",
    ];
    for (const line of junk) await c.send(line);
    await c.send("PING :survived");
    await c.next(`:${S} PONG ${S} :survived`);
    await bob.next("ann: tagged");
    await bob.send("still fine");
    await c.next(":bob!tcp@chat PRIVMSG #chat :still fine");
    assert.deepEqual(c.violations, []);
  });
});

Deno.test("irc: flood control is fake lag: lines wait, none is dropped", async () => {
  await withIrc({
    server: { limits: { floodRate: 20, floodBurst: 2 } },
  }, async (setup) => {
    const c = await setup.irc("ann");
    c.skip();
    const started = performance.now();
    await c.send(
      Array.from({ length: 12 }, (_, i) => `PING :p${i}`).join("\r\n"),
    );
    const pongs = await c.until(`:${S} PONG ${S} :p11`);
    const took = performance.now() - started;
    assert.deepEqual(
      pongs.filter((line) => line.includes(" PONG ")),
      Array.from({ length: 12 }, (_, i) => `:${S} PONG ${S} :p${i}`),
    );
    // 10 lines beyond the burst at 20 a second: about half a second.
    assert.ok(took >= 350, `took ${took} ms`);
  });
});

Deno.test("irc: a client that never reads is cut at the send-queue limit", async () => {
  await withIrc({
    server: { limits: { maxSendqBytes: 64 * 1024, floodRate: 0 } },
  }, async (setup) => {
    const bob = await setup.tcp("bob");
    // Registers and joins, then never reads a byte.
    const stuck = setup.track(
      await Deno.connect({ hostname: "127.0.0.1", port: setup.ircPort }),
    );
    await stuck.write(
      encoder.encode("NICK stuck\r\nUSER stuck 0 * :S\r\nJOIN #chat\r\n"),
    );
    await bob.next(joined("stuck"));
    const line = "x".repeat(4000);
    let sent = 0;
    while (
      !(await readLogEvents(setup.server.logPath)).includes(
        "stuck has been disconnected (send queue exceeded)",
      )
    ) {
      if (sent > 64 * 1024 * 1024) throw new Error("never cut");
      await bob.sendRaw(encoder.encode(`${line}\n`.repeat(100)));
      sent += 400_100;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await bob.next(left("stuck"));
  });
});
