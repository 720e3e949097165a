/**
 * Rooms over the line protocol (issue 19, "The line protocol"): every text
 * and rule, black-box, over real TCP to an in-process server on port 0, and
 * the log file as written. The texts are written out here as the issue gives
 * them (not imported from lib/): a test must fail if the server's text
 * changes. Where the issue is silent (operator and topic-lock notices, the
 * main room's part and join), the texts are those of lib/room/texts.ts and
 * the design.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatServerOptions } from "../lib/app/chat_server.ts";
import { IrcLineClient } from "./support/irc_line_client.ts";
import {
  assertNoStackTrace,
  joined,
  LAST_WELCOME_LINE,
  left,
  NAME_PROMPT,
  nonEmpty,
  readLogEventsSync,
  scoped,
  spawnProgram,
  spawnServer,
  START_MS,
  startTestServer,
  type TestClient,
  type TestServer,
  waitUntil,
  withServer,
} from "./helpers.ts";

// The issue's texts.
const welcome = (name: string) => [
  `Welcome ${name}!`,
  "Use '@<client_name> <message>' for private message.",
  "To send to all, just type your message.",
  "To disconnect, send 'exit'.",
  LAST_WELCOME_LINE,
];
const INVALID_ROOM =
  "Invalid room name: use '#' and 1-32 letters, digits, '_' or '-'.";
const youJoined = (room: string, members: number, topic?: string) =>
  `*** You joined ${room} (${members} ${
    members === 1 ? "member" : "members"
  }).${topic === undefined ? "" : ` Topic: ${topic}`}`;
const joinedRoom = (name: string, room: string) =>
  `*** ${name} has joined ${room}.`;
const currentRoom = (room: string) => `*** Your current room is ${room}.`;
const youLeft = (room: string, current: string | null) =>
  current === null
    ? `*** You left ${room}. You are in no room; /join #room to talk.`
    : `*** You left ${room}. Your current room is ${current}.`;
const leftRoom = (name: string, room: string, reason?: string) =>
  `*** ${name} has left ${room}${reason === undefined ? "" : ` (${reason})`}.`;
const notIn = (room: string) => `You are not in ${room}.`;
const IN_NO_ROOM = "You are in no room; /join #room to talk.";
const leftSaying = (name: string, reason: string) =>
  `*** ${name} has left the chat (${reason}).`;
const renamedNotice = (from: string, to: string) =>
  `*** ${from} is now known as ${to}.`;
const online = (...names: string[]) =>
  `Online (${names.length}): ${names.join(", ")}`;
const onlineIn = (room: string, ...names: string[]) =>
  `Online in ${room} (${names.length}): ${names.join(", ")}`;
const operators = (...names: string[]) => `Operators: ${names.join(", ")}`;
const noSuchRoom = (room: string) => `No room called ${room}.`;
const topicOf = (room: string, topic: string) => `Topic of ${room}: ${topic}`;
const noTopic = (room: string) => `${room} has no topic.`;
const topicSet = (name: string, room: string, topic: string) =>
  `*** ${name} set the topic of ${room}: ${topic}`;
const topicCleared = (name: string, room: string) =>
  `*** ${name} cleared the topic of ${room}.`;
const youWereKicked = (room: string, by: string, reason?: string) =>
  `*** You were kicked from ${room} by ${by}${
    reason === undefined ? "" : ` (${reason})`
  }.`;
const wasKicked = (name: string, room: string, by: string, reason?: string) =>
  `*** ${name} was kicked from ${room} by ${by}${
    reason === undefined ? "" : ` (${reason})`
  }.`;
const onlyOperators = (room: string) =>
  `Only operators of ${room} can do that.`;
const opped = (by: string, name: string, room: string) =>
  `*** ${by} made ${name} an operator of ${room}.`;
const deopped = (by: string, name: string, room: string) =>
  `*** ${by} took operator from ${name} in ${room}.`;
const topicLocked = (by: string, room: string, locked: boolean) =>
  `*** ${by} ${locked ? "locked" : "unlocked"} the topic of ${room}.`;
const tooManyRooms = (n: number) =>
  `The server has reached its limit of ${n} rooms.`;
const tooManyJoins = (n: number) => `You are in ${n} rooms, the limit.`;
const inRoom = (room: string, line: string) => `[${room}] ${line}`;
const endOfHistory = (n: number) =>
  `*** End of history (${n} ${n === 1 ? "message" : "messages"}).`;

// A history line's stamp (`[09:14] `), replaced by `[HH:MM] ` to compare.
const STAMP = /^\[\d\d:\d\d\] /;
const unstamped = (lines: string[]) =>
  lines.map((line) => line.replace(STAMP, "[HH:MM] "));

/**
 * Runs `body` against a fresh server with flood control and the
 * per-address limit off: these tests are about the language.
 */
function withRooms(
  options: ChatServerOptions,
  body: (ts: TestServer) => Promise<void>,
): Promise<void> {
  return withServer({
    ...options,
    limits: { floodRate: 0, maxPerIp: 0, ...options.limits },
  }, body);
}

let markers = 0;

/**
 * Every line `client` got since its last wait, up to a marker of its own
 * (the answer to a private message to no one, which comes after everything
 * the server had sent it before): to assert exactly what arrived, and that
 * nothing else did.
 */
async function since(client: TestClient): Promise<string[]> {
  const marker = `zzmark${++markers}`;
  await client.send(`@${marker} .`);
  const lines = await client.received.until(`Client "${marker}" not found.`);
  return lines.slice(0, -1);
}

/** Sends `line` from `client` and returns what it got in answer (see since). */
async function ask(client: TestClient, line: string): Promise<string[]> {
  await client.send(line);
  return await since(client);
}

