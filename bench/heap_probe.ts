/**
 * Runs server.ts in this process and writes `Deno.memoryUsage()` to stderr
 * every second, after a full GC when V8 was started with `--expose-gc`:
 * what the heap and the ArrayBuffers (external) hold beside the RSS, to
 * tell live memory from garbage the process has not returned. SIGUSR2
 * writes a heap snapshot (`node:v8`) to the directory of `HEAP_PROBE_DIR`
 * (default the system's temp dir), for Chromium's DevTools or
 * `bench/heap_summary.ts`. Server flags pass through.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/heap_probe.ts --port 4000 \
 *   --max-clients 0 --max-per-ip 0 --flood-rate 0
 * deno task bench --scenario connect --port 4000 --server-pid PID
 * ```
 *
 * `bench/idle_hold.ts` holds idle registered clients and asks for the
 * snapshot once their join notices are out.
 *
 * @module
 */

import v8 from "node:v8";

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number) => (n / 1048576).toFixed(1);
setInterval(() => {
  gc?.();
  const m = Deno.memoryUsage();
  console.error(
    `heap-probe rss ${mib(m.rss)} heapUsed ${mib(m.heapUsed)} heapTotal ${
      mib(m.heapTotal)
    } external ${mib(m.external)} MiB`,
  );
}, 1000);
let shots = 0;
Deno.addSignalListener("SIGUSR2", () => {
  gc?.();
  const dir = Deno.env.get("HEAP_PROBE_DIR") ?? Deno.env.get("TMPDIR") ??
    "/tmp";
  const path = `${dir}/heap_probe_${Deno.pid}_${++shots}.heapsnapshot`;
  // Which of V8's spaces hold the heap (a grown young generation, say).
  const spaces = v8.getHeapSpaceStatistics().map((space) =>
    `${space.space_name} ${mib(space.space_size)}/${mib(space.space_used_size)}`
  );
  console.error(`heap-probe spaces (size/used MiB) ${spaces.join(", ")}`);
  console.error(`heap-probe snapshot ${v8.writeHeapSnapshot(path)}`);
});
await import("../server.ts");
