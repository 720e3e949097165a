/**
 * Soak: about a minute of churn against an in-process server (127.0.0.1,
 * port 0, no flood limit): hundreds of clients join, chat and leave at
 * random, some by `exit`, some by closing at once, some in the middle of a
 * line, some before choosing a name. At the end it prints what was served
 * and what the process holds before, at its peak and after, and exits 1 if
 * the registry is not empty or connections leaked.
 *
 * Run: `deno task soak` (flags: --seconds N, --lanes N, --seed N).
 *
 * @module
 */

import { parseArgs } from "node:util";
import v8 from "node:v8";
import vm from "node:vm";
import { startChatServer } from "../lib/app/chat_server.ts";
import { closeQuietly, LAST_WELCOME_LINE, writeAll } from "./helpers.ts";
import { Random } from "./random.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    lanes: { type: "string", default: "40" },
    seed: { type: "string", default: "1" },
  },
  strict: true,
});
const SECONDS = Number(values.seconds);
const LANES = Number(values.lanes);
const SEED = Number(values.seed) >>> 0;
if (!(SECONDS > 0) || !Number.isInteger(LANES) || LANES < 1) {
  console.error("Usage: soak.ts [--seconds N] [--lanes N] [--seed N]");
  Deno.exit(2);
}

const encoder = new TextEncoder();
const WAIT_MS = 10_000;
// A collector is only needed where `gc` is not exposed (no --expose-gc):
// V8 exposes it to a new context once the flag is set at run time.
function findGc(): (() => void) | null {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc: unknown = vm.runInNewContext("gc");
    return typeof gc === "function" ? gc as () => void : null;
  } catch {
    return null;
  }
}
const gc = findGc();

/**
 * Deno's resource table by kind (`tcpStream`, `tcpListener`, ...).
 * `Deno.resources()` is gone in Deno 2; the table is still there, internally,
 * for the test sanitizers: read it if this Deno has it, else null. (Reading
 * /proc/self/fd would need --allow-all.)
 */
const readResourceTable: (() => Record<string, string>) | null = (() => {
  const internal = (Deno as { internal?: symbol }).internal;
  if (internal === undefined) return null;
  const inner = (Deno as unknown as Record<symbol, unknown>)[internal];
  const core = (inner as { core?: { resources?: unknown } } | undefined)?.core;
  const resources = core?.resources;
  return typeof resources === "function"
    ? () => resources.call(core) as Record<string, string>
    : null;
})();

interface ResourceCount {
  total: number;
  /** Streams and listeners: sockets, TCP or TLS. */
  net: number;
  kinds: string;
}

function countResources(): ResourceCount | null {
  if (readResourceTable === null) return null;
  const byKind = new Map<string, number>();
  for (const kind of Object.values(readResourceTable())) {
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  let total = 0;
  let net = 0;
  for (const [kind, count] of byKind) {
    total += count;
    if (/tcp|tls|unix|udp/i.test(kind)) net += count;
  }
  const kinds = [...byKind].map(([kind, count]) => `${kind} ${count}`).join(
    ", ",
  );
  return { total, net, kinds };
}

function showResources(count: ResourceCount | null): string {
  return count === null
    ? "n/a"
    : `${count.total} (sockets ${count.net}: ${count.kinds})`;
}

function memory(): { rss: number; heapUsed: number } {
  const { rss, heapUsed } = Deno.memoryUsage();
  return { rss, heapUsed };
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 50 ms until it holds or `ms` pass. */
async function waitFor(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

const stats = {
  connections: 0,
  served: 0, // registered
  messages: 0,
  privateMessages: 0,
  linesReceived: 0,
  exits: 0,
  abrupt: 0,
  midLine: 0,
  unregistered: 0,
  errors: 0,
};
const errorSamples: string[] = [];
function error(message: string): void {
  stats.errors++;
  if (errorSamples.length < 10) errorSamples.push(message);
}

/** A soak client: counts lines, and wakes whoever waits for one. */
class SoakClient {
  readonly conn: Deno.Conn;
  readonly reading: Promise<void>;
  ended = false;
  #waiters: { test: (line: string) => boolean; resolve: () => void }[] = [];

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.reading = this.#read();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(64 * 1024);
    let partial = "";
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        const parts = (partial + decoder.decode(buffer.subarray(0, n), {
          stream: true,
        })).split("\n");
        partial = parts.pop()!;
        stats.linesReceived += parts.length;
        if (this.#waiters.length === 0) continue;
        for (const line of parts) {
          this.#waiters = this.#waiters.filter((w) => {
            if (!w.test(line)) return true;
            w.resolve();
            return false;
          });
        }
      }
    } catch {
      // Reset, or closed by us.
    } finally {
      this.ended = true;
      for (const w of this.#waiters) w.resolve();
      this.#waiters = [];
    }
  }

  /** Resolves true once a line passes `test`, false at the end or timeout. */
  waitFor(test: (line: string) => boolean, ms = WAIT_MS): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => finish(false), ms);
      const finish = (found: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(found && !this.ended);
      };
      this.#waiters.push({ test, resolve: () => finish(true) });
    });
  }

  send(text: string): Promise<void> {
    return writeAll(this.conn, encoder.encode(text));
  }

  async close(): Promise<void> {
    closeQuietly(this.conn);
    await this.reading;
  }
}

const online = new Set<string>();

