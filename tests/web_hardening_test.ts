/**
 * The web door against hostile clients (issue 16): deadlines and caps of
 * HTTP connections and their place in the connection limits, WebSocket
 * frames bounded from their header, the protocol's rules (masking, control
 * frames, no compression), Host and X-Forwarded-For parsing, a long paste
 * paced rather than cut, and pages that name no one. Raw sockets on
 * 127.0.0.1 against an in-process server.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatServerOptions } from "../lib/app/chat_server.ts";
import { addressKey, parseIp } from "../lib/room/admission.ts";
import {
  startTestServer,
  TestClient,
  type TestServer,
  waitUntil,
} from "./helpers.ts";
import { clientFrame, RawConn, WebTestClient } from "./support/web_client.ts";

const encoder = new TextEncoder();

const FIXTURES = new URL("./fixtures/", import.meta.url);
const ca = await Deno.readTextFile(new URL("ca.crt", FIXTURES));
const tls = {
  cert: await Deno.readTextFile(new URL("localhost.crt", FIXTURES)),
  key: await Deno.readTextFile(new URL("localhost.key", FIXTURES)),
};

async function withWeb(
  options: ChatServerOptions,
  body: (ts: TestServer, web: number) => Promise<void>,
): Promise<void> {
  const ts = await startTestServer({
    ...options,
    web: { port: 0, ...options.web },
    limits: { floodRate: 0, ...options.limits },
  });
  try {
    await body(ts, ts.server.webAddr!.port);
  } finally {
    await ts.cleanup();
  }
}

/** Opens raw connections and closes them all at the end of `body`. */
async function withRaw(
  body: (
    open: (port: number) => Promise<RawConn>,
    track: <T extends { close(): Promise<void> }>(item: T) => T,
  ) => Promise<void>,
): Promise<void> {
  const items: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(item: T): T => {
    items.push(item);
    return item;
  };
  try {
    await body(async (port) => track(await RawConn.open(port)), track);
  } finally {
    for (const item of items) await item.close();
  }
}

