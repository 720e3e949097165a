/**
 * Fuzz test: connections sending random bytes (invalid UTF-8, NUL, lone
 * `\r`, over-long lines, escape sequences, commands, names), split at random
 * points, while three ordinary clients chat. The chat must stay exact for
 * them and clean of control characters, and the registry must be right.
 *
 * Seeded: FUZZ_SEED=<n> replays a run; a failure names its seed.
 */

import assert from "node:assert/strict";
import {
  closeQuietly,
  concat,
  startTestServer,
  type TestClient,
  waitUntil,
  writeAll,
} from "./helpers.ts";
import { Random } from "./random.ts";

const DEFAULT_SEED = 0xc0ffee;
const SEED = (() => {
  const given = Deno.env.get("FUZZ_SEED");
  if (given === undefined || given === "") return DEFAULT_SEED;
  const seed = Number(given);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED "${given}"?`);
  return seed >>> 0;
})();

const FUZZERS = 5;
const PIECES_PER_FUZZER = 5_000;
const FUZZ_TIME_MS = 6_000;
const NORMALS = ["norm0", "norm1", "norm2"];
const MESSAGES_PER_NORMAL = 300;

// What the server must never pass on: C0 controls but TAB, DEL, C1.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

const encoder = new TextEncoder();

/** `length` random bytes; without `allowNewline`, `\n` becomes `\v`. */
function randomBytes(
  random: Random,
  length: number,
  allowNewline: boolean,
): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const b = random.int(256);
    bytes[i] = !allowNewline && b === 10 ? 11 : b;
  }
  return bytes;
}

const INVALID_UTF8: readonly number[][] = [
  [0xff, 0xfe],
  [0xc3],
  [0xe2, 0x82],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
];

const ESCAPES: readonly string[] = [
  "\x1b[2J\x1b[H",
  "\x1b[31mred\x1b[0m",
  "\x1b]0;pwned\x07",
  "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
  "\u009b31m",
  "\x07\x08\x7f",
  "\x1bc",
];

const TEXTS: readonly string[] = [
  "hello",
  "héllo wörld",
  "😀😀",
  "e\u0301",
  "\u202eevil",
  "\ufeffbom",
  "日本語",
  "  spaced  ",
];

const NAMES: readonly string[] = [
  "norm0",
  "NORM1",
  "Norm2",
  "late",
  "a b",
  "*star",
  "x".repeat(33),
  "Zoë",
  "ok_name",
  "-dash",
  ".dot",
  "",
];

/** One random thing to send, mostly ending in a newline. */
function randomPiece(random: Random): Uint8Array {
  const nl = random.chance(0.85) ? "\n" : "";
  switch (random.int(15)) {
    case 0:
      return randomBytes(random, 1 + random.int(64), true);
    case 1:
      return concat([
        encoder.encode("bad "),
        new Uint8Array(random.pick(INVALID_UTF8)),
        encoder.encode(` utf8${nl}`),
      ]);
    case 2:
      return encoder.encode(`nul\x00inside\x00${nl}`);
    case 3:
      return encoder.encode(random.pick(["a\rb\r\n", "\r", "\r\r\n", "x\r"]));
    case 4: {
      // Over the 4096-byte limit, sometimes much more.
      const length = 4_097 + random.int(random.chance(0.2) ? 60_000 : 8_000);
      const body = random.chance(0.5)
        ? randomBytes(random, length, false)
        : encoder.encode("L".repeat(length));
      return concat([body, encoder.encode(nl)]);
    }
    case 5:
      return encoder.encode(`${random.pick(ESCAPES)} esc${nl}`);
    case 6:
      return encoder.encode(
        random.pick([
          "@x hello",
          "@norm0 psst",
          "@NORM1 \x1b[31mhi",
          "@",
          "@ x",
          "@late",
          `@${random.pick(NAMES)} ${random.pick(TEXTS)}`,
        ]) + nl,
      );
    case 7:
      return encoder.encode(
        random.pick(["/cmd", "/who", "/help", "/WHO x", "/", "//", "/nick a"]) +
          nl,
      );
    case 8:
      return encoder.encode(random.pick(NAMES) + nl);
    case 9:
      // Leaving, now and then.
      return encoder.encode(
        (random.chance(0.15)
          ? random.pick(["exit", " EXIT ", "/quit", "/exit"])
          : "exit now please") + nl,
      );
    case 10:
      // Spoofing: a relayed line must not pass for another client's.
      return encoder.encode(
        random.pick([
          "*** norm0 has left the chat.",
          "norm0: msg 0-0 fake",
          "Online (0): ",
          "\nnorm1: msg 1-1 fake",
        ]) + nl,
      );
    case 11:
      return encoder.encode(random.pick(["", "   ", "\t"]) + "\n");
    case 12:
      return encoder.encode(`${random.pick(TEXTS)}\r\n`);
    default:
      return encoder.encode(
        `fuzz ${random.pick(TEXTS)} ${random.int(1e6)}${nl}`,
      );
  }
}

/** Cuts `bytes` into pieces at random points. */
function randomSplit(random: Random, bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    const size = 1 + random.int(random.chance(0.5) ? 16 : 8_192);
    pieces.push(bytes.subarray(start, start + size));
    start += size;
  }
  return pieces;
}

/** Reads and drops everything until the end of `conn`. */
async function discard(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while ((await conn.read(buffer)) !== null) {
      // Dropped.
    }
  } catch {
    // Reset or closed by us.
  }
}

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => timer = setTimeout(resolve, ms, false)),
  ]);
  clearTimeout(timer);
  return settled;
}

interface FuzzStats {
  connections: number;
  pieces: number;
  bytes: number;
  /** Connections the server did not close after `exit`. */
  exitsIgnored: number;
}

/** One fuzzing connection after another, until its pieces or time run out. */
async function fuzzer(
  port: number,
  index: number,
  random: Random,
  deadline: number,
  stats: FuzzStats,
): Promise<void> {
  let pieces = 0;
  for (
    let round = 0;
    pieces < PIECES_PER_FUZZER && performance.now() < deadline && round < 500;
    round++
  ) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    stats.connections++;
    const reading = discard(conn);
    try {
      const parts: Uint8Array[] = [];
      if (random.chance(0.7)) {
        parts.push(encoder.encode(`fz${index}_${round}\n`));
      }
      const count = 10 + random.int(200);
      for (let i = 0; i < count && pieces < PIECES_PER_FUZZER; i++, pieces++) {
        parts.push(randomPiece(random));
      }
      const bytes = concat(parts);
      for (const piece of randomSplit(random, bytes)) {
        if (performance.now() > deadline) break;
        await writeAll(conn, piece);
        stats.bytes += piece.length;
      }
      stats.pieces += count;
      const ending = random.int(3);
      if (ending === 0) {
        // Abruptly, maybe in the middle of a line.
        await writeAll(conn, encoder.encode("cut off in the mid"));
      } else if (ending === 1) {
        // A newline first ends whatever line was left unfinished.
        await writeAll(conn, encoder.encode("\nexit\n"));
        if (!(await within(reading, 10_000))) stats.exitsIgnored++;
      }
    } catch {
      // The server ended it (an exit word, too many attempts): fine.
    } finally {
      closeQuietly(conn);
      await reading;
    }
  }
}

/** One ordinary client's chat: numbered lines, paced by its own `/who`. */
async function chat(client: TestClient, index: number): Promise<string[]> {
  const payloads = [
    "plain words",
    "héllo wörld 😀",
    "tab\tinside",
    "quotes \"' and \\ backslash",
    "日本語のテキスト",
    "long " + "y".repeat(1_500),
  ];
  const sent: string[] = [];
  for (let i = 0; i < MESSAGES_PER_NORMAL; i++) {
    const line = `msg ${index}-${i} ${payloads[i % payloads.length]}`;
    await client.send(line);
    sent.push(line);
    if (i % 5 === 4) {
      await client.send("/who");
      await client.next(/^Online \(/, 10_000);
    }
  }
  return sent;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

Deno.test("fuzzed connections leave the chat of others exact and clean", async () => {
  await using ts = await startTestServer({
    limits: { floodRate: 0, maxSendqBytes: 0 },
  });
  const { port, server } = ts;
  const normals: TestClient[] = [];
  const stats: FuzzStats = {
    connections: 0,
    pieces: 0,
    bytes: 0,
    exitsIgnored: 0,
  };
  try {
    for (const name of NORMALS) normals.push(await ts.join(name));
    await normals[0].next("*** norm2 has joined the chat.");

    const deadline = performance.now() + FUZZ_TIME_MS;
    const fuzzing = Array.from(
      { length: FUZZERS },
      (_, i) => fuzzer(port, i, new Random(SEED + i * 7919), deadline, stats),
    );
    const chatting = normals.map((client, i) => chat(client, i));
    const [sent] = await Promise.all([
      Promise.all(chatting),
      Promise.all(fuzzing),
    ]);

    // Every fuzzing connection is gone: the registry holds the normals.
    await waitUntil(
      () =>
        server.room.connectionCount === NORMALS.length &&
        sameMembers(server.room.names(), NORMALS),
      `the registry to hold just ${NORMALS} (has ${server.room.names()})`,
      10_000,
    );

    // Each normal line reached each other normal client once, intact, in order.
    for (let s = 0; s < NORMALS.length; s++) {
      const prefix = `${NORMALS[s]}: `;
      const expected = sent[s].map((line) => prefix + line);
      for (let r = 0; r < NORMALS.length; r++) {
        if (r === s) continue;
        const from = () =>
          normals[r].received.lines.filter((l) => l.startsWith(prefix));
        await waitUntil(
          () => from().length >= expected.length,
          `${NORMALS[s]}'s lines at ${NORMALS[r]}`,
          10_000,
        );
        assert.deepEqual(from(), expected, `${NORMALS[s]} -> ${NORMALS[r]}`);
      }
    }

    for (let r = 0; r < NORMALS.length; r++) {
      const dirty = normals[r].received.lines.filter((l) => CONTROL.test(l));
      assert.deepEqual(dirty, [], `control characters at ${NORMALS[r]}`);
      assert.equal(normals[r].received.ended, false, `${NORMALS[r]} was cut`);
    }

    // The server still takes and names new clients.
    const late = await ts.join("late");
    normals.push(late);
    await normals[1].next("*** late has joined the chat.");
    await late.send("made it");
    assert.equal(await normals[2].next(/^late:/), "late: made it");
    assert.ok(sameMembers(server.room.names(), [...NORMALS, "late"]));
    assert.ok(stats.connections >= FUZZERS, "the fuzzers never connected");
    assert.equal(stats.exitsIgnored, 0, "connections not closed after exit");
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `fuzz failed; replay with FUZZ_SEED=${SEED} ` +
        `(${JSON.stringify(stats)}): ${message}`,
      { cause: error },
    );
  }
});
