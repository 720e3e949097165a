/**
 * Holds N registered line-protocol clients on a server at 127.0.0.1, reads
 * everything sent to them until the join notices stop (2 s without a byte,
 * at most 120 s), then sends SIGUSR2 to the server's pid (a heap snapshot
 * from `bench/heap_probe.ts`), keeps them `--hold` seconds more and closes
 * them: the live heap of idle registered connections, which the connect
 * scenario (which closes its clients after 1 s) does not leave time for.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/heap_probe.ts --port 4711 \
 *   --web-port 0 --max-clients 0 --max-per-ip 0 --flood-rate 0 &
 * deno run --allow-net --allow-run bench/idle_hold.ts --port 4711 \
 *   --clients 2000 --signal-pid $!
 * deno run --allow-read bench/heap_summary.ts /tmp/heap_probe_PID_1.heapsnapshot
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    clients: { type: "string", default: "2000" },
    "signal-pid": { type: "string", default: "0" },
    hold: { type: "string", default: "15" },
  },
});
const port = Number(values.port);
const clients = Number(values.clients);
const pid = Number(values["signal-pid"]);
const holdSeconds = Number(values.hold);
if (
  !Number.isInteger(port) || port <= 0 || !Number.isInteger(clients) ||
  clients <= 0 || clients > 20000 || !(holdSeconds >= 0 && holdSeconds <= 600)
) {
  console.error(
    "usage: idle_hold.ts --port P [--clients N<=20000] [--signal-pid PID] [--hold S<=600]",
  );
  Deno.exit(2);
}

const BATCH = 50;
const QUIET_MS = 2000;
const MAX_WAIT_MS = 120_000;
const encoder = new TextEncoder();
const conns: Deno.TcpConn[] = [];
let bytes = 0;

async function drain(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(65536);
  try {
    for (let n; (n = await conn.read(buffer)) !== null;) bytes += n;
  } catch {
    // Closed at the end, or by the server.
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (let i = 0; i < clients; i += BATCH) {
  const batch = [];
  for (let j = i; j < Math.min(clients, i + BATCH); j++) {
    batch.push((async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conns.push(conn);
      drain(conn);
      await conn.write(encoder.encode(`holder${j}\n`));
    })());
  }
  await Promise.all(batch);
}
// Idle once nothing arrived for QUIET_MS (the join notices are out).
const until = performance.now() + MAX_WAIT_MS;
for (let last = -1; last !== bytes && performance.now() < until;) {
  last = bytes;
  await delay(QUIET_MS);
}
console.error(`idle-hold: ${conns.length} clients, ${bytes} bytes read`);
if (pid > 0) Deno.kill(pid, "SIGUSR2");
await delay(holdSeconds * 1000);
for (const conn of conns) {
  try {
    conn.close();
  } catch {
    // Already closed by the server.
  }
}