/** The lines of `/rooms`' answer after its header, sorted. */
function roomLines(answer: string[]): string[] {
  return answer.slice(1).toSorted();
}

Deno.test("the main room is byte for byte today's for someone who never uses a room command", async () => {
  await withRooms({}, async (ts) => {
    const ann = await ts.join("ann");
    const bob = await ts.join("bob");
    await ann.next(joined("bob"));
    await ann.send("hello");
    await bob.next("ann: hello");
    await bob.send("/me waves");
    await ann.next("* bob waves");
    const cat = await ts.join("cat");
    await cat.next(endOfHistory(2));
    await ann.next(joined("cat"));
    await bob.next(joined("cat"));
    await cat.send("/who");
    await cat.next(online("ann", "bob", "cat"));
    await ann.send("@cat psst");
    await cat.next("Private message from ann: psst");
    await cat.send("/msg ann back");
    await ann.next("Private message from cat: back");
    await bob.send("/nick rob");
    await bob.next("You are now known as rob.");
    await ann.next(renamedNotice("bob", "rob"));
    await cat.next(renamedNotice("bob", "rob"));
    await bob.send("/who");
    await bob.next(online("ann", "cat", "rob"));
    await cat.send("exit");
    await cat.received.closed();
    await ann.next(left("cat"));
    await bob.next(left("cat"));
    await bob.close();
    await ann.next(left("rob"));
    await ann.send("/quit");
    await ann.received.closed();

    assert.deepEqual(ann.received.lines, [
      NAME_PROMPT,
      ...welcome("ann"),
      joined("bob"),
      "* bob waves",
      joined("cat"),
      "Private message from cat: back",
      renamedNotice("bob", "rob"),
      left("cat"),
      left("rob"),
      "Goodbye ann!",
    ]);
    assert.deepEqual(bob.received.lines, [
      NAME_PROMPT,
      ...welcome("bob"),
      "ann: hello",
      joined("cat"),
      "You are now known as rob.",
      online("ann", "cat", "rob"),
      left("cat"),
    ]);
    assert.deepEqual(unstamped(cat.received.lines), [
      NAME_PROMPT,
      ...welcome("cat"),
      "[HH:MM] ann: hello",
      "[HH:MM] * bob waves",
      endOfHistory(2),
      online("ann", "bob", "cat"),
      "Private message from ann: psst",
      renamedNotice("bob", "rob"),
      "Goodbye cat!",
    ]);

    // The log: today's events, each after an ISO-8601 UTC timestamp.
    await ts.logged("ann has left the chat");
    const raw = Deno.readTextFileSync(ts.logPath).split("\n").filter((l) =>
      l !== ""
    );
    for (const line of raw) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/);
    }
    const address = String.raw`127\.0\.0\.1:\d+`;
    const expected = [
      new RegExp(
        `^Server is now alive and listening on 127\\.0\\.0\\.1:${ts.port}$`,
      ),
      new RegExp(`^Client ann has joined the chat room \\(${address}\\)$`),
      new RegExp(`^Client bob has joined the chat room \\(${address}\\)$`),
      "ann: hello",
      "* bob waves",
      new RegExp(`^Client cat has joined the chat room \\(${address}\\)$`),
      "ann -> cat: psst",
      "cat -> ann: back",
      "bob is now known as rob",
      "cat has left the chat",
      "rob has been disconnected (connection closed)",
      "ann has left the chat",
    ];
    const events = readLogEventsSync(ts.logPath);
    assert.equal(events.length, expected.length, events.join(" | "));
    expected.forEach((pattern, i) => {
      if (typeof pattern === "string") assert.equal(events[i], pattern);
      else assert.match(events[i], pattern);
    });
  });
});

Deno.test("room names: '#' is optional, case does not matter, and a bad name gets the invalid-name text", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    assert.deepEqual(await ask(ada, "/join games"), [youJoined("#games", 1)]);
    assert.deepEqual(await ask(bob, "/join #GaMeS"), [
      youJoined("#games", 2),
    ]);
    assert.deepEqual(await since(ada), [joinedRoom("bob", "#games")]);
    assert.deepEqual(await ask(ada, "/join #GAMES"), [currentRoom("#games")]);
    assert.deepEqual(await ask(ada, "/who #Games"), [
      onlineIn("#games", "ada", "bob"),
    ]);
    const longest = "a".repeat(32);
    assert.deepEqual(await ask(ada, `/join #${longest}`), [
      youJoined(`#${longest}`, 1),
    ]);
    assert.deepEqual(await ask(ada, "/join Under_score-9"), [
      youJoined("#Under_score-9", 1),
    ]);
    for (
      const bad of [
        "#",
        `#${"a".repeat(33)}`,
        "#bad!name",
        "##games",
        "#gämes",
        "#dot.ted",
      ]
    ) {
      assert.deepEqual(await ask(ada, `/join ${bad}`), [INVALID_ROOM], bad);
    }
    assert.deepEqual(await ask(ada, "/part #bad!name"), [INVALID_ROOM]);
    assert.deepEqual(await ask(ada, "/who #bad!name"), [INVALID_ROOM]);
    // None of it reached anyone else.
    assert.deepEqual(await since(bob), []);
  });
});

