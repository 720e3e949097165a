// The browser's format: a chat line written out by hand must be the very
// text JSON.stringify makes of the same fields.

import assert from "node:assert/strict";
import { webFormat } from "../lib/transports/web_format.ts";
import type { RoomEvent } from "../lib/room/events.ts";

function generic(event: {
  type: string;
  time: number;
  from: string;
  text: string;
  own: boolean;
  room: string;
}): string {
  return JSON.stringify({
    type: event.type,
    time: new Date(event.time).toISOString(),
    from: event.from,
    text: event.text,
    own: event.own,
    room: event.room,
  });
}

Deno.test("web format: a chat line is JSON.stringify's text of its fields", () => {
  const texts = [
    "plain",
    "",
    'quote " and back\\slash',
    "tab\tnew\nline\r\u0000\u001f\u007f",
    "héllo ✓ 𝄞 \u2028\u2029",
    "lone \ud800 and \udfff surrogates",
    "<script>alert(1)</script> &amp;",
  ];
  const times = [0, 1_700_000_000_123, Date.now(), 253_402_300_799_999];
  let i = 0;
  for (const type of ["message", "action"] as const) {
    for (const text of texts) {
      for (const own of [false, true]) {
        const time = times[i++ % times.length];
        const fields = {
          type,
          time,
          from: `bob${i}`,
          text,
          own,
          room: i % 2 === 0 ? "#lobby" : '#r"1',
        };
        const out = webFormat.render({ ...fields, via: "tcp" } as RoomEvent);
        assert.equal(out, generic(fields));
        assert.deepEqual(JSON.parse(out as string), {
          ...fields,
          time: new Date(time).toISOString(),
        });
      }
    }
  }
});

Deno.test("web format: the same millisecond twice, then another", () => {
  const event = (time: number) =>
    webFormat.render({
      type: "message",
      time,
      from: "ann",
      text: "hi",
      own: false,
      via: "tcp",
      room: "#lobby",
    });
  const a = JSON.parse(event(1000) as string);
  const b = JSON.parse(event(1000) as string);
  const c = JSON.parse(event(2001) as string);
  assert.equal(a.time, "1970-01-01T00:00:01.000Z");
  assert.equal(b.time, a.time);
  assert.equal(c.time, "1970-01-01T00:00:02.001Z");
});
