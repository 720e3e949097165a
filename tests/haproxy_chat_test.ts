/**
 * The chat server behind a real HAProxy in `mode tcp` with `send-proxy`:
 * the client's own address reaches the console and the log, and the
 * PROXY header's v2 form works on the IRC door too.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  LAST_WELCOME_LINE,
  readLogEventsSync,
  spawnServer,
  type TestClient,
  TestScope,
  waitUntil,
} from "./helpers.ts";
import { startHaproxy } from "./support/haproxy.ts";
import { IrcLineClient } from "./support/irc_line_client.ts";
import { WebTestClient } from "./support/web_client.ts";

Deno.test("chat server behind haproxy send-proxy sees the client's own address", async () => {
  await using scope = new TestScope();
  const dir = await scope.tempDir("chat_haproxy_");
  const logPath = `${dir}/chat.log`;
  const server = scope.track(
    await spawnServer([
      "--log",
      logPath,
      "--no-web",
      "--trust-proxy",
      "127.0.0.1",
    ], { cwd: dir }),
  );
  await using haproxy = await startHaproxy({
    frontends: [
      { backendPort: server.port, sendProxy: "v1" },
      { backendPort: server.port, sendProxy: "v2" },
    ],
  });
  // The clients leave before the server is told to stop.
  {
    await using leaving = new TestScope();
    const clients: TestClient[] = [];
    for (const [i, port] of haproxy.ports.entries()) {
      const client = await leaving.connect(port);
      clients.push(client);
      const local = (client.conn.localAddr as Deno.NetAddr).port;
      await client.next("Hello client. Please enter your name:");
      await client.send(`user${i}`);
      await client.next(LAST_WELCOME_LINE);
      await server.stdout.next(
        `Accepted connection from: 127.0.0.1:${local}`,
      );
      await waitUntil(
        () =>
          readLogEventsSync(logPath).includes(
            `Client user${i} has joined the chat room (127.0.0.1:${local})`,
          ),
        `user${i}'s own port in the log`,
      );
    }
    await clients[0].send("through the proxy");
    await clients[1].next("user0: through the proxy");
  }
  await server.write("Terminate server\n");
  assert.equal((await server.status(10_000)).code, 0);
});

Deno.test("web and IRC doors behind haproxy: http with forwardfor, tcp with send-proxy-v2", async () => {
  await using scope = new TestScope();
  const dir = await scope.tempDir("chat_haproxy_doors_");
  const server = scope.track(
    await spawnServer([
      "--log",
      `${dir}/chat.log`,
      "--web-port",
      "0",
      "--irc-port",
      "0",
      "--trust-proxy",
      "127.0.0.1",
    ], { cwd: dir }),
  );
  const webLine = await server.stdout.next(
    /^Web chat at http:\/\/127\.0\.0\.1:/,
  );
  const webPort = Number(webLine.match(/:(\d+)\/$/)![1]);
  const ircLine = await server.stdout.next(/^IRC at /);
  const ircPort = Number(ircLine.match(/:(\d+), channel/)![1]);
  await using haproxy = await startHaproxy({
    frontends: [
      { backendPort: webPort, sendProxy: "none", mode: "http" },
      { backendPort: ircPort, sendProxy: "v2" },
    ],
  });
  const [webFront, ircFront] = haproxy.ports;
  // The clients leave before the server is told to stop.
  {
    await using leaving = new TestScope();
    const page = leaving.track(await WebTestClient.join(webFront, "wendy"));
    const irc = leaving.track(
      await IrcLineClient.joined(ircFront, "ivan", "#chat"),
    );
    page.send("hello through haproxy");
    await irc.next(/^:wendy!web@chat PRIVMSG #chat :hello through haproxy$/);
    await irc.send("PRIVMSG #chat :and back");
    const back = await page.next((f) => f.type === "message" && !f.own);
    assert.equal(back.text, "and back");
  }
  await server.write("Terminate server\n");
  assert.equal((await server.status(10_000)).code, 0);
});