Deno.test("/join creates a room, tells its members, and sends the joiner its history and end line", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const cat = await join("cat");
    await ada.next(joined("cat"));
    await bob.next(joined("cat"));
    await ada.send("in the main room");
    await bob.next("ada: in the main room");
    await cat.next("ada: in the main room");
    // A new room has no history: no end line, as today.
    assert.deepEqual(await ask(ada, "/join #games"), [youJoined("#games", 1)]);
    await ada.send("first");
    await ada.send("/me shuffles");
    assert.deepEqual(await since(ada), []);
    // Only the main room heard nothing of it.
    assert.deepEqual(await since(bob), []);
    assert.deepEqual(unstamped(await ask(bob, "/join #games")), [
      youJoined("#games", 2),
      "[HH:MM] ada: first",
      "[HH:MM] * ada shuffles",
      endOfHistory(2),
    ]);
    assert.deepEqual(await since(ada), [joinedRoom("bob", "#games")]);
    // cat is not in #games: it hears nothing of it.
    assert.deepEqual(await since(cat), []);
    assert.deepEqual(await ask(bob, "/join #games"), [currentRoom("#games")]);
    assert.deepEqual(await since(ada), []);
  });
});

Deno.test("/join of a room with a topic says the topic", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    await ask(ada, "/join #games");
    await ask(ada, "/topic Board games tonight");
    assert.deepEqual(await ask(bob, "/join #games"), [
      youJoined("#games", 2, "Board games tonight"),
    ]);
    assert.deepEqual(await since(ada), [joinedRoom("bob", "#games")]);
  });
});

Deno.test("plain text goes to the current room; lines from another room one is in come with [#room]", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const cat = await join("cat");
    await ada.next(joined("cat"));
    await bob.next(joined("cat"));
    await ask(ada, "/join #games");
    await ask(bob, "/join #games");
    assert.deepEqual(await since(ada), [joinedRoom("bob", "#games")]);

    await ada.send("hi");
    await bob.next("ada: hi");
    await cat.send("hello");
    await cat.send("/me waves");
    assert.deepEqual(await since(cat), []);
    assert.deepEqual(await since(ada), [
      inRoom("#chat", "cat: hello"),
      inRoom("#chat", "* cat waves"),
    ]);
    assert.deepEqual(await since(bob), [
      inRoom("#chat", "cat: hello"),
      inRoom("#chat", "* cat waves"),
    ]);
    // cat never heard #games.
    assert.deepEqual(await since(cat), []);

    // A room's notices come with the prefix too.
    const dan = await join("dan");
    assert.deepEqual(await since(ada), [inRoom("#chat", joined("dan"))]);
    assert.deepEqual(await since(cat), [joined("dan")]);
    await dan.send("/me is here");
    await cat.next("* dan is here");
    assert.deepEqual(await since(bob), [
      inRoom("#chat", joined("dan")),
      inRoom("#chat", "* dan is here"),
    ]);

    // Switching back: #chat's lines plain, #games' with the prefix.
    assert.deepEqual(await ask(bob, "/join #chat"), [currentRoom("#chat")]);
    await cat.send("again");
    await ada.send("still games");
    assert.deepEqual(await since(bob), [
      "cat: again",
      inRoom("#games", "ada: still games"),
    ]);
  });
});

Deno.test("/msg #room says something in a room one is in without switching; a room one is not in is refused", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const cat = await join("cat");
    await ada.next(joined("cat"));
    await ask(ada, "/join #games");
    await ada.send("/msg #chat over there");
    await cat.next("ada: over there");
    assert.deepEqual(await since(ada), []);
    // Still in #games: plain text does not reach #chat.
    await ada.send("in games");
    assert.deepEqual(await since(cat), []);
    await ada.send("/msg #CHAT case does not matter");
    await cat.next("ada: case does not matter");
    assert.deepEqual(await ask(ada, "/msg #else hello"), [notIn("#else")]);
    assert.deepEqual(await ask(cat, "/msg #games hello"), [notIn("#games")]);
    assert.deepEqual(await since(ada), []);
    // A name is still a private message.
    await ada.send("/msg cat psst");
    await cat.next("Private message from ada: psst");
  });
});

Deno.test("/part leaves a room: current room, no room, reason, not in", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    await ask(ada, "/join #games");
    await ask(bob, "/join #games");
    assert.deepEqual(await since(ada), [joinedRoom("bob", "#games")]);
    await ask(ada, "/join #cards");

    assert.deepEqual(await ask(ada, "/part #games see you"), [
      youLeft("#games", "#cards"),
    ]);
    assert.deepEqual(await since(bob), [leftRoom("ada", "#games", "see you")]);
    assert.deepEqual(await ask(ada, "/part #games"), [notIn("#games")]);
    assert.deepEqual(await ask(ada, "/part #nowhere"), [notIn("#nowhere")]);
    // Without a room: the current one.
    assert.deepEqual(await ask(ada, "/part"), [youLeft("#cards", "#chat")]);
    // A reason without a room: the current one, with the reason.
    assert.deepEqual(await ask(ada, "/part off to bed"), [
      youLeft("#chat", null),
    ]);
    assert.deepEqual(await since(bob), [
      inRoom("#chat", leftRoom("ada", "#chat", "off to bed")),
    ]);
    assert.deepEqual(await ask(ada, "talking to no one"), [IN_NO_ROOM]);
    assert.deepEqual(await ask(ada, "/me waves at no one"), [IN_NO_ROOM]);
    assert.deepEqual(await ask(ada, "/part"), [IN_NO_ROOM]);
    assert.deepEqual(await since(bob), []);
    // Still in the chat: a private message reaches ada and ada's reaches bob.
    await bob.send("@ada still there?");
    await ada.next("Private message from bob: still there?");
    await ada.send("@bob yes");
    await bob.next("Private message from ada: yes");
    // And the main room goes on without ada.
    await bob.send("/join #chat");
    await bob.next(currentRoom("#chat"));
    await bob.send("only me");
    assert.deepEqual(await since(ada), []);
  });
});

