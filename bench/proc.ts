/**
 * Process helpers: /proc readers, CPU pinning, and starting/stopping the
 * chat server under test.
 *
 * @module
 */

import { raceTimeout } from "./stats.ts";

/** CPU time and memory of a process at one instant. */
export interface ProcSample {
  /** utime + stime in seconds. */
  cpuSec: number;
  /** Resident set size in KiB. */
  rssKiB: number;
  /** Wall clock (performance.now()) when sampled. */
  at: number;
}

let useCat = false;

/**
 * Reads small /proc files. Deno only allows reading /proc with --allow-all,
 * so without it this runs `sh`/`cat` (needs --allow-run; a few ms, only used
 * at phase boundaries). Null if a file cannot be read (process gone).
 */
async function readProcTexts(paths: string[]): Promise<string[] | null> {
  if (!useCat) {
    try {
      return await Promise.all(paths.map((p) => Deno.readTextFile(p)));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotCapable)) return null;
      useCat = true;
    }
  }
  try {
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        'for f; do cat "$f" || exit 1; printf "\\0"; done',
        "sh",
        ...paths,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    return new TextDecoder().decode(out.stdout).split("\0").slice(
      0,
      paths.length,
    );
  } catch {
    return null;
  }
}

async function readProcFiles(
  pid: number,
): Promise<{ stat: string; status: string } | null> {
  const texts = await readProcTexts([
    `/proc/${pid}/stat`,
    `/proc/${pid}/status`,
  ]);
  return texts === null ? null : { stat: texts[0], status: texts[1] };
}

/** Busy CPU time of the whole machine (user + nice + system), at an instant. */
export interface SystemSample {
  busySec: number;
  at: number;
}

/** Samples the machine's busy CPU seconds from /proc/stat. */
export async function sampleSystem(): Promise<SystemSample | null> {
  const t0 = performance.now();
  const texts = await readProcTexts(["/proc/stat"]);
  const t1 = performance.now();
  if (texts === null) return null;
  const f = texts[0].slice(0, texts[0].indexOf("\n")).trim().split(/\s+/);
  if (f[0] !== "cpu") return null;
  const ticks = Number(f[1]) + Number(f[2]) + Number(f[3]);
  return { busySec: ticks / await clockTicksPerSecond(), at: (t0 + t1) / 2 };
}

/**
 * CPU used by processes other than the server and the generator between
 * two points, in percent of one core: a check that nothing else disturbed
 * the measurement. Null if something is unknown.
 */
export function otherCpuPct(
  system: [SystemSample | null, SystemSample | null],
  ours: (CpuUse | null)[],
): number | null {
  const [a, b] = system;
  if (a === null || b === null || ours.some((c) => c === null)) return null;
  const own = ours.reduce((sum, c) => sum + (c?.cpuSec ?? 0), 0);
  const wall = (b.at - a.at) / 1000;
  return wall > 0
    ? Math.max(0, (100 * (b.busySec - a.busySec - own)) / wall)
    : null;
}

