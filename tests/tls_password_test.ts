/**
 * TLS and password tests: the server over TLS with the test CA's
 * certificate (tests/fixtures), and the server password, in-process and
 * with `client.ts` as a subprocess.
 *
 * Real TCP on 127.0.0.1 (`localhost` resolves there); servers on port 0.
 */

import assert from "node:assert/strict";
import type { ChatServer } from "../lib/app/chat_server.ts";
import {
  LAST_WELCOME_LINE,
  NAME_PROMPT,
  SHUTTING_DOWN,
  spawnProgram,
  startTestServer,
  type Subprocess,
  TestClient,
  waitUntil,
  within,
} from "./helpers.ts";

const encoder = new TextEncoder();

const FIXTURES = new URL("./fixtures/", import.meta.url);
const CA_FILE = new URL("ca.crt", FIXTURES).pathname;
const ca = await Deno.readTextFile(CA_FILE);
const tls = {
  cert: await Deno.readTextFile(new URL("localhost.crt", FIXTURES)),
  key: await Deno.readTextFile(new URL("localhost.key", FIXTURES)),
};

/** Connects with TLS trusting the test CA, and registers `name`. */
function joinTls(
  port: number,
  name: string,
  hostname = "localhost",
): Promise<TestClient> {
  return TestClient.joinTls(port, name, { hostname, caCerts: [ca] });
}

/** Answers the name prompt with `name` and waits for the password prompt. */
async function enterName(client: TestClient, name: string): Promise<void> {
  await client.next(NAME_PROMPT);
  await client.send(name);
  await client.next("Password:");
}

/**
 * Waits for `name` in the registry, then has the client program leave with
 * `exit`: it must say goodbye and exit 0.
 */
async function registeredThenExit(
  server: ChatServer,
  client: Subprocess,
  name: string,
): Promise<void> {
  await waitUntil(
    () => server.room.names().includes(name),
    `${name} in the registry`,
  );
  await client.write("exit\n");
  await client.stdout.next(`Goodbye ${name}!`);
  assert.equal((await client.status(10_000)).code, 0);
}

Deno.test("tls server serves clients that trust its CA", async () => {
  await using ts = await startTestServer({ tls });
  const { port, server } = ts;
  // By name and by IP address: the certificate covers both.
  const alice = ts.track(await joinTls(port, "alice", "localhost"));
  const bob = ts.track(await joinTls(port, "bob", "127.0.0.1"));
  await alice.next("*** bob has joined the chat.");
  await alice.send("secret hello");
  assert.equal(await bob.next(/^alice:/), "alice: secret hello");
  await bob.send("@alice only you");
  assert.equal(
    await alice.next(/^Private/),
    "Private message from bob: only you",
  );
  assert.deepEqual(server.room.names(), ["alice", "bob"]);
});

Deno.test("tls handshake without the CA fails and the server serves on", async () => {
  await using ts = await startTestServer({ tls });
  const { port, server } = ts;
  const alice = ts.track(await joinTls(port, "alice"));

  const untrusting = ts.track(
    await Deno.connectTls({ hostname: "localhost", port }),
  );
  await assert.rejects(
    untrusting.handshake(),
    (error: unknown) =>
      error instanceof Error &&
      /certificate|UnknownIssuer/i.test(error.message),
  );
  untrusting.close();

  // Plain TCP to the TLS port: not a handshake at all.
  const plain = ts.track(await Deno.connect({ hostname: "127.0.0.1", port }));
  await plain.write(encoder.encode("mallory\nhello\n"));
  const buffer = new Uint8Array(1024);
  // Whatever comes back (a TLS alert or nothing), the server ends it.
  const deadline = performance.now() + 5_000;
  let ended = false;
  for (let reads = 0; reads < 100 && !ended; reads++) {
    const n = await within(
      plain.read(buffer).catch(() => null),
      deadline - performance.now(),
      "the server to close a plain TCP connection",
    );
    ended = n === null;
  }
  assert.ok(ended, "the plain TCP connection was not closed");
  plain.close();

  await waitUntil(
    () => server.room.connectionCount === 1,
    "the failed connections to leave the room",
  );
  assert.deepEqual(server.room.names(), ["alice"]);
  const bob = ts.track(await joinTls(port, "bob"));
  await bob.send("all good");
  assert.equal(await alice.next(/^bob:/), "bob: all good");
});

