/**
 * A `redis-server` for the load generator's Redis engines: on a free
 * 127.0.0.1 port, in a temp directory, with nothing saved to disk
 * (`--save '' --appendonly no`), optionally pinned to a core; stopped and
 * its directory removed by `stop()`. Also runs Debian's `redis-benchmark`
 * for a reference PUBLISH figure on this machine.
 *
 * @module
 */

import { pumpLines, pushTail } from "./proc.ts";
import { raceTimeout, sleep } from "./stats.ts";

const REDIS_SERVERS = ["/usr/sbin/redis-server", "/usr/bin/redis-server"];
const REDIS_BENCHMARKS = [
  "/usr/bin/redis-benchmark",
  "/usr/sbin/redis-benchmark",
];

function firstExisting(paths: readonly string[]): string | null {
  for (const p of paths) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not there
    }
  }
  return null;
}

/** Path of the installed `redis-server`, or null. */
export function findRedisServer(): string | null {
  return firstExisting(REDIS_SERVERS);
}

/** Path of the installed `redis-benchmark`, or null. */
export function findRedisBenchmark(): string | null {
  return firstExisting(REDIS_BENCHMARKS);
}

/** A port that was free a moment ago: bound with port 0, then released. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Options for {@linkcode startRedis}. */
export interface StartRedisOptions {
  /** The `redis-server` binary (see {@linkcode findRedisServer}). */
  program: string;
  /** Core to pin it to with `taskset -c`, or null. */
  pinCore: number | null;
  /** Longest wait for it to answer PING. */
  startTimeoutMs: number;
}

/** A running redis-server started by the bench. */
export interface RedisHandle {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Its process id (taskset execs into it, so the same). */
  pid: number;
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Ends it (SIGTERM, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<{ code: number; killed: boolean }>;
}

async function answersPing(port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return false;
  }
  try {
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await raceTimeout(conn.read(buf), 1000);
    return typeof n === "number" &&
      new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn.close();
  }
}

/**
 * Starts redis-server on a free loopback port in a fresh temp directory
 * and waits (bounded) until it answers PING.
 */
export async function startRedis(
  opts: StartRedisOptions,
): Promise<RedisHandle> {
  const dir = await Deno.makeTempDir({ prefix: "chat_bench_redis_" });
  const port = freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
  ];
  const [cmd, cmdArgs] = opts.pinCore === null
    ? [opts.program, args]
    : ["taskset", ["-c", String(opts.pinCore), opts.program, ...args]];
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const pumps = Promise.all([
    pumpLines(child.stdout, (l) => pushTail(tail, l)),
    pumpLines(child.stderr, (l) => pushTail(tail, l)),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopped: Promise<{ code: number; killed: boolean }> | null = null;
  const stop = (): Promise<{ code: number; killed: boolean }> => {
    stopped ??= (async () => {
      let killed = false;
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // exited meanwhile
        }
        if (await raceTimeout(status, 5000) === undefined) {
          killed = true;
          try {
            child.kill("SIGKILL");
          } catch {
            // exited meanwhile
          }
        }
      }
      const st = await status;
      await raceTimeout(pumps, 2000);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return { code: st.code, killed };
    })();
    return stopped;
  };
  const deadline = performance.now() + opts.startTimeoutMs;
  while (!await answersPing(port)) {
    if (exited || performance.now() > deadline) {
      await stop();
      throw new Error(
        `redis-server on port ${port} ${
          exited
            ? "exited"
            : `did not answer PING within ${opts.startTimeoutMs} ms`
        }:\n  ${tail.slice(-10).join("\n  ")}`,
      );
    }
    await sleep(20);
  }
  return {
    port,
    pid: child.pid,
    url: `redis://127.0.0.1:${port}`,
    get exited() {
      return exited;
    },
    stop,
  };
}

/** Options for {@linkcode runRedisBenchmark}. */
export interface RedisBenchmarkOptions {
  /** The `redis-benchmark` binary (see {@linkcode findRedisBenchmark}). */
  program: string;
  /** Port of the redis-server on 127.0.0.1. */
  port: number;
  /** Requests (`-n`). */
  requests: number;
  /** Core to pin redis-benchmark to, or null. */
  pinCore: number | null;
  /**
   * What to run: `-t publish` when absent (Redis 7.0's redis-benchmark
   * has no such test and prints nothing), else this command, e.g.
   * `["PUBLISH", "chan", "payload"]`.
   */
  command?: string[];
  /** Requests pipelined per connection (`-P`), default 1. */
  pipeline?: number;
  /** Killed after this long. */
  timeoutMs: number;
}

/** What one `redis-benchmark -q` run printed. */
export interface RedisBenchmarkResult {
  /** Its command line, for the report. */
  command: string;
  /** PUBLISH requests per second, or null if not found in its output. */
  requestsPerSec: number | null;
  /** p50 latency in ms, when printed. */
  p50Ms: number | null;
  /** Its last output line (carriage returns of the progress removed). */
  line: string;
}

/**
 * Runs `redis-benchmark -h 127.0.0.1 -p PORT -n N -q -t publish` (or the
 * given command), bounded, against a server with no subscribers: the cost
 * of PUBLISH itself.
 */
export async function runRedisBenchmark(
  opts: RedisBenchmarkOptions,
): Promise<RedisBenchmarkResult> {
  const args = [
    "-h",
    "127.0.0.1",
    "-p",
    String(opts.port),
    "-n",
    String(opts.requests),
    "-q",
    ...(opts.pipeline !== undefined && opts.pipeline > 1
      ? ["-P", String(opts.pipeline)]
      : []),
    ...(opts.command ?? ["-t", "publish"]),
  ];
  const [cmd, cmdArgs] = opts.pinCore === null
    ? [opts.program, args]
    : ["taskset", ["-c", String(opts.pinCore), opts.program, ...args]];
  const child = new Deno.Command(cmd, {
    args: cmdArgs,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = await raceTimeout(child.output(), opts.timeoutMs);
  if (out === undefined) {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    await child.status;
    throw new Error(`redis-benchmark did not finish in ${opts.timeoutMs} ms`);
  }
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  const lines = text.split(/[\r\n]+/).map((l) => l.trim()).filter((l) =>
    l !== ""
  );
  const line = lines.findLast((l) => /requests per second/.test(l)) ??
    lines.at(-1) ?? "";
  const rps = line.match(/([\d.]+) requests per second/);
  const p50 = line.match(/p50=([\d.]+) msec/);
  return {
    command: `redis-benchmark ${args.join(" ")}`,
    requestsPerSec: rps ? Number(rps[1]) : null,
    p50Ms: p50 ? Number(p50[1]) : null,
    line,
  };
}
