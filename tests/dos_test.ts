/**
 * Denial of service from one host (issue 16, items 1-3): the server as a
 * subprocess under a small `ulimit -n`, a few hundred connections at most
 * on loopback, and its peak memory read from `VmHWM`, while members go on
 * chatting; and silent connections to the TLS doors, closed at their
 * deadline and counted until they are.
 *
 * @module
 */

import assert from "node:assert/strict";
import net from "node:net";
import {
  closeQuietly,
  spawnServer,
  startTestServer,
  type Subprocess,
  TestClient,
  waitUntil,
  waitUntilAsync,
  within,
} from "./helpers.ts";
import { clientFrame, RawConn } from "./support/web_client.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const ca = await Deno.readTextFile(new URL("ca.crt", FIXTURES));
const tls = {
  cert: await Deno.readTextFile(new URL("localhost.crt", FIXTURES)),
  key: await Deno.readTextFile(new URL("localhost.key", FIXTURES)),
};
const CERT_FILE = new URL("localhost.crt", FIXTURES).pathname;
const KEY_FILE = new URL("localhost.key", FIXTURES).pathname;

const FD_LIMIT = 256;
// Deno itself takes about 50 MB, and these attacks peak at 60-70 MB
// (one 60 MB frame used to take the server to 283 MB): what a connection
// may cost is bounded by its limits (a 64 KiB message, a small buffer).
const MAX_PEAK_MB = 150;

const decoder = new TextDecoder();

// Deno reads /proc only with every permission: `cat` and `ls` read it.
async function run(command: string, args: string[]): Promise<string> {
  const { stdout } = await new Deno.Command(command, { args }).output();
  return decoder.decode(stdout);
}

/** The server's peak resident memory so far (VmHWM), in MB. */
async function peakMb(pid: number): Promise<number> {
  const status = await run("cat", [`/proc/${pid}/status`]);
  const kb = Number(status.match(/^VmHWM:\s+(\d+) kB$/m)![1]);
  return kb / 1024;
}

/** Descriptors the process holds now. */
async function openFds(pid: number): Promise<number> {
  const listing = await run("ls", [`/proc/${pid}/fd`]);
  return listing.split("\n").filter((l) => l !== "").length;
}

/** A TCP connection from `localAddress` (a loopback address of ours). */
function connectFrom(
  localAddress: string,
  port: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function destroy(socket: net.Socket): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

/** Starts the server under the descriptor limit, with a temp log. */
async function dosServer(
  args: string[],
): Promise<{ server: Subprocess & { port: number }; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "chat_dos_" });
  const server = await spawnServer(["--log", `${dir}/chat.log`, ...args], {
    cwd: dir,
    fdLimit: FD_LIMIT,
  });
  return { server, dir };
}

async function webPortOf(server: Subprocess): Promise<number> {
  const line = await server.stdout.next(/^Web chat at /);
  return Number(line.match(/:(\d+)\/$/)![1]);
}

/** Two members who say a line to each other and check it arrived. */
async function stillChatting(
  alice: TestClient,
  bob: TestClient,
  text: string,
): Promise<void> {
  await alice.send(text);
  await bob.next(`alice: ${text}`, 10_000);
}

