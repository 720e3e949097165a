/**
 * `--against REF`: the server of another git revision, checked out in a
 * temporary worktree, run alternately with this tree's in the same sitting,
 * and the table that puts the two side by side with their ratio.
 *
 * @module
 */

import type { RunRecord } from "./load.ts";
import { type AnyResult, fmt, medianOf, type Metric, table } from "./report.ts";
import { median } from "./stats.ts";

/** A checked-out revision, removed with `remove()`. */
export interface Worktree {
  /** The directory holding its server.ts (with a trailing slash). */
  dir: string;
  /** The full commit it is at. */
  commit: string;
  /** Removes the worktree (and its directory); safe to call twice. */
  remove(): Promise<void>;
}

async function git(
  repoDir: string,
  args: string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  const out = await new Deno.Command("git", {
    args: ["-C", repoDir, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    ok: out.success,
    out: dec.decode(out.stdout).trim(),
    err: dec.decode(out.stderr).trim(),
  };
}

/**
 * Checks out `ref` of the repository at `repoDir` in a new temporary
 * directory (`git worktree add --detach`). Throws with git's message when
 * the revision is unknown. The caller must `remove()` it.
 */
export async function openWorktree(
  repoDir: string,
  ref: string,
): Promise<Worktree> {
  if (ref.startsWith("-")) throw new Error(`not a revision: ${ref}`);
  const rev = await git(repoDir, ["rev-parse", "--verify", `${ref}^{commit}`]);
  if (!rev.ok) throw new Error(`git does not know ${ref}: ${rev.err}`);
  const commit = rev.out;
  const dir = await Deno.makeTempDir({ prefix: "chat_bench_against_" });
  const add = await git(repoDir, ["worktree", "add", "--detach", dir, commit]);
  if (!add.ok) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw new Error(`git worktree add failed: ${add.err}`);
  }
  let removed = false;
  return {
    dir: dir.endsWith("/") ? dir : `${dir}/`,
    commit,
    async remove() {
      if (removed) return;
      removed = true;
      await git(repoDir, ["worktree", "remove", "--force", dir]);
      // Whatever git left (a server's default log, say) goes too.
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await git(repoDir, ["worktree", "prune"]);
    },
  };
}

const fan =
  (mode: string, f: (r: AnyResult & { scenario: "fanout" }) => number | null) =>
  (r: AnyResult) => r.scenario === "fanout" && r.mode === mode ? f(r) : null;

// The figures of the side-by-side table, medians of the runs that passed.
const FIGURES: Metric[] = [
  ...(["saturation", "rate"] as const).flatMap((mode): Metric[] => [
    {
      title: `fanout ${mode}: deliveries/s`,
      scenario: "fanout",
      mode,
      get: fan(mode, (r) => r.deliveriesPerSec),
      digits: 0,
    },
    {
      title: `fanout ${mode}: deliveries per server CPU-s`,
      scenario: "fanout",
      mode,
      get: fan(mode, (r) => r.server.deliveriesPerCpuSec),
      digits: 0,
    },
    {
      title: `fanout ${mode}: server CPU ns per delivery`,
      scenario: "fanout",
      mode,
      get: fan(
        mode,
        (r) =>
          r.server.usPerDelivery === null ? null : r.server.usPerDelivery * 1e3,
      ),
      digits: 1,
    },
    {
      title: `fanout ${mode}: server CPU %`,
      scenario: "fanout",
      mode,
      get: fan(mode, (r) => r.server.cpu?.cpuPct ?? null),
      digits: 0,
    },
    {
      title: `fanout ${mode}: latency p99 ms`,
      scenario: "fanout",
      mode,
      get: fan(mode, (r) => r.latencyMs.p99),
      digits: 2,
    },
  ]),
  {
    title: "connect: register all s",
    scenario: "connect",
    get: (r) => r.scenario === "connect" ? r.registerMs / 1000 : null,
    digits: 2,
  },
  {
    title: "connect: server CPU s",
    scenario: "connect",
    get: (r) => r.scenario === "connect" ? r.server.cpu?.cpuSec ?? null : null,
    digits: 2,
  },
  {
    title: "connect: RSS KiB per idle connection",
    scenario: "connect",
    get: (r) => r.scenario === "connect" ? r.server.kibPerConnection : null,
    digits: 1,
  },
  {
    title: "pm: round trips/s",
    scenario: "pm",
    get: (r) => r.scenario === "pm" ? r.roundTripsPerSec : null,
    digits: 0,
  },
  {
    title: "pm: server CPU µs per round trip",
    scenario: "pm",
    get: (r) => r.scenario === "pm" ? r.server.usPerRoundTrip : null,
    digits: 1,
  },
  {
    title: "pm: RTT p99 ms",
    scenario: "pm",
    get: (r) => r.scenario === "pm" ? r.rttMs.p99 : null,
    digits: 3,
  },
  {
    title: "claims: name to welcome p99 ms",
    scenario: "claims",
    get: (r) => r.scenario === "claims" ? r.claimMs.p99 : null,
    digits: 3,
  },
];

/** Peak RSS of `label`'s runs of `scenario` (all of them, passed or not). */
function peaks(
  records: RunRecord[],
  label: string,
  scenario: string,
): { median: number | null; max: number | null; passed: string } | null {
  const runs = records.filter((r) =>
    r.system === label && r.scenario === scenario
  );
  if (runs.length === 0) return null;
  const kib = runs.map((r) => r.peakRssKiB).filter((v): v is number =>
    v !== null
  );
  return {
    median: kib.length > 0 ? median(kib) / 1024 : null,
    max: kib.length > 0 ? Math.max(...kib) / 1024 : null,
    passed: `${runs.filter((r) => r.ok).length}/${runs.length}`,
  };
}

/** One pair of the table: this tree's system and the revision's. */
export interface AgainstPair {
  /** This tree's label (`ours/tcp`). */
  current: string;
  /** The revision's label (`3c2cfe2/tcp`). */
  ref: string;
}

/**
 * The revision and this tree side by side: for each pair, the medians of
 * the runs that passed, the ratio this tree / revision, and per scenario
 * the peak RSS (median and highest of all runs) and the runs that passed.
 */
export function renderAgainst(
  records: RunRecord[],
  pairs: AgainstPair[],
  commit: string,
): string {
  const parts: string[] = [];
  for (const { current, ref } of pairs) {
    const rows: string[][] = [];
    for (const m of FIGURES) {
      const a = medianOf(records, ref, m);
      const b = medianOf(records, current, m);
      if (a === null && b === null) continue;
      rows.push([
        m.title,
        fmt(a, m.digits),
        fmt(b, m.digits),
        typeof a === "number" && typeof b === "number" && a !== 0
          ? `${(b / a).toFixed(2)}x`
          : "-",
      ]);
    }
    const scenarios = [
      ...new Set(
        records.filter((r) => r.system === current || r.system === ref).map((
          r,
        ) => r.scenario),
      ),
    ];
    for (const scenario of scenarios) {
      const a = peaks(records, ref, scenario);
      const b = peaks(records, current, scenario);
      const ratio = (
        x: number | null | undefined,
        y: number | null | undefined,
      ) =>
        typeof x === "number" && typeof y === "number" && x !== 0
          ? `${(y / x).toFixed(2)}x`
          : "-";
      rows.push([
        `${scenario}: server peak RSS MiB, median`,
        fmt(a?.median ?? null, 1),
        fmt(b?.median ?? null, 1),
        ratio(a?.median, b?.median),
      ]);
      rows.push([
        `${scenario}: server peak RSS MiB, highest run`,
        fmt(a?.max ?? null, 1),
        fmt(b?.max ?? null, 1),
        ratio(a?.max, b?.max),
      ]);
      rows.push([
        `${scenario}: runs passed (all delivered)`,
        a?.passed ?? "-",
        b?.passed ?? "-",
        "",
      ]);
    }
    if (rows.length === 0) continue;
    parts.push(
      `== ${current} against ${ref} (${
        commit.slice(0, 12)
      }), alternating runs, ratio = ${current} / ${ref} ==\n${
        table(["figure (median of passed runs)", ref, current, "ratio"], rows)
      }`,
    );
  }
  if (parts.length === 0) return "";
  parts.push(
    `Each scenario ran on ${
      pairs.map((p) => p.ref).join(", ")
    } and this tree one after the other, the order swapped every repeat. ` +
      "Ratio above 1: more for this tree (good for deliveries and round " +
      "trips, bad for ns, µs, ms, CPU and RSS). Peak RSS is the server's " +
      "VmHWM at the end of each run (its whole life: registration, every " +
      "mode, the drain).",
  );
  return parts.join("\n\n") + "\n";
}

/** Whether `label` is a system of the `--against` revision. */
export function isAgainstLabel(label: string, ref: string | null): boolean {
  return ref !== null && label.startsWith(`${ref}/`);
}
