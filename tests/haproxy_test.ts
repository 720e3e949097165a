import assert from "node:assert/strict";
import { type ProxySource, readProxyHeader } from "../lib/io/proxy_protocol.ts";
import {
  closeQuietly,
  WAIT_MS,
  waitUntil,
  within,
  writeAll,
} from "./helpers.ts";
import { startHaproxy } from "./support/haproxy.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the backend learned from one connection. */
interface Seen {
  /** The source from the PROXY header (null: LOCAL or UNKNOWN). */
  source: ProxySource | null;
  /** The port of the socket's own peer: HAProxy's side. */
  peerPort: number;
}

/**
 * A backend behind HAProxy: reads the PROXY header of each connection, then
 * answers the client's first line with `IP:PORT LINE`, the source it
 * learned. Connections without a line (health checks) are only recorded.
 */
class EchoBackend implements AsyncDisposable {
  readonly port: number;
  readonly seen: Seen[] = [];
  /** Failures of connections after they were accepted. */
  readonly errors: string[] = [];
  /** Failures of accept itself. */
  readonly acceptErrors: string[] = [];
  #listener: Deno.Listener;
  #conns = new Set<Deno.Conn>();
  #handlers = new Set<Promise<void>>();
  #accepting: Promise<void>;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  async #accept(): Promise<void> {
    while (true) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        // A health check closed by HAProxy before it was accepted fails
        // here with NotConnected: the next one is fine.
        this.acceptErrors.push(String(error));
        continue;
      }
      this.#conns.add(conn);
      const handler: Promise<void> = this.#handle(conn).catch((error) => {
        this.errors.push(String(error));
      }).finally(() => {
        closeQuietly(conn);
        this.#conns.delete(conn);
        this.#handlers.delete(handler);
      });
      this.#handlers.add(handler);
    }
  }

  async #handle(conn: Deno.Conn): Promise<void> {
    const { source, rest } = await readProxyHeader(conn, { timeoutMs: 2000 });
    this.seen.push({
      source,
      peerPort: (conn.remoteAddr as Deno.NetAddr).port,
    });
    // The client's own bytes: those read with the header, then the rest of
    // the line.
    let line = decoder.decode(rest);
    const buffer = new Uint8Array(256);
    while (!line.includes("\n")) {
      const count = await conn.read(buffer);
      if (count === null) return;
      line += decoder.decode(buffer.subarray(0, count));
    }
    const shown = source === null ? "none" : `${source.ip}:${source.port}`;
    await writeAll(conn, encoder.encode(`${shown} ${line}`));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) closeQuietly(conn);
    await this.#accepting.catch(() => {});
    await Promise.all(this.#handlers);
  }
}

/** Connects to `port`, sends `line`, and resolves with the one line answered. */
async function ask(
  port: number,
  line: string,
): Promise<{ answer: string; localPort: number }> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const localPort = (conn.localAddr as Deno.NetAddr).port;
  await writeAll(conn, encoder.encode(line + "\n"));
  let answer = "";
  const buffer = new Uint8Array(256);
  while (!answer.includes("\n")) {
    const count = await conn.read(buffer);
    if (count === null) break;
    answer += decoder.decode(buffer.subarray(0, count));
  }
  return { answer, localPort };
}

Deno.test("haproxy send-proxy and send-proxy-v2 pass the client's address", async () => {
  await using backend = new EchoBackend();
  await using haproxy = await startHaproxy({
    frontends: [
      { backendPort: backend.port, sendProxy: "v1" },
      { backendPort: backend.port, sendProxy: "v2" },
      // A TLV after the addresses, which the reader skips.
      {
        backendPort: backend.port,
        sendProxy: "v2",
        serverOptions: ["proxy-v2-options", "crc32c"],
      },
    ],
  });
  const names = ["send-proxy", "send-proxy-v2", "send-proxy-v2 with crc32c"];
  for (const [i, port] of haproxy.ports.entries()) {
    const { answer, localPort } = await within(
      ask(port, `hello ${i}`),
      WAIT_MS,
      `the answer through ${names[i]}`,
    );
    assert.equal(
      answer,
      `127.0.0.1:${localPort} hello ${i}\n`,
      `${names[i]}; haproxy said:\n${haproxy.output()}`,
    );
    // The backend's socket peer is HAProxy, not the client: only the
    // header told it the client's port.
    const seen = backend.seen.at(-1);
    assert.equal(seen?.source?.port, localPort);
    assert.notEqual(seen?.peerPort, localPort);
  }
  assert.deepEqual(backend.errors, []);
});

Deno.test("haproxy health checks with send-proxy-v2 arrive as LOCAL", async () => {
  await using backend = new EchoBackend();
  await using haproxy = await startHaproxy({
    frontends: [{
      backendPort: backend.port,
      sendProxy: "v2",
      serverOptions: ["check", "inter", "100ms"],
      // Plain `check` ends each check with a reset at once, often before
      // Deno's accept has asked for the peer's address, which then fails
      // with NotConnected; `linger` makes it a FIN, as a client's close.
      backendLines: ["option tcp-check", "tcp-check connect default linger"],
    }],
  });
  try {
    await waitUntil(
      () => backend.seen.some((seen) => seen.source === null),
      "a health check (LOCAL header) from haproxy",
    );
  } catch (error) {
    throw new Error(
      `${error}; seen ${JSON.stringify(backend.seen)}, errors ${
        JSON.stringify([...backend.errors, ...backend.acceptErrors])
      }, haproxy said:\n${haproxy.output()}`,
    );
  }
  // And the clients still come with their address between the checks.
  const { answer, localPort } = await within(
    ask(haproxy.ports[0], "hello"),
    WAIT_MS,
    "the answer through send-proxy-v2 with checks",
  );
  assert.equal(answer, `127.0.0.1:${localPort} hello\n`);
  assert.deepEqual(backend.errors, []);
  assert.deepEqual(backend.acceptErrors, []);
});