async function stop(server: Subprocess, dir: string): Promise<void> {
  try {
    server.child.kill("SIGTERM");
    assert.equal((await server.status(15_000)).code, 0);
    const log = Deno.readTextFileSync(`${dir}/chat.log`);
    assert.match(log, /Server has been shutdown\n.*Chat finished\n$/);
    assert.ok(
      !server.stderr.lines.some((l) => /Uncaught|error/i.test(l)),
      server.stderr.lines.join("\n"),
    );
  } finally {
    await server.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name:
    "dos: connections from several addresses exhaust descriptors through the web door and the chat door, and the chat goes on",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { server, dir } = await dosServer(["--web-port", "0"]);
    const sockets: net.Socket[] = [];
    const members: TestClient[] = [];
    try {
      const web = await webPortOf(server);
      const alice = await TestClient.join(server.port, "alice");
      members.push(alice);
      const bob = await TestClient.join(server.port, "bob");
      members.push(bob);
      // Through the web door (half a header each), then through the chat
      // door: six addresses, each under the per-address limit (50),
      // together more than the descriptors the server has left.
      const attacks: [string, number, string][] = [
        ["web", web, "GET / HTTP/1.1\r\nHost: x\r\nX-a: "],
        ["chat", server.port, ""],
      ];
      for (const [door, port, bytes] of attacks) {
        for (let a = 2; a <= 7; a++) {
          for (let i = 0; i < 45; i++) {
            const socket = await connectFrom(`127.0.0.${a}`, port);
            if (bytes !== "") socket.write(bytes);
            sockets.push(socket);
          }
        }
        await server.stdout.next(/^Accepting connections failed: /, 10_000);
        // A request while no descriptor is left: it waits, nothing dies.
        const health = connectFrom("127.0.0.9", web).then((socket) => {
          sockets.push(socket);
          socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
          return new Promise<string>((resolve) =>
            socket.on("data", (d) => resolve(String(d)))
          );
        });
        await stillChatting(alice, bob, `still here, ${door} door full`);

        // The attackers go; the door serves again, the healthz included.
        for (const socket of sockets.splice(0, 270)) await destroy(socket);
        assert.match(await health, /^HTTP\/1\.1 200 /, door);
        const page = await RawConn.webSocket(web);
        try {
          await page.event((e) => e.type === "prompt", 10_000);
        } finally {
          await page.close();
        }
        await stillChatting(alice, bob, `and after the ${door} door`);
      }
      const peak = await peakMb(server.child.pid);
      assert.ok(peak < MAX_PEAK_MB, `peak RSS ${peak} MB`);
    } finally {
      for (const socket of sockets) await destroy(socket);
      for (const member of members) await member.close();
      await stop(server, dir);
    }
  },
});

Deno.test({
  name:
    "dos: WebSocket frames announced at 60 MB are refused from their header, and memory stays bounded",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { server, dir } = await dosServer(["--web-port", "0"]);
    const sockets: RawConn[] = [];
    const members: TestClient[] = [];
    try {
      const web = await webPortOf(server);
      const alice = await TestClient.join(server.port, "alice");
      members.push(alice);
      const bob = await TestClient.join(server.port, "bob");
      members.push(bob);
      const before = await peakMb(server.child.pid);
      const chunk = new Uint8Array(1024 * 1024);
      for (let i = 0; i < 8; i++) {
        const ws = await RawConn.webSocket(web);
        sockets.push(ws);
        await ws.send(
          clientFrame(new Uint8Array(0), { announce: 60_000_000 }),
        );
        // The start of the payload, as a flooder would send it.
        ws.send(chunk).catch(() => {});
      }
      for (const ws of sockets) assert.equal(await ws.closeCode(10_000), 1009);
      // Messages at the limit (64 KiB) on 50 sockets from one address:
      // each is taken and refused as a line too long, never all held.
      const busy: RawConn[] = [];
      for (let i = 0; i < 45; i++) {
        const ws = await RawConn.webSocket(web);
        busy.push(ws);
        sockets.push(ws);
      }
      const big = "x".repeat(64 * 1024);
      await Promise.all(busy.map((ws) => ws.send(clientFrame(big))));
      for (const ws of busy) {
        const notice = await ws.event((e) => e.type === "notice", 10_000);
        assert.match(String(notice.text), /^Message too long/);
      }
      await stillChatting(alice, bob, "unbothered");
      const peak = await peakMb(server.child.pid);
      assert.ok(
        peak < MAX_PEAK_MB,
        `peak RSS ${peak} MB (${before} MB before the frames)`,
      );
    } finally {
      for (const ws of sockets) await ws.close();
      for (const member of members) await member.close();
      await stop(server, dir);
    }
  },
});