function get(path: string, port: number, extra = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}\r\n`;
}

Deno.test("web door closes half a header at the header deadline and an idle connection at the idle deadline", async () => {
  await withWeb(
    { web: { port: 0, headerTimeoutMs: 300, idleTimeoutMs: 300 } },
    async (ts, web) => {
      await withRaw(async (open) => {
        const half = await open(web);
        await half.send("GET / HTTP/1.1\r\nHost: x\r\nX-a: ");
        const silent = await open(web);
        const idle = await open(web);
        await idle.send(get("/healthz", web));
        assert.equal((await idle.response()).status, 200);
        for (const conn of [half, silent, idle]) await conn.waitEnded(3_000);
        // Still serving.
        const next = await open(web);
        await next.send(get("/healthz", web, "Connection: close\r\n"));
        assert.equal((await next.response()).body, "ok\n");
        await next.waitEnded();
        await waitUntil(
          () => ts.server.room.admitted === 0,
          "every connection to be let go",
        );
      });
    },
  );
});

Deno.test("web door answers a header over its cap with 431 and closes", async () => {
  await withWeb({}, async (_ts, web) => {
    await withRaw(async (open) => {
      const big = await open(web);
      await big.send(get("/", web, `X-Big: ${"b".repeat(20_000)}\r\n`));
      const response = await big.response();
      assert.equal(response.status, 431);
      await big.waitEnded();
      // A header line that never ends is cut at the cap too, unread.
      const endless = await open(web);
      await endless.send(`GET / HTTP/1.1\r\nX-Long: ${"l".repeat(40_000)}`);
      assert.equal((await endless.response()).status, 431);
      await endless.waitEnded();
    });
  });
});

Deno.test("web door serves keep-alive, pipelined, HEAD, HTTP/1.0 and a POST's body", async () => {
  await withWeb({}, async (_ts, web) => {
    await withRaw(async (open) => {
      const conn = await open(web);
      await conn.send(get("/healthz", web) + get("/page.css", web));
      const first = await conn.response();
      assert.deepEqual([first.status, first.body], [200, "ok\n"]);
      const second = await conn.response();
      assert.equal(second.status, 200);
      assert.match(second.headers["content-type"], /text\/css/);
      assert.ok(second.body.length > 0);
      await conn.send(
        `HEAD / HTTP/1.1\r\nHost: 127.0.0.1:${web}\r\n\r\n`,
      );
      const head = await conn.response({ head: true });
      assert.equal(head.status, 200);
      assert.ok(Number(head.headers["content-length"]) > 0);
      await conn.send(
        `POST / HTTP/1.1\r\nHost: 127.0.0.1:${web}\r\nContent-Length: 5\r\n\r\nhello`,
      );
      const post = await conn.response();
      assert.equal(post.status, 405);
      assert.equal(post.headers["allow"], "GET, HEAD");
      await conn.send(get("/?x=1", web));
      assert.match((await conn.response()).body, /<html/);
      assert.ok(!conn.ended);

      const old = await open(web);
      await old.send(`GET /healthz HTTP/1.0\r\nHost: 127.0.0.1:${web}\r\n\r\n`);
      assert.equal((await old.response()).status, 200);
      await old.waitEnded();
    });
  });
});

Deno.test("web door: HTTP connections count toward --max-per-ip and --max-clients", async () => {
  await withWeb({ limits: { maxPerIp: 2 } }, async (ts, web) => {
    await withRaw(async (open, track) => {
      const idle = [await open(web), await open(web)];
      await waitUntil(
        () => ts.server.room.admitted === 2,
        "the idle connections to be counted",
      );
      const page = track(await WebTestClient.connect(web));
      const refused = await page.next((f) => f.type === "error");
      assert.equal(refused.text, "Too many connections from your address.");
      await page.waitClosed();
      const tcp = track(await TestClient.connect(ts.port));
      await tcp.next("Too many connections from your address.");
      const http = await open(web);
      await http.send(get("/healthz", web));
      assert.equal((await http.response()).status, 429);
      await http.waitEnded();
      for (const conn of idle) await conn.close();
      const ok = track(await WebTestClient.join(web, "wendy"));
      ok.send("/who");
      await ok.next((f) => f.type === "who");
    });
  });
  await withWeb({ limits: { maxClients: 2 } }, async (ts, web) => {
    await withRaw(async (open, track) => {
      await open(web);
      await open(web);
      await waitUntil(
        () => ts.server.room.admitted === 2,
        "the idle connections to be counted",
      );
      const tcp = track(await TestClient.connect(ts.port));
      await tcp.next("Server is full. Try again later.");
      const http = await open(web);
      await http.send(get("/healthz", web));
      const response = await http.response();
      assert.equal(response.status, 503);
      assert.equal(response.body, "Server is full. Try again later.\n");
    });
  });
});

Deno.test("web door counts IPv6 clients by /64 and a trusted proxy's own connections toward the total only", async () => {
  await withWeb(
    { web: { port: 0, trustProxy: ["127.0.0.1"] }, limits: { maxPerIp: 1 } },
    async (_ts, web) => {
      await withRaw(async (open, track) => {
        // The proxy's own connections: more than the per-address limit.
        for (let i = 0; i < 3; i++) await open(web);
        const forwarded = (address: string) =>
          WebTestClient.connect(web, {
            headers: {
              origin: `http://127.0.0.1:${web}`,
              "x-forwarded-for": address,
            },
          });
        const first = track(await forwarded("2001:db8:1:2::1"));
        await first.next((f) => f.type === "prompt");
        const sameNet = track(await forwarded("2001:db8:1:2:ffff::9"));
        const refused = await sameNet.next((f) => f.type === "error");
        assert.equal(refused.text, "Too many connections from your address.");
        const otherNet = track(await forwarded("2001:db8:1:3::1"));
        await otherNet.next((f) => f.type === "prompt");
      });
    },
  );
});

Deno.test("web door takes X-Forwarded-For's right-most untrusted hop, and only an IP address", async () => {
  await withWeb(
    { web: { port: 0, trustProxy: ["127.0.0.1", "10.0.0.2"] } },
    async (ts, web) => {
      await withRaw(async (_open, track) => {
        const via = (value: string) =>
          WebTestClient.connect(web, {
            headers: {
              origin: `http://127.0.0.1:${web}`,
              "x-forwarded-for": value,
            },
          });
        const chained = track(await via("not-an-ip, 198.51.100.9, 10.0.0.2"));
        await chained.next((f) => f.type === "prompt");
        await waitUntil(
          () => ts.console.some((l) => l.includes("198.51.100.9:")),
          "the forwarded address on the console",
        );
        for (const bad of ["....", "1.2.3", "::g", "203.0.113.7 x"]) {
          await assert.rejects(via(bad), /400/, bad);
        }
        assert.ok(
          !ts.console.some((l) => l.includes("....") || l.includes("::g")),
          ts.console.join("|"),
        );
      });
    },
  );
});

