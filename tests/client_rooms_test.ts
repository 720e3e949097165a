/**
 * The client's book of rooms (lib/client/rooms.ts), fed the server's own
 * lines (lib/room/texts.ts) through the client's parser, what
 * `--reconnect` sends to come back to the same rooms, and Tab's room
 * names (lib/client/completion.ts).
 */

import assert from "node:assert/strict";
import { complete, NameBook } from "../lib/client/completion.ts";
import { MAIN_ROOM, rejoinCommands, RoomBook } from "../lib/client/rooms.ts";
import { parseServerLine } from "../lib/client/server_lines.ts";
import { serverText } from "../lib/room/texts.ts";

/** A book that has read `lines` after a welcome. */
function bookAfter(...lines: string[]): RoomBook {
  const book = new RoomBook();
  for (const line of [serverText.welcome("ada")[0], ...lines]) {
    book.follow(parseServerLine(line));
  }
  return book;
}

Deno.test("room book: at start the user is in the main room alone, its name unknown", () => {
  const book = bookAfter();
  assert.equal(book.onlyMain, true);
  assert.equal(book.current, MAIN_ROOM);
  assert.equal(book.main, null);
  assert.deepEqual(book.joined, []);
  assert.deepEqual(rejoinCommands(book.snapshot()), []);
});

Deno.test("room book: /join makes a room current, a second /join switches back", () => {
  const book = bookAfter(
    serverText.youJoined("#games", 2, null),
    serverText.youJoined("#lab", 1, "Breakout room"),
  );
  assert.equal(book.current, "#lab");
  assert.equal(book.onlyMain, false);
  assert.deepEqual(book.joined, ["#games", "#lab"]);
  book.follow(parseServerLine(serverText.currentRoom("#games")));
  assert.equal(book.current, "#games");
  // The main room is still unnamed: no line named it.
  assert.equal(book.main, null);
  assert.deepEqual(rejoinCommands(book.snapshot()), [
    "/join #lab",
    "/join #games",
  ]);
});

Deno.test("room book: the main room is named by the first line that puts the user in a room it never joined", () => {
  // `/join #chat` from the main room: the server says it is current.
  let book = bookAfter(serverText.currentRoom("#chat"));
  assert.equal(book.main, "#chat");
  assert.equal(book.onlyMain, true);
  // A line of the main room seen from another room.
  book = bookAfter(
    serverText.youJoined("#games", 2, null),
    serverText.inRoom("#lobby", serverText.broadcast("cat", "hello")),
  );
  assert.equal(book.main, "#lobby");
  assert.equal(book.current, "#games");
  assert.deepEqual(book.joined, ["#lobby", "#games"]);
  // Leaving #games for it.
  book = bookAfter(
    serverText.youJoined("#games", 2, null),
    serverText.youLeft("#games", "#chat"),
  );
  assert.equal(book.main, "#chat");
  assert.equal(book.current, "#chat");
  assert.equal(book.onlyMain, true);
  assert.deepEqual(rejoinCommands(book.snapshot()), []);
});

Deno.test("room book: leaving every room is being in no room; a rejoin leaves the main room again", () => {
  const book = bookAfter(
    serverText.youJoined("#games", 2, null),
    serverText.youLeft("#chat", "#games"),
  );
  assert.equal(book.main, "#chat");
  assert.deepEqual(book.joined, ["#games"]);
  assert.deepEqual(rejoinCommands(book.snapshot()), [
    "/join #games",
    "/part #chat",
  ]);
  book.follow(parseServerLine(serverText.youLeft("#games", null)));
  assert.equal(book.current, null);
  assert.deepEqual(book.joined, []);
  assert.deepEqual(rejoinCommands(book.snapshot()), ["/part #chat"]);
});

Deno.test("room book: the main room made current again is joined last on a rejoin", () => {
  const book = bookAfter(
    serverText.youJoined("#games", 2, null),
    serverText.youJoined("#lab", 2, null),
    serverText.currentRoom("#chat"),
  );
  assert.equal(book.current, "#chat");
  assert.deepEqual(rejoinCommands(book.snapshot()), [
    "/join #games",
    "/join #lab",
    "/join #chat",
  ]);
});

Deno.test("room book: a kick from the current room makes the room joined last current, as the server does", () => {
  const book = bookAfter(
    serverText.youJoined("#games", 2, null),
    serverText.youJoined("#lab", 2, null),
    serverText.youJoined("#quiz", 2, null),
    serverText.currentRoom("#lab"),
    serverText.youWereKicked("#lab", "bob", "too loud"),
  );
  assert.equal(book.current, "#quiz");
  assert.deepEqual(book.joined, ["#games", "#quiz"]);
  // A kick from a room that is not the current one changes nothing else.
  book.follow(parseServerLine(serverText.youWereKicked("#games", "bob", "")));
  assert.equal(book.current, "#quiz");
  book.follow(parseServerLine(serverText.youWereKicked("#quiz", "bob", "")));
  assert.equal(book.current, MAIN_ROOM);
  assert.equal(book.onlyMain, true);
});

