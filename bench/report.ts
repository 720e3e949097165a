/**
 * Text tables and medians for load generator results.
 *
 * @module
 */

import type { ClaimsResult } from "./claims.ts";
import type { ConnectResult } from "./connect.ts";
import type { FanoutMode, FanoutResult } from "./fanout.ts";
import type { RunRecord } from "./load.ts";
import type { PmResult } from "./pm.ts";
import type { RedisBenchmarkResult } from "./redis.ts";
import { median } from "./stats.ts";

/** A result of any scenario. */
export type AnyResult = FanoutResult | ConnectResult | PmResult | ClaimsResult;

interface Column<R> {
  title: string;
  get: (r: R) => number | string | null;
  /** Decimal places for numbers (default 0). */
  digits?: number;
  /** Left out of the table when no row has a value. */
  optional?: boolean;
}

const MiB = (kib: number | null) => kib === null ? null : kib / 1024;

const FANOUT_COLUMNS: Column<FanoutResult>[] = [
  { title: "mode", get: (r) => r.mode },
  { title: "clients", get: (r) => r.clients },
  { title: "rooms", get: (r) => r.rooms ?? 1 },
  { title: "senders", get: (r) => r.senders },
  {
    title: "window/rate",
    get: (r) =>
      r.window === null ? `${r.targetRate}/s` : r.windowReceivers !== null &&
          r.windowReceivers < Math.ceil(r.clients / (r.rooms ?? 1)) - 1
        ? `w=${r.window}@${r.windowReceivers}`
        : `w=${r.window}`,
  },
  { title: "msg/s", get: (r) => r.messagesPerSec },
  { title: "deliveries/s", get: (r) => r.deliveriesPerSec },
  { title: "p50 ms", get: (r) => r.latencyMs.p50, digits: 2 },
  { title: "p90 ms", get: (r) => r.latencyMs.p90, digits: 2 },
  { title: "p99 ms", get: (r) => r.latencyMs.p99, digits: 2 },
  { title: "max ms", get: (r) => r.latencyMs.max, digits: 2 },
  {
    title: "probe p50 lo-hi ms",
    get: (r) => {
      const p50s = r.latencyByProbe.map((p) => p.p50);
      if (p50s.length === 0) return null;
      const f = (v: number) => v < 10 ? v.toFixed(1) : v.toFixed(0);
      return `${f(Math.min(...p50s))}-${f(Math.max(...p50s))}`;
    },
  },
  { title: "srv CPU %", get: (r) => r.server.cpu?.cpuPct ?? null },
  {
    title: "CPU % by process",
    get: (r) => byProcess(r.server.cpuByProcess),
    optional: true,
  },
  {
    title: "deliv/srv-CPU-s",
    get: (r) => r.server.deliveriesPerCpuSec,
  },
  { title: "srv µs/deliv", get: (r) => r.server.usPerDelivery, digits: 2 },
  { title: "gen CPU %", get: (r) => r.generator.cpu?.cpuPct ?? null },
  { title: "gen µs/deliv", get: (r) => r.generator.usPerDelivery, digits: 2 },
  {
    title: "gen lag p99 ms",
    get: (r) => r.generator.loopLagMs.p99,
    digits: 1,
  },
  {
    title: "deliv/read",
    get: (r) => r.generator.deliveriesPerRead,
    digits: 1,
  },
  { title: "other CPU %", get: (r) => r.otherCpuPct },
  { title: "RSS idle MiB", get: (r) => MiB(r.server.rssIdleKiB), digits: 1 },
  {
    title: "RSS reg MiB",
    get: (r) => MiB(r.server.rssRegisteredKiB),
    digits: 1,
  },
  { title: "RSS end MiB", get: (r) => MiB(r.server.rssAfterKiB), digits: 1 },
  {
    title: "ok",
    get: (r) => r.ok ? (r.overloaded ? "overload" : "ok") : "FAIL",
  },
];

