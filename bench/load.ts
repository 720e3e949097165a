/**
 * Load generator for the chat server.
 *
 * Usage (from the repository root):
 *
 * ```sh
 * deno task bench                                  # all scenarios (~1 min)
 * deno task bench --scenario fanout --mode saturation --clients 1000 \
 *   --senders 10 --window 32 --seconds 5
 * deno task bench --scenario fanout --mode rate --clients 100 --rate 1000
 * deno task bench --scenario connect --connect-clients 10000
 * deno task bench --scenario pm --pairs 50
 * deno task bench --scenario fanout,pm --repeat 3  # adds median rows
 * deno task bench --json > result.json             # JSON on stdout, table on stderr
 * deno task bench --port 4000 --server-pid 1234    # existing server on 127.0.0.1
 * ```
 *
 * Without `--port` every scenario run starts its own server
 * (`deno run ... server.ts --port 0 ...` with all limits off, pinned to core
 * 1 with `taskset -c 1`) and stops it with SIGTERM; this process pins all its
 * threads to core 0 (`taskset -a -p -c 0`; `--no-pin` disables both). Only
 * loopback addresses are accepted. Needs --allow-net, --allow-read,
 * --allow-run (server, taskset, and `cat` for /proc, which Deno only lets
 * --allow-all read directly), --allow-env and --allow-sys.
 *
 * Scenarios:
 * - fanout: N clients register, S send; delivered lines are `--msg-size`
 *   bytes (default 64, counting `NAME: ` and `\n`), carrying sender index,
 *   sequence number and send time at fixed offsets. Every receiver checks
 *   order per sender; loss, duplicates or reordering fail the run.
 *   Saturation: each sender keeps W messages in flight, a message leaving
 *   the window once all N−1 receivers have it. Rate: R msg/s in total.
 *   Latency is parsed on a few probe receivers (`--probes`).
 * - connect: N clients register (C at a time) and idle until all
 *   N(N−1)/2 join notices arrived; server RSS before/after, per connection.
 * - pm: P pairs ping-pong `@partner` messages, one in flight per pair.
 *
 * File descriptors: the generator needs one per client (10000 for the
 * default connect scenario). Deno raises its soft `ulimit -n` to the hard
 * limit by itself; if the hard limit is too low, load.ts stops with a
 * message: raise it first (as root, e.g. `ulimit -n 65536`).
 *
 * Exit code 1 if a message was lost, duplicated or reordered, a client
 * could not register, a connection dropped, or the server did not shut down
 * gracefully; 2 for bad flags. `deno task bench --help` lists all flags.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { MAX_CLIENTS, randomTag } from "./codec.ts";
import { type ConnectResult, runConnect } from "./connect.ts";
import {
  type FanoutMode,
  type FanoutResult,
  MAX_MSG_SIZE,
  MIN_MSG_SIZE,
  runFanout,
} from "./fanout.ts";
import { errText, RunContext } from "./load_client.ts";
import { type PmResult, runPm } from "./pm.ts";
import {
  clockTicksPerSecond,
  fileLimits,
  hasTaskset,
  pinProcess,
  type ServerHandle,
  startServer,
  type StopResult,
  type Target,
} from "./proc.ts";
import { renderTables } from "./report.ts";

/** Scenario names accepted by `--scenario`. */
export type ScenarioName = "fanout" | "connect" | "pm";

/** Parsed command-line configuration. */
export interface BenchConfig {
  scenarios: ScenarioName[];
  modes: FanoutMode[];
  clients: number;
  senders: number;
  window: number;
  rate: number;
  seconds: number;
  warmup: number;
  msgSize: number;
  /** Latency probes; null = automatic (clients/50, within 2..16). */
  probes: number | null;
  connectClients: number;
  pairs: number;
  concurrency: number;
  readBufKiB: number;
  connectReadBufKiB: number;
  repeat: number;
  json: boolean;
  pin: boolean;
  host: string;
  port: number | null;
  serverPid: number | null;
}

/** One scenario execution (one server lifetime). */
export interface RunRecord {
  scenario: ScenarioName;
  repeat: number;
  results: (FanoutResult | ConnectResult | PmResult)[];
  failures: string[];
  warnings: string[];
  serverStop: StopResult | null;
  ok: boolean;
}