/** utime + stime (clock ticks) from the text of /proc/PID/stat. */
export function parseCpuTicks(stat: string): number {
  // The command name may contain spaces: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

/** A `Vm*` value (KiB) from the text of /proc/PID/status, or null. */
export function parseStatusKiB(status: string, key = "VmRSS"): number | null {
  const m = status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
  return m ? Number(m[1]) : null;
}

/**
 * The peak resident set size of `pid` so far (`VmHWM`), in KiB; null when
 * the process is gone or unknown.
 */
export async function peakRssKiB(pid: number | null): Promise<number | null> {
  if (pid === null) return null;
  const texts = await readProcTexts([`/proc/${pid}/status`]);
  return texts === null ? null : parseStatusKiB(texts[0], "VmHWM");
}

/** Samples CPU ticks and RSS of `pid`; null when the process is unknown. */
export async function sampleProc(
  pid: number | null,
): Promise<ProcSample | null> {
  if (pid === null) return null;
  const t0 = performance.now();
  const files = await readProcFiles(pid);
  const t1 = performance.now();
  if (files === null) return null;
  const rss = parseStatusKiB(files.status);
  if (rss === null) return null;
  return {
    cpuSec: parseCpuTicks(files.stat) / await clockTicksPerSecond(),
    rssKiB: rss,
    at: (t0 + t1) / 2,
  };
}

let ticksPerSecond: number | null = null;

/** Clock ticks per second from `getconf CLK_TCK` (100 if unavailable). */
export async function clockTicksPerSecond(): Promise<number> {
  ticksPerSecond ??= await readClockTicks();
  return ticksPerSecond;
}

async function readClockTicks(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", {
      args: ["CLK_TCK"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** True if the `taskset` binary can be run. */
export async function hasTaskset(): Promise<boolean> {
  try {
    const out = await new Deno.Command("taskset", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Pins every thread of `pid` to `core` with `taskset -a -p -c`. Threads
 * created later inherit the mask. Returns true on success.
 */
export async function pinProcess(pid: number, core: number): Promise<boolean> {
  try {
    const out = await new Deno.Command("taskset", {
      args: ["-a", "-p", "-c", String(core), String(pid)],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Soft and hard limit of open file descriptors (via `sh -c ulimit`). */
export async function fileLimits(): Promise<
  { soft: number; hard: number } | null
> {
  try {
    const out = await new Deno.Command("sh", {
      args: ["-c", "ulimit -Sn; ulimit -Hn"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const [soft, hard] = new TextDecoder().decode(out.stdout).trim().split(
      /\s+/,
    );
    const num = (v: string) => v === "unlimited" ? Infinity : Number(v);
    const r = { soft: num(soft), hard: num(hard) };
    return Number.isNaN(r.soft) || Number.isNaN(r.hard) ? null : r;
  } catch {
    return null;
  }
}

/**
 * Creates the server's temp log file. Uses Deno.makeTempFile when this
 * process may write, else `mktemp` (so `--allow-write` is not required).
 */
async function makeTempLog(): Promise<string> {
  try {
    return await Deno.makeTempFile({ prefix: "chat_bench_log_" });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
  }
  const out = await new Deno.Command("mktemp", {
    args: ["-t", "chat_bench_log_XXXXXXXX"],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error("mktemp failed");
  return new TextDecoder().decode(out.stdout).trim();
}

async function removeTempLog(path: string): Promise<void> {
  try {
    await Deno.remove(path);
    return;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) return;
  }
  try {
    await new Deno.Command("rm", { args: ["-f", "--", path] }).output();
  } catch {
    // best effort
  }
}

/** Options for {@linkcode startServer}. */
export interface StartServerOptions {
  /** Directory holding server.ts (the repository root). */
  repoDir: string;
  /** Address to listen on (loopback). */
  host: string;
  /** Core to pin the server to with taskset, or null for no pinning. */
  pinCore: number | null;
  /** Give up if the listening line has not appeared after this long. */
  startTimeoutMs: number;
  /** Also open the WebSocket door (`--web-port 0`). */
  web?: boolean;
  /** Also open the IRC door (`--irc-port 0`). */
  irc?: boolean;
  /** More server flags, e.g. `["--redis", "redis://127.0.0.1:6379"]`. */
  args?: string[];
  /** `--max-sendq` (unsent bytes per connection before it is cut). */
  sendqBytes?: number;
  /**
   * V8 flags for the server's `deno run --v8-flags=...`; by default those
   * of the tree's own `deno task server`, so that the bench runs each tree
   * as its users do.
   */
  v8Flags?: string;
  /**
   * The flags this server.ts lists in `--help` (see
   * {@linkcode serverDoors}); limit flags it does not know are left out, so
   * an older tree still starts. Absent: every flag is passed.
   */
  knownFlags?: readonly string[];
}

/** Which optional doors this checkout's server.ts offers. */
export interface ServerDoors {
  web: boolean;
  irc: boolean;
  /** Every `--flag` its `--help` lists (empty if it printed none). */
  flags: string[];
}

/** The bench's default `--max-sendq`: 64 MiB, lifted far above a chat's. */
export const BENCH_SENDQ_BYTES = 64 * 1024 * 1024;

/**
 * Reads `deno run server.ts --help` and reports whether it lists
 * `--web-port` and `--irc-port` (the doors land while we benchmark).
 */
export async function serverDoors(repoDir: string): Promise<ServerDoors> {
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "server.ts",
        "--help",
      ],
      cwd: repoDir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) +
      new TextDecoder().decode(out.stderr);
    const flags = [...new Set(text.match(/--[a-z][a-z0-9-]*/g) ?? [])];
    return {
      web: flags.includes("--web-port"),
      irc: flags.includes("--irc-port"),
      flags,
    };
  } catch {
    return { web: false, irc: false, flags: [] };
  }
}

/** Outcome of stopping the server. */
export interface StopResult {
  code: number;
  signal: string | null;
  /** Exit code 0 and "Server has been shut down." was printed. */
  graceful: boolean;
  /** How it was stopped: SIGTERM, stdin command, or SIGKILL. */
  via: "SIGTERM" | "stdin" | "SIGKILL" | "already-exited";
  ms: number;
  /** Last lines of stderr (for diagnostics). */
  stderrTail: string[];
}

/** A running server started by the load generator. */
export interface ServerHandle {
  host: string;
  port: number;
  /** WebSocket door's port, when it was opened. */
  webPort: number | null;
  /** IRC door's port, when it was opened. */
  ircPort: number | null;
  pid: number;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Last lines the server wrote to stdout/stderr. */
  tail(): { stdout: string[]; stderr: string[] };
  /** Stops the server gracefully (SIGTERM, then stdin, then SIGKILL). */
  stop(): Promise<StopResult>;
  /** Ends the server at once (SIGKILL), e.g. when it grew past a bound. */
  kill(): void;
}

const TAIL_LINES = 40;

/** Calls `onLine` for every line of `stream` until it ends (bounded lines). */
export async function pumpLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const dec = new TextDecoder();
  let rest = "";
  try {
    for await (const chunk of stream) {
      rest += dec.decode(chunk, { stream: true });
      let i: number;
      while ((i = rest.indexOf("\n")) >= 0) {
        onLine(rest.slice(0, i));
        rest = rest.slice(i + 1);
      }
      if (rest.length > 65536) rest = rest.slice(-65536);
    }
  } catch {
    // stream closed
  }
  if (rest) onLine(rest);
}

/** Appends `line` (shortened) to `tail`, keeping the last 40. */
export function pushTail(tail: string[], line: string): void {
  tail.push(line.length > 500 ? line.slice(0, 500) + "…" : line);
  if (tail.length > TAIL_LINES) tail.shift();
}

// `BENCH_SERVER_CPU_PROF=DIR`: our server runs with `--cpu-prof` into DIR.
const PROFILE_DIR = Deno.env.get("BENCH_SERVER_CPU_PROF");

/**
 * The `--v8-flags` of `deno task server` in `repoDir`'s deno.json, or null
 * when it has none (or no such task).
 */
export async function taskV8Flags(repoDir: string): Promise<string | null> {
  try {
    const config = JSON.parse(await Deno.readTextFile(`${repoDir}/deno.json`));
    const task: unknown = config?.tasks?.server;
    const found = typeof task === "string"
      ? /--v8-flags=(\S+)/.exec(task)
      : null;
    return found === null ? null : found[1];
  } catch {
    return null;
  }
}

/**
 * Starts `deno run ... server.ts --port 0` (pinned with `taskset -c CORE`
 * when requested), waits for `Server is listening on HOST:PORT...` and
 * returns a handle. stdout/stderr are drained continuously so the server
 * never blocks on a full pipe. The log goes to a temp file that is removed
 * when the server is stopped.
 */
export async function startServer(
  opts: StartServerOptions,
): Promise<ServerHandle> {
  const logPath = await makeTempLog();
  const v8Flags = opts.v8Flags ?? await taskV8Flags(opts.repoDir);
  const serverArgs = [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    ...(v8Flags ? [`--v8-flags=${v8Flags}`] : []),
    // A CPU profile of every server run, for finding where its time goes.
    ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []),
    "server.ts",
    "--port",
    "0",
    "--host",
    opts.host,
  ];
  // Limits off (the send queue lifted to 64 MiB); a flag an older tree does
  // not know is left out rather than stopping it.
  const limits: [string, string][] = [
    ["--log", logPath],
    ["--flood-rate", "0"],
    ["--max-per-ip", "0"],
    ["--max-clients", "0"],
    ["--max-sendq", String(opts.sendqBytes ?? BENCH_SENDQ_BYTES)],
  ];
  const known = opts.knownFlags;
  for (const [flag, value] of limits) {
    if (known === undefined || known.length === 0 || known.includes(flag)) {
      serverArgs.push(flag, value);
    }
  }
  if (opts.web) serverArgs.push("--web-port", "0");
  if (opts.irc) serverArgs.push("--irc-port", "0");
  serverArgs.push(...(opts.args ?? []));
  const deno = Deno.execPath();
  const [cmd, args] = opts.pinCore === null
    ? [deno, serverArgs]
    : ["taskset", ["-c", String(opts.pinCore), deno, ...serverArgs]];
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.repoDir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();

  const stdoutTail: string[] = [];
  const stderrTail: string[] = [];
  let sawShutdown = false;
  let exited = false;
  const listening = Promise.withResolvers<{ host: string; port: number }>();
  let tcp: { host: string; port: number } | null = null;
  let webPort: number | null = null;
  let ircPort: number | null = null;
  const check = () => {
    if (
      tcp !== null && (!opts.web || webPort !== null) &&
      (!opts.irc || ircPort !== null)
    ) listening.resolve(tcp);
  };
  const onLine = (line: string) => {
    const m = line.match(/Server is listening on (\S+):(\d+)/);
    if (m) tcp = { host: m[1], port: Number(m[2]) };
    const w = line.match(/Web chat at https?:\/\/\S+:(\d+)\//);
    if (w) webPort = Number(w[1]);
    const i = line.match(/IRC at \S+:(\d+), channel #chat/);
    if (i) ircPort = Number(i[1]);
    if (line.includes("Server has been shut down.")) sawShutdown = true;
    check();
  };
  const pumps = Promise.all([
    pumpLines(child.stdout, (line) => {
      pushTail(stdoutTail, line);
      onLine(line);
    }),
    pumpLines(child.stderr, (line) => {
      pushTail(stderrTail, line);
      onLine(line);
    }),
  ]);
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  const cleanup = async () => {
    try {
      await stdin.close();
    } catch {
      // already closed
    }
    await raceTimeout(pumps, 2000);
    await removeTempLog(logPath);
  };

  const first = await raceTimeout(
    Promise.race([
      listening.promise,
      status.then((s) => ({ exitedEarly: s })),
    ]),
    opts.startTimeoutMs,
  );
  if (first === undefined || "exitedEarly" in first) {
    if (first === undefined) {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await status;
    }
    await cleanup();
    const why = first === undefined
      ? `did not print "Server is listening on HOST:PORT..."${
        opts.web ? ', "Web chat at ..."' : ""
      }${opts.irc ? ', "IRC at ..."' : ""} within ${opts.startTimeoutMs} ms`
      : `exited with code ${first.exitedEarly.code} before listening`;
    throw new Error(
      `server ${why}\n--- stdout ---\n${
        stdoutTail.join("\n")
      }\n--- stderr ---\n${stderrTail.join("\n")}`,
    );
  }

  const handle: ServerHandle = {
    host: first.host,
    port: first.port,
    webPort,
    ircPort,
    pid: child.pid,
    get exited() {
      return exited;
    },
    tail: () => ({ stdout: [...stdoutTail], stderr: [...stderrTail] }),
    kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    },
    async stop(): Promise<StopResult> {
      const t0 = performance.now();
      let via: StopResult["via"] = "already-exited";
      let st: Deno.CommandStatus | undefined;
      if (!exited) {
        via = "SIGTERM";
        try {
          child.kill("SIGTERM");
        } catch {
          // exited meanwhile
        }
        st = await raceTimeout(status, 15_000);
        if (st === undefined) {
          via = "stdin";
          try {
            await raceTimeout(
              stdin.write(new TextEncoder().encode("Terminate server\n")),
              1000,
            );
          } catch {
            // stdin closed
          }
          st = await raceTimeout(status, 5000);
        }
        if (st === undefined) {
          via = "SIGKILL";
          try {
            child.kill("SIGKILL");
          } catch {
            // exited meanwhile
          }
        }
      }
      st = await status;
      await cleanup();
      return {
        code: st.code,
        signal: st.signal,
        graceful: st.code === 0 && sawShutdown && via !== "SIGKILL",
        via,
        ms: performance.now() - t0,
        stderrTail: [...stderrTail],
      };
    },
  };
  return handle;
}

/** One process of the system under test (a node, redis-server). */
export interface TargetProc {
  /** Short name in tables: `node1`, `redis`... */
  label: string;
  pid: number;
}

/** Where the scenarios connect, and the server process if known. */
export interface Target {
  host: string;
  port: number;
  /** Server PID for CPU/RSS readings, or null if unknown. */
  pid: number | null;
  /**
   * Every process of the system under test when it is more than one (all
   * nodes and redis-server): CPU and RSS readings are their sums. Absent:
   * `pid` alone.
   */
  procs?: TargetProc[];
}

/** The processes whose CPU counts for `target` (may be empty). */
export function targetProcs(target: Target): TargetProc[] {
  if (target.procs !== undefined) return target.procs;
  return target.pid === null ? [] : [{ label: "server", pid: target.pid }];
}

/**
 * Samples every process of `target` at once (one /proc read); null if one
 * of them is gone or none is known.
 */
export async function sampleEach(
  target: Target,
): Promise<ProcSample[] | null> {
  const procs = targetProcs(target);
  if (procs.length === 0) return null;
  if (procs.length === 1) {
    const one = await sampleProc(procs[0].pid);
    return one === null ? null : [one];
  }
  const t0 = performance.now();
  const texts = await readProcTexts(
    procs.flatMap((p) => [`/proc/${p.pid}/stat`, `/proc/${p.pid}/status`]),
  );
  const t1 = performance.now();
  if (texts === null) return null;
  const hz = await clockTicksPerSecond();
  const out: ProcSample[] = [];
  for (let i = 0; i < procs.length; i++) {
    const rss = parseStatusKiB(texts[2 * i + 1]);
    if (rss === null) return null;
    out.push({
      cpuSec: parseCpuTicks(texts[2 * i]) / hz,
      rssKiB: rss,
      at: (t0 + t1) / 2,
    });
  }
  return out;
}

/** The sum of {@linkcode sampleEach} (CPU seconds and RSS of all). */
export function sumSamples(each: ProcSample[] | null): ProcSample | null {
  if (each === null || each.length === 0) return null;
  return {
    cpuSec: each.reduce((a, s) => a + s.cpuSec, 0),
    rssKiB: each.reduce((a, s) => a + s.rssKiB, 0),
    at: each[0].at,
  };
}

/** Samples `target`: the sum over all its processes. */
export async function sampleTarget(target: Target): Promise<ProcSample | null> {
  return sumSamples(await sampleEach(target));
}

/** CPU % of one core of each process between two {@linkcode sampleEach}. */
export function cpuByProcess(
  target: Target,
  a: ProcSample[] | null,
  b: ProcSample[] | null,
): { label: string; cpuPct: number }[] | null {
  const procs = targetProcs(target);
  if (a === null || b === null || a.length !== procs.length) return null;
  return procs.map((p, i) => ({
    label: p.label,
    cpuPct: cpuBetween(a[i], b[i])?.cpuPct ?? 0,
  }));
}

/** CPU used by a process between two samples. */
export interface CpuUse {
  /** CPU seconds (user + system). */
  cpuSec: number;
  /** Percent of one core over the interval. */
  cpuPct: number;
}

/** CPU seconds and utilisation between samples `a` and `b`. */
export function cpuBetween(
  a: ProcSample | null,
  b: ProcSample | null,
): CpuUse | null {
  if (a === null || b === null) return null;
  const cpuSec = b.cpuSec - a.cpuSec;
  const wallSec = (b.at - a.at) / 1000;
  return { cpuSec, cpuPct: wallSec > 0 ? (100 * cpuSec) / wallSec : 0 };
}

/**
 * Waits (bounded) until the CPU time of `pid` stops increasing for
 * `quietMs`, e.g. after mass disconnects; returns the final sample and when
 * the process last used CPU (performance.now()).
 */
export async function waitQuiet(
  pid: number | null,
  opts: { quietMs: number; timeoutMs: number },
): Promise<{ sample: ProcSample; busyUntil: number } | null> {
  let last = await sampleProc(pid);
  if (last === null) return null;
  const start = performance.now();
  let quietSince = performance.now();
  while (performance.now() - start < opts.timeoutMs) {
    await new Promise((r) => setTimeout(r, 100));
    const s = await sampleProc(pid);
    if (s === null) break;
    if (s.cpuSec !== last.cpuSec) quietSince = s.at;
    last = s;
    if (s.at - quietSince >= opts.quietMs) break;
  }
  return { sample: last, busyUntil: quietSince };
}