Deno.test("web door answers a malformed Host with 400, never 500", async () => {
  await withWeb({}, async (_ts, web) => {
    await withRaw(async (open) => {
      const status = async (request: string) => {
        const conn = await open(web);
        await conn.send(request);
        return (await conn.response()).status;
      };
      for (
        const host of ["[::1]evil", "[zz]:80", "a b", "127.0.0.1:x", "[::1"]
      ) {
        for (const path of ["/", "/chat"]) {
          assert.equal(
            await status(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
            400,
            `${host} ${path}`,
          );
        }
      }
      assert.equal(
        await status(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n`,
        ),
        400,
      );
      assert.equal(await status(`GET / HTTP/1.1\r\n\r\n`), 403);
      assert.equal(await status(`GET /\r\n\r\n`), 400);
      assert.equal(await status(`GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n`), 200);
    });
  });
});

Deno.test("web door refuses a frame announced over the limit from its header (1009)", async () => {
  await withWeb({}, async (ts, web) => {
    await withRaw(async (_open, track) => {
      const tcp = track(await TestClient.join(ts.port, "tina"));
      const ws = track(await RawConn.webSocket(web));
      await ws.event((e) => e.type === "prompt");
      await ws.send(clientFrame("wendy"));
      await ws.event((e) => e.type === "welcome");
      await tcp.next("*** wendy has joined the chat.");
      // 60 MB announced; not a byte of it sent.
      await ws.send(
        clientFrame(new Uint8Array(0), { announce: 60_000_000 }),
      );
      assert.equal(await ws.closeCode(), 1009);
      await ws.waitEnded();
      await tcp.next("*** wendy has left the chat.");

      // Fragments within the limit one by one, over it together.
      const parts = track(await RawConn.webSocket(web));
      await parts.send(clientFrame("a".repeat(40_000), { fin: false }));
      await parts.send(
        clientFrame("", { fin: false, opcode: 0, announce: 40_000 }),
      );
      assert.equal(await parts.closeCode(), 1009);
      await parts.waitEnded();
    });
  });
});

Deno.test("web door closes unmasked frames, long or fragmented control frames and RSV bits with 1002", async () => {
  await withWeb({}, async (ts, web) => {
    await withRaw(async (_open, track) => {
      const tcp = track(await TestClient.join(ts.port, "tina"));
      const bad: [string, Uint8Array][] = [
        ["unmasked", clientFrame("hello", { masked: false })],
        ["long ping", clientFrame("p".repeat(126), { opcode: 9 })],
        ["fragmented ping", clientFrame("p", { opcode: 9, fin: false })],
        ["rsv1", clientFrame("hello", { rsv: 4 })],
        ["continuation first", clientFrame("x", { opcode: 0 })],
        ["unknown opcode", clientFrame("x", { opcode: 3 })],
      ];
      for (const [what, frame] of bad) {
        const ws = track(await RawConn.webSocket(web));
        await ws.event((e) => e.type === "prompt");
        await ws.send(frame);
        assert.equal(await ws.closeCode(), 1002, what);
        await ws.waitEnded();
      }
      const ws = track(await RawConn.webSocket(web));
      await ws.event((e) => e.type === "prompt");
      await ws.send(
        new Uint8Array([0x81, 0x82, 1, 2, 3, 4, 0xc3 ^ 1, 0x28 ^ 2]),
      );
      assert.equal(await ws.closeCode(), 1007, "invalid UTF-8");
      await tcp.send("still fine");
    });
  });
});

Deno.test("web door: no compression, pings answered, fragments and a ping between them assembled", async () => {
  await withWeb({}, async (ts, web) => {
    await withRaw(async (_open, track) => {
      const tcp = track(await TestClient.join(ts.port, "tina"));
      const raw = await RawConn.open(web);
      track(raw);
      await raw.send(
        `GET /chat HTTP/1.1\r\nHost: 127.0.0.1:${web}\r\nUpgrade: websocket\r\n` +
          `Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n`,
      );
      const response = await raw.response();
      assert.equal(response.status, 101);
      assert.equal(
        response.headers["sec-websocket-accept"],
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
      );
      assert.equal(response.headers["sec-websocket-extensions"], undefined);
      await raw.event((e) => e.type === "prompt");
      await raw.send(clientFrame("are you there", { opcode: 9 }));
      const pong = await raw.frame();
      assert.deepEqual([pong.opcode, pong.text, pong.masked], [
        10,
        "are you there",
        false,
      ]);
      await raw.send(clientFrame("wen", { fin: false }));
      await raw.send(clientFrame("ping", { opcode: 9 }));
      await raw.send(clientFrame("dy", { opcode: 0 }));
      await raw.event((e) => e.type === "welcome" && e.name === "wendy");
      await raw.send(clientFrame("hi tina"));
      await tcp.next("wendy: hi tina");
      await raw.send(clientFrame(encoder.encode("bye"), { opcode: 2 }));
      const notice = await raw.event((e) => e.type === "notice");
      assert.match(String(notice.text), /Binary messages are not accepted/);
      await raw.send(clientFrame(new Uint8Array([3, 232]), { opcode: 8 }));
      assert.equal(await raw.closeCode(), 1000);
      await raw.waitEnded();
      await tcp.next("*** wendy has left the chat.");
    });
  });
});

Deno.test("web door paces a paste of 150 lines like TCP's instead of cutting its author", async () => {
  await withWeb(
    { limits: { floodRate: 100, floodBurst: 10 } },
    async (ts, web) => {
      const tcp = await TestClient.join(ts.port, "tina");
      const page = await WebTestClient.join(web, "paula");
      try {
        const lines = Array.from({ length: 150 }, (_, i) => `line ${i}`);
        page.send(lines.join("\n"));
        for (const line of lines) await tcp.next(`paula: ${line}`);
        page.send("/who");
        const who = await page.next((f) => f.type === "who");
        assert.deepEqual(who.names, ["paula", "tina"]);
        assert.ok(!page.closed);
        assert.ok(ts.server.room.metrics.floodDelays > 0, "it was paced");
      } finally {
        await page.close();
        await tcp.close();
      }
    },
  );
});

Deno.test("web door's /metrics and error pages name no one and no address", async () => {
  await withWeb({}, async (ts, web) => {
    await withRaw(async (open, track) => {
      const name = "zebediah";
      const page = track(await WebTestClient.join(web, name));
      const tcp = track(await TestClient.join(ts.port, "quentin"));
      await tcp.send("a message");
      await page.next((f) => f.type === "message");
      const bodies: string[] = [];
      const requests = [
        get("/metrics", web),
        get("/nope", web),
        get("/chat", web),
        `GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n`,
        `GET / HTTP/1.1\r\nHost: [::1]evil\r\n\r\n`,
        `DELETE / HTTP/1.1\r\nHost: 127.0.0.1:${web}\r\n\r\n`,
        get("/", web, `X-Big: ${"b".repeat(20_000)}\r\n`),
        `BREW /pot HTCPCP/1.0\r\n\r\n`,
      ];
      for (const request of requests) {
        const conn = await open(web);
        await conn.send(request);
        const response = await conn.response();
        bodies.push(
          response.statusLine + JSON.stringify(response.headers) +
            response.body,
        );
      }
      assert.match(bodies[0], /chat_users 2/);
      for (const body of bodies) {
        for (const secret of [name, "quentin", "127.0.0.1:", `${ts.port}`]) {
          assert.ok(!body.includes(secret), `${secret} in ${body}`);
        }
      }
    });
  });
});

Deno.test("addresses are parsed strictly, and IPv6 ones counted by /64", () => {
  const valid: [string, string][] = [
    ["203.0.113.7", "203.0.113.7"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::1", "::1"],
    ["::", "::"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
  ];
  for (const [text, canonical] of valid) {
    assert.equal(parseIp(text), canonical, text);
  }
  const invalid = [
    "....",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "01.2.3.4",
    "::g",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "[::1]",
    "1.2.3.4:80",
    "",
    " 1.2.3.4",
    "fe80::1%eth0",
  ];
  for (const text of invalid) assert.equal(parseIp(text), null, text);
  assert.equal(addressKey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  assert.equal(addressKey("2001:db8:1:2::9"), "2001:db8:1:2::/64");
  assert.equal(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(addressKey("192.0.2.1"), "192.0.2.1");
});

Deno.test("web door over TLS: the page, the socket, and a clean close", async () => {
  const ts = await startTestServer({ tls, web: { port: 0 } });
  const web = ts.server.webAddr!.port;
  try {
    await withRaw(async (_open, track) => {
      const page = track(await RawConn.openTls(web, [ca]));
      await page.send(
        `GET / HTTP/1.1\r\nHost: localhost:${web}\r\nConnection: close\r\n\r\n`,
      );
      const response = await page.response();
      assert.equal(response.status, 200);
      assert.match(response.body, /<html/);
      await page.waitEnded();
      const tcp = track(
        await TestClient.joinTls(ts.port, "tina", { caCerts: [ca] }),
      );
      const ws = track(await RawConn.webSocket(web, {}, { caCerts: [ca] }));
      await ws.event((e) => e.type === "prompt");
      await ws.send(clientFrame("wendy"));
      await ws.event((e) => e.type === "welcome");
      await ws.send(clientFrame("over wss"));
      await tcp.next("wendy: over wss");
      const stopping = ts.server.shutdown();
      const bye = await ws.event((e) => e.type === "shutdown");
      assert.equal(bye.text, "Server is shutting down. Disconnecting...");
      assert.equal(await ws.closeCode(), 1000);
      await ws.waitEnded();
      await stopping;
    });
  } finally {
    await ts.cleanup();
  }
});