Deno.test("room book: room names are compared without regard to case", () => {
  const book = bookAfter(
    serverText.youJoined("#Games", 2, null),
    serverText.youJoined("#lab", 2, null),
    serverText.currentRoom("#GAMES"),
  );
  assert.deepEqual(book.joined, ["#Games", "#lab"]);
  assert.ok(book.isIn("#games"));
  book.follow(parseServerLine(serverText.youLeft("#games", "#lab")));
  assert.deepEqual(book.joined, ["#lab"]);
});

Deno.test("room book: a new welcome starts afresh in the main room", () => {
  const book = bookAfter(
    serverText.youJoined("#games", 2, null),
    serverText.youLeft("#chat", "#games"),
  );
  book.follow(parseServerLine(serverText.welcome("ada")[0]));
  assert.equal(book.onlyMain, true);
  assert.equal(book.current, MAIN_ROOM);
  assert.deepEqual(book.joined, []);
});

Deno.test("room book: the rooms known are the user's, then those seen, and /rooms forgets the rooms gone", () => {
  const book = bookAfter(
    serverText.youJoined("#lab", 2, null),
    serverText.inRoom("#chat", serverText.joinedRoom("cat", "#chat")),
    serverText.onlineIn("#quiz", ["ada"]),
  );
  assert.deepEqual(book.known, ["#chat", "#lab", "#quiz"]);
  for (
    const line of [
      serverText.roomsHeader(3),
      serverText.roomLine("#chat", 3, null),
      serverText.roomLine("#lab", 2, null),
      serverText.roomLine("#board", 2, "Board games"),
    ]
  ) {
    book.follow(parseServerLine(line));
  }
  assert.deepEqual(book.known, ["#chat", "#lab", "#board"]);
  book.follow(parseServerLine(serverText.noSuchRoom("#board")));
  book.follow(parseServerLine(serverText.noSuchRoom("#lab")));
  assert.deepEqual(book.known, ["#chat", "#lab"]);
});

Deno.test("name book: a /who of one room adds names and removes none; a welcome starts afresh", () => {
  const names = new NameBook();
  for (
    const line of [
      serverText.online(["ada", "bob", "cat"]),
      serverText.onlineIn("#games", ["ada", "dan"]),
      serverText.inRoom("#chat", serverText.joined("eve")),
      serverText.joinedRoom("fay", "#games"),
      serverText.leftRoom("cat", "#games", ""),
      serverText.leftChatSaying("bob", "bye"),
    ]
  ) {
    names.follow(parseServerLine(line));
  }
  assert.deepEqual(names.names, ["ada", "cat", "dan", "eve", "fay"]);
  names.follow(parseServerLine(serverText.welcome("ada")[0]));
  assert.deepEqual(names.names, []);
});

const ROOMS = {
  known: ["#games", "#gardening", "#lab", "#zoo"],
  joined: ["#games", "#lab"],
};
const NAMES = ["bob", "gus"];

function tab(text: string, cursor = text.length) {
  return complete({ text, cursor, names: NAMES, rooms: ROOMS });
}

Deno.test("completion: /join completes any room seen, with or without its #", () => {
  assert.deepEqual(tab("/join #z"), {
    text: "/join #zoo ",
    cursor: 11,
    candidates: [],
  });
  assert.deepEqual(tab("/join zo"), {
    text: "/join #zoo ",
    cursor: 11,
    candidates: [],
  });
  assert.deepEqual(tab("/JOIN #ga"), {
    text: "/JOIN #ga",
    cursor: 9,
    candidates: ["#games", "#gardening"],
  });
  // Tab on no word lists the rooms.
  assert.deepEqual(tab("/join ").candidates, ROOMS.known);
  // Only the first argument is a room.
  assert.deepEqual(tab("/join #games g"), {
    text: "/join #games gus ",
    cursor: 17,
    candidates: [],
  });
});

Deno.test("completion: /part completes the user's rooms only", () => {
  assert.deepEqual(tab("/part #g"), {
    text: "/part #games ",
    cursor: 13,
    candidates: [],
  });
  assert.deepEqual(tab("/part #z").text, "/part #z");
  assert.deepEqual(tab("/part ").candidates, ROOMS.joined);
});

Deno.test("completion: /msg completes a name, or with # one of the user's rooms", () => {
  assert.deepEqual(tab("/msg g").text, "/msg gus ");
  assert.deepEqual(tab("/msg #l").text, "/msg #lab ");
  assert.deepEqual(tab("/msg #zo").text, "/msg #zo");
  // No word: nothing, as before rooms.
  assert.deepEqual(tab("/msg ").candidates, []);
  // In the middle of a line, before what follows.
  assert.deepEqual(tab("/msg #la hello", 8), {
    text: "/msg #lab hello",
    cursor: 10,
    candidates: [],
  });
});

Deno.test("completion: the room commands complete as commands", () => {
  assert.deepEqual(tab("/jo").text, "/join ");
  assert.deepEqual(tab("/pa").text, "/part ");
  assert.deepEqual(tab("/topic").candidates, ["/topic", "/topiclock"]);
  // Without rooms given, a word after /join is a name as before.
  assert.equal(
    complete({ text: "/join g", cursor: 7, names: NAMES }).text,
    "/join gus ",
  );
});
