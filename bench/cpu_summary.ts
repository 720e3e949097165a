/**
 * Sums a `.cpuprofile` (`deno run --cpu-prof`) by function: self time and
 * share, largest first. `deno run --allow-read bench/cpu_summary.ts FILE
 * [TOP]`.
 *
 * @module
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = Deno.args;
if (file === undefined) {
  console.error("usage: cpu_summary.ts FILE [TOP]");
  Deno.exit(2);
}
const profile: Profile = JSON.parse(await Deno.readTextFile(file));
const label = new Map<number, string>();
for (const node of profile.nodes) {
  const f = node.callFrame;
  const where = f.url === ""
    ? ""
    : ` ${f.url.replace(/^.*\/(lib|bench|ext|node)\//, "$1/")}:${
      f.lineNumber + 1
    }`;
  label.set(node.id, `${f.functionName || "(anonymous)"}${where}`);
}
const self = new Map<string, number>();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i] ?? 0;
  const key = label.get(profile.samples[i]) ?? "?";
  self.set(key, (self.get(key) ?? 0) + us);
  total += us;
}
const busy = total - (self.get("(idle)") ?? 0);
console.log(
  `sampled ${(total / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s`,
);
for (
  const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(
    0,
    Number(topArg ?? 30),
  )
) {
  console.log(
    `${(us / 1000).toFixed(0).padStart(8)} ms ${
      (100 * us / busy).toFixed(1).padStart(5)
    } %  ${key}`,
  );
}