Deno.test("client program chats over tls with --tls --ca", async () => {
  await using ts = await startTestServer({ tls });
  const { port } = ts;
  const client = ts.track(
    spawnProgram("client.ts", [
      "--tls",
      "--ca",
      CA_FILE,
      "--host",
      "localhost",
      "--port",
      String(port),
      "--name",
      "carol",
    ]),
  );
  await client.stdout.next("Welcome carol!", 15_000);
  const alice = ts.track(await joinTls(port, "alice"));
  await client.stdout.next("*** alice has joined the chat.");
  await client.write("hello over tls\n");
  assert.equal(await alice.next(/^carol:/), "carol: hello over tls");
  await alice.send("hi carol");
  await client.stdout.next("alice: hi carol");
  await client.write("exit\n");
  await client.stdout.next("Goodbye carol!");
  const status = await client.status(10_000);
  assert.equal(status.code, 0, `stderr: ${client.stderr.lines.join(" | ")}`);
  await alice.next("*** carol has left the chat.");
});

Deno.test("password right registers the client", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
  });
  const { server } = ts;
  const client = await ts.connect();
  await enterName(client, "alice");
  assert.deepEqual(server.room.names(), [], "named before the password");
  await client.send("s3cret");
  await client.next("Welcome alice!");
  await client.next(LAST_WELCOME_LINE);
  assert.deepEqual(server.room.names(), ["alice"]);
});

Deno.test("password wrong closes the connection and leaves the name free", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
    limits: { wrongPasswordDelayMs: 200 },
  });
  const { server } = ts;
  const guesser = await ts.connect();
  await enterName(guesser, "alice");
  await guesser.send("guess");
  await guesser.next("Wrong password.");
  await guesser.received.closed();
  assert.equal(guesser.received.lines.at(-1), "Wrong password.");
  assert.deepEqual(server.room.names(), []);

  const alice = await ts.connect();
  await enterName(alice, "alice");
  await alice.send("s3cret");
  await alice.next("Welcome alice!");
  assert.deepEqual(server.room.names(), ["alice"]);
});

Deno.test("password pending does not take the name", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
  });
  const { server } = ts;
  const first = await ts.connect();
  await enterName(first, "zed");
  // The same name from another connection is not "already taken" yet.
  const second = await ts.connect();
  await second.next(NAME_PROMPT);
  await second.send("ZED");
  assert.equal(await second.next(() => true), "Password:");
  await second.send("s3cret");
  await second.next("Welcome ZED!");
  // Now it is: the first one's right password comes too late.
  await first.send("s3cret");
  assert.equal(
    await first.next(/already taken/),
    'Name "zed" is already taken. Please enter another name:',
  );
  assert.deepEqual(server.room.names(), ["ZED"]);
  // The password was right: another name is taken without asking it again.
  await first.send("zed2");
  assert.equal(await first.next(() => true), "Welcome zed2!");
});

Deno.test("password: a taken name is told only after the right password", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
    limits: { wrongPasswordDelayMs: 50 },
  });
  const { server } = ts;
  const alice = await ts.connect();
  await enterName(alice, "alice");
  await alice.send("s3cret");
  await alice.next(LAST_WELCOME_LINE);

  // Without the password a taken name and a free one get the same answer,
  // and a wrong password the same end: no one learns who is online.
  for (const name of ["ALICE", "nobody"]) {
    const guesser = await ts.connect();
    await guesser.next(NAME_PROMPT);
    await guesser.send(name);
    assert.equal(await guesser.next(() => true), "Password:", name);
    await guesser.send("guess");
    await guesser.next("Wrong password.");
    await guesser.received.closed();
    assert.deepEqual(
      guesser.received.lines,
      [NAME_PROMPT, "Password:", "Wrong password."],
      name,
    );
  }

  // With it, the name is said to be taken, and another one is asked for
  // without asking the password again.
  const bob = await ts.connect();
  await enterName(bob, "ALICE");
  await bob.send("s3cret");
  assert.equal(
    await bob.next(() => true),
    'Name "ALICE" is already taken. Please enter another name:',
  );
  await bob.send("bob");
  assert.equal(await bob.next(() => true), "Welcome bob!");
  await bob.next(LAST_WELCOME_LINE);
  assert.deepEqual(server.room.names(), ["alice", "bob"]);
});

