/**
 * The layers of `lib/`, read from the imports: a module that reaches up a
 * layer fails here, and so does a module over 600 lines. See
 * docs/architecture.md for what each layer is for.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const LIB = fileURLToPath(new URL("../lib/", import.meta.url));

/** What each layer may import, as folders of `lib/` (itself included). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  // Bytes and files: lines, outboxes, the log. Knows no chat.
  io: ["io"],
  // The chat itself: sessions, events, names, texts. No door, no app.
  room: ["room", "io", "engine"],
  // Shared state behind one interface, memory or Redis.
  engine: ["engine", "room", "io"],
  // What a connection's lines mean (line protocol, IRC) and how replies look.
  languages: ["languages", "room", "io", "engine"],
  // Doors: sockets, framing, and the language each door speaks.
  transports: ["transports", "languages", "room", "io", "engine"],
  // The terminal client: it shares the protocol's texts and the line reader.
  client: ["client", "languages", "room", "io", "app"],
  // Composition: flags, console, wiring of the doors.
  app: ["app", "transports", "languages", "room", "io", "engine"],
};

// The room modules the engine may see: the room's types, never the room.
const ENGINE_SEES_OF_ROOM = new Set([
  "room/events.ts",
  "room/history.ts",
  "room/registry.ts",
  "room/reasons.ts",
  "room/room_names.ts",
  "room/confusables.ts",
]);

// What the client may take of the server's side besides lib/io: the texts
// and words it recognises and the flag parser; never a door or the room.
const CLIENT_SEES = new Set([
  "room/texts.ts",
  "room/sanitize.ts",
  "room/room_names.ts",
  "languages/line/protocol.ts",
  "app/flags.ts",
]);

const MAX_LINES = 600;

interface Module {
  /** Path under lib/, with forward slashes. */
  path: string;
  text: string;
}

async function modules(): Promise<Module[]> {
  const found: Module[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const full = join(dir, entry.name);
      if (entry.isDirectory) await walk(full);
      else if (/\.(ts|js)$/.test(entry.name)) {
        found.push({
          path: relative(LIB, full).replaceAll("\\", "/"),
          text: await Deno.readTextFile(full),
        });
      }
    }
  };
  await walk(LIB);
  return found.sort((a, b) => a.path < b.path ? -1 : 1);
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^"';]*?from\s+"([^"]+)"/g;
const BARE_IMPORT = /(?:^|\n)\s*import\s+"([^"]+)"/g;

/** The relative imports of a module, as paths under lib/ (or outside). */
function importsOf(module: Module): string[] {
  const specifiers = [
    ...[...module.text.matchAll(IMPORT)].map((m) => m[1]),
    ...[...module.text.matchAll(BARE_IMPORT)].map((m) => m[1]),
  ];
  return specifiers.filter((s) => s.startsWith(".")).map((s) =>
    relative(LIB, join(LIB, dirname(module.path), s)).replaceAll("\\", "/")
  );
}

// Code without its comments, for the `Deno.` rule.
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /(^|[^:])\/\/.*$/gm,
    "$1",
  );
}

Deno.test("layers: no module of lib/ imports a layer above its own", async () => {
  const wrong: string[] = [];
  for (const module of await modules()) {
    const layer = module.path.split("/")[0];
    const allowed = MAY_IMPORT[layer];
    assert.ok(allowed, `${module.path}: a folder of lib/ with no layer`);
    for (const target of importsOf(module)) {
      const targetLayer = target.split("/")[0];
      if (target.startsWith("..")) {
        wrong.push(`${module.path} imports ${target}, outside lib/`);
      } else if (!allowed.includes(targetLayer)) {
        wrong.push(`${module.path} (${layer}) imports ${target}`);
      } else if (
        layer === "engine" && targetLayer === "room" &&
        !ENGINE_SEES_OF_ROOM.has(target)
      ) {
        wrong.push(`${module.path} (engine) imports ${target}, not a type`);
      } else if (
        layer === "client" && !["client", "io"].includes(targetLayer) &&
        !CLIENT_SEES.has(target)
      ) {
        wrong.push(`${module.path} (client) imports ${target}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layers: the room and the engine's interface use no Deno API", async () => {
  const wrong = (await modules())
    .filter((m) => m.path.startsWith("room/") || m.path === "engine/engine.ts")
    .filter((m) => /\bDeno\./.test(code(m.text)))
    .map((m) => m.path);
  assert.deepEqual(wrong, []);
});

Deno.test(`layers: no TypeScript module of lib/ is over ${MAX_LINES} lines`, async () => {
  const long = (await modules())
    .filter((m) => m.path.endsWith(".ts"))
    .map((m) => ({ path: m.path, lines: m.text.split("\n").length - 1 }))
    .filter((m) => m.lines > MAX_LINES)
    .map((m) => `${m.path}: ${m.lines}`);
  assert.deepEqual(long, []);
});

Deno.test("layers: the import reader sees every kind of relative import", () => {
  const module: Module = {
    path: "room/x.ts",
    text: [
      'import { a } from "./a.ts";',
      'import type { B } from "../io/b.ts";',
      'export { c } from "../engine/c.ts";',
      "import {",
      "  d,",
      '} from "../app/d.ts";',
      'import "../client/e.ts";',
      'import f from "./f.css" with { type: "text" };',
      'const s = "import x from ./nope.ts";',
    ].join("\n"),
  };
  assert.deepEqual(importsOf(module).sort(), [
    "app/d.ts",
    "client/e.ts",
    "engine/c.ts",
    "io/b.ts",
    "room/a.ts",
    "room/f.css",
  ]);
});
