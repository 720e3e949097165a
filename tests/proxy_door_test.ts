/**
 * The PROXY protocol on the chat door: believed from a trusted proxy only,
 * refused from anyone else.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  LAST_WELCOME_LINE,
  readLogEventsSync,
  startTestServer,
  waitUntil,
} from "./helpers.ts";

const encoder = new TextEncoder();

Deno.test("chat door takes the client's address from a trusted proxy's PROXY header", async () => {
  await using ts = await startTestServer({ trustProxy: ["127.0.0.1"] });
  const client = await ts.connect();
  // The header and the first line in one write, as HAProxy may send them.
  await client.sendRaw(
    encoder.encode("PROXY TCP4 203.0.113.7 127.0.0.1 51000 2025\r\nada\n"),
  );
  await client.next(LAST_WELCOME_LINE);
  assert.ok(
    ts.console.includes("Accepted connection from: 203.0.113.7:51000"),
    ts.console.join("|"),
  );
  await client.send("exit");
  await client.received.closed();
  await waitUntil(
    () =>
      readLogEventsSync(ts.logPath).includes(
        "Client ada has joined the chat room (203.0.113.7:51000)",
      ),
    "the proxied address in the log",
  );
});

Deno.test("chat door closes a trusted proxy's connection without a valid header", async () => {
  await using ts = await startTestServer({ trustProxy: ["127.0.0.1"] });
  const client = await ts.connect();
  await client.sendRaw(encoder.encode("ada\n"));
  await client.received.closed();
  assert.ok(!client.received.lines.some((l) => l.startsWith("Welcome")));
  await waitUntil(
    () => ts.console.some((l) => l.includes("Invalid PROXY header")),
    "the console line",
  );
});

Deno.test("chat door refuses a PROXY header from an address it does not trust", async () => {
  await using ts = await startTestServer();
  const client = await ts.connect();
  const other = await ts.join("bob");
  await client.sendRaw(
    encoder.encode("PROXY TCP4 203.0.113.7 127.0.0.1 51000 2025\r\nada\n"),
  );
  await client.received.closed();
  assert.ok(!client.received.lines.some((l) => l.startsWith("Welcome")));
  assert.ok(
    ts.console.some((l) =>
      l.includes("PROXY header from an untrusted address")
    ),
    ts.console.join("|"),
  );
  await other.send("/who");
  assert.equal(await other.next(/^Online/), "Online (1): bob");
});
