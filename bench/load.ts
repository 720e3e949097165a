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
 * deno task bench --transport ws                   # our WebSocket door
 * deno task bench --transport tcp,ws,mixed,irc     # each door, one table
 * deno task bench --peers                          # ours beside ncat, ngircd, inspircd
 * deno task bench --peers --original /tmp/x/server.py  # and the Python original
 * deno task bench --peer ngircd --transport irc    # ours over IRC beside ngircd
 * deno task bench --engine memory,redis,redis2 --scenario fanout,pm,claims
 * deno task bench --scenario fanout,pm --repeat 5 --against 3c2cfe2
 * deno task bench --mode saturation --window-receivers 16 # readers behind
 * ```
 *
 * Against a revision (`--against REF`, against.ts): REF is checked out in a
 * temporary worktree (`git worktree add --detach`, removed at the end and
 * on Ctrl+C); each scenario runs on its server and on this tree's one after
 * the other, which goes first swapping every repeat, so that a drift of a
 * shared machine hits both; a last table gives both and the ratio (medians
 * of passed runs, CPU per delivery or round trip, peak RSS). Limit flags the
 * older server.ts does not list in `--help` are left out. Its failures are
 * reported (`REF-FAIL`) but do not fail the bench.
 *
 * Profiling: with `BENCH_SERVER_CPU_PROF=DIR` in the environment our
 * server runs with `deno run --cpu-prof` and leaves one `.cpuprofile` a run
 * in DIR (written at its exit; open it in Chrome's DevTools).
 *
 * Memory: every run reports the server's peak RSS (`VmHWM`); a server past
 * `--max-rss` MiB (default 2048) is killed and its run fails, so that a
 * runaway cannot take the machine. Our server runs with `--max-sendq` at
 * 64 MiB (`--sendq`), the send queue lifted far above a chat's.
 *
 * Engines (`--engine`, default memory): `memory` is one server process;
 * `redis` starts a redis-server (redis.ts: free 127.0.0.1 port, temp dir,
 * `--save '' --appendonly no`) and one node with `--redis URL`; `redis2`
 * two nodes on it, client `i` on node `i % 2` (so every pm pair spans both
 * nodes). Each run gets a fresh redis-server, stopped and removed after
 * the nodes. Nodes and redis-server share core 1, the generator core 0.
 * CPU figures ("srv") are then the sum of every node and redis-server. A
 * missing redis-server skips those engines with one line; before the runs
 * `redis-benchmark` gives a reference PUBLISH rate (skipped if missing).
 * The claims scenario (claims.ts, TCP only, ours only) times name to
 * `Welcome NAME!` over sequential registrations.
 *
 * Transports (`--transport`): `tcp` (the line protocol), `ws` (the
 * WebSocket door, `--web-port 0`, ws_client.ts), `irc` (the IRC door,
 * `--irc-port 0`, irc_client.ts), `mixed` (even clients TCP, odd ones
 * WebSocket: every message must reach both kinds once and in order). A
 * door server.ts does not list in `--help` yet is skipped with one line.
 *
 * Peers (`--peers`, peers.ts): `ncat --chat`, ngIRCd and InspIRCd, when
 * installed (a missing one is skipped with one line), each started on a
 * free 127.0.0.1 port with a temp config that lifts its limits, pinned to
 * core 1 like our server, and stopped after each scenario. The same
 * scenarios run against them (ncat has no private messages: no pm; it
 * takes clients one at a time and at most 1000, see ncat_client.ts), and a
 * last table puts every figure of ours beside each peer's with the ratio
 * ours/peer (IRC peers against ours/irc when that ran). With `--peers` the
 * connect scenario defaults to 2000 clients for every server (the IRC
 * peers take minutes for 10,000). A peer that loses messages or cuts
 * clients is reported (`PEER-FAIL`), its figures shown as FAIL; only our
 * server's failures make the exit code 1. The Python original runs as the
 * peer `original` when `--original PATH` names its server.py (fetched by
 * the user from ShalevAtsis/Socket_Chat; see peers.ts and
 * original_client.ts).
 *
 * Rooms (`--rooms R`, fanout, our line protocol): client i joins
 * `#r(i mod R)` after registering and talks there; a sender's messages are
 * owed to its room only.
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
import {
  isAgainstLabel,
  openWorktree,
  renderAgainst,
  type Worktree,
} from "./against.ts";
import { MAX_CLIENTS, randomTag } from "./codec.ts";
import { type ConnectResult, runConnect } from "./connect.ts";
import {
  type FanoutMode,
  type FanoutResult,
  MAX_MSG_SIZE,
  MIN_MSG_SIZE,
  runFanout,
} from "./fanout.ts";
import { IrcLoadClient } from "./irc_client.ts";
import { type Dialer, errText, LoadClient, RunContext } from "./load_client.ts";
import { NcatLoadClient } from "./ncat_client.ts";
import { OriginalLoadClient } from "./original_client.ts";
import {
  findPeer,
  PEER_NAMES,
  type PeerHandle,
  type PeerInfo,
  type PeerName,
  peerVersion,
  startPeer,
} from "./peers.ts";
import { type PmResult, runPm } from "./pm.ts";
import { type ClaimsResult, runClaims } from "./claims.ts";
import {
  findRedisBenchmark,
  findRedisServer,
  type RedisBenchmarkResult,
  type RedisHandle,
  runRedisBenchmark,
  startRedis,
} from "./redis.ts";
import {
  BENCH_SENDQ_BYTES,
  clockTicksPerSecond,
  fileLimits,
  hasTaskset,
  peakRssKiB,
  pinProcess,
  sampleProc,
  type ServerDoors,
  serverDoors,
  type ServerHandle,
  startServer,
  type StopResult,
  type Target,
} from "./proc.ts";
import {
  type ComparisonColumn,
  renderComparison,
  renderEngines,
  renderTables,
} from "./report.ts";
import { raceTimeout } from "./stats.ts";
import { WsLoadClient } from "./ws_client.ts";

