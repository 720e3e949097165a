/**
 * The web socket's room events (issue 19), without a browser: each new
 * object's fields and English `text` (the line a TCP user sees), and the
 * `room` field the old objects gained, over a real WebSocket beside real
 * TCP clients. The texts are written out as the issue gives them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestScope, withServer } from "./helpers.ts";
import { type WebFrame, WebTestClient } from "./support/web_client.ts";

/** A frame without its `time`, which the server sets. */
function timeless(frame: WebFrame): Record<string, unknown> {
  const { time, ...rest } = frame;
  assert.ok(!Number.isNaN(Date.parse(String(time))), `a time: ${time}`);
  return rest;
}

/** Waits for the next frame of `type` on `web`, without its time. */
async function nextOf(
  web: WebTestClient,
  type: string,
): Promise<Record<string, unknown>> {
  return timeless(await web.next((frame) => frame.type === type));
}

Deno.test("web socket: the room events as objects with their text", async () => {
  await withServer({ webPort: 0, limits: { floodRate: 0 } }, async (ts) => {
    await using scope = new TestScope();
    const tina = await ts.join("tina");
    const web = scope.track(await WebTestClient.join(ts.webPort!, "wendy"));
    await tina.next("*** wendy has joined the chat.");

    // The main room's objects: the old fields in their order, then `room`.
    await tina.send("hello");
    const message = await web.next((frame) => frame.type === "message");
    assert.deepEqual(Object.keys(message), [
      "type",
      "time",
      "from",
      "text",
      "own",
      "room",
    ]);
    assert.deepEqual(timeless(message), {
      type: "message",
      from: "tina",
      text: "hello",
      own: false,
      room: "#chat",
    });
    const uma = await ts.join("uma");
    assert.deepEqual(await nextOf(web, "join"), {
      type: "join",
      name: "uma",
      text: "*** uma has joined the chat.",
      room: "#chat",
    });
    web.send("/who");
    assert.deepEqual(await nextOf(web, "who"), {
      type: "who",
      names: ["tina", "uma", "wendy"],
    });

    // Joining: the joiner's answer, the room's notice.
    web.send("/join games");
    assert.deepEqual(await nextOf(web, "youJoined"), {
      type: "youJoined",
      room: "#games",
      members: 1,
      topic: null,
      text: "*** You joined #games (1 member).",
    });
    await tina.send("/join #GAMES");
    await tina.next("*** You joined #games (2 members).");
    assert.deepEqual(await nextOf(web, "join"), {
      type: "join",
      name: "tina",
      text: "*** tina has joined #games.",
      room: "#games",
    });
    await tina.send("/me deals");
    assert.deepEqual(await nextOf(web, "action"), {
      type: "action",
      from: "tina",
      text: "deals",
      own: false,
      room: "#games",
    });
    web.send("/join #chat");
    assert.deepEqual(await nextOf(web, "currentRoom"), {
      type: "currentRoom",
      room: "#chat",
      text: "*** Your current room is #chat.",
    });
    web.send("/msg #games from afar");
    await tina.next("wendy: from afar");
    assert.deepEqual(await nextOf(web, "message"), {
      type: "message",
      from: "wendy",
      text: "from afar",
      own: true,
      room: "#games",
    });

    // Topics.
    await tina.send("/topic Board games tonight");
    assert.deepEqual(await nextOf(web, "topic"), {
      type: "topic",
      name: "tina",
      room: "#games",
      topic: "Board games tonight",
      text: "*** tina set the topic of #games: Board games tonight",
    });
    web.send("/topic");
    assert.deepEqual(await nextOf(web, "roomTopic"), {
      type: "roomTopic",
      room: "#chat",
      topic: null,
      text: "#chat has no topic.",
    });
    web.send("/join #games\n/topic");
    assert.deepEqual(await nextOf(web, "roomTopic"), {
      type: "roomTopic",
      room: "#games",
      topic: "Board games tonight",
      text: "Topic of #games: Board games tonight",
    });

    // Lists.
    web.send("/rooms");
    const rooms = await nextOf(web, "rooms");
    assert.deepEqual(
      (rooms.rooms as unknown[]).toSorted((a, b) =>
        JSON.stringify(a) < JSON.stringify(b) ? -1 : 1
      ),
      [
        { name: "#chat", members: 3, topic: null },
        { name: "#games", members: 2, topic: "Board games tonight" },
      ],
    );
    assert.equal((rooms.lines as string[])[0], "Rooms (2):");
    assert.deepEqual((rooms.lines as string[]).slice(1).toSorted(), [
      "#chat (3)",
      "#games (2): Board games tonight",
    ]);
    web.send("/who #games");
    const roomWho = await nextOf(web, "roomWho");
    assert.deepEqual(
      [roomWho.room, roomWho.names, roomWho.text],
      ["#games", ["tina", "wendy"], "Online in #games (2): tina, wendy"],
    );

    // Operators: wendy made #games.
    web.send("/op tina");
    assert.deepEqual(await nextOf(web, "roomOp"), {
      type: "roomOp",
      name: "tina",
      by: "wendy",
      room: "#games",
      op: true,
      text: "*** wendy made tina an operator of #games.",
    });
    web.send("/topiclock on");
    assert.deepEqual(await nextOf(web, "topicLock"), {
      type: "topicLock",
      by: "wendy",
      room: "#games",
      locked: true,
      text: "*** wendy locked the topic of #games.",
    });
    web.send("/who");
    assert.deepEqual(await nextOf(web, "who"), {
      type: "who",
      names: ["tina", "wendy"],
      operators: ["wendy", "tina"],
    });
    await uma.send("/join #games");
    await web.next((frame) => frame.type === "join" && frame.name === "uma");
    await tina.send("/kick uma not now");
    assert.deepEqual(await nextOf(web, "roomKick"), {
      type: "roomKick",
      name: "uma",
      by: "tina",
      room: "#games",
      reason: "not now",
      text: "*** uma was kicked from #games by tina (not now).",
    });
    await tina.send("/kick wendy");
    assert.deepEqual(await nextOf(web, "youWereKicked"), {
      type: "youWereKicked",
      room: "#games",
      by: "tina",
      reason: "",
      text: "*** You were kicked from #games by tina.",
    });

    // Parts and problems.
    web.send("/join #cards");
    await web.next((frame) => frame.type === "youJoined");
    await tina.send("/join #cards");
    await tina.send("/part #cards gone fishing");
    assert.deepEqual(await nextOf(web, "part"), {
      type: "part",
      name: "tina",
      room: "#cards",
      reason: "gone fishing",
      text: "*** tina has left #cards (gone fishing).",
    });
    web.send("/part");
    assert.deepEqual(await nextOf(web, "youLeft"), {
      type: "youLeft",
      room: "#cards",
      current: "#chat",
      text: "*** You left #cards. Your current room is #chat.",
    });
    web.send("/part #cards");
    assert.deepEqual(await nextOf(web, "roomProblem"), {
      type: "roomProblem",
      problem: "notIn",
      room: "#cards",
      text: "You are not in #cards.",
    });
    web.send("/join #no!");
    assert.deepEqual(
      (await nextOf(web, "roomProblem")).text,
      "Invalid room name: use '#' and 1-32 letters, digits, '_' or '-'.",
    );
    web.send("/part #chat\nstill here?");
    assert.deepEqual(await nextOf(web, "youLeft"), {
      type: "youLeft",
      room: "#chat",
      current: null,
      text: "*** You left #chat. You are in no room; /join #room to talk.",
    });
    assert.deepEqual(await nextOf(web, "roomProblem"), {
      type: "roomProblem",
      problem: "inNoRoom",
      room: null,
      text: "You are in no room; /join #room to talk.",
    });
    web.send("/join #chat");
    await web.next((frame) => frame.type === "youJoined");

    // Leaving the chat with a reason: once, with the rooms it was in.
    await uma.send("/quit see you tomorrow");
    assert.deepEqual(await nextOf(web, "leave"), {
      type: "leave",
      name: "uma",
      text: "*** uma has left the chat (see you tomorrow).",
      rooms: ["#chat"],
    });
  });
});
