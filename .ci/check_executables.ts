/**
 * Checks what can be checked here of the executables `deno task compile`
 * builds (the compile itself needs Deno's servers): that the whole graph
 * each one embeds resolves to files of this repository (and `node:`
 * built-ins), the page's text imports included; that it type-checks; and
 * that every `deno compile` in deno.json bakes in exactly the permissions of
 * the program's `deno task` (server or client), for each of the five
 * targets. Prints one line per finding and exits 1 if there is any.
 *
 * Run: `deno task check:executables`.
 *
 * @module
 */

/** The release targets, as `deno compile --target` names them. */
export const TARGETS: readonly string[] = [
  "x86_64-pc-windows-msvc",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
];

/** The executables: entry point, run task, compile task, output name. */
const PROGRAMS = [
  {
    entry: "server.ts",
    runTask: "server",
    compileTask: "compile:server",
    output: "chat-server",
  },
  {
    entry: "client.ts",
    runTask: "client",
    compileTask: "compile:client",
    output: "chat-client",
  },
] as const;

/** One module of `deno info --json`, as far as the checks read it. */
export interface InfoModule {
  /** Its URL (`file:`, `node:`, `jsr:`...). */
  specifier: string;
  /** `esm`, `external` (a text import), `node`... */
  kind?: string;
  /** The file it was read from, when it was. */
  local?: string;
  /** Why it could not be loaded. */
  error?: string;
}

const root = new URL("../", import.meta.url);
const decoder = new TextDecoder();

async function deno(
  args: string[],
): Promise<{ ok: boolean; out: string; err: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
  }).output();
  return {
    ok: success,
    out: decoder.decode(stdout),
    err: decoder.decode(stderr),
  };
}

/** What is wrong with the graph `deno info` gives for `entry`. */
export function graphProblems(
  entry: string,
  modules: readonly InfoModule[],
  rootHref: string,
): string[] {
  const problems: string[] = [];
  for (const module of modules) {
    const where = module.specifier.startsWith(rootHref)
      ? module.specifier.slice(rootHref.length)
      : module.specifier;
    if (module.error !== undefined) {
      problems.push(`${entry}: ${where} does not resolve: ${module.error}`);
    } else if (module.specifier.startsWith("node:")) {
      continue;
    } else if (!module.specifier.startsWith(rootHref)) {
      // jsr:, npm:, https: or a file outside the repository: a build
      // machine may not reach it, and the standard is the runtime only.
      problems.push(`${entry}: ${where} is not a file of this repository`);
    } else if (module.local === undefined) {
      problems.push(`${entry}: ${where} has no local file`);
    }
  }
  return problems;
}

// The permission and V8 flags of a `deno run` or `deno compile` command
// line, in order, without --target and --output: an executable must run
// as the task does.
function runtimeFlags(command: string): string[] {
  return command.split(/\s+/).filter((word) =>
    word.startsWith("--allow-") || word.startsWith("--v8-flags=")
  );
}

/**
 * What keeps the compile tasks from building each target once with the
 * run task's permissions and V8 flags, given deno.json's tasks.
 */
export function taskProblems(tasks: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const program of PROGRAMS) {
    const run = tasks[program.runTask];
    const compile = tasks[program.compileTask];
    if (run === undefined || compile === undefined) {
      problems.push(
        `deno.json: the tasks "${program.runTask}" and "${program.compileTask}" are both needed`,
      );
      continue;
    }
    const wanted = runtimeFlags(run).join(" ");
    const commands = compile.split("&&").map((c) => c.trim());
    const built = new Map<string, number>();
    for (const command of commands) {
      const target = command.match(/--target (\S+)/)?.[1] ?? "(none)";
      built.set(target, (built.get(target) ?? 0) + 1);
      const flags = runtimeFlags(command).join(" ");
      if (flags !== wanted) {
        problems.push(
          `deno.json: "${program.compileTask}" for ${target} has "${flags}", the "${program.runTask}" task "${wanted}"`,
        );
      }
      const output = `dist/${target}/${program.output}`;
      if (!command.includes(`--output ${output} ${program.entry}`)) {
        problems.push(
          `deno.json: "${program.compileTask}" for ${target} must end "--output ${output} ${program.entry}"`,
        );
      }
    }
    for (const target of TARGETS) {
      if (built.get(target) !== 1) {
        problems.push(
          `deno.json: "${program.compileTask}" must build ${target} once (builds it ${
            built.get(target) ?? 0
          } times)`,
        );
      }
    }
    for (const target of built.keys()) {
      if (!TARGETS.includes(target)) {
        problems.push(
          `deno.json: "${program.compileTask}" builds ${target}, not a release target`,
        );
      }
    }
  }
  const all = tasks["compile"]?.split("&&").map((c) => c.trim()) ?? [];
  for (const program of PROGRAMS) {
    if (!all.includes(`deno task ${program.compileTask}`)) {
      problems.push(
        `deno.json: "compile" must run "deno task ${program.compileTask}"`,
      );
    }
  }
  return problems;
}

async function main(): Promise<number> {
  const problems: string[] = [];
  const config = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ) as { tasks?: Record<string, string> };
  problems.push(...taskProblems(config.tasks ?? {}));
  const embedded = new Set<string>();
  for (const { entry } of PROGRAMS) {
    const info = await deno(["info", "--json", entry]);
    if (!info.ok) {
      problems.push(`${entry}: deno info failed: ${info.err.trim()}`);
      continue;
    }
    const { modules } = JSON.parse(info.out) as { modules: InfoModule[] };
    problems.push(...graphProblems(entry, modules, root.href));
    for (const m of modules) if (m.local !== undefined) embedded.add(m.local);
  }
  const check = await deno([
    "check",
    "--quiet",
    ...PROGRAMS.map((p) => p.entry),
  ]);
  if (!check.ok) problems.push(`deno check failed:\n${check.err.trim()}`);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) return 1;
  console.log(
    `Executables: ${embedded.size} files of the repository embedded, every import resolves, the compile tasks match the run tasks for ${TARGETS.length} targets.`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