Deno.test("/part of the main room, then /join of it: its history, and today's join notice", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    await bob.send("before");
    await ada.next("bob: before");
    assert.deepEqual(await ask(ada, "/part"), [youLeft("#chat", null)]);
    assert.deepEqual(await since(bob), [leftRoom("ada", "#chat")]);
    await bob.send("while away");
    assert.deepEqual(await since(ada), []);
    assert.deepEqual(unstamped(await ask(ada, "/join #chat")), [
      youJoined("#chat", 2),
      "[HH:MM] bob: before",
      "[HH:MM] bob: while away",
      endOfHistory(2),
    ]);
    assert.deepEqual(await since(bob), [joined("ada")]);
    await bob.send("welcome back");
    await ada.next("bob: welcome back");
  });
});

Deno.test("leaving the chat (exit, a drop, a kick, /quit with a reason) and a rename tell each member who shared a room once, and no one else", async () => {
  await withRooms({}, async (ts) => {
    const { join } = ts;
    const ada = await join("ada");
    const cat = await join("cat");
    // cat shares no room with the others: it leaves #chat for #quiet.
    assert.deepEqual(await ask(cat, "/part #chat"), [youLeft("#chat", null)]);
    await ask(cat, "/join #quiet");
    await ask(ada, "/join #games");
    await ask(ada, "/join #cards");
    // Each of them shares #chat, #games and #cards with ada.
    const enter = async (name: string) => {
      const member = await join(name);
      await ask(member, "/join #games");
      await ask(member, "/join #cards");
      await since(ada);
      return member;
    };

    const bob = await enter("bob");
    await bob.send("exit");
    await bob.next("Goodbye bob!");
    await bob.received.closed();
    assert.deepEqual(await since(ada), [left("bob")]);

    const eve = await enter("eve");
    await eve.close();
    await waitUntil(
      () => !ts.server.room.names().includes("eve"),
      "eve to be gone",
    );
    assert.deepEqual(await since(ada), [left("eve")]);

    await enter("fay");
    await ts.server.room.kick("fay");
    assert.deepEqual(await since(ada), ["*** fay was removed from the chat."]);

    const gus = await enter("gus");
    await gus.send("/quit see you tomorrow");
    await gus.received.closed();
    assert.equal(gus.received.lines.at(-1), "Goodbye gus!");
    assert.deepEqual(await since(ada), [
      leftSaying("gus", "see you tomorrow"),
    ]);

    const dan = await enter("dan");
    await dan.send("/nick dave");
    await dan.next("You are now known as dave.");
    assert.deepEqual(await since(ada), [renamedNotice("dan", "dave")]);

    // In no room: a rename and a leave reach no one.
    const hal = await join("hal");
    await since(ada);
    assert.deepEqual(await ask(hal, "/part"), [youLeft("#chat", null)]);
    await hal.send("/nick hank");
    await hal.next("You are now known as hank.");
    await hal.send("exit");
    await hal.received.closed();
    await waitUntil(
      () => !ts.server.room.names().includes("hank"),
      "hank to be gone",
    );
    assert.deepEqual(await since(ada), [
      inRoom("#chat", leftRoom("hal", "#chat")),
    ]);
    assert.deepEqual(await since(cat), []);
  });
});

Deno.test("/quit with a reason tells the main room with it, and without one as today", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const cat = await join("cat");
    await ada.next(joined("cat"));
    await bob.send("/quit see you tomorrow");
    await bob.received.closed();
    await ada.next(leftSaying("bob", "see you tomorrow"));
    await cat.send("/quit");
    await cat.received.closed();
    assert.deepEqual(await since(ada), [left("cat")]);
  });
});

Deno.test("/rooms lists every room with its members and topic", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await join("cat");
    await ask(ada, "/join #games");
    await ask(ada, "/topic Board games tonight");
    await ask(bob, "/join #games");
    await since(ada);
    const answer = await ask(ada, "/rooms");
    assert.equal(answer[0], "Rooms (2):");
    assert.deepEqual(roomLines(answer), [
      "#chat (3)",
      "#games (2): Board games tonight",
    ]);
    // Whoever asks, in any room or none, sees the whole server.
    await ask(bob, "/part #chat");
    await ask(bob, "/part #games");
    await ask(ada, "/join #solo");
    await since(bob);
    const fromNoRoom = await ask(bob, "/rooms");
    assert.equal(fromNoRoom[0], "Rooms (3):");
    assert.deepEqual(roomLines(fromNoRoom), [
      "#chat (2)",
      "#games (1): Board games tonight",
      "#solo (1)",
    ]);
  });
});

Deno.test("/who: the current room's members, operators only when it has some; in no room everyone online", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const cat = await join("cat");
    // The main room has no operators (the server's have not come yet):
    // today's /who, and nothing after it.
    assert.deepEqual(await ask(cat, "/who"), [online("ada", "bob", "cat")]);
    await ask(bob, "/join #games");
    await ask(ada, "/join #games");
    assert.deepEqual(await ask(ada, "/who"), [
      online("ada", "bob"),
      operators("bob"),
    ]);
    assert.deepEqual(await ask(ada, "/who #games"), [
      onlineIn("#games", "ada", "bob"),
    ]);
    assert.deepEqual(await ask(ada, "/who #chat"), [
      onlineIn("#chat", "ada", "bob", "cat"),
    ]);
    assert.deepEqual(await ask(ada, "/who #cards"), [noSuchRoom("#cards")]);
    // Anyone may look into a room, from outside it.
    assert.deepEqual(await ask(cat, "/who #games"), [
      onlineIn("#games", "ada", "bob"),
    ]);
    await ask(cat, "/part");
    assert.deepEqual(await ask(cat, "/who"), [online("ada", "bob", "cat")]);
    assert.deepEqual(await since(ada), [
      inRoom("#chat", leftRoom("cat", "#chat")),
    ]);
    assert.deepEqual(await ask(ada, "/who #chat"), [
      onlineIn("#chat", "ada", "bob"),
    ]);
    // A room whose operators all left has none.
    await ask(bob, "/part #games");
    assert.deepEqual(await since(ada), [leftRoom("bob", "#games")]);
    assert.deepEqual(await ask(ada, "/who"), [online("ada")]);
  });
});