const USAGE = `Usage: deno task bench [flags]

  --scenario fanout|connect|pm|all   (default all)
  --mode both|saturation|rate        fanout modes (default both)
  --clients N          fanout clients (default 1000)
  --senders S          fanout senders (default 10)
  --window W           saturation: messages in flight per sender (default 32)
  --rate R             rate mode: messages/s over all senders (default 1000)
  --seconds T          measured seconds per fanout mode / pm (default 5)
  --warmup T           warm-up seconds before measuring (default 1)
  --msg-size B         delivered line length incl. "NAME: " and \\n (default 64)
  --probes P           receivers that read at once and record latency
                       (default clients/50 within 2..16)
  --connect-clients N  connect scenario clients (default 10000)
  --pairs P            pm scenario pairs (default 50)
  --concurrency C      clients registering at once (default 64)
  --read-buf KIB       read buffer per connection, fanout/pm (default 256)
  --connect-read-buf KIB  read buffer per connection, connect (default 16)
  --repeat N           run every scenario N times, print medians (default 1)
  --json               JSON on stdout (tables go to stderr)
  --no-pin             do not pin server (core 1) and generator (core 0)
  --host H --port P    use an existing server (loopback only)
  --server-pid PID     existing server's PID, for CPU/RSS readings
`;

function positiveInt(name: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`--${name} must be a positive integer, got ${v}`);
  }
  return n;
}

function positiveNum(name: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new Error(`--${name} must be a non-negative number, got ${v}`);
  }
  return n;
}

/** True for 127.0.0.0/8, localhost and ::1. */
export function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === "localhost" || host === "::1";
}

/** Parses and validates the command line. */
export function parseConfig(argv: string[]): BenchConfig | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: "string", default: "all" },
      mode: { type: "string", default: "both" },
      clients: { type: "string" },
      senders: { type: "string" },
      window: { type: "string" },
      rate: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      "msg-size": { type: "string" },
      probes: { type: "string" },
      "connect-clients": { type: "string" },
      pairs: { type: "string" },
      concurrency: { type: "string" },
      "read-buf": { type: "string" },
      "connect-read-buf": { type: "string" },
      repeat: { type: "string" },
      json: { type: "boolean", default: false },
      "no-pin": { type: "boolean", default: false },
      host: { type: "string" },
      port: { type: "string" },
      "server-pid": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  const scenarioArg = values.scenario;
  const scenarios: ScenarioName[] = scenarioArg === "all"
    ? ["fanout", "connect", "pm"]
    : scenarioArg.split(",").map((s) => {
      if (s !== "fanout" && s !== "connect" && s !== "pm") {
        throw new Error(`unknown --scenario ${s}`);
      }
      return s;
    });
  const modeArg = values.mode;
  const modes: FanoutMode[] = modeArg === "both"
    ? ["saturation", "rate"]
    : modeArg === "saturation" || modeArg === "rate"
    ? [modeArg]
    : (() => {
      throw new Error(`unknown --mode ${modeArg}`);
    })();
  const host = values.host ?? "127.0.0.1";
  if (!isLoopback(host)) {
    throw new Error(`--host must be a loopback address, got ${host}`);
  }
  const cfg: BenchConfig = {
    scenarios,
    modes,
    clients: positiveInt("clients", values.clients, 1000),
    senders: positiveInt("senders", values.senders, 10),
    window: positiveInt("window", values.window, 32),
    rate: positiveNum("rate", values.rate, 1000),
    seconds: positiveNum("seconds", values.seconds, 5),
    warmup: positiveNum("warmup", values.warmup, 1),
    msgSize: positiveInt("msg-size", values["msg-size"], 64),
    probes: values.probes === undefined
      ? null
      : positiveInt("probes", values.probes, 16),
    connectClients: positiveInt(
      "connect-clients",
      values["connect-clients"],
      10000,
    ),
    pairs: positiveInt("pairs", values.pairs, 50),
    concurrency: positiveInt("concurrency", values.concurrency, 64),
    readBufKiB: positiveInt("read-buf", values["read-buf"], 256),
    connectReadBufKiB: positiveInt(
      "connect-read-buf",
      values["connect-read-buf"],
      16,
    ),
    repeat: positiveInt("repeat", values.repeat, 1),
    json: values.json,
    pin: !values["no-pin"],
    host,
    port: values.port === undefined
      ? null
      : positiveInt("port", values.port, 0),
    serverPid: values["server-pid"] === undefined
      ? null
      : positiveInt("server-pid", values["server-pid"], 0),
  };
  if (cfg.clients < 2) throw new Error("--clients must be at least 2");
  if (cfg.senders > cfg.clients) {
    throw new Error("--senders must not exceed --clients");
  }
  const maxIdx = Math.max(cfg.clients, cfg.connectClients, cfg.pairs * 2);
  if (maxIdx > MAX_CLIENTS) {
    throw new Error(`at most ${MAX_CLIENTS} clients`);
  }
  if (cfg.msgSize < MIN_MSG_SIZE || cfg.msgSize > MAX_MSG_SIZE) {
    throw new Error(
      `--msg-size must be within ${MIN_MSG_SIZE}..${MAX_MSG_SIZE}`,
    );
  }
  if (cfg.seconds <= 0 || cfg.seconds > 600) {
    throw new Error("--seconds must be within (0, 600]");
  }
  if (cfg.warmup > 60) throw new Error("--warmup must be at most 60");
  if (cfg.repeat > 20) throw new Error("--repeat must be at most 20");
  if (modes.includes("rate") && cfg.rate <= 0) {
    throw new Error("--rate must be positive");
  }
  return cfg;
}

