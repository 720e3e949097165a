// The web door's connection as the room sees it, over a scripted stream:
// what readLines hands the room for the frames a browser sent.

import assert from "node:assert/strict";
import { WebConnection } from "../lib/transports/http/web_connection.ts";
import type { StreamConn } from "../lib/transports/stream.ts";
import { Metrics } from "../lib/room/metrics.ts";
import { clientFrame } from "./support/web_client.ts";

const decoder = new TextDecoder();
const ADDR: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };

/** A stream that reads the chunks it is given, then ends; keeps writes. */
class ScriptedConn implements StreamConn {
  readonly remoteAddr = ADDR;
  readonly localAddr = ADDR;
  readonly written: Uint8Array[] = [];
  #chunks: Uint8Array[];

  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    const count = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, count));
    if (count < chunk.length) this.#chunks.unshift(chunk.subarray(count));
    return Promise.resolve(count);
  }

  write(bytes: Uint8Array): Promise<number> {
    this.written.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }

  close(): void {}

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }
}

function joined(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function connection(chunks: Uint8Array[]): {
  web: WebConnection;
  conn: ScriptedConn;
  cuts: unknown[];
} {
  const conn = new ScriptedConn(chunks);
  const web = new WebConnection(conn, {
    ip: "127.0.0.1",
    address: "127.0.0.1:1",
    rest: new Uint8Array(0),
    maxLineBytes: 1024,
    maxMessageBytes: 64 * 1024,
    maxSendqBytes: 0,
    metrics: new Metrics(),
  });
  const cuts: unknown[] = [];
  web.onCut = (reason) => cuts.push(reason);
  return { web, conn, cuts };
}

Deno.test("web connection hands the room every text message read at once as one batch", async () => {
  const { web } = connection([
    joined(clientFrame("one"), clientFrame("two\nthree"), clientFrame("four")),
    clientFrame("five"),
  ]);
  assert.deepEqual(await web.readLines(), ["one", "two", "three", "four"]);
  assert.deepEqual(await web.readLines(), ["five"]);
  assert.equal(await web.readLines(), null);
  await web.close();
});

Deno.test("web connection stops a batch at a frame not whole yet and at a control frame", async () => {
  const last = clientFrame("three");
  const { web, conn } = connection([
    joined(
      clientFrame("one"),
      clientFrame("ping", { opcode: 9 }),
      clientFrame("two"),
      last.subarray(0, 4),
    ),
    last.subarray(4),
  ]);
  assert.deepEqual(await web.readLines(), ["one"]);
  assert.deepEqual(await web.readLines(), ["two"]);
  assert.deepEqual(await web.readLines(), ["three"]);
  await web.drain();
  // The pong went out with the ping's payload.
  assert.ok(conn.written.some((w) => w[0] === 0x8a && w[1] === 4));
  await web.close();
});

Deno.test("web connection refuses a broken message only after the lines before it", async () => {
  const { web, conn, cuts } = connection([
    joined(clientFrame("fine"), clientFrame(new Uint8Array([0xff, 0xfe]))),
  ]);
  assert.deepEqual(await web.readLines(), ["fine"]);
  assert.deepEqual(cuts, []);
  assert.equal(await web.readLines(), null);
  assert.deepEqual(cuts, ["invalidUtf8"]);
  await web.close();
  const close = conn.written.find((w) => w[0] === 0x88)!;
  assert.equal((close[2] << 8) | close[3], 1007);
  assert.equal(decoder.decode(close.subarray(4)), "");
});
