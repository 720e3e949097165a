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
  TestClient,
  waitUntil,
} from "./helpers.ts";
import { startHaproxy } from "./support/haproxy.ts";

Deno.test("chat server behind haproxy send-proxy sees the client's own address", async () => {
  const dir = await Deno.makeTempDir({ prefix: "chat_haproxy_" });
  const logPath = `${dir}/chat.log`;
  const server = await spawnServer([
    "--log",
    logPath,
    "--no-web",
    "--trust-proxy",
    "127.0.0.1",
  ], { cwd: dir });
  try {
    await using haproxy = await startHaproxy({
      frontends: [
        { backendPort: server.port, sendProxy: "v1" },
        { backendPort: server.port, sendProxy: "v2" },
      ],
    });
    const clients: TestClient[] = [];
    try {
      for (const [i, port] of haproxy.ports.entries()) {
        const client = await TestClient.connect(port);
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
    } finally {
      for (const client of clients) await client.close();
    }
    await server.write("Terminate server\n");
    assert.equal((await server.status(10_000)).code, 0);
  } finally {
    await server.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
