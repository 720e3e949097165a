/**
 * The client sorts the server's lines with the patterns of
 * lib/client/server_lines.ts; these checks keep them in step with the texts
 * the server sends (lib/room/texts.ts): a changed text fails here.
 */

import assert from "node:assert/strict";
import { parseServerLine } from "../lib/client/server_lines.ts";
import {
  accountNoticeText,
  accountText,
  serverText,
} from "../lib/room/texts.ts";

Deno.test("server lines: messages, private messages and actions name their sender", () => {
  for (const name of ["bob", "zoë", "漢字", "a.b-c_d"]) {
    assert.deepEqual(parseServerLine(serverText.broadcast(name, "hi: x")), {
      kind: "message",
      from: name,
      text: "hi: x",
    });
    assert.deepEqual(parseServerLine(serverText.privateMessage(name, "psst")), {
      kind: "private",
      from: name,
      text: "psst",
    });
    assert.deepEqual(parseServerLine(serverText.action(name, "waves")), {
      kind: "action",
      from: name,
      text: "waves",
    });
  }
});

Deno.test("server lines: joins, leaves, renames and the welcome", () => {
  assert.deepEqual(parseServerLine(serverText.joined("bob")), {
    kind: "joined",
    name: "bob",
  });
  assert.deepEqual(parseServerLine(serverText.left("bob")), {
    kind: "left",
    name: "bob",
  });
  assert.deepEqual(parseServerLine(serverText.removed("bob")), {
    kind: "left",
    name: "bob",
  });
  assert.deepEqual(parseServerLine(serverText.renamedNotice("bob", "rob")), {
    kind: "renamed",
    from: "bob",
    to: "rob",
  });
  assert.deepEqual(parseServerLine(serverText.renamed("ada2")), {
    kind: "renamedSelf",
    name: "ada2",
  });
  assert.deepEqual(parseServerLine(serverText.welcome("ada")[0]), {
    kind: "welcome",
    name: "ada",
  });
});

Deno.test("server lines: who is online, history and its end, notices", () => {
  for (const names of [[], ["ada"], ["ada", "bob", "zoë"]]) {
    assert.deepEqual(parseServerLine(serverText.online(names)), {
      kind: "online",
      names,
    });
  }
  const said = serverText.broadcast("bob", "hello");
  assert.deepEqual(parseServerLine(serverText.historyLine("09:14", said)), {
    kind: "history",
  });
  for (const count of [0, 1, 2, 500]) {
    assert.deepEqual(parseServerLine(serverText.historyEnd(count)), {
      kind: "historyEnd",
    });
    assert.deepEqual(parseServerLine(accountText.historySinceEnd(count)), {
      kind: "historyEnd",
    });
  }
  for (
    const line of [
      serverText.announcement("maintenance at noon"),
      serverText.roomSplit,
      serverText.roomWhole,
    ]
  ) {
    assert.deepEqual(parseServerLine(line), { kind: "notice" }, line);
  }
});

Deno.test("server lines: prompts and the server's own answers are no one's message", () => {
  for (
    const line of [
      serverText.namePrompt,
      serverText.passwordPrompt,
      serverText.privateUsage,
      serverText.meUsage,
      serverText.nickUsage,
      serverText.notFound("zed"),
      serverText.goodbye("ada"),
      serverText.shuttingDown,
    ]
  ) {
    assert.deepEqual(parseServerLine(line), { kind: "other" }, line);
  }
});

Deno.test("server lines: the answers about the user's rooms name the room", () => {
  for (const room of ["#games", "#a", "#Board_games-2", `#${"x".repeat(32)}`]) {
    for (const members of [1, 2, 1000]) {
      for (const topic of [null, "Board games: (tonight)."]) {
        assert.deepEqual(
          parseServerLine(serverText.youJoined(room, members, topic)),
          { kind: "youJoined", room },
        );
      }
    }
    assert.deepEqual(parseServerLine(serverText.currentRoom(room)), {
      kind: "currentRoom",
      room,
    });
    assert.deepEqual(parseServerLine(serverText.youLeft(room, "#chat")), {
      kind: "youLeft",
      room,
      current: "#chat",
    });
    assert.deepEqual(parseServerLine(serverText.youLeft(room, null)), {
      kind: "youLeft",
      room,
      current: null,
    });
    for (const reason of ["", "spam", "too loud (again)."]) {
      assert.deepEqual(
        parseServerLine(serverText.youWereKicked(room, "ada", reason)),
        { kind: "youWereKicked", room, by: "ada" },
      );
    }
  }
});