/** Scenario names accepted by `--scenario`. */
export type ScenarioName = "fanout" | "connect" | "pm" | "claims";

const SCENARIOS: readonly ScenarioName[] = [
  "fanout",
  "connect",
  "pm",
  "claims",
];

/**
 * Where our server keeps the room (`--engine`): `memory` is one process
 * (today's server); `redis` one node on a redis-server the bench starts;
 * `redis2` two nodes on it, clients alternating between them.
 */
export type Engine = "memory" | "redis" | "redis2";

const ENGINES: readonly Engine[] = ["memory", "redis", "redis2"];

/** Server processes (nodes) of an engine. */
export function nodesOf(engine: Engine): number {
  return engine === "redis2" ? 2 : 1;
}

/** How the load clients reach our server (`--transport`). */
export type Transport = "tcp" | "ws" | "irc" | "mixed";

const TRANSPORTS: readonly Transport[] = ["tcp", "ws", "irc", "mixed"];

/**
 * A tree our server is run from: this checkout, or the worktree of
 * `--against REF`.
 */
export interface Tree {
  /** `ours` for this checkout, else the revision as given (`3c2cfe2`). */
  name: string;
  /** Directory holding its server.ts. */
  repoDir: string;
  /** What its server.ts offers (doors, flags). */
  doors: ServerDoors;
}

/** A server under test: ours (from a tree) over one transport, or a peer. */
export type System =
  | {
    kind: "ours";
    transport: Transport;
    engine: Engine;
    label: string;
    tree: Tree;
  }
  | { kind: "peer"; peer: PeerInfo; label: string };

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
  /** Connect scenario: seconds idle before RSS is read (default 1). */
  connectIdleSeconds: number;
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
  /** Transports of our server to run, in order. */
  transports: Transport[];
  /** Peers to run beside ours (empty without `--peers`). */
  peers: PeerName[];
  /** The Python original's server.py (`--original`), or null. */
  original: string | null;
  /** Fanout: rooms the clients are spread over (1: the main room). */
  rooms: number;
  /** V8 flags for this tree's server (not `--against`'s), or null. */
  v8Flags: string | null;
  /** Engines of our server to run, in order (default memory). */
  engines: Engine[];
  /** Measured registrations of the claims scenario. */
  claims: number;
  /** Saturation: receivers that close a message's window (null: all). */
  windowReceivers: number | null;
  /** Our server's `--max-sendq` in bytes. */
  sendq: number;
  /** `--against REF`: the revision run alternately beside this tree. */
  against: string | null;
  /** A server past this RSS (MiB) is killed and its run fails. */
  maxRssMiB: number;
}

/** One scenario execution (one server lifetime). */
export interface RunRecord {
  scenario: ScenarioName;
  /** Which server: `ours/tcp`, `ours/ws`, `ngircd`... */
  system: string;
  repeat: number;
  results: (FanoutResult | ConnectResult | PmResult | ClaimsResult)[];
  failures: string[];
  warnings: string[];
  serverStop: StopResult | null;
  /**
   * The server's peak RSS over the run (`VmHWM`, KiB; with several
   * processes the sum of each one's peak).
   */
  peakRssKiB: number | null;
  ok: boolean;
}

