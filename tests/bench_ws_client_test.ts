// The load generator's WebSocket client reads the chat messages of the web
// door in place (bench/ws_client.ts, readChatLine): the line it makes must be
// the one a JSON parse makes, and anything else must be left to the parse.

import assert from "node:assert/strict";
import {
  chatEventEnd,
  chatLineEnd,
  NOT_CHAT,
  OWN_ECHO,
  readChatLine,
} from "../bench/ws_client.ts";
import { webFormat } from "../lib/transports/web_format.ts";
import type { RoomEvent } from "../lib/room/events.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function rendered(event: RoomEvent): string {
  const out = webFormat.render(event);
  if (typeof out !== "string") throw new Error("not one string");
  return out;
}

function message(from: string, text: string, own = false): RoomEvent {
  return {
    type: "message",
    time: Date.now(),
    from,
    text,
    own,
    via: "tcp",
    room: "#lobby",
  };
}

// The line read in place from `json` placed in a larger buffer, or the code.
function read(json: string): string | number {
  const bytes = encoder.encode(`xx${json}\nyy`);
  const end = bytes.length - 3;
  const start = readChatLine(bytes, 2, end);
  if (start < 0) return start;
  return decoder.decode(bytes.subarray(start, chatLineEnd));
}

Deno.test("a message the web door renders is read as the parse reads it", () => {
  for (
    const [from, text] of [
      ["bqx00001", "#000000001 000000123456 xxxxxxxxxxxxxxxx"],
      ["ann", "x"],
      ["a_much_longer_name", "héllo wörld ✓ 𝄞"],
      ["bob", ""],
    ]
  ) {
    const json = rendered(message(from, text));
    const ev = JSON.parse(json);
    assert.equal(read(json), `${ev.from}: ${ev.text}`);
  }
});

Deno.test("our own message is counted as an echo", () => {
  assert.equal(read(rendered(message("ann", "hi", true))), OWN_ECHO);
});

Deno.test("escapes, other events and other shapes are left to the parse", () => {
  for (
    const json of [
      rendered(message("ann", 'say "hi"')),
      rendered(message("ann", "back\\slash")),
      rendered(message("ann", "tab\there")),
      rendered({
        type: "join",
        time: Date.now(),
        name: "ann",
        via: "tcp",
        address: "127.0.0.1:1",
        room: "#lobby",
        main: true,
      } as RoomEvent),
      rendered({
        type: "action",
        time: Date.now(),
        from: "ann",
        text: "waves",
        own: false,
        via: "tcp",
        room: "#lobby",
      }),
      '{"type":"message","time":"t","from":"a","text":"b","own":false,"x":1}',
      '{"type":"message","time":"t","from":"a","text":"b","own":false}}',
      '{"type":"message","time":"t","from":"a","text":"b"}',
      '{"type":"message","time":"t","from":"a","text":"b',
      '{"type":"message","time":"t","from":"a"',
      '{"type":"message"',
    ]
  ) {
    assert.equal(read(json), NOT_CHAT, json);
  }
});

Deno.test("a message without its room is still read", () => {
  assert.equal(
    read('{"type":"message","time":"t","from":"a","text":"b","own":false}'),
    "a: b",
  );
});

Deno.test("events of one frame are read one after the other", () => {
  const a = rendered(message("ann", "one"));
  const b = rendered(message("bob", "two", true));
  const c = rendered(message("cy", "three"));
  const bytes = encoder.encode(`${a}\n${b}\n${c}`);
  const end = bytes.length;
  const first = readChatLine(bytes, 0, end);
  assert.equal(decoder.decode(bytes.subarray(first, chatLineEnd)), "ann: one");
  assert.equal(chatEventEnd, encoder.encode(a).length);
  assert.equal(readChatLine(bytes, chatEventEnd + 1, end), OWN_ECHO);
  const third = readChatLine(bytes, chatEventEnd + 1, end);
  assert.equal(
    decoder.decode(bytes.subarray(third, chatLineEnd)),
    "cy: three",
  );
  assert.equal(chatEventEnd, end);
});

Deno.test("a message is not read past the end of its frame", () => {
  const json = rendered(message("ann", "hi"));
  const bytes = encoder.encode(`${json}x`);
  assert.equal(readChatLine(bytes, 0, bytes.length), NOT_CHAT);
  assert.equal(readChatLine(bytes, 0, bytes.length - 2), NOT_CHAT);
  const cut = encoder.encode(json.slice(0, -1) + "\n}");
  assert.equal(readChatLine(cut, 0, cut.length), NOT_CHAT);
});