function log(msg: string): void {
  const t = (performance.now() / 1000).toFixed(1).padStart(6);
  console.error(`[${t}s] ${msg}`);
}

/** Clients this configuration opens at most at once (file descriptors). */
function fdsNeeded(cfg: BenchConfig): number {
  let n = 0;
  if (cfg.scenarios.includes("fanout")) n = Math.max(n, cfg.clients);
  if (cfg.scenarios.includes("connect")) n = Math.max(n, cfg.connectClients);
  if (cfg.scenarios.includes("pm")) n = Math.max(n, cfg.pairs * 2);
  return n + 256;
}

/**
 * Checks that enough file descriptors are available. Deno raises its soft
 * limit to the hard limit by itself, so only the hard limit matters.
 * Returns an error message, or null if the limit is fine.
 */
async function checkFdLimit(cfg: BenchConfig): Promise<string | null> {
  const need = fdsNeeded(cfg);
  const lim = await fileLimits();
  if (lim === null || lim.soft >= need) return null;
  return `need ${need} file descriptors but the limit is ${lim.soft} ` +
    `(hard ${lim.hard}); raise it first (as root: \`ulimit -n ${need}\`) ` +
    `or use fewer clients`;
}

async function runOne(
  cfg: BenchConfig,
  scenario: ScenarioName,
  rep: number,
  env: { repoDir: string; pinServer: boolean },
): Promise<RunRecord> {
  const ctx = new RunContext();
  const results: RunRecord["results"] = [];
  let server: ServerHandle | null = null;
  let serverStop: StopResult | null = null;
  try {
    let target: Target;
    if (cfg.port !== null) {
      target = {
        host: cfg.host,
        port: cfg.port,
        pid: cfg.serverPid,
      };
    } else {
      server = await startServer({
        repoDir: env.repoDir,
        host: cfg.host,
        pinCore: env.pinServer ? 1 : null,
        startTimeoutMs: 60_000,
      });
      target = {
        host: cfg.host,
        port: server.port,
        pid: server.pid,
      };
      log(`server pid ${server.pid} listening on ${cfg.host}:${server.port}`);
    }
    const tag = randomTag();
    if (scenario === "fanout") {
      log(
        `fanout: ${cfg.clients} clients, ${cfg.senders} senders, modes ${
          cfg.modes.join("+")
        }`,
      );
      results.push(
        ...await runFanout({
          target,
          ctx,
          tag,
          clients: cfg.clients,
          senders: cfg.senders,
          window: cfg.window,
          rate: cfg.rate,
          modes: cfg.modes,
          seconds: cfg.seconds,
          warmupSeconds: cfg.warmup,
          msgSize: cfg.msgSize,
          readBufSize: cfg.readBufKiB * 1024,
          probes: cfg.probes ??
            Math.min(16, Math.max(2, Math.round(cfg.clients / 50))),
          concurrency: cfg.concurrency,
        }),
      );
    } else if (scenario === "connect") {
      log(`connect: ${cfg.connectClients} clients`);
      const r = await runConnect({
        target,
        ctx,
        tag,
        clients: cfg.connectClients,
        concurrency: cfg.concurrency,
        readBufSize: cfg.connectReadBufKiB * 1024,
        idleSeconds: 1,
      });
      if (r) results.push(r);
    } else {
      log(`pm: ${cfg.pairs} pairs`);
      const r = await runPm({
        target,
        ctx,
        tag,
        pairs: cfg.pairs,
        seconds: cfg.seconds,
        warmupSeconds: cfg.warmup,
        readBufSize: cfg.readBufKiB * 1024,
        concurrency: cfg.concurrency,
      });
      if (r) results.push(r);
    }
  } catch (err) {
    ctx.fail(`${scenario}: ${errText(err)}`);
  } finally {
    if (server !== null) {
      const exitedEarly = server.exited;
      serverStop = await server.stop();
      if (exitedEarly) {
        ctx.fail(
          `server exited during the run (code ${serverStop.code}); stderr:\n  ${
            serverStop.stderrTail.slice(-10).join("\n  ")
          }`,
        );
      } else if (!serverStop.graceful) {
        ctx.fail(
          `server did not shut down gracefully (code ${serverStop.code}, signal ${serverStop.signal}, via ${serverStop.via})`,
        );
      }
    }
  }
  const ok = !ctx.failed && results.every((r) => r.ok);
  log(`${scenario} run ${rep}: ${ok ? "ok" : "FAILED"}`);
  return {
    scenario,
    repeat: rep,
    results,
    failures: ctx.failures,
    warnings: ctx.warningsWithCounts(),
    serverStop,
    ok,
  };
}