const USAGE = `Usage: deno task bench [flags]

  --scenario fanout|connect|pm|claims|all  (default all = fanout,connect,pm)
  --mode both|saturation|rate        fanout modes (default both)
  --clients N          fanout clients (default 1000)
  --senders S          fanout senders (default 10)
  --rooms R            fanout: client i joins #r(i mod R) and talks there
                       (our line protocol only; default 1, the main room);
                       issue 19's scenario: --rooms 100 --senders 100
  --window W           saturation: messages in flight per sender (default 32)
  --window-receivers K saturation: a message leaves the window once any K
                       receivers have it (default all); fewer lets the other
                       readers fall behind the server
  --rate R             rate mode: messages/s over all senders (default 1000)
  --seconds T          measured seconds per fanout mode / pm (default 5)
  --warmup T           warm-up seconds before measuring (default 1)
  --msg-size B         delivered line length incl. "NAME: " and \\n (default 64)
  --probes P           receivers that read at once and record latency
                       (default clients/50 within 2..16)
  --connect-clients N  connect scenario clients (default 10000; 2000 with
                       --peers, for every server alike)
  --connect-idle S     connect scenario: seconds idle after the join notices
                       before RSS is read (default 1, at most 120; V8 gives
                       back the young generation the storm grew only later)
  --pairs P            pm scenario pairs (default 50)
  --claims N           claims scenario: sequential registrations measured
                       (default 500, after 20 unmeasured)
  --engine E[,E]       our server's room: memory (one process), redis (one
                       node on a redis-server started here), redis2 (two
                       nodes on it, clients alternating); several run one
                       after the other (default memory)
  --concurrency C      clients registering at once (default 64)
  --read-buf KIB       read buffer per connection, fanout/pm (default 256)
  --connect-read-buf KIB  read buffer per connection, connect (default 16)
  --repeat N           run every scenario N times, print medians (default 1)
  --json               JSON on stdout (tables go to stderr)
  --no-pin             do not pin server (core 1) and generator (core 0)
  --transport T[,T]    our server's door: tcp|ws|irc|mixed (half TCP, half
                       WebSocket); several run one after the other (default tcp)
  --peers              also run every scenario against the installed peers:
                       ncat --chat, ngircd, inspircd (missing ones are skipped)
  --peer NAME[,NAME]   only these peers (implies --peers); "original" too
  --original PATH      the Python original's server.py (ShalevAtsis/Socket_Chat,
                       fetched by you; copied to a temp dir for each run), run
                       as the peer "original" with --peers
  --against REF        also run the server of git revision REF (from a
                       temporary worktree, removed at the end), alternating
                       with this tree's scenario by scenario; prints both
                       and the ratio this tree / REF
  --v8-flags FLAGS     V8 flags for this tree's server only, instead of those
                       of its deno task server (REF's server runs with its
                       own task's), e.g.
                       --v8-flags=--max-semi-space-size=2 --against HEAD
  --sendq BYTES        our server's --max-sendq (default 67108864, 64 MiB)
  --max-rss MIB        kill our server if its RSS passes this, failing the
                       run (default 2048: a runaway must not take the machine)
  --host H --port P    use an existing server (loopback only, tcp only)
  --server-pid PID     existing server's PID, for CPU/RSS readings
`;