async function lane(port: number, index: number, deadline: number) {
  const random = new Random(SEED * 1000 + index);
  for (let round = 0; performance.now() < deadline; round++) {
    const name = `c${index}_${round}`;
    let client: SoakClient;
    try {
      client = new SoakClient(
        await Deno.connect({ hostname: "127.0.0.1", port }),
      );
    } catch (e) {
      error(`connect: ${e}`);
      await sleep(100);
      continue;
    }
    stats.connections++;
    const how = random.int(100);
    try {
      if (how < 8) {
        // Never registers: half a name, or nothing, then gone.
        if (how < 4) await client.send(name.slice(0, 2));
        stats.unregistered++;
        continue;
      }
      const welcomed = client.waitFor((l) => l === LAST_WELCOME_LINE);
      await client.send(`${name}\n`);
      if (!(await welcomed)) {
        error(`${name} was not welcomed`);
        continue;
      }
      stats.served++;
      online.add(name);
      const messages = 1 + random.int(30);
      for (let i = 0; i < messages && performance.now() < deadline; i++) {
        const others = [...online];
        const target = others[random.int(others.length)];
        if (random.int(10) === 0 && target !== undefined && target !== name) {
          await client.send(`@${target} psst ${i}\n`);
          stats.privateMessages++;
        } else if (random.int(20) === 0) {
          await client.send("/who\n");
        } else {
          await client.send(
            `message ${i} from ${name} ${"z".repeat(random.int(200))}\n`,
          );
          stats.messages++;
        }
        await sleep(10 + random.int(90));
      }
      online.delete(name);
      if (how < 60) {
        const goodbye = client.waitFor((l) => l === `Goodbye ${name}!`);
        await client.send("exit\n");
        if (!(await goodbye)) error(`${name} got no goodbye`);
        stats.exits++;
      } else if (how < 80) {
        stats.abrupt++;
      } else {
        await client.send("and then the line just sto");
        stats.midLine++;
      }
    } catch (e) {
      error(`${name}: ${e}`);
    } finally {
      online.delete(name);
      await client.close();
    }
  }
}

const dir = await Deno.makeTempDir({ prefix: "chat_soak_" });
const server = await startChatServer({
  hostname: "127.0.0.1",
  port: 0,
  logPath: `${dir}/chat_documentation.txt`,
  limits: { floodRate: 0, maxPerIp: 0 },
});
const port = server.addr.port;

gc?.();
const memBefore = memory();
const resourcesBefore = countResources();
const peak = { ...memBefore };
const sampler = setInterval(() => {
  const now = memory();
  peak.rss = Math.max(peak.rss, now.rss);
  peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
}, 250);
const started = performance.now();
const deadline = started + SECONDS * 1000;
const progress = setInterval(() => {
  console.log(
    `${((performance.now() - started) / 1000).toFixed(0)} s: ` +
      `${stats.served} clients served, ${stats.messages} messages, ` +
      `${server.room.connectionCount} connected, rss ${mib(memory().rss)}`,
  );
}, 10_000);

await Promise.all(
  Array.from({ length: LANES }, (_, i) => lane(port, i, deadline)),
);
clearInterval(progress);

// Everyone has gone: the room must be empty, and so must the socket table.
const roomEmpty = await waitFor(
  () => server.room.connectionCount === 0 && server.room.names().length === 0,
  10_000,
);
await waitFor(
  () => (countResources()?.net ?? 0) <= (resourcesBefore?.net ?? 0),
  5_000,
);
clearInterval(sampler);
const connectionsLeft = server.room.connectionCount;
const registrySize = server.room.names().length;
const resourcesAfter = countResources();
gc?.();
const memAfter = memory();

const lost = await server.shutdown();
const resourcesAfterShutdown = countResources();
await Deno.remove(dir, { recursive: true });

const leakedSockets = resourcesBefore !== null && resourcesAfter !== null
  ? resourcesAfter.net - resourcesBefore.net
  : 0;
console.log(`
Soak: ${SECONDS} s, ${LANES} lanes, seed ${SEED}
  clients served (registered): ${stats.served} of ${stats.connections} connections
    left by exit ${stats.exits}, closed abruptly ${stats.abrupt}, closed mid-line ${stats.midLine}, never registered ${stats.unregistered}
  messages sent: ${stats.messages} broadcast, ${stats.privateMessages} private; lines received: ${stats.linesReceived}
  errors: ${stats.errors}${errorSamples.map((e) => `\n    ${e}`).join("")}
  registry size at the end: ${registrySize} (must be 0)
  connections in the room at the end: ${connectionsLeft} (must be 0)
  resource table before: ${showResources(resourcesBefore)}
  resource table after:  ${showResources(resourcesAfter)}
  resource table after shutdown: ${showResources(resourcesAfterShutdown)}
  rss before/peak/after: ${mib(memBefore.rss)} / ${mib(peak.rss)} / ${
  mib(memAfter.rss)
}
  heap before/peak/after: ${mib(memBefore.heapUsed)} / ${
  mib(peak.heapUsed)
} / ${mib(memAfter.heapUsed)}${gc ? " (after a gc)" : " (no gc available)"}
  log lines lost: ${lost}
  (clients run in this process too: the figures include them)`);

const failed = !roomEmpty || registrySize !== 0 || connectionsLeft !== 0 ||
  leakedSockets > 0 || stats.errors > 0;
if (failed) {
  console.log(
    "FAILED: " + [
      registrySize !== 0 ? `registry holds ${registrySize} names` : "",
      connectionsLeft !== 0 ? `${connectionsLeft} connections left` : "",
      leakedSockets > 0 ? `${leakedSockets} sockets leaked` : "",
      stats.errors > 0 ? `${stats.errors} client errors` : "",
    ].filter((s) => s !== "").join(", "),
  );
}
Deno.exit(failed ? 1 : 0);