Deno.test("/topic shows, sets and clears the current room's topic, and tells its members", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const cat = await join("cat");
    await ask(ada, "/join #games");
    await ask(bob, "/join #games");
    await since(ada);
    assert.deepEqual(await ask(bob, "/topic"), [noTopic("#games")]);
    await ada.send("/topic Board games tonight");
    await bob.next(topicSet("ada", "#games", "Board games tonight"));
    assert.deepEqual(await since(ada), [
      topicSet("ada", "#games", "Board games tonight"),
    ]);
    assert.deepEqual(await ask(bob, "/topic"), [
      topicOf("#games", "Board games tonight"),
    ]);
    // Not the main room's members.
    assert.deepEqual(await since(cat), []);
    assert.deepEqual(await ask(cat, "/topic"), [noTopic("#chat")]);
    // From another room: the prefix.
    await ask(ada, "/join #chat");
    await bob.send("/topic Chess at eight");
    await bob.next(topicSet("bob", "#games", "Chess at eight"));
    assert.deepEqual(await since(ada), [
      inRoom("#games", topicSet("bob", "#games", "Chess at eight")),
    ]);
    // In no room there is no topic to show or set.
    await ask(cat, "/part");
    assert.deepEqual(await ask(cat, "/topic"), [IN_NO_ROOM]);
    assert.deepEqual(await ask(cat, "/topic Mine"), [IN_NO_ROOM]);
  });
});

Deno.test("a topic cleared (by IRC's TOPIC, the line protocol has no way) reaches line members as its notice", async () => {
  await withRooms(
    { irc: { port: 0, serverName: "irc.test" } },
    async (ts) => {
      const bob = await ts.join("bob");
      await ask(bob, "/join #games");
      const ircPort = ts.server.ircAddr!.port;
      const ada = ts.track(
        await IrcLineClient.joined(ircPort, "ada", "#games"),
      );
      assert.deepEqual(await since(bob), [joinedRoom("ada", "#games")]);
      await ada.send("TOPIC #games :Board games tonight");
      await bob.next(topicSet("ada", "#games", "Board games tonight"));
      await ada.send("TOPIC #games :");
      await bob.next(topicCleared("ada", "#games"));
      assert.deepEqual(await ask(bob, "/topic"), [noTopic("#games")]);
      assert.deepEqual(await ask(bob, "/rooms"), [
        "Rooms (2):",
        "#chat (1)",
        "#games (2)",
      ]);
    },
  );
});

Deno.test("room operators: the creator is one; /op, /deop, /topiclock; others are refused", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const cat = await join("cat");
    await ask(ada, "/join #games");
    await ask(bob, "/join #games");
    await ask(cat, "/join #games");
    await since(ada);
    await since(bob);
    assert.deepEqual(await ask(cat, "/who"), [
      online("ada", "bob", "cat"),
      operators("ada"),
    ]);

    for (
      const command of [
        "/op cat",
        "/deop ada",
        "/kick ada",
        "/kick ada go away",
        "/topiclock on",
        "/topiclock off",
      ]
    ) {
      assert.deepEqual(await ask(bob, command), [onlyOperators("#games")]);
    }
    assert.deepEqual(await since(ada), []);
    assert.deepEqual(await since(cat), []);

    await ada.send("/op bob");
    await cat.next(opped("ada", "bob", "#games"));
    assert.deepEqual(await since(bob), [opped("ada", "bob", "#games")]);
    // The operator who did it is a member too.
    assert.deepEqual(await since(ada), [opped("ada", "bob", "#games")]);
    assert.deepEqual(await ask(cat, "/who"), [
      online("ada", "bob", "cat"),
      operators("ada", "bob"),
    ]);
    // bob is an operator now.
    await bob.send("/topiclock on");
    await cat.next(topicLocked("bob", "#games", true));
    assert.deepEqual(await since(ada), [topicLocked("bob", "#games", true)]);
    assert.deepEqual(await since(bob), [topicLocked("bob", "#games", true)]);
    assert.deepEqual(await ask(cat, "/topic Mine now"), [
      onlyOperators("#games"),
    ]);
    assert.deepEqual(await ask(cat, "/topic"), [noTopic("#games")]);
    await ada.send("/topic Operators only");
    await cat.next(topicSet("ada", "#games", "Operators only"));
    await ada.send("/topiclock off");
    await cat.next(topicLocked("ada", "#games", false));
    await cat.send("/topic Anyone's again");
    await bob.next(topicSet("cat", "#games", "Anyone's again"));

    await ada.send("/deop bob");
    await cat.next(deopped("ada", "bob", "#games"));
    assert.deepEqual(await since(bob), [deopped("ada", "bob", "#games")]);
    assert.deepEqual(await ask(bob, "/op cat"), [onlyOperators("#games")]);
    assert.deepEqual(await ask(cat, "/who"), [
      online("ada", "bob", "cat"),
      operators("ada"),
    ]);
  });
});