const CONNECT_COLUMNS: Column<ConnectResult>[] = [
  { title: "clients", get: (r) => r.clients },
  { title: "register s", get: (r) => r.registerMs / 1000, digits: 2 },
  { title: "reg/s", get: (r) => r.registrationsPerSec },
  { title: "reg p50 ms", get: (r) => r.registerLatencyMs.p50, digits: 2 },
  { title: "reg p99 ms", get: (r) => r.registerLatencyMs.p99, digits: 2 },
  {
    title: "all joins s",
    get: (r) => r.settleMs === null ? null : r.settleMs / 1000,
    digits: 2,
  },
  { title: "srv CPU s", get: (r) => r.server.cpu?.cpuSec ?? null, digits: 2 },
  {
    title: "gen CPU s",
    get: (r) => r.generator.cpu?.cpuSec ?? null,
    digits: 2,
  },
  { title: "RSS idle MiB", get: (r) => MiB(r.server.rssIdleKiB), digits: 1 },
  {
    title: "RSS conn MiB",
    get: (r) => MiB(r.server.rssConnectedKiB),
    digits: 1,
  },
  { title: "KiB/conn", get: (r) => r.server.kibPerConnection, digits: 1 },
  {
    title: "close settle s",
    get: (r) => r.closeSettleMs === null ? null : r.closeSettleMs / 1000,
    digits: 2,
  },
  {
    title: "RSS closed MiB",
    get: (r) => MiB(r.server.rssAfterCloseKiB),
    digits: 1,
  },
  { title: "ok", get: (r) => r.ok ? "ok" : "FAIL" },
];

const PM_COLUMNS: Column<PmResult>[] = [
  { title: "pairs", get: (r) => r.pairs },
  { title: "round trips/s", get: (r) => r.roundTripsPerSec },
  { title: "RTT p50 ms", get: (r) => r.rttMs.p50, digits: 3 },
  { title: "RTT p99 ms", get: (r) => r.rttMs.p99, digits: 3 },
  { title: "RTT max ms", get: (r) => r.rttMs.max, digits: 3 },
  { title: "srv CPU %", get: (r) => r.server.cpu?.cpuPct ?? null },
  {
    title: "CPU % by process",
    get: (r) => byProcess(r.server.cpuByProcess),
    optional: true,
  },
  { title: "srv µs/RT", get: (r) => r.server.usPerRoundTrip, digits: 2 },
  { title: "gen CPU %", get: (r) => r.generator.cpu?.cpuPct ?? null },
  { title: "other CPU %", get: (r) => r.otherCpuPct },
  { title: "ok", get: (r) => r.ok ? "ok" : "FAIL" },
];

const CLAIMS_COLUMNS: Column<ClaimsResult>[] = [
  { title: "claims", get: (r) => r.claims },
  { title: "nodes", get: (r) => r.nodes },
  { title: "claims/s", get: (r) => r.claimsPerSec },
  { title: "claim p50 ms", get: (r) => r.claimMs.p50, digits: 3 },
  { title: "claim p90 ms", get: (r) => r.claimMs.p90, digits: 3 },
  { title: "claim p99 ms", get: (r) => r.claimMs.p99, digits: 3 },
  { title: "claim max ms", get: (r) => r.claimMs.max, digits: 3 },
  { title: "greet p50 ms", get: (r) => r.greetingMs.p50, digits: 3 },
  { title: "srv CPU %", get: (r) => r.server.cpu?.cpuPct ?? null },
  { title: "srv µs/claim", get: (r) => r.server.usPerClaim, digits: 0 },
  { title: "ok", get: (r) => r.ok ? "ok" : "FAIL" },
];

/** `node1 40 node2 38 redis 21`: CPU % per process, when several. */
function byProcess(
  procs: { label: string; cpuPct: number }[] | null,
): string | null {
  if (procs === null || procs.length < 2) return null;
  return procs.map((p) => `${p.label} ${p.cpuPct.toFixed(0)}`).join(" ");
}

/** A number with thousands separators and `digits` decimals; `-` for none. */
export function fmt(v: number | string | null, digits: number): string {
  if (v === null) return "-";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "-";
  return v.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** A text table: the first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))
      .join("  ");
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ].join("\n");
}

