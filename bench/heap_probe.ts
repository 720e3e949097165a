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
 * `HEAP_PROBE_MALLOC=1` (Linux with glibc only; FFI, so `-A`) adds glibc's
 * own figures to each line, from `mallinfo2`: what the C heap holds in use
 * and what it keeps free, the native memory outside V8's heap and its
 * ArrayBuffers. `HEAP_PROBE_TRIM=S` also calls `malloc_trim(0)` at second
 * S: how much of the RSS is free memory the allocator kept.
 *
 * @module
 */

import v8 from "node:v8";

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number | bigint) => (Number(n) / 1048576).toFixed(1);

// glibc's mallinfo2: ten size_t; [4] hblkhd (mmapped), [7] uordblks (in
// use), [8] fordblks (free).
const MALLINFO2 = { struct: Array<Deno.NativeType>(10).fill("usize") };
const libc = Deno.env.get("HEAP_PROBE_MALLOC") === "1"
  ? Deno.dlopen("libc.so.6", {
    mallinfo2: { parameters: [], result: MALLINFO2 },
    malloc_trim: { parameters: ["usize"], result: "i32" },
  })
  : null;
const trimAt = Number(Deno.env.get("HEAP_PROBE_TRIM") ?? "0");

function mallocText(second: number): string {
  if (libc === null) return "";
  let trimmed = "";
  if (second === trimAt) {
    trimmed = `, trimmed (${libc.symbols.malloc_trim(0n)})`;
  }
  const info = new BigUint64Array(libc.symbols.mallinfo2().buffer);
  return `; malloc in use ${mib(info[7])} free ${mib(info[8])} mmapped ${
    mib(info[4])
  } MiB${trimmed}`;
}

let seconds = 0;
setInterval(() => {
  gc?.();
  const m = Deno.memoryUsage();
  const native = mallocText(++seconds);
  console.error(
    `heap-probe rss ${mib(m.rss)} heapUsed ${mib(m.heapUsed)} heapTotal ${
      mib(m.heapTotal)
    } external ${mib(m.external)} MiB${native}`,
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