Deno.test({
  name:
    "dos: silent connections to the TLS chat port are closed at the registration deadline and counted until then",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const { server, dir } = await dosServer([
      "--no-web",
      "--tls-cert",
      CERT_FILE,
      "--tls-key",
      KEY_FILE,
      "--max-per-ip",
      "3",
      "--registration-timeout",
      "1",
    ]);
    const silent: net.Socket[] = [];
    const members: TestClient[] = [];
    try {
      const alice = await TestClient.joinTls(server.port, "alice", {
        caCerts: [ca],
      });
      members.push(alice);
      const bob = await TestClient.joinTls(server.port, "bob", {
        caCerts: [ca],
      });
      members.push(bob);
      const baseline = await openFds(server.child.pid);
      // 24 from one address that never send a byte: three are counted,
      // the others refused.
      const ended: Promise<void>[] = [];
      for (let i = 0; i < 24; i++) {
        const socket = await connectFrom("127.0.0.5", server.port);
        silent.push(socket);
        ended.push(new Promise((resolve) => socket.once("close", resolve)));
        socket.resume();
      }
      await stillChatting(alice, bob, "over TLS, beside silent ones");
      // Refused ones go at once, the three counted at the deadline: none
      // is left, and the server holds no descriptor for them.
      await within(Promise.all(ended), 10_000, "the silent ones to be closed");
      let fds = Infinity;
      await waitUntilAsync(
        async () => (fds = await openFds(server.child.pid)) <= baseline,
        `the server to let go of their descriptors (${baseline} before)`,
        5_000,
      ).catch((error) => {
        throw new Error(`${error.message}: ${fds} open`);
      });
      await stillChatting(alice, bob, "and after them");
      const peak = await peakMb(server.child.pid);
      assert.ok(peak < MAX_PEAK_MB, `peak RSS ${peak} MB`);
    } finally {
      for (const socket of silent) await destroy(socket);
      for (const member of members) await member.close();
      await stop(server, dir);
    }
  },
});

/** The first bytes a real TLS client sends: its ClientHello. */
async function captureClientHello(): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const client = Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] })
    .then((conn) => {
      conn.handshake().catch(() => {});
      return conn;
    });
  const server = await listener.accept();
  const buffer = new Uint8Array(4096);
  const count = await server.read(buffer);
  server.close();
  listener.close();
  closeQuietly(await client);
  return buffer.slice(0, count ?? 0);
}

Deno.test("tls doors close a connection silent at any step of the handshake by the deadline, and count it until then", async () => {
  const ts = await startTestServer({
    tls,
    irc: { port: 0 },
    web: { port: 0, headerTimeoutMs: 500 },
    limits: { registrationTimeoutMs: 500, maxPerIp: 3 },
  });
  const hello = await captureClientHello();
  const conns: RawConn[] = [];
  const clients: TestClient[] = [];
  try {
    const doors = [
      ts.port,
      ts.server.ircAddr!.port,
      ts.server.webAddr!.port,
    ];
    for (const port of doors) {
      // Nothing; half a record header; a whole ClientHello and no more.
      const steps = [
        new Uint8Array(0),
        hello.subarray(0, 3),
        hello,
      ];
      const opened: RawConn[] = [];
      for (const step of steps) {
        const conn = await RawConn.open(port);
        conns.push(conn);
        opened.push(conn);
        if (step.length > 0) await conn.send(step);
      }
      await waitUntil(
        () => ts.server.room.admitted === 3,
        "the three to be counted",
      );
      if (port === ts.port) {
        // Counted: a fourth from the address is refused meanwhile.
        const fourth = await TestClient.connectTls(port, { caCerts: [ca] });
        clients.push(fourth);
        await fourth.next("Too many connections from your address.");
      }
      for (const conn of opened) await conn.waitEnded(5_000);
      await waitUntil(
        () => ts.server.room.admitted === 0,
        "their places to be given back",
      );
    }
    // The door serves on.
    const alice = await TestClient.joinTls(ts.port, "alice", {
      caCerts: [ca],
    });
    clients.push(alice);
    assert.deepEqual(ts.server.room.names(), ["alice"]);
  } finally {
    for (const conn of conns) await conn.close();
    for (const client of clients) await client.close();
    await ts.cleanup();
  }
});