function section<R extends AnyResult>(
  name: string,
  columns: Column<R>[],
  runs: { run: string; r: R; group: string }[],
  repeat: number,
  medians: Record<string, Record<string, number | string | null>>,
): string {
  if (runs.length === 0) return "";
  columns = columns.filter((c) =>
    !c.optional || runs.some((x) => c.get(x.r) !== null)
  );
  const header = ["run", ...columns.map((c) => c.title)];
  const rows: string[][] = [];
  const groups = [...new Set(runs.map((x) => x.group))];
  for (const g of groups) {
    const inGroup = runs.filter((x) => x.group === g);
    for (const x of inGroup) {
      rows.push([x.run, ...columns.map((c) => fmt(c.get(x.r), c.digits ?? 0))]);
    }
    if (repeat > 1) {
      const med: Record<string, number | string | null> = {};
      const cells = columns.map((c) => {
        const vals = inGroup.map((x) => c.get(x.r));
        const nums = vals.filter((v): v is number => typeof v === "number");
        let v: number | string | null;
        if (nums.length > 0) v = median(nums);
        else if (vals.every((s) => s === vals[0])) v = vals[0];
        else v = vals.join("/");
        med[c.title] = v;
        return fmt(v, c.digits ?? 0);
      });
      medians[g] = med;
      rows.push([
        `median(${inGroup.length})${
          g.includes(" ") ? " " + g.slice(0, g.indexOf(" ")) : ""
        }`,
        ...cells,
      ]);
    }
  }
  return `== ${name} ==\n${table(header, rows)}`;
}

/** Renders one table per scenario; with repeats, adds median rows. */
export function renderTables(
  records: RunRecord[],
  repeat: number,
): {
  text: string;
  medians: Record<string, Record<string, number | string | null>>;
} {
  const fan: { run: string; r: FanoutResult; group: string }[] = [];
  const con: { run: string; r: ConnectResult; group: string }[] = [];
  const pm: { run: string; r: PmResult; group: string }[] = [];
  const cl: { run: string; r: ClaimsResult; group: string }[] = [];
  for (const rec of records) {
    for (const r of rec.results) {
      const run = `#${rec.repeat} ${rec.system}`;
      if (r.scenario === "fanout") {
        fan.push({ run, r, group: `${rec.system} fanout/${r.mode}` });
      } else if (r.scenario === "connect") {
        con.push({ run, r, group: `${rec.system} connect` });
      } else if (r.scenario === "claims") {
        cl.push({ run, r, group: `${rec.system} claims` });
      } else {
        pm.push({ run, r, group: `${rec.system} pm` });
      }
    }
  }
  const medians: Record<string, Record<string, number | string | null>> = {};
  const parts = [
    section("fanout", FANOUT_COLUMNS, fan, repeat, medians),
    section("connect", CONNECT_COLUMNS, con, repeat, medians),
    section("pm", PM_COLUMNS, pm, repeat, medians),
    section("claims", CLAIMS_COLUMNS, cl, repeat, medians),
  ].filter((s) => s !== "");
  if (fan.length > 0) {
    const f = fan[0].r;
    parts.push([
      `fanout: ${f.msgBytes}-byte delivered lines (incl. "NAME: " and \\n;`,
      `the sender writes ${f.msgBytes - 10}). Saturation: the window closes`,
      `when all ${f.clients - 1} receivers got a message (w=W@K: when any K`,
      `did). Latency = send to`,
      `receive in the generator, parsed on ${f.latencyProbes} probe`,
      "receivers only.",
    ].join(" "));
  }
  return { text: parts.join("\n\n") + "\n", medians };
}

/** One column of the comparison: a system, and the one its ratio uses. */
export interface ComparisonColumn {
  /** System label (`ours/tcp`, `ngircd`...). */
  label: string;
  /** Label of our column this one is divided into (ours/peer), or null. */
  base: string | null;
}

/** One figure of a comparison table, read from the results of a scenario. */
export interface Metric {
  title: string;
  scenario: AnyResult["scenario"];
  mode?: FanoutMode;
  get: (r: AnyResult) => number | null;
  digits: number;
}

const fan = (f: (r: FanoutResult) => number | null) => (r: AnyResult) =>
  r.scenario === "fanout" ? f(r) : null;
const con = (f: (r: ConnectResult) => number | null) => (r: AnyResult) =>
  r.scenario === "connect" ? f(r) : null;
const pmf = (f: (r: PmResult) => number | null) => (r: AnyResult) =>
  r.scenario === "pm" ? f(r) : null;