Deno.test("password prompt answered with exit says goodbye", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
  });
  const { server } = ts;
  const client = await ts.connect();
  await enterName(client, "alice");
  await client.send("exit");
  await client.next("Goodbye!");
  await client.received.closed();
  await waitUntil(
    () => server.room.connectionCount === 0,
    "the connection to leave the room",
  );
  assert.deepEqual(server.room.names(), []);
});

Deno.test("client program answers the password prompt from CHAT_PASSWORD", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
  });
  const { port, server } = ts;
  const alice = await ts.connect();
  const client = ts.track(
    spawnProgram(
      "client.ts",
      ["--port", String(port), "--name", "carol"],
      { env: { CHAT_PASSWORD: "s3cret" } },
    ),
  );
  await enterName(alice, "alice");
  await alice.send("s3cret");
  await alice.next(LAST_WELCOME_LINE);

  await client.stdout.next("Password:", 15_000);
  await client.stdout.next("Welcome carol!");
  await alice.next("*** carol has joined the chat.");
  assert.deepEqual(server.room.names(), ["alice", "carol"]);
  await client.write("typed after the password\n");
  assert.equal(
    await alice.next(/^carol:/),
    "carol: typed after the password",
  );
  assert.ok(
    !alice.received.lines.some((l) => l.includes("s3cret")),
    "the password was broadcast",
  );
  await client.closeStdin();
  await client.stdout.next("Goodbye carol!");
  assert.equal((await client.status(10_000)).code, 0);
});

Deno.test("client program answers the password prompt from --password", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
  });
  const { port, server } = ts;
  const client = ts.track(
    spawnProgram("client.ts", [
      "--port",
      String(port),
      "--name",
      "dave",
      "--password",
      "s3cret",
    ]),
  );
  await client.stdout.next("Welcome dave!", 15_000);
  await registeredThenExit(server, client, "dave");
});

Deno.test("client program without a password lets the user answer the prompt", async () => {
  await using ts = await startTestServer({
    password: "s3cret",
  });
  const { port, server } = ts;
  const client = ts.track(
    spawnProgram(
      "client.ts",
      ["--port", String(port), "--name", "erin"],
      { env: { CHAT_PASSWORD: "" } },
    ),
  );
  await client.stdout.next("Password:", 15_000);
  assert.deepEqual(server.room.names(), []);
  await client.write("s3cret\n");
  await client.stdout.next("Welcome erin!");
  await registeredThenExit(server, client, "erin");
});

Deno.test("tls connection that never handshakes does not hold up shutdown", async () => {
  const shutdownTimeoutMs = 500;
  await using ts = await startTestServer({
    tls,
    limits: { shutdownTimeoutMs },
  });
  const { port, server } = ts;
  const alice = ts.track(await joinTls(port, "alice"));
  // TCP only: no ClientHello ever comes.
  ts.track(await Deno.connect({ hostname: "127.0.0.1", port }));
  await waitUntil(
    () => server.room.connectionCount === 2,
    "the server to take the silent connection",
  );
  await within(
    server.shutdown(),
    shutdownTimeoutMs + 4_500,
    "shutdown with a silent TLS connection",
  );
  await alice.next(SHUTTING_DOWN);
  await alice.received.closed();
});

Deno.test("tls connection refused when full does not hold up shutdown", async () => {
  const shutdownTimeoutMs = 500;
  await using ts = await startTestServer({
    tls,
    limits: { maxClients: 1, shutdownTimeoutMs },
  });
  const { port, server } = ts;
  const alice = ts.track(await joinTls(port, "alice"));
  // TCP only, past the limit: the refusal can never be written to it.
  ts.track(await Deno.connect({ hostname: "127.0.0.1", port }));
  // Connections are taken in order: once a later one was refused, the
  // silent one was refused too (and its refusal is waiting to be written).
  const later = ts.track(await TestClient.connectTls(port, { caCerts: [ca] }));
  assert.equal(
    await later.next(() => true),
    "Server is full. Try again later.",
  );
  await later.received.closed();

  await within(
    server.shutdown(),
    shutdownTimeoutMs + 4_500,
    "shutdown with a refused silent TLS connection",
  );
  await alice.next(SHUTTING_DOWN);
});