Deno.test("/kick takes a member out of the current room, not out of the chat", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    const cat = await join("cat");
    await ask(ada, "/join #games");
    await ask(bob, "/join #games");
    await ask(cat, "/join #games");
    await since(ada);
    await since(bob);

    await ada.send("/kick bob too loud");
    await bob.next(youWereKicked("#games", "ada", "too loud"));
    assert.deepEqual(await since(cat), [
      wasKicked("bob", "#games", "ada", "too loud"),
    ]);
    assert.deepEqual(await since(ada), [
      wasKicked("bob", "#games", "ada", "too loud"),
    ]);
    assert.deepEqual(await ask(ada, "/who #games"), [
      onlineIn("#games", "ada", "cat"),
    ]);
    // bob is still in the chat and in #chat, and hears #games no more.
    await ada.send("without bob");
    await cat.next("ada: without bob");
    await bob.send("/msg #chat still here");
    await ada.next(inRoom("#chat", "bob: still here"));
    assert.deepEqual(await since(bob), []);
    assert.deepEqual(await ask(bob, "/msg #games hello?"), [notIn("#games")]);

    // Without a reason; then the kicked member may come back.
    await ask(bob, "/join #games");
    await since(ada);
    await ada.send("/kick bob");
    await bob.next(youWereKicked("#games", "ada"));
    await cat.next(wasKicked("bob", "#games", "ada"));
    // Not in the room: nothing happens to anyone else.
    await ada.send("/kick bob");
    await ada.send("/kick nobody");
    await since(ada);
    assert.deepEqual(await since(cat), []);
    assert.deepEqual(await since(bob), []);
  });
});

Deno.test("the main room's operators are the server's: none yet, so room commands there are refused", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    for (
      const command of ["/op bob", "/deop bob", "/kick bob", "/topiclock on"]
    ) {
      assert.deepEqual(await ask(ada, command), [onlyOperators("#chat")]);
    }
    assert.deepEqual(await since(bob), []);
    assert.deepEqual(await ask(ada, "/who"), [online("ada", "bob")]);
  });
});

Deno.test("a room without members disappears with its topic and history; the main room never does", async () => {
  await withRooms({}, async (ts) => {
    const { join } = ts;
    const ada = await join("ada");
    const bob = await join("bob");
    await ask(ada, "/join #games");
    await ask(ada, "/topic Board games tonight");
    await ask(ada, "hello games");
    await ask(bob, "/join #games");
    await since(ada);
    await ask(ada, "/part #games");
    assert.deepEqual(await since(bob), [leftRoom("ada", "#games")]);
    assert.deepEqual(await ask(bob, "/who #games"), [
      onlineIn("#games", "bob"),
    ]);
    await ask(bob, "/part #games");
    assert.deepEqual(await ask(ada, "/who #games"), [noSuchRoom("#games")]);
    const rooms = await ask(ada, "/rooms");
    assert.deepEqual(rooms, ["Rooms (1):", "#chat (2)"]);
    // The last member leaving the chat empties a room too.
    const cat = await join("cat");
    await ask(cat, "/join #cats");
    await since(ada);
    assert.deepEqual(await ask(ada, "/who #cats"), [onlineIn("#cats", "cat")]);
    await cat.send("exit");
    await cat.received.closed();
    await waitUntil(
      () => !ts.server.room.names().includes("cat"),
      "cat to be gone",
    );
    assert.deepEqual(await since(ada), [left("cat")]);
    assert.deepEqual(await since(bob), [joined("cat"), left("cat")]);
    assert.deepEqual(await ask(ada, "/who #cats"), [noSuchRoom("#cats")]);
    // Re-created: no topic, no history, and a new operator.
    assert.deepEqual(await ask(bob, "/join #games"), [youJoined("#games", 1)]);
    assert.deepEqual(await ask(bob, "/topic"), [noTopic("#games")]);
    assert.deepEqual(await ask(bob, "/who"), [
      online("bob"),
      operators("bob"),
    ]);

    // The main room: everyone leaves it, and it stays with its history.
    await ask(ada, "in the main room");
    await ask(ada, "/part #chat");
    await ask(bob, "/part #chat");
    const emptied = await ask(ada, "/rooms");
    assert.equal(emptied[0], "Rooms (2):");
    assert.deepEqual(roomLines(emptied), ["#chat (0)", "#games (1)"]);
    assert.deepEqual(unstamped(await ask(ada, "/join #chat")), [
      youJoined("#chat", 1),
      "[HH:MM] ada: in the main room",
      endOfHistory(1),
    ]);
  });
});

Deno.test("private messages are unchanged, in rooms or in none", async () => {
  await withRooms({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    assert.deepEqual(await ask(ada, "/part #chat"), [youLeft("#chat", null)]);
    assert.deepEqual(await ask(ada, "/join #games"), [youJoined("#games", 1)]);
    await ada.send("@bob psst");
    await bob.next("Private message from ada: psst");
    await bob.send("/msg ada hi");
    await ada.next("Private message from bob: hi");
    await bob.send("@ADA case");
    await ada.next("Private message from bob: case");
    assert.deepEqual(await ask(ada, "@nobody hi"), [
      'Client "nobody" not found.',
    ]);
    assert.deepEqual(await ask(ada, "@bob"), [
      "Usage: @<client_name> <message>",
    ]);
    assert.deepEqual(await ask(ada, "/part"), [youLeft("#games", null)]);
    await ada.send("@bob from no room");
    await bob.next("Private message from ada: from no room");
    assert.deepEqual(await since(bob), []);
  });
});