/** Entry point; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let cfg: BenchConfig | null;
  try {
    cfg = parseConfig(argv);
  } catch (err) {
    console.error(`error: ${errText(err)}\n\n${USAGE}`);
    return 2;
  }
  if (cfg === null) {
    console.log(USAGE);
    return 0;
  }
  const fdProblem = await checkFdLimit(cfg);
  if (fdProblem !== null) {
    console.error(`error: ${fdProblem}`);
    return 2;
  }

  const repoDir = new URL("..", import.meta.url).pathname;
  if (cfg.port === null) {
    try {
      Deno.statSync(`${repoDir}server.ts`);
    } catch {
      console.error(`error: ${repoDir}server.ts not found (or use --port)`);
      return 2;
    }
  }
  const taskset = cfg.pin && navigator.hardwareConcurrency >= 2 &&
    await hasTaskset();
  let pinned = false;
  if (taskset) pinned = await pinProcess(Deno.pid, 0);
  if (cfg.pin && !pinned) log("not pinned to core 0 (taskset unavailable)");
  const clkTck = await clockTicksPerSecond();

  const records: RunRecord[] = [];
  for (let rep = 1; rep <= cfg.repeat; rep++) {
    for (const scenario of cfg.scenarios) {
      records.push(
        await runOne(cfg, scenario, rep, {
          repoDir,
          pinServer: taskset && cfg.port === null,
        }),
      );
    }
  }

  const ok = records.every((r) => r.ok);
  const { text, medians } = renderTables(records, cfg.repeat);
  const problems: string[] = [];
  for (const r of records) {
    for (const f of r.failures) {
      problems.push(`FAIL ${r.scenario}#${r.repeat}: ${f}`);
    }
    for (const w of r.warnings) {
      problems.push(`warn ${r.scenario}#${r.repeat}: ${w}`);
    }
  }
  const summary = [
    text,
    ...problems,
    ok ? "RESULT: ok" : "RESULT: FAILED (see FAIL lines above)",
  ].join("\n");
  if (cfg.json) {
    console.error(summary);
    console.log(JSON.stringify(
      {
        ok,
        config: cfg,
        pinned: {
          generatorCore: pinned ? 0 : null,
          serverCore: taskset ? 1 : null,
        },
        clkTck,
        runs: records,
        medians,
      },
      null,
      2,
    ));
  } else {
    console.log(summary);
  }
  return ok ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