const clf = (f: (r: ClaimsResult) => number | null) => (r: AnyResult) =>
  r.scenario === "claims" ? f(r) : null;

const METRICS: Metric[] = [
  ...(["saturation", "rate"] as const).flatMap((mode): Metric[] => [
    {
      title: `fanout ${mode}: deliveries/s`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.deliveriesPerSec),
      digits: 0,
    },
    {
      title: `fanout ${mode}: deliveries/server-CPU-s`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.server.deliveriesPerCpuSec),
      digits: 0,
    },
    {
      title: `fanout ${mode}: server CPU %`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.server.cpu?.cpuPct ?? null),
      digits: 0,
    },
    {
      title: `fanout ${mode}: latency p50 ms`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.latencyMs.p50),
      digits: 2,
    },
    {
      title: `fanout ${mode}: latency p99 ms`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.latencyMs.p99),
      digits: 2,
    },
  ]),
  {
    title: "connect: clients",
    scenario: "connect",
    get: con((r) => r.clients),
    digits: 0,
  },
  {
    title: "connect: register all s",
    scenario: "connect",
    get: con((r) => r.registerMs / 1000),
    digits: 2,
  },
  {
    title: "connect: all joins seen s",
    scenario: "connect",
    get: con((r) => r.settleMs === null ? null : r.settleMs / 1000),
    digits: 2,
  },
  {
    title: "connect: server CPU s",
    scenario: "connect",
    get: con((r) => r.server.cpu?.cpuSec ?? null),
    digits: 2,
  },
  {
    title: "connect: RSS KiB per idle connection",
    scenario: "connect",
    get: con((r) => r.server.kibPerConnection),
    digits: 1,
  },
  {
    title: "pm: round trips/s",
    scenario: "pm",
    get: pmf((r) => r.roundTripsPerSec),
    digits: 0,
  },
  {
    title: "pm: RTT p50 ms",
    scenario: "pm",
    get: pmf((r) => r.rttMs.p50),
    digits: 3,
  },
  {
    title: "pm: RTT p99 ms",
    scenario: "pm",
    get: pmf((r) => r.rttMs.p99),
    digits: 3,
  },
  {
    title: "pm: server µs per round trip",
    scenario: "pm",
    get: pmf((r) => r.server.usPerRoundTrip),
    digits: 1,
  },
];

/** Median of `m` over `label`'s results that passed; "FAIL" if only failed ones ran. */
export function medianOf(
  records: RunRecord[],
  label: string,
  m: Metric,
): number | "FAIL" | null {
  const vals: number[] = [];
  let failed = false;
  for (const rec of records) {
    if (rec.system !== label || rec.scenario !== m.scenario) continue;
    if (rec.results.length === 0 && !rec.ok) failed = true;
    for (const r of rec.results) {
      if (
        m.mode !== undefined && r.scenario === "fanout" && r.mode !== m.mode
      ) {
        continue;
      }
      if (!r.ok) {
        failed = true;
        continue;
      }
      const v = m.get(r);
      if (v !== null && Number.isFinite(v)) vals.push(v);
    }
  }
  return vals.length > 0 ? median(vals) : failed ? "FAIL" : null;
}

const ENGINE_METRICS: Metric[] = [
  ...(["saturation", "rate"] as const).flatMap((mode): Metric[] => [
    {
      title: `fanout ${mode}: deliveries/s`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.deliveriesPerSec),
      digits: 0,
    },
    {
      title: `fanout ${mode}: deliveries per CPU-s (all processes)`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.server.deliveriesPerCpuSec),
      digits: 0,
    },
    {
      title: `fanout ${mode}: CPU ns per delivery (all processes)`,
      scenario: "fanout",
      mode,
      get: fan((r) =>
        r.server.usPerDelivery === null ? null : r.server.usPerDelivery * 1000
      ),
      digits: 1,
    },
    {
      title: `fanout ${mode}: CPU % (all processes)`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.server.cpu?.cpuPct ?? null),
      digits: 0,
    },
    {
      title: `fanout ${mode}: latency p99 ms`,
      scenario: "fanout",
      mode,
      get: fan((r) => r.latencyMs.p99),
      digits: 2,
    },
  ]),
  {
    title: "pm: round trips/s",
    scenario: "pm",
    get: pmf((r) => r.roundTripsPerSec),
    digits: 0,
  },
  {
    title: "pm: CPU µs per round trip (all processes)",
    scenario: "pm",
    get: pmf((r) => r.server.usPerRoundTrip),
    digits: 1,
  },
  {
    title: "pm: RTT p99 ms",
    scenario: "pm",
    get: pmf((r) => r.rttMs.p99),
    digits: 3,
  },
  {
    title: "claims: name to welcome p50 ms",
    scenario: "claims",
    get: clf((r) => r.claimMs.p50),
    digits: 3,
  },
  {
    title: "claims: name to welcome p99 ms",
    scenario: "claims",
    get: clf((r) => r.claimMs.p99),
    digits: 3,
  },
  {
    title: "claims: CPU µs per registration (all processes)",
    scenario: "claims",
    get: clf((r) => r.server.usPerClaim),
    digits: 0,
  },
];