Deno.test("the log keeps every room: the main room's lines as today, another room's with [#room] after the timestamp", async () => {
  await withRooms({}, async (ts) => {
    const ada = await ts.join("ada");
    const bob = await ts.join("bob");
    await ask(ada, "/join #games");
    await ask(bob, "/join #games");
    await ada.send("in games");
    await ada.send("/me rolls a die");
    await bob.next("* ada rolls a die");
    await bob.send("/msg #chat in chat");
    await bob.send("/me waves");
    await ada.next("* bob waves");
    await ada.send("/msg #chat also chat");
    await ask(ada, "/me nods");
    // What the issue leaves to the texts: topics, operators, kicks, parts.
    await ask(ada, "/topic Dice");
    await ask(ada, "/topiclock on");
    await ask(ada, "/op bob");
    await ask(ada, "/kick bob rude");
    await bob.next(youWereKicked("#games", "ada", "rude"));
    await ask(bob, "/join #games");
    await ask(bob, "/part #games later");
    await bob.send("/quit see you tomorrow");
    await bob.received.closed();
    await ts.logged("bob has left the chat (see you tomorrow)");

    const raw = Deno.readTextFileSync(ts.logPath).split("\n").filter((l) =>
      l !== ""
    );
    for (const line of raw) {
      assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/);
    }
    const address = String.raw`\(127\.0\.0\.1:\d+\)`;
    const expected = [
      /^Server is now alive and listening on /,
      new RegExp(`^Client ada has joined the chat room ${address}$`),
      new RegExp(`^Client bob has joined the chat room ${address}$`),
      new RegExp(`^\\[#games\\] Client ada has joined #games ${address}$`),
      new RegExp(`^\\[#games\\] Client bob has joined #games ${address}$`),
      "[#games] ada: in games",
      "[#games] * ada rolls a die",
      "bob: in chat",
      "[#games] * bob waves",
      "ada: also chat",
      "[#games] * ada nods",
      "[#games] ada set the topic of #games: Dice",
      "[#games] ada locked the topic of #games",
      "[#games] ada made bob an operator of #games",
      "[#games] bob was kicked from #games by ada (rude)",
      new RegExp(`^\\[#games\\] Client bob has joined #games ${address}$`),
      "[#games] bob has left #games (later)",
      "bob has left the chat (see you tomorrow)",
    ];
    const events = readLogEventsSync(ts.logPath);
    assert.equal(events.length, expected.length, events.join(" | "));
    expected.forEach((pattern, i) => {
      if (typeof pattern === "string") assert.equal(events[i], pattern);
      else assert.match(events[i], pattern);
    });
  });
});

Deno.test("--max-rooms: a room past the limit is refused and the connection goes on", async () => {
  await withRooms({ limits: { maxRooms: 3 } }, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    // #chat, #one and #two are the server's three rooms.
    assert.deepEqual(await ask(ada, "/join #one"), [youJoined("#one", 1)]);
    assert.deepEqual(await ask(ada, "/join #two"), [youJoined("#two", 1)]);
    assert.deepEqual(await ask(bob, "/join #three"), [tooManyRooms(3)]);
    const rooms = await ask(bob, "/rooms");
    assert.equal(rooms[0], "Rooms (3):");
    assert.deepEqual(roomLines(rooms), ["#chat (2)", "#one (1)", "#two (1)"]);
    // An existing room may still be joined.
    assert.deepEqual(await ask(bob, "/join #one"), [youJoined("#one", 2)]);
    await bob.send("still talking");
    await ada.next(inRoom("#one", "bob: still talking"));
    // Once a room is gone, another may be made.
    await ask(ada, "/part #two");
    assert.deepEqual(await ask(bob, "/join #three"), [youJoined("#three", 1)]);
  });
});

Deno.test("--max-joins: a join past the member's limit is refused and the connection goes on", async () => {
  await withRooms({ limits: { maxJoins: 2 } }, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ada.next(joined("bob"));
    assert.deepEqual(await ask(ada, "/join #one"), [youJoined("#one", 1)]);
    assert.deepEqual(await ask(ada, "/join #two"), [tooManyJoins(2)]);
    assert.deepEqual(await ask(ada, "/join #chat"), [currentRoom("#chat")]);
    await ada.send("still talking");
    await bob.next("ada: still talking");
    assert.deepEqual(await ask(bob, "/who #two"), [noSuchRoom("#two")]);
    await ask(ada, "/part #one");
    assert.deepEqual(await ask(ada, "/join #two"), [youJoined("#two", 1)]);
  });
});

Deno.test("a main room other than #chat: the same protocol, under its name", async () => {
  await withRooms({ mainRoom: "#lobby" }, async (ts) => {
    const ada = await ts.join("ada");
    const bob = await ts.join("bob");
    await ada.next(joined("bob"));
    await bob.send("hello");
    await ada.next("bob: hello");
    // Today's welcome, byte for byte, whatever the main room is called.
    assert.deepEqual(ada.received.lines.slice(0, 6), [
      NAME_PROMPT,
      ...welcome("ada"),
    ]);
    assert.deepEqual(await ask(ada, "/rooms"), ["Rooms (1):", "#lobby (2)"]);
    assert.deepEqual(await ask(ada, "/join #LOBBY"), [currentRoom("#lobby")]);
    assert.deepEqual(await ask(ada, "/who"), [online("ada", "bob")]);
    assert.deepEqual(await ask(ada, "/op bob"), [onlyOperators("#lobby")]);
    assert.deepEqual(await ask(ada, "/topic"), [noTopic("#lobby")]);
    // #chat is an ordinary room here.
    assert.deepEqual(await ask(ada, "/who #chat"), [noSuchRoom("#chat")]);
    assert.deepEqual(await ask(ada, "/join #chat"), [youJoined("#chat", 1)]);
    assert.deepEqual(await ask(ada, "/who"), [online("ada"), operators("ada")]);
    await ada.send("in chat");
    await bob.send("in the lobby");
    assert.deepEqual(await since(ada), [inRoom("#lobby", "bob: in the lobby")]);
    assert.deepEqual(await ask(ada, "/part #lobby"), [
      youLeft("#lobby", "#chat"),
    ]);
    assert.deepEqual(await since(bob), [leftRoom("ada", "#lobby")]);
    assert.deepEqual(await ask(ada, "/part"), [youLeft("#chat", null)]);
    // The main room stays, empty of ada; #chat is gone.
    const rooms = await ask(ada, "/rooms");
    assert.deepEqual(rooms, ["Rooms (1):", "#lobby (1)"]);
    // Back in the main room: today's notice to its members.
    assert.deepEqual(unstamped(await ask(ada, "/join #lobby")), [
      youJoined("#lobby", 2),
      "[HH:MM] bob: hello",
      "[HH:MM] bob: in the lobby",
      endOfHistory(2),
    ]);
    assert.deepEqual(await since(bob), [joined("ada")]);
    // The log: the main room's lines as today, #chat's with its name.
    await ts.logged("[#chat] ada: in chat");
    const events = readLogEventsSync(ts.logPath);
    assert.ok(events.includes("bob: hello"), events.join(" | "));
    assert.ok(events.includes("bob: in the lobby"), events.join(" | "));
    assert.ok(
      !events.some((e) => e.startsWith("[#lobby]")),
      events.join(" | "),
    );
  });
});

