import assert from "node:assert/strict";
import {
  graphProblems,
  TARGETS,
  taskProblems,
} from "../.ci/check_executables.ts";

const ROOT = new URL("../", import.meta.url);

function tasks(): Record<string, string> {
  const config = JSON.parse(
    Deno.readTextFileSync(new URL("deno.json", ROOT)),
  ) as { tasks: Record<string, string> };
  return config.tasks;
}

Deno.test("executables: the compile tasks build five targets with the run tasks' permissions", () => {
  assert.deepEqual(taskProblems(tasks()), []);
});

Deno.test("executables: a compile task that lost a permission or a target is found", () => {
  const all = tasks();
  const lost = {
    ...all,
    "compile:server": all["compile:server"].replaceAll(
      "--allow-sys=hostname,networkInterfaces ",
      "",
    ),
  };
  const problems = taskProblems(lost);
  assert.equal(problems.length, TARGETS.length, problems.join("\n"));
  assert.match(problems[0], /"compile:server" for x86_64-pc-windows-msvc/);
  const oneLess = {
    ...all,
    "compile:client": all["compile:client"].split(" && ").slice(1).join(
      " && ",
    ),
  };
  assert.deepEqual(taskProblems(oneLess), [
    'deno.json: "compile:client" must build x86_64-pc-windows-msvc once (builds it 0 times)',
  ]);
});

Deno.test("executables: a compile task without the run task's V8 flags is found", () => {
  const all = tasks();
  const flags = /--v8-flags=\S+ /.exec(all["server"])?.[0];
  assert.ok(flags !== undefined, "deno task server sets V8 flags");
  const problems = taskProblems({
    ...all,
    "compile:server": all["compile:server"].replace(flags, ""),
  });
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0], /"compile:server" for x86_64-pc-windows-msvc/);
});

Deno.test("executables: an import that does not resolve or is not a local file is found", () => {
  const root = "file:///repo/";
  assert.deepEqual(
    graphProblems("server.ts", [
      { specifier: `${root}server.ts`, kind: "esm", local: "/repo/server.ts" },
      { specifier: "node:util", kind: "node" },
      { specifier: `${root}page.html`, kind: "external", local: "/repo/p" },
      { specifier: `${root}gone.html`, error: "Module not found" },
      { specifier: "jsr:@std/assert", kind: "esm", local: "/cache/x" },
    ], root),
    [
      "server.ts: gone.html does not resolve: Module not found",
      "server.ts: jsr:@std/assert is not a file of this repository",
    ],
  );
});

Deno.test("executables: the release workflow tests with Deno 2.9.6, then compiles and attaches every target", () => {
  const workflow = Deno.readTextFileSync(
    new URL(".github/workflows/release.yml", ROOT),
  );
  assert.match(workflow, /^on:\n {2}push:\n {4}tags:/m);
  assert.match(workflow, /deno-version: v2\.9\.6/);
  assert.match(workflow, /\.ci\/run/);
  assert.match(workflow, /needs: test/);
  assert.match(workflow, /deno task compile\n/);
  // One archive per directory the compile tasks fill, all attached.
  assert.match(workflow, /for dir in dist\/\*\//);
  assert.match(workflow, /gh release upload "\$GITHUB_REF_NAME" release\/\*/);
});
