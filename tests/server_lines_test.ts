/**
 * The client sorts the server's lines with the patterns of
 * lib/client/server_lines.ts; these checks keep them in step with the texts
 * the server sends (lib/room/texts.ts): a changed text fails here.
 */

import assert from "node:assert/strict";
import { parseServerLine } from "../lib/client/server_lines.ts";
import { serverText } from "../lib/room/texts.ts";

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