Deno.test("server process: --irc-channel names the main room, --max-rooms and --max-joins limit rooms", async () => {
  await scoped(async ({ dir, track, join }) => {
    const server = track(
      await spawnServer([
        "--irc-channel",
        "#lobby",
        "--max-rooms",
        "3",
        "--max-joins",
        "2",
        "--log",
        `${dir}/chat.log`,
      ], { cwd: dir }),
    );
    const ada = await join(server.port, "ada");
    const bob = await join(server.port, "bob");
    await ada.next(joined("bob"));
    assert.deepEqual(await ask(ada, "/rooms"), ["Rooms (1):", "#lobby (2)"]);
    assert.deepEqual(await ask(ada, "/join #a"), [youJoined("#a", 1)]);
    assert.deepEqual(await ask(ada, "/join #b"), [tooManyJoins(2)]);
    assert.deepEqual(await ask(bob, "/part"), [youLeft("#lobby", null)]);
    assert.deepEqual(await since(ada), [
      inRoom("#lobby", leftRoom("bob", "#lobby")),
    ]);
    assert.deepEqual(await ask(bob, "/join #b"), [youJoined("#b", 1)]);
    assert.deepEqual(await ask(bob, "/join #c"), [tooManyRooms(3)]);
    // The connections go on.
    await bob.send("/msg #b still here");
    await bob.send("@ada still here");
    await ada.next("Private message from bob: still here");
  });
});

Deno.test("server process: a bad --irc-channel or --main-room is one line and exit 2", async () => {
  for (
    const args of [
      ["--irc-channel", "lobby"],
      ["--main-room", "#bad!name"],
      ["--max-rooms", "many"],
    ]
  ) {
    await scoped(async ({ dir, track }) => {
      const server = track(spawnProgram("server.ts", [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-web",
        ...args,
        "--log",
        `${dir}/chat.log`,
      ], { cwd: dir }));
      const status = await server.status(START_MS);
      assert.equal(status.code, 2, args.join(" "));
      assertNoStackTrace(server.stderr.lines);
      const errors = nonEmpty(server.stderr.lines);
      assert.equal(errors.length, 1, errors.join(" | "));
      assert.ok(errors[0].includes(args[0]), errors[0]);
      assert.ok(
        !server.stdout.lines.some((l) => l.startsWith("Server is listening")),
      );
    });
  }
});

Deno.test("a room's history keeps today's number of messages", async () => {
  await withRooms({ limits: { historyMessages: 2 } }, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob");
    await ask(ada, "/join #games");
    await ada.send("one");
    await ada.send("two");
    await ada.send("/me three");
    await since(ada);
    assert.deepEqual(unstamped(await ask(bob, "/join #games")), [
      youJoined("#games", 2),
      "[HH:MM] ada: two",
      "[HH:MM] * ada three",
      endOfHistory(2),
    ]);
  });
});

Deno.test("after a restart only the main room exists, its history from the log without other rooms' lines", async () => {
  await scoped(async ({ dir }) => {
    const logPath = `${dir}/chat.log`;
    const options = {
      logPath,
      limits: { floodRate: 0, maxPerIp: 0 },
    };
    {
      await using ts = await startTestServer(options);
      const ada = await ts.join("ada");
      const bob = await ts.join("bob");
      await ask(ada, "/join #games");
      await ask(ada, "/topic Board games tonight");
      await ask(bob, "/join #games");
      await ada.send("in games");
      await ada.send("/me rolls a die");
      await bob.next("* ada rolls a die");
      await ada.send("/msg #chat in chat");
      await ask(bob, "/msg #chat from bob");
      await ts.logged("bob: from bob");
    }
    await using ts = await startTestServer(options);
    const cat = await ts.join("cat");
    assert.deepEqual(unstamped(await cat.received.until(/^\*\*\* End of/)), [
      "[HH:MM] ada: in chat",
      "[HH:MM] bob: from bob",
      endOfHistory(2),
    ]);
    assert.deepEqual(await ask(cat, "/rooms"), ["Rooms (1):", "#chat (1)"]);
    assert.deepEqual(await ask(cat, "/who #games"), [noSuchRoom("#games")]);
    assert.deepEqual(unstamped(await ask(cat, "/join #games")), [
      youJoined("#games", 1),
    ]);
  });
});