/**
 * Our server's engines side by side (`ours/tcp`, `ours/tcp@redis`,
 * `ours/tcp@redis2`): medians of passed runs, each beside its ratio to the
 * first label (the memory engine when it ran), and the PUBLISH reference.
 */
export function renderEngines(
  records: RunRecord[],
  labels: string[],
  publish: RedisBenchmarkResult[],
): string {
  const ran = labels.filter((l) => records.some((r) => r.system === l));
  if (ran.length === 0) return "";
  const base = ran[0];
  const header = ["figure (median of passed runs)"];
  for (const l of ran) {
    header.push(l);
    if (l !== base) header.push(`÷ ${base.replace("ours/", "")}`);
  }
  const rows: string[][] = [];
  for (const m of ENGINE_METRICS) {
    const cells = [m.title];
    let any = false;
    const b = medianOf(records, base, m);
    for (const l of ran) {
      const v = medianOf(records, l, m);
      if (v !== null) any = true;
      cells.push(fmt(v, m.digits));
      if (l !== base) {
        cells.push(
          typeof v === "number" && typeof b === "number" && b !== 0
            ? `${(v / b).toFixed(2)}x`
            : "-",
        );
      }
    }
    if (any) rows.push(cells);
  }
  if (rows.length === 0) return "";
  const ref = publish.map((p) =>
    `Reference: ${p.command.replace(/x{64}/, "<64 bytes>")} (no subscribers): ${
      p.requestsPerSec === null
        ? p.line
        : `${fmt(p.requestsPerSec, 0)} requests/s${
          p.p50Ms === null ? "" : `, p50 ${p.p50Ms} ms`
        }`
    }`
  );
  return [
    `== engines side by side (ratio = this engine ÷ ${base}) ==`,
    table(header, rows),
    "All processes = every node and redis-server (CPU from /proc/PID/stat).",
    ...ref,
    "",
  ].join("\n");
}

/**
 * One table with every figure of every system side by side (medians over
 * repeats of runs that passed), and for each peer the ratio ours/peer
 * against its base column.
 */
export function renderComparison(
  records: RunRecord[],
  columns: ComparisonColumn[],
): string {
  const value = (label: string, m: Metric) => medianOf(records, label, m);
  const header = ["figure (median of passed runs)"];
  for (const c of columns) {
    header.push(c.label);
    if (c.base !== null) {
      header.push(`${c.base.replace("ours/", "")}/${c.label}`);
    }
  }
  const rows: string[][] = [];
  for (const m of METRICS) {
    const cells = [m.title];
    let any = false;
    for (const c of columns) {
      const v = value(c.label, m);
      if (v !== null) any = true;
      cells.push(fmt(v, m.digits));
      if (c.base !== null) {
        const b = value(c.base, m);
        cells.push(
          typeof v === "number" && typeof b === "number" && v !== 0
            ? `${(b / v).toFixed(2)}x`
            : "-",
        );
      }
    }
    if (any) rows.push(cells);
  }
  if (rows.length === 0) return "";
  return `== ours beside the peers (ratio = ours/peer) ==\n${
    table(header, rows)
  }\nRatio = ours/peer: above 1 is more for ours (good for deliveries and round trips, bad for latency, CPU and memory). IRC peers are divided into ours/irc when it ran, else ours/tcp.\n`;
}