function atMost(name: string, n: number, most: number): number {
  if (n > most) throw new Error(`--${name} must be at most ${most}, got ${n}`);
  return n;
}

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
      "window-receivers": { type: "string" },
      against: { type: "string" },
      sendq: { type: "string" },
      rate: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      "msg-size": { type: "string" },
      probes: { type: "string" },
      "connect-clients": { type: "string" },
      "connect-idle": { type: "string" },
      claims: { type: "string" },
      engine: { type: "string", default: "memory" },
      pairs: { type: "string" },
      concurrency: { type: "string" },
      "read-buf": { type: "string" },
      "connect-read-buf": { type: "string" },
      repeat: { type: "string" },
      json: { type: "boolean", default: false },
      "no-pin": { type: "boolean", default: false },
      "max-rss": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      "server-pid": { type: "string" },
      transport: { type: "string", default: "tcp" },
      peers: { type: "boolean", default: false },
      peer: { type: "string" },
      original: { type: "string" },
      rooms: { type: "string" },
      "v8-flags": { type: "string" },
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
      if (!(SCENARIOS as readonly string[]).includes(s)) {
        throw new Error(`unknown --scenario ${s}`);
      }
      return s as ScenarioName;
    });
  const engines = [...new Set(values.engine.split(","))].map((e) => {
    if (!(ENGINES as readonly string[]).includes(e)) {
      throw new Error(`unknown --engine ${e} (${ENGINES.join(", ")})`);
    }
    return e as Engine;
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
  const transports = [...new Set(values.transport.split(","))].map((t) => {
    if (!(TRANSPORTS as readonly string[]).includes(t)) {
      throw new Error(`unknown --transport ${t}`);
    }
    return t as Transport;
  });
  let peers: PeerName[] = [];
  if (values.peer !== undefined) {
    peers = [...new Set(values.peer.split(","))].map((p) => {
      if (!(PEER_NAMES as readonly string[]).includes(p)) {
        throw new Error(`unknown --peer ${p} (${PEER_NAMES.join(", ")})`);
      }
      return p as PeerName;
    });
  } else if (values.peers) {
    peers = [...PEER_NAMES];
  }
  const cfg: BenchConfig = {
    transports,
    peers,
    original: values.original ?? null,
    rooms: positiveInt("rooms", values.rooms, 1),
    v8Flags: values["v8-flags"] ?? null,
    engines,
    claims: positiveInt("claims", values.claims, 500),
    scenarios,
    modes,
    clients: positiveInt("clients", values.clients, 1000),
    senders: positiveInt("senders", values.senders, 10),
    window: positiveInt("window", values.window, 32),
    windowReceivers: values["window-receivers"] === undefined
      ? null
      : positiveInt("window-receivers", values["window-receivers"], 1),
    sendq: values.sendq === undefined
      ? BENCH_SENDQ_BYTES
      : positiveInt("sendq", values.sendq, 1),
    against: values.against ?? null,
    maxRssMiB: positiveInt("max-rss", values["max-rss"], 2048),
    rate: positiveNum("rate", values.rate, 1000),
    seconds: positiveNum("seconds", values.seconds, 5),
    warmup: positiveNum("warmup", values.warmup, 1),
    msgSize: positiveInt("msg-size", values["msg-size"], 64),
    probes: values.probes === undefined
      ? null
      : positiveInt("probes", values.probes, 16),
    // Beside the peers 2000: IRC servers take minutes for 10,000 (each
    // registration is NICK/USER, 001, JOIN, a NAMES list of everyone).
    connectClients: positiveInt(
      "connect-clients",
      values["connect-clients"],
      peers.length > 0 ? PEERS_CONNECT_CLIENTS : 10000,
    ),
    connectIdleSeconds: atMost(
      "connect-idle",
      positiveInt("connect-idle", values["connect-idle"], 1),
      120,
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
  if (
    cfg.against !== null &&
    !/^[\w.~^@{}/][\w./~^@{}-]{0,99}$/.test(cfg.against)
  ) {
    throw new Error(`--against takes a git revision, got ${cfg.against}`);
  }
  if (cfg.against !== null && (cfg.port !== null || peers.length > 0)) {
    throw new Error("--against runs our servers only (no --port, no peers)");
  }
  if (
    cfg.port !== null &&
    (peers.length > 0 || transports.join() !== "tcp" ||
      engines.join() !== "memory")
  ) {
    throw new Error(
      "--port (an existing server) works with tcp, no peers and no --engine",
    );
  }
  if (cfg.clients < 2) throw new Error("--clients must be at least 2");
  if (cfg.senders > cfg.clients) {
    throw new Error("--senders must not exceed --clients");
  }
  const maxIdx = Math.max(
    cfg.clients,
    cfg.connectClients,
    cfg.pairs * 2,
    cfg.claims + CLAIMS_WARMUP,
  );
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

/** Why `system` cannot run `scenario`, or null if it can. */
function cannotRun(
  system: System,
  scenario: ScenarioName,
  clients: number,
  rooms = 1,
): string | null {
  if (scenario === "fanout" && rooms > 1) {
    if (system.kind === "peer") return "rooms run on our line protocol only";
    if (system.transport !== "tcp") return "rooms run over TCP only";
  }
  if (scenario === "claims") {
    if (system.kind === "peer") return "claims measures our server only";
    if (system.transport !== "tcp") return "claims runs over TCP only";
    return null;
  }
  if (system.kind === "peer") {
    if (system.peer.protocol === "ncat" && scenario === "pm") {
      return "ncat --chat has no private messages";
    }
    if (
      system.peer.protocol === "ncat" && scenario === "fanout" &&
      clients > NCAT_MAX_CLIENTS
    ) {
      return `ncat --chat's select() holds at most ${NCAT_MAX_CLIENTS} clients`;
    }
    return null;
  }
  const t = system.transport;
  const doors = system.tree.doors;
  if ((t === "ws" || t === "mixed") && !doors.web) {
    return "server.ts has no --web-port (WebSocket door) yet";
  }
  if (t === "irc" && !doors.irc) {
    return "server.ts has no --irc-port (IRC door) yet";
  }
  return null;
}

/**
 * Columns of the comparison table: ours first, then each peer divided
 * into ours over the same protocol when it ran (IRC peers: ours/irc),
 * else into our first transport.
 */
function comparisonColumns(
  systems: System[],
  records: RunRecord[],
): ComparisonColumn[] {
  const ran = new Set(records.map((r) => r.system));
  const ours = systems.filter((s) => s.kind === "ours" && ran.has(s.label))
    .map((s) => s.label);
  return systems.map((s) => {
    if (s.kind === "ours") return { label: s.label, base: null };
    const same = s.peer.protocol === "irc" ? "ours/irc" : "ours/tcp";
    return {
      label: s.label,
      base: ours.includes(same) ? same : ours[0] ?? null,
    };
  });
}

/**
 * The client factory for our server's transport. With several nodes
 * client `i` goes to node `i % nodes` (mixed: node `(i >> 1) % nodes`, so
 * both kinds of client are on every node).
 */
function oursDialer(t: Transport, servers: ServerHandle[]): Dialer {
  const n = Math.max(1, servers.length);
  const node = (i: number) => servers[i % n] ?? null;
  const tcpPort = (i: number, port: number) => node(i)?.port ?? port;
  const webPort = (i: number) => node(i)?.webPort ?? 0;
  switch (t) {
    case "tcp":
      return (o) => LoadClient.open({ ...o, port: tcpPort(o.index, o.port) });
    case "ws":
      return (o) => WsLoadClient.open({ ...o, port: webPort(o.index) });
    case "irc":
      return (o) =>
        IrcLoadClient.open({ ...o, port: node(o.index)?.ircPort ?? 0 });
    case "mixed":
      // Even indices over TCP, odd over WebSocket: every sender's messages
      // reach receivers of both kinds.
      return (o) => {
        const k = o.index >> 1;
        return o.index % 2 === 0
          ? LoadClient.open({ ...o, port: tcpPort(k, o.port) })
          : WsLoadClient.open({ ...o, port: webPort(k) });
      };
  }
}

/** Registrations before the measured ones in the claims scenario. */
const CLAIMS_WARMUP = 20;

const REDIS_PATHS = "/usr/sbin or /usr/bin";

/**
 * `redis-benchmark -t publish -n 200000 -q` on a redis-server of its own
 * (server on core 1, benchmark on core 0 when pinning), for a reference
 * PUBLISH rate of this machine. Redis 7.0's redis-benchmark has no
 * `publish` test (it prints nothing): then `PUBLISH chat_bench <64 bytes>`
 * is run instead, once as is and once pipelined 16 deep (Redis's own
 * ceiling, without a round trip per command). A skip line when it cannot
 * run.
 */
async function publishReference(
  redisProgram: string,
  pin: boolean,
): Promise<RedisBenchmarkResult[] | string> {
  const program = findRedisBenchmark();
  if (program === null) {
    return "redis-benchmark: skipped (not installed)";
  }
  let redis: RedisHandle | null = null;
  try {
    redis = await startRedis({
      program: redisProgram,
      pinCore: pin ? 1 : null,
      startTimeoutMs: 10_000,
    });
    live.add(redis.stop);
    const base = {
      program,
      port: redis.port,
      requests: 200_000,
      pinCore: pin ? 0 : null,
      timeoutMs: 60_000,
    };
    const first = await runRedisBenchmark(base);
    if (first.requestsPerSec !== null) return [first];
    const command = ["PUBLISH", "chat_bench", "x".repeat(64)];
    return [
      await runRedisBenchmark({ ...base, command }),
      await runRedisBenchmark({ ...base, command, pipeline: 16 }),
    ];
  } catch (err) {
    return `redis-benchmark: skipped (${errText(err)})`;
  } finally {
    if (redis !== null) {
      live.delete(redis.stop);
      await redis.stop();
    }
  }
}

/**
 * Kills `server` (failing the run) if its RSS passes `maxMiB`: a server
 * whose memory runs away must not take the machine with it. Samples twice
 * a second until the server exits; returns the most it saw (KiB).
 */
function watchRss(
  server: ServerHandle,
  maxMiB: number,
  ctx: RunContext,
  label: string,
): () => number {
  let most = 0;
  const timer = setInterval(async () => {
    if (server.exited) {
      clearInterval(timer);
      return;
    }
    const sample = await sampleProc(server.pid);
    if (sample === null) return;
    most = Math.max(most, sample.rssKiB);
    if (sample.rssKiB <= maxMiB * 1024) return;
    clearInterval(timer);
    ctx.fail(
      `${label}: server RSS ${
        (sample.rssKiB / 1024).toFixed(0)
      } MiB passed --max-rss ${maxMiB}: killed`,
    );
    server.kill();
  }, 500);
  return () => most;
}

/** Failure lines printed per run (the JSON output keeps them all). */
const MAX_FAILURE_LINES = 12;

/** Default connect clients with `--peers` (for ours and the peers alike). */
const PEERS_CONNECT_CLIENTS = 2000;

/** Stops of the servers and peers running now (for Ctrl+C). */
const live = new Set<() => Promise<unknown>>();

/** Clean-ups after the servers are stopped (the --against worktree). */
const atExit = new Set<() => Promise<unknown>>();

/**
 * On SIGINT/SIGTERM stops every server and peer this process started
 * (bounded), then exits with 130. Returns a function removing the handlers.
 */
function stopOnSignal(): () => void {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handler = async () => {
    log(`interrupted: stopping ${live.size} server(s)`);
    await raceTimeout(Promise.all([...live].map((stop) => stop())), 20_000);
    await raceTimeout(Promise.all([...atExit].map((done) => done())), 10_000);
    Deno.exit(130);
  };
  for (const sig of signals) Deno.addSignalListener(sig, handler);
  return () => {
    for (const sig of signals) Deno.removeSignalListener(sig, handler);
  };
}

/** Most clients ncat --chat can hold (its select() takes fds < 1024). */
const NCAT_MAX_CLIENTS = 1000;

function maxClientsOf(cfg: BenchConfig, scenario: ScenarioName): number {
  return scenario === "fanout"
    ? cfg.clients
    : scenario === "connect"
    ? cfg.connectClients
    : cfg.pairs * 2;
}

async function runOne(
  cfg: BenchConfig,
  scenario: ScenarioName,
  rep: number,
  system: System,
  env: {
    pinServer: boolean;
    redisProgram: string | null;
  },
): Promise<RunRecord> {
  const ctx = new RunContext();
  const results: RunRecord["results"] = [];
  const servers: ServerHandle[] = [];
  let redis: RedisHandle | null = null;
  let peer: PeerHandle | null = null;
  let serverStop: StopResult | null = null;
  let peakRss: number | null = null;
  // The most RSS the watchdog saw of each server (a killed one has no
  // VmHWM to read afterwards).
  const watched: (() => number)[] = [];
  try {
    let target: Target;
    let dial: Dialer;
    if (system.kind === "peer") {
      peer = await startPeer({
        info: system.peer,
        host: cfg.host,
        pinCore: env.pinServer ? 1 : null,
        maxClients: maxClientsOf(cfg, scenario),
        startTimeoutMs: 30_000,
      });
      live.add(peer.stop);
      target = { host: cfg.host, port: peer.port, pid: peer.pid };
      dial = system.peer.protocol === "ncat"
        ? (o) => NcatLoadClient.open(o)
        : system.peer.protocol === "original"
        ? (o) => OriginalLoadClient.open(o)
        : (o) => IrcLoadClient.open(o);
      log(
        `${system.label} pid ${peer.pid} listening on ${cfg.host}:${peer.port}`,
      );
    } else if (cfg.port !== null) {
      target = {
        host: cfg.host,
        port: cfg.port,
        pid: cfg.serverPid,
      };
      dial = oursDialer("tcp", []);
    } else {
      const t = system.transport;
      const engineArgs: string[] = [];
      if (system.engine !== "memory") {
        if (env.redisProgram === null) throw new Error("no redis-server");
        redis = await startRedis({
          program: env.redisProgram,
          pinCore: env.pinServer ? 1 : null,
          startTimeoutMs: 10_000,
        });
        live.add(redis.stop);
        engineArgs.push("--redis", redis.url);
        log(`${system.label}: redis-server pid ${redis.pid} on ${redis.url}`);
      }
      for (let i = 0; i < nodesOf(system.engine); i++) {
        const tree = system.tree;
        const server = await startServer({
          repoDir: tree.repoDir,
          host: cfg.host,
          pinCore: env.pinServer ? 1 : null,
          startTimeoutMs: 60_000,
          // Every door the server has, on port 0: a default port (8025...)
          // could be taken. Only the transport's door must be up.
          web: tree.doors.web,
          irc: tree.doors.irc,
          args: engineArgs,
          sendqBytes: cfg.sendq,
          knownFlags: tree.doors.flags,
          v8Flags: tree.name === "ours" ? cfg.v8Flags ?? undefined : undefined,
        });
        servers.push(server);
        live.add(server.stop);
        watched.push(watchRss(server, cfg.maxRssMiB, ctx, system.label));
        log(
          `${system.label}: server pid ${server.pid} listening on ${cfg.host}:${server.port}${
            server.webPort !== null ? `, web ${server.webPort}` : ""
          }${server.ircPort !== null ? `, irc ${server.ircPort}` : ""}`,
        );
      }
      target = {
        host: cfg.host,
        port: servers[0].port,
        pid: servers[0].pid,
      };
      if (redis !== null) {
        target.procs = [
          ...servers.map((s, i) => ({ label: `node${i + 1}`, pid: s.pid })),
          { label: "redis", pid: redis.pid },
        ];
      }
      dial = oursDialer(t, servers);
    }
    const tag = randomTag();
    // ncat --chat dies ("getpeername ... QUITTING") when clients connect
    // at once, and select() limits it to 1024 descriptors.
    const isNcat = system.kind === "peer" && system.peer.protocol === "ncat";
    const isOriginal = system.kind === "peer" &&
      system.peer.protocol === "original";
    const concurrency = isNcat ? 1 : cfg.concurrency;
    const connectClients = isNcat
      ? Math.min(cfg.connectClients, NCAT_MAX_CLIENTS)
      : cfg.connectClients;
    if (isNcat && concurrency !== cfg.concurrency) {
      log(`${system.label}: clients connect one at a time`);
    }
    if (connectClients !== cfg.connectClients && scenario === "connect") {
      log(
        `${system.label}: connect capped at ${connectClients} clients (select() limit)`,
      );
    }
    if (scenario === "fanout") {
      log(
        `fanout ${system.label}: ${cfg.clients} clients${
          cfg.rooms > 1 ? ` in ${cfg.rooms} rooms` : ""
        }, ${cfg.senders} senders, modes ${cfg.modes.join("+")}`,
      );
      results.push(
        ...await runFanout({
          target,
          ctx,
          tag,
          dial,
          clients: cfg.clients,
          senders: cfg.senders,
          window: cfg.window,
          windowReceivers: cfg.windowReceivers ?? undefined,
          rate: cfg.rate,
          modes: cfg.modes,
          seconds: cfg.seconds,
          warmupSeconds: cfg.warmup,
          msgSize: cfg.msgSize,
          readBufSize: cfg.readBufKiB * 1024,
          probes: cfg.probes ??
            Math.min(16, Math.max(2, Math.round(cfg.clients / 50))),
          concurrency,
          extraJoinsOk: redis !== null,
          joinNotices: !isOriginal,
          rooms: cfg.rooms,
        }),
      );
    } else if (scenario === "connect") {
      log(`connect ${system.label}: ${connectClients} clients`);
      const r = await runConnect({
        target,
        ctx,
        tag,
        dial,
        clients: connectClients,
        concurrency,
        readBufSize: cfg.connectReadBufKiB * 1024,
        idleSeconds: cfg.connectIdleSeconds,
        extraJoinsOk: redis !== null,
        joinNotices: !isOriginal,
      });
      if (r) results.push(r);
    } else if (scenario === "claims") {
      log(`claims ${system.label}: ${cfg.claims} sequential registrations`);
      const r = await runClaims({
        target,
        ports: servers.length > 0 ? servers.map((s) => s.port) : undefined,
        ctx,
        tag,
        claims: cfg.claims,
        warmupClaims: CLAIMS_WARMUP,
        stepTimeoutMs: 10_000,
        timeoutMs: 120_000,
      });
      if (r) results.push(r);
    } else {
      log(`pm ${system.label}: ${cfg.pairs} pairs`);
      const r = await runPm({
        target,
        ctx,
        tag,
        dial,
        pairs: cfg.pairs,
        seconds: cfg.seconds,
        warmupSeconds: cfg.warmup,
        readBufSize: cfg.readBufKiB * 1024,
        concurrency,
        joinNotices: !isOriginal,
      });
      if (r) results.push(r);
    }
  } catch (err) {
    ctx.fail(`${scenario} ${system.label}: ${errText(err)}`);
  } finally {
    // The peak RSS of the run, read before anything is stopped.
    const pids = [
      ...servers.map((server) => server.pid),
      ...(redis === null ? [] : [redis.pid]),
      ...(peer === null ? [] : [peer.pid]),
    ];
    if (pids.length === 0 && cfg.serverPid !== null) pids.push(cfg.serverPid);
    const peaks = await Promise.all(pids.map((pid) => peakRssKiB(pid)));
    const seen = watched.reduce((a, most) => a + most(), 0);
    peakRss = peaks.length > 0 && peaks.every((p) => p !== null)
      ? Math.max(seen, peaks.reduce((a, p) => a + p!, 0))
      : seen > 0
      ? seen
      : null;
    // Nodes first (they leave the room in Redis), then redis-server.
    const stops = await Promise.all(servers.map(async (server) => {
      const exitedEarly = server.exited;
      live.delete(server.stop);
      return { exitedEarly, st: await server.stop() };
    }));
    for (const [i, { exitedEarly, st }] of stops.entries()) {
      const who = servers.length > 1 ? `node ${i + 1}` : "server";
      serverStop ??= st;
      if (exitedEarly) {
        ctx.fail(
          `${who} exited during the run (code ${st.code}); stderr:\n  ${
            st.stderrTail.slice(-10).join("\n  ")
          }`,
        );
      } else if (!st.graceful) {
        ctx.fail(
          `${who} did not shut down gracefully (code ${st.code}, signal ${st.signal}, via ${st.via})`,
        );
      }
    }
    if (redis !== null) {
      const exitedEarly = redis.exited;
      live.delete(redis.stop);
      const st = await redis.stop();
      if (exitedEarly) {
        ctx.fail(`redis-server exited during the run (code ${st.code})`);
      } else if (st.killed) {
        ctx.warn("redis-kill", "redis-server needed SIGKILL to stop");
      }
    }
    if (peer !== null) {
      const exitedEarly = peer.exited;
      live.delete(peer.stop);
      const st = await peer.stop();
      if (exitedEarly) {
        ctx.fail(
          `${system.label} exited during the run (code ${st.code}):\n  ${
            peer.tail().slice(-10).join("\n  ")
          }`,
        );
      } else if (st.killed) {
        ctx.warn("peer-kill", `${system.label} needed SIGKILL to stop`);
      }
      if (ctx.failed) {
        const said = peer.notable();
        if (said.length > 0) {
          ctx.warn(
            "peer-said",
            `${system.label} logged:\n  ${said.join("\n  ")}`,
          );
        }
      }
    }
  }
  const ok = !ctx.failed && results.every((r) => r.ok);
  log(`${scenario} ${system.label} run ${rep}: ${ok ? "ok" : "FAILED"}`);
  return {
    scenario,
    system: system.label,
    repeat: rep,
    results,
    failures: ctx.failures,
    warnings: ctx.warningsWithCounts(),
    serverStop,
    peakRssKiB: peakRss,
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

  const doors: ServerDoors = cfg.port === null
    ? await serverDoors(repoDir)
    : { web: false, irc: false, flags: [] };
  const trees: Tree[] = [{ name: "ours", repoDir, doors }];
  let worktree: Worktree | null = null;
  if (cfg.against !== null) {
    try {
      worktree = await openWorktree(repoDir, cfg.against);
    } catch (err) {
      console.error(`error: --against ${cfg.against}: ${errText(err)}`);
      return 2;
    }
    atExit.add(worktree.remove);
    log(
      `against ${cfg.against}: ${
        worktree.commit.slice(0, 12)
      } in ${worktree.dir}`,
    );
    const refDoors = await serverDoors(worktree.dir);
    trees.push({ name: cfg.against, repoDir: worktree.dir, doors: refDoors });
    const dropped = [
      "--log",
      "--flood-rate",
      "--max-per-ip",
      "--max-clients",
      "--max-sendq",
    ]
      .filter((f) => refDoors.flags.length > 0 && !refDoors.flags.includes(f));
    if (dropped.length > 0) {
      log(
        `against ${cfg.against}: its server has no ${
          dropped.join(", ")
        }; left out`,
      );
    }
  }
  const redisProgram = findRedisServer();
  const wantsRedis = cfg.engines.some((e) => e !== "memory");
  const engines = cfg.engines.filter((e) => {
    if (e === "memory" || redisProgram !== null) return true;
    log(`engine ${e}: skipped (no redis-server in ${REDIS_PATHS})`);
    return false;
  });
  const systems: System[] = trees.flatMap((tree) =>
    engines.flatMap((engine) =>
      cfg.transports.map((t): System => ({
        kind: "ours",
        transport: t,
        engine,
        label: engine === "memory"
          ? `${tree.name}/${t}`
          : `${tree.name}/${t}@${engine}`,
        tree,
      }))
    )
  );
  if (wantsRedis && redisProgram !== null) {
    log(
      taskset
        ? "engines: every node and redis-server pinned to core 1 (sharing it), the generator to core 0"
        : "engines: nothing pinned",
    );
  }
  const versions: Record<string, string | null> = {};
  for (const name of cfg.peers) {
    const info = findPeer(name, cfg.original ?? undefined);
    if (info === null) {
      log(
        name === "original"
          ? "peer original: no --original PATH to its server.py (or no python3), skipped"
          : `peer ${name}: not installed, skipped`,
      );
      continue;
    }
    versions[name] = await peerVersion(info);
    log(`peer ${name}: ${versions[name] ?? info.binary}`);
    systems.push({ kind: "peer", peer: info, label: name });
  }

  const skipped: string[] = [];
  const unlisten = stopOnSignal();
  let publish: RedisBenchmarkResult[] = [];
  if (wantsRedis && redisProgram !== null) {
    const r = await publishReference(redisProgram, taskset);
    if (typeof r === "string") {
      log(r);
      skipped.push(r);
    } else {
      publish = r;
      for (const b of r) log(`${b.command}: ${b.line}`);
    }
  }
  const records: RunRecord[] = [];
  for (let rep = 1; rep <= cfg.repeat; rep++) {
    // With --against the two trees take turns, and which goes first swaps
    // every repeat, so that a drift of the machine hits both alike.
    const order = worktree !== null && rep % 2 === 0
      ? [...systems].reverse()
      : systems;
    for (const scenario of cfg.scenarios) {
      for (const system of order) {
        const why = cannotRun(system, scenario, cfg.clients, cfg.rooms);
        if (why !== null) {
          if (rep === 1) {
            const msg = `${scenario} ${system.label}: skipped (${why})`;
            log(msg);
            skipped.push(msg);
          }
          continue;
        }
        records.push(
          await runOne(cfg, scenario, rep, system, {
            pinServer: taskset && cfg.port === null,
            redisProgram,
          }),
        );
      }
    }
  }

  unlisten();
  if (worktree !== null) {
    await worktree.remove();
    atExit.delete(worktree.remove);
  }
  // Our server must pass; a peer (or the --against revision) that loses
  // messages or cuts clients is a finding about it, reported, not a failed
  // bench.
  const isPeer = (r: RunRecord) => !r.system.startsWith("ours/");
  const isRef = (r: RunRecord) => isAgainstLabel(r.system, cfg.against);
  const ok = records.every((r) => r.ok || isPeer(r));
  const peerFails = [
    ...new Set(
      records.filter((r) => !r.ok && isPeer(r) && !isRef(r)).map((r) =>
        `${r.system} ${r.scenario}`
      ),
    ),
  ];
  const refFails = [
    ...new Set(
      records.filter((r) => !r.ok && isRef(r)).map((r) =>
        `${r.system} ${r.scenario}`
      ),
    ),
  ];
  const { text, medians } = renderTables(records, cfg.repeat);
  const comparison =
    (cfg.transports.length > 1 || systems.some((s) => s.kind === "peer"))
      ? renderComparison(records, comparisonColumns(systems, records))
      : "";
  const engineLabels = systems.filter((s) =>
    s.kind === "ours" && s.transport === cfg.transports[0] &&
    s.tree.name === "ours"
  ).map((s) => s.label);
  const againstTable = cfg.against === null || worktree === null
    ? ""
    : renderAgainst(
      records,
      systems.filter((s) => s.kind === "ours" && s.tree.name === "ours").map(
        (s) => ({
          current: s.label,
          ref: `${cfg.against}/${s.label.slice("ours/".length)}`,
        }),
      ),
      worktree.commit,
    );
  const engineTable = wantsRedis
    ? renderEngines(records, engineLabels, publish)
    : "";
  const problems: string[] = [];
  for (const r of records) {
    const kind = isRef(r) ? "REF-FAIL" : isPeer(r) ? "PEER-FAIL" : "FAIL";
    // The first ones say what happened; a thousand clients cut say no more.
    for (const f of r.failures.slice(0, MAX_FAILURE_LINES)) {
      problems.push(`${kind} ${r.scenario} ${r.system}#${r.repeat}: ${f}`);
    }
    if (r.failures.length > MAX_FAILURE_LINES) {
      problems.push(
        `${kind} ${r.scenario} ${r.system}#${r.repeat}: ... and ${
          r.failures.length - MAX_FAILURE_LINES
        } more`,
      );
    }
    for (const w of r.warnings) {
      problems.push(`warn ${r.scenario} ${r.system}#${r.repeat}: ${w}`);
    }
  }
  const summary = [
    text,
    ...(comparison !== "" ? [comparison] : []),
    ...(engineTable !== "" ? [engineTable] : []),
    ...(againstTable !== "" ? [againstTable] : []),
    ...skipped.map((m) => `skip ${m}`),
    ...problems,
    (ok ? "RESULT: ok" : "RESULT: FAILED (see FAIL lines above)") +
    (peerFails.length > 0
      ? `; peers failed: ${peerFails.join(", ")} (see PEER-FAIL lines)`
      : "") +
    (refFails.length > 0
      ? `; ${cfg.against} failed: ${refFails.join(", ")} (see REF-FAIL lines)`
      : ""),
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
        doors,
        against: worktree === null
          ? null
          : { ref: cfg.against, commit: worktree.commit },
        peerVersions: versions,
        engines,
        redisPublish: publish,
        skipped,
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
