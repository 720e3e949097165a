/**
 * Sums a V8 heap snapshot (`.heapsnapshot`) by node type and name: count
 * and self size, largest first. `deno run --allow-read
 * bench/heap_summary.ts FILE [TOP]`.
 *
 * @module
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[][] } };
  nodes: number[];
  strings: string[];
}

const [file, topArg] = Deno.args;
if (file === undefined) {
  console.error("usage: heap_summary.ts FILE [TOP]");
  Deno.exit(2);
}
const snap: Snapshot = JSON.parse(await Deno.readTextFile(file));
const fields = snap.snapshot.meta.node_fields;
const types = snap.snapshot.meta.node_types[0] as string[];
const width = fields.length;
const iType = fields.indexOf("type");
const iName = fields.indexOf("name");
const iSize = fields.indexOf("self_size");
const sums = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < snap.nodes.length; i += width) {
  const type = types[snap.nodes[i + iType]];
  const name = type === "string" || type === "concatenated string"
    ? "(string)"
    : snap.strings[snap.nodes[i + iName]].slice(0, 60);
  const key = `${type} ${name}`;
  const size = snap.nodes[i + iSize];
  total += size;
  const s = sums.get(key) ?? { count: 0, bytes: 0 };
  s.count++;
  s.bytes += size;
  sums.set(key, s);
}
const top = Number(topArg ?? 40);
console.log(`total self size ${(total / 1048576).toFixed(1)} MiB`);
for (
  const [key, s] of [...sums].sort((a, b) => b[1].bytes - a[1].bytes).slice(
    0,
    top,
  )
) {
  console.log(
    `${(s.bytes / 1024).toFixed(0).padStart(9)} KiB ${
      String(s.count).padStart(8)
    }  ${key}`,
  );
}
