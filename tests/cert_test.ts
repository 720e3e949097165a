/**
 * `deno task cert` (lib/app/make_cert.ts) with the real `openssl`, and the
 * client over TLS with what people make: the task's pair works, the
 * one-certificate openssl recipe and an untrusted CA fail with a reason in
 * words and exit code 1.
 */

import assert from "node:assert/strict";
import {
  assertNoStackTrace,
  nonEmpty,
  spawnProgram,
  START_MS,
  startTestServer,
} from "./helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const FILES = ["ca.crt", "ca.key", "server.crt", "server.key"];

/** Runs the cert task with the task's permissions, writing under `dir` only. */
async function runCertTask(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-run=openssl",
      `--allow-write=${dir}`,
      `${ROOT}lib/app/make_cert.ts`,
      ...args,
    ],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

async function withTempDir(body: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "chat_cert_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Makes a pair with the task in `dir`/`name`; returns the files' paths. */
async function makePair(dir: string, name = "tls") {
  const out = `${dir}/${name}`;
  const result = await runCertTask(dir, ["--host", "localhost", "--out", out]);
  assert.equal(result.code, 0, result.stderr);
  return {
    ca: `${out}/ca.crt`,
    cert: `${out}/server.crt`,
    key: `${out}/server.key`,
  };
}

/**
 * Starts a TLS server with `cert` and `key` and runs the client against it
 * with `args`; returns its exit code and output.
 */
async function clientAgainst(
  tls: { cert: string; key: string },
  args: string[],
  host = "localhost",
) {
  const ts = await startTestServer({
    tls: {
      cert: await Deno.readTextFile(tls.cert),
      key: await Deno.readTextFile(tls.key),
    },
  });
  const client = spawnProgram("client.ts", [
    "--tls",
    "--host",
    host,
    "--port",
    String(ts.port),
    ...args,
  ]);
  try {
    const welcomed = args.includes("--name")
      ? await client.stdout.next(/^Welcome /, START_MS).then(
        () => true,
        () => false,
      )
      : false;
    if (welcomed) await client.write("exit\n");
    const status = await client.status(START_MS);
    return {
      port: ts.port,
      code: status.code,
      stdout: client.stdout.lines,
      stderr: client.stderr.lines,
    };
  } finally {
    await client.cleanup();
    await ts.cleanup();
  }
}

Deno.test("cert task makes a CA and a server certificate the client trusts with --ca", async () => {
  await withTempDir(async (dir) => {
    const pair = await makePair(dir);
    for (const file of FILES) {
      assert.ok((await Deno.stat(`${dir}/tls/${file}`)).size > 0, file);
    }
    assert.deepEqual(
      [...Deno.readDirSync(`${dir}/tls`)].map((e) => e.name).sort(),
      FILES,
      "no work files left behind",
    );
    for (const host of ["localhost", "127.0.0.1"]) {
      const run = await clientAgainst(pair, [
        "--ca",
        pair.ca,
        "--name",
        "carol",
      ], host);
      assert.equal(run.code, 0, run.stderr.join(" | "));
      assert.ok(run.stdout.includes("Welcome carol!"), run.stdout.join(" | "));
      assert.ok(run.stdout.includes("Goodbye carol!"));
    }
  });
});

Deno.test("cert task never overwrites existing files", async () => {
  await withTempDir(async (dir) => {
    await makePair(dir);
    const before = FILES.map((f) => Deno.readTextFileSync(`${dir}/tls/${f}`));
    const again = await runCertTask(dir, [
      "--host",
      "localhost",
      "--out",
      `${dir}/tls`,
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists already; nothing was overwritten/);
    assertNoStackTrace(again.stderr.split("\n"));
    const after = FILES.map((f) => Deno.readTextFileSync(`${dir}/tls/${f}`));
    assert.deepEqual(after, before);
  });
});

Deno.test("cert task without openssl says so and exits 1", async () => {
  await withTempDir(async (dir) => {
    const result = await runCertTask(
      dir,
      ["--host", "localhost", "--out", `${dir}/tls`],
      { PATH: `${dir}/empty-path` },
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^openssl is not installed\./);
    assertNoStackTrace(result.stderr.split("\n"));
    assert.deepEqual([...Deno.readDirSync(`${dir}/tls`)], []);
  });
});

Deno.test("cert task refuses a bad --host and a missing one with exit 2", async () => {
  await withTempDir(async (dir) => {
    for (
      const args of [[], ["--host", "bad name!"], [
        "--host",
        "x",
        "--ip",
        "300.1.1.1",
      ]]
    ) {
      const result = await runCertTask(dir, [...args, "--out", `${dir}/tls`]);
      assert.equal(result.code, 2, args.join(" "));
      assert.equal(nonEmpty(result.stderr.split("\n")).length, 1);
    }
  });
});

Deno.test("client over tls to a one-certificate openssl server says why and exits 1", async () => {
  await withTempDir(async (dir) => {
    const cert = `${dir}/one.crt`;
    const key = `${dir}/one.key`;
    const made = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const run = await clientAgainst({ cert, key }, ["--ca", cert]);
    assert.equal(run.code, 1);
    const errors = nonEmpty(run.stderr);
    assert.equal(errors.length, 1, errors.join(" | "));
    assert.match(
      errors[0],
      new RegExp(`^Could not connect to localhost:${run.port}: `),
    );
    assert.match(errors[0], /is a CA certificate/);
    assert.match(errors[0], /deno task cert/);
    assert.match(errors[0], /README/);
    assertNoStackTrace(run.stderr);
    assert.ok(!run.stdout.includes("Disconnected from server."));
  });
});

Deno.test("client over tls with an untrusted CA exits 1 saying so", async () => {
  await withTempDir(async (dir) => {
    const server = await makePair(dir, "server-side");
    const other = await makePair(dir, "other");
    for (const args of [["--ca", other.ca], []]) {
      const run = await clientAgainst(server, args);
      assert.equal(run.code, 1, args.join(" "));
      const errors = nonEmpty(run.stderr);
      assert.equal(errors.length, 1, errors.join(" | "));
      assert.match(
        errors[0],
        new RegExp(
          `^Could not connect to localhost:${run.port}: .*not trusted.*--ca`,
        ),
      );
      assertNoStackTrace(run.stderr);
    }
  });
});
