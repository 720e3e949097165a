/**
 * The web door without a browser: its security rules, limits and routes,
 * and the send queue under a burst, over real sockets.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatServerOptions } from "../lib/app/chat_server.ts";
import {
  startTestServer,
  TestClient,
  type TestServer,
  waitUntil,
} from "./helpers.ts";
import {
  frozenWebSocket,
  rawHttpStatus,
  WebTestClient,
} from "./support/web_client.ts";

async function withWeb(
  options: ChatServerOptions,
  body: (ts: TestServer, web: number) => Promise<void>,
): Promise<void> {
  const ts = await startTestServer({
    webPort: 0,
    ...options,
    limits: { floodRate: 0, ...options.limits },
  });
  try {
    await body(ts, ts.webPort!);
  } finally {
    await ts.cleanup();
  }
}

async function closing<T extends { close(): Promise<void> | void }>(
  items: T[],
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } finally {
    for (const item of items) await item.close();
  }
}

Deno.test("web door joins a browser into the room with TCP users, both ways", async () => {
  await withWeb({}, async (ts, web) => {
    const tcp = await TestClient.join(ts.port, "tina");
    const page = await WebTestClient.join(web, "wendy");
    await closing([tcp, page], async () => {
      await tcp.next("*** wendy has joined the chat.");
      await tcp.send("hello from tcp");
      const got = await page.next((f) => f.type === "message");
      assert.equal(got.from, "tina");
      assert.equal(got.text, "hello from tcp");
      assert.equal(got.own, false);
      assert.ok(!Number.isNaN(Date.parse(String(got.time))));
      page.send("hello from the web");
      await tcp.next("wendy: hello from the web");
      const own = await page.next((f) => f.type === "message");
      assert.deepEqual([own.from, own.text, own.own], [
        "wendy",
        "hello from the web",
        true,
      ]);
      page.send("@tina psst\n/msg TINA again");
      await tcp.next("Private message from wendy: psst");
      await tcp.next("Private message from wendy: again");
      const sent = await page.next((f) => f.type === "private");
      assert.deepEqual([sent.to, sent.own], ["tina", true]);
      await tcp.send("@wendy back");
      const back = await page.next((f) => f.type === "private" && !f.own);
      assert.deepEqual([back.from, back.text], ["tina", "back"]);
      page.send("/who");
      const who = await page.next((f) => f.type === "who");
      assert.deepEqual(who.names, ["tina", "wendy"]);
      await waitUntil(
        () =>
          Deno.readTextFileSync(ts.logPath).includes(
            "Client wendy has joined the chat room (127.0.0.1:",
          ),
        "the join in the log",
      );
    });
  });
});

Deno.test("web door sends frames as JSON with text, never HTML", async () => {
  await withWeb({}, async (ts, web) => {
    const tcp = await TestClient.join(ts.port, "tina");
    const page = await WebTestClient.join(web, "wendy");
    await closing([tcp, page], async () => {
      await tcp.send("<img src=x onerror=alert(1)>");
      const got = await page.next((f) => f.type === "message");
      assert.equal(got.text, "<img src=x onerror=alert(1)>");
    });
  });
});

Deno.test("web door re-prompts a taken name with the server's text", async () => {
  await withWeb({}, async (ts, web) => {
    const tcp = await TestClient.join(ts.port, "tina");
    const page = await WebTestClient.connect(web);
    await closing([tcp, page], async () => {
      await page.next((f) => f.type === "prompt");
      page.send("TINA");
      const again = await page.next((f) => f.type === "prompt");
      assert.equal(again.error, 'Name "TINA" is already taken.');
      page.send("wendy");
      await page.next((f) => f.type === "welcome");
    });
  });
});

Deno.test("web door refuses a socket from another origin and takes its own and listed ones", async () => {
  await withWeb(
    { web: { port: 0, origins: ["https://chat.example.org"] } },
    async (_ts, web) => {
      await assert.rejects(
        WebTestClient.connect(web, {
          headers: { origin: "http://evil.example" },
        }),
        /403/,
      );
      await assert.rejects(
        WebTestClient.connect(web, {
          headers: { origin: `http://127.0.0.1:${web + 1}` },
        }),
        /403/,
      );
      const own = await WebTestClient.connect(web);
      const listed = await WebTestClient.connect(web, {
        headers: { origin: "https://chat.example.org" },
      });
      const noOrigin = await WebTestClient.connect(web, { headers: {} });
      await closing([own, listed, noOrigin], async () => {
        for (const client of [own, listed, noOrigin]) {
          await client.next((f) => f.type === "prompt");
        }
      });
    },
  );
});

Deno.test("web door answers only to its own host names (DNS rebinding)", async () => {
  await withWeb(
    { web: { port: 0, hosts: ["chat.lan"] } },
    async (_ts, web) => {
      const get = (host: string, path = "/") =>
        rawHttpStatus(
          web,
          `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
      assert.equal(await get(`evil.example:${web}`), 403);
      assert.equal(await get(`evil.example:${web}`, "/chat"), 403);
      assert.equal(await get(`127.0.0.1:${web}`), 200);
      assert.equal(await get(`localhost:${web}`), 200);
      assert.equal(await get(`chat.lan:${web}`), 200);
      assert.equal(await get(`${Deno.hostname()}:${web}`), 200);
      await assert.rejects(
        WebTestClient.connect(web, {
          hostname: "127.0.0.1",
          headers: {
            host: `evil.example:${web}`,
            origin: `http://evil.example:${web}`,
          },
        }),
        /403/,
      );
    },
  );
});

Deno.test("web door routes: page with security headers, 404, 405, 400, healthz", async () => {
  await withWeb({}, async (_ts, web) => {
    const base = `http://127.0.0.1:${web}`;
    const page = await fetch(`${base}/`);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(html, /<html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/);
    assert.ok(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"));
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.equal(page.headers.get("referrer-policy"), "no-referrer");
    for (
      const [path, type] of [["/page.js", "javascript"], ["/page.css", "css"]]
    ) {
      const response = await fetch(base + path);
      await response.body?.cancel();
      assert.equal(response.status, 200);
      assert.match(
        response.headers.get("content-type") ?? "",
        new RegExp(type),
      );
    }
    const missing = await fetch(`${base}/nope`);
    await missing.body?.cancel();
    assert.equal(missing.status, 404);
    const post = await fetch(`${base}/`, { method: "POST", body: "x" });
    await post.body?.cancel();
    assert.equal(post.status, 405);
    const plain = await fetch(`${base}/chat`);
    await plain.body?.cancel();
    assert.equal(plain.status, 400);
    const health = await fetch(`${base}/healthz`);
    assert.equal(await health.text(), "ok\n");
  });
});

Deno.test("web door refuses binary frames with a notice and goes on", async () => {
  await withWeb({}, async (ts, web) => {
    const tcp = await TestClient.join(ts.port, "tina");
    const page = await WebTestClient.join(web, "wendy");
    await closing([tcp, page], async () => {
      page.socket.send(new Uint8Array([1, 2, 3]));
      const notice = await page.next((f) => f.type === "notice");
      assert.match(String(notice.text), /Binary messages are not accepted/);
      page.send("still here");
      await tcp.next("wendy: still here");
    });
  });
});

Deno.test("web door: a line over the limit gets the notice, a huge frame is cut", async () => {
  await withWeb({ limits: { maxLineBytes: 64 } }, async (ts, web) => {
    const tcp = await TestClient.join(ts.port, "tina");
    const page = await WebTestClient.join(web, "wendy");
    const other = await WebTestClient.join(web, "otto");
    await closing([tcp, page, other], async () => {
      page.send("é".repeat(40));
      const notice = await page.next((f) => f.type === "notice");
      assert.equal(
        notice.text,
        "Message too long (limit 64 bytes); it was not delivered.",
      );
      page.send("short\n" + "x".repeat(65) + "\nafter");
      await tcp.next("wendy: short");
      await tcp.next("wendy: after");
      page.send("y".repeat(64 * 16 + 1));
      await page.waitClosed();
      await tcp.next("*** wendy has left the chat.");
      other.send("unaffected");
      await tcp.next("otto: unaffected");
    });
  });
});

Deno.test("web door asks for the password and closes on a wrong one", async () => {
  await withWeb({ password: "sesame" }, async (_ts, web) => {
    const good = await WebTestClient.connect(web);
    const bad = await WebTestClient.connect(web);
    await closing([good, bad], async () => {
      for (const client of [good, bad]) {
        await client.next((f) => f.type === "prompt" && f.prompt === "name");
      }
      good.send("gina");
      await good.next((f) => f.type === "prompt" && f.prompt === "password");
      good.send("sesame");
      await good.next((f) => f.type === "welcome");
      bad.send("bart\nwrong");
      const error = await bad.next((f) => f.type === "error");
      assert.equal(error.text, "Wrong password.");
      await bad.waitClosed();
    });
  });
});

Deno.test("web door tells browsers the server is shutting down", async () => {
  const ts = await startTestServer({ webPort: 0 });
  const page = await WebTestClient.join(ts.webPort!, "wendy");
  try {
    const stopping = ts.server.shutdown();
    const frame = await page.next((f) => f.type === "shutdown");
    assert.equal(frame.text, "Server is shutting down. Disconnecting...");
    await page.waitClosed();
    await stopping;
  } finally {
    await page.close();
    await ts.cleanup();
  }
});

Deno.test("web door believes X-Forwarded-For only from a trusted proxy", async () => {
  await withWeb(
    { web: { port: 0, trustProxy: ["127.0.0.1"] } },
    async (ts, web) => {
      const origin = `http://127.0.0.1:${web}`;
      const proxied = await WebTestClient.connect(web, {
        headers: { origin, "x-forwarded-for": "198.51.100.1, 203.0.113.7" },
      });
      await closing([proxied], async () => {
        await proxied.next((f) => f.type === "prompt");
        await waitUntil(
          () => ts.console.some((l) => l.includes("203.0.113.7:")),
          "the forwarded address on the console",
        );
      });
    },
  );
  await withWeb({}, async (ts, web) => {
    const origin = `http://127.0.0.1:${web}`;
    const direct = await WebTestClient.connect(web, {
      headers: { origin, "x-forwarded-for": "203.0.113.7" },
    });
    await closing([direct], async () => {
      await direct.next((f) => f.type === "prompt");
      assert.ok(!ts.console.some((l) => l.includes("203.0.113.7")));
      assert.ok(ts.console.some((l) => l.includes("127.0.0.1:")));
    });
  });
});

Deno.test("metrics show connections by transport, users and counters", async () => {
  await withWeb({}, async (ts, web) => {
    const tcp = await TestClient.join(ts.port, "tina");
    const page = await WebTestClient.join(web, "wendy");
    await closing([tcp, page], async () => {
      await tcp.send("one");
      await page.next((f) => f.type === "message");
      const text = await (await fetch(`http://127.0.0.1:${web}/metrics`))
        .text();
      assert.match(text, /^chat_connections\{transport="tcp"\} 1$/m);
      assert.match(text, /^chat_connections\{transport="web"\} 1$/m);
      assert.match(text, /^chat_users 2$/m);
      assert.match(text, /^# TYPE chat_lines_in_total counter$/m);
      assert.match(text, /^chat_bytes_out_total [1-9]\d*$/m);
      assert.match(text, /^chat_log_lost_lines_total 0$/m);
    });
  });
});

Deno.test("send queue: a burst over the cap reaches TCP and web readers that keep reading", async () => {
  await withWeb({ limits: { maxSendqBytes: 65536 } }, async (ts, web) => {
    const sender = await TestClient.join(ts.port, "sender");
    const reader = await TestClient.join(ts.port, "reader");
    const page = await WebTestClient.join(web, "page");
    await closing([sender, reader, page], async () => {
      const lines = Array.from(
        { length: 64 },
        (_, i) => `${String(i).padStart(2, "0")} ${"x".repeat(4000)}`,
      );
      // One write of 64 lines of 4 KB: four times the cap at once.
      await sender.sendRaw(new TextEncoder().encode(lines.join("\n") + "\n"));
      for (const line of lines) await reader.next(`sender: ${line}`);
      for (const line of lines) {
        const got = await page.next((f) => f.type === "message");
        assert.equal(got.text, line);
      }
      assert.ok(!ts.console.some((l) => l.includes("send queue exceeded")));
    });
  });
});

Deno.test("web door cuts a frozen tab at the send queue while the others get every line in order", async () => {
  await withWeb({ limits: { maxSendqBytes: 65536 } }, async (ts, web) => {
    const sender = await TestClient.join(ts.port, "sender");
    const watcher = await WebTestClient.join(web, "watcher");
    const frozen = await frozenWebSocket(web, "frozen");
    try {
      await sender.next("*** frozen has joined the chat.");
      const line = (i: number) =>
        `${String(i).padStart(4, "0")} ${"y".repeat(3000)}`;
      let i = 0;
      // Bounded: at most 2000 lines of 3 KB, 6 MB, before the frozen tab is cut.
      while (
        !ts.console.some((l) =>
          l.includes("frozen disconnected (send queue exceeded)")
        )
      ) {
        assert.ok(i < 2000, "the frozen tab was never cut");
        await sender.send(line(i++));
        const got = await watcher.next((f) => f.type === "message");
        assert.equal(got.text, line(i - 1));
      }
      await sender.next("*** frozen has left the chat.");
    } finally {
      frozen.close();
      await sender.close();
      await watcher.close();
    }
  });
});