Deno.test("server lines: others joining and leaving a room, leaving the chat with a reason", () => {
  assert.deepEqual(parseServerLine(serverText.joinedRoom("bob", "#games")), {
    kind: "joinedRoom",
    name: "bob",
    room: "#games",
  });
  for (const reason of ["", "dinner", "bye (for now)."]) {
    assert.deepEqual(
      parseServerLine(serverText.leftRoom("bob", "#games", reason)),
      { kind: "leftRoom", name: "bob", room: "#games" },
    );
  }
  // Leaving the chat is leaving it, whether a reason was given or not.
  assert.deepEqual(
    parseServerLine(serverText.leftChatSaying("bob", "see you (tomorrow)")),
    { kind: "left", name: "bob" },
  );
  // The main room's join and leave stay today's lines.
  assert.deepEqual(parseServerLine(serverText.joined("bob")), {
    kind: "joined",
    name: "bob",
  });
});

Deno.test("server lines: /rooms, /who #room and the refusals that name a room", () => {
  for (const count of [0, 1, 12]) {
    assert.deepEqual(parseServerLine(serverText.roomsHeader(count)), {
      kind: "roomsHeader",
    });
  }
  assert.deepEqual(parseServerLine(serverText.roomLine("#chat", 3, null)), {
    kind: "roomLine",
    room: "#chat",
  });
  assert.deepEqual(
    parseServerLine(serverText.roomLine("#games", 1, "Board games: 8 pm")),
    { kind: "roomLine", room: "#games" },
  );
  for (const names of [["ada"], ["ada", "bob", "zoë"]]) {
    assert.deepEqual(parseServerLine(serverText.onlineIn("#games", names)), {
      kind: "onlineIn",
      room: "#games",
      names,
    });
  }
  assert.deepEqual(parseServerLine(serverText.noSuchRoom("#games")), {
    kind: "noSuchRoom",
    room: "#games",
  });
  assert.deepEqual(parseServerLine(serverText.notInRoom("#games")), {
    kind: "notInRoom",
    room: "#games",
  });
  assert.deepEqual(parseServerLine(serverText.inNoRoom), { kind: "inNoRoom" });
  // Room notices the client does not follow are notices all the same.
  for (
    const line of [
      serverText.topicSet("ada", "#games", "chess"),
      serverText.topicCleared("ada", "#games"),
      serverText.wasKicked("bob", "#games", "ada", ""),
      serverText.opped("ada", "bob", "#games"),
      serverText.topicLocked("ada", "#games", true),
    ]
  ) {
    assert.deepEqual(parseServerLine(line), { kind: "notice" }, line);
  }
});

Deno.test("server lines: a line of another room is the room and the line as any other", () => {
  const inRoom = (line: string) => serverText.inRoom("#games", line);
  assert.deepEqual(parseServerLine(inRoom(serverText.broadcast("cat", "hi"))), {
    kind: "inRoom",
    room: "#games",
    line: { kind: "message", from: "cat", text: "hi" },
  });
  assert.deepEqual(parseServerLine(inRoom(serverText.action("cat", "waves"))), {
    kind: "inRoom",
    room: "#games",
    line: { kind: "action", from: "cat", text: "waves" },
  });
  assert.deepEqual(parseServerLine(inRoom(serverText.joined("cat"))), {
    kind: "inRoom",
    room: "#games",
    line: { kind: "joined", name: "cat" },
  });
  // Sorted once: a tag inside a tag is no room line.
  assert.deepEqual(parseServerLine(inRoom(inRoom("cat: hi"))), {
    kind: "inRoom",
    room: "#games",
    line: { kind: "other" },
  });
  // A history line's time is no room, nor is a name without `#`.
  assert.deepEqual(
    parseServerLine(serverText.historyLine("09:14", "cat: hi")),
    { kind: "history" },
  );
  assert.deepEqual(parseServerLine("[games] cat: hi"), { kind: "other" });
});

Deno.test("server lines: a registered name's password asked, refused, set and given up name it", () => {
  for (const name of ["ada", "ADA", "bob|away", "たなか"]) {
    const cases: [string, unknown][] = [
      [accountText.passwordPrompt(name), { kind: "accountPrompt", name }],
      [accountText.wrongPassword(name), { kind: "loginRefused", name }],
      [accountText.loginDelayed(name, 1), { kind: "loginRefused", name }],
      [accountText.loginDelayed(name, 30), { kind: "loginRefused", name }],
      [
        accountText.loginLocked(name, "2026-12-08 14:30"),
        { kind: "loginRefused", name },
      ],
      [accountText.registered(name), { kind: "accountSet", name }],
      [
        accountNoticeText({ kind: "passwordChanged", name }),
        { kind: "accountSet", name },
      ],
      [
        accountNoticeText({ kind: "unregistered", name }),
        { kind: "accountGone", name },
      ],
    ];
    for (const [line, expected] of cases) {
      assert.deepEqual(parseServerLine(line), expected, line);
    }
  }
  // A member's line can look like none of them.
  assert.equal(
    parseServerLine(serverText.broadcast("Password", "for ada:")).kind,
    "message",
  );
  assert.equal(
    parseServerLine(serverText.inRoom("#a", "Password for ada:")).kind,
    "inRoom",
  );
});
