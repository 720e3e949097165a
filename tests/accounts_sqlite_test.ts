/**
 * What the SQLite account store does beyond the contract: its data
 * directory made on first start, kept private, versioned, one server at a
 * time, every failure one line, and nothing committed lost to `kill -9`.
 */
import assert from "node:assert/strict";
import { backup, DatabaseSync } from "node:sqlite";
import { StoreError } from "../lib/engine/accounts.ts";
import { Secret } from "../lib/engine/secret.ts";
import { SCHEMA_VERSION } from "../lib/engine/sqlite_schema.ts";
import {
  DATABASE_FILE,
  DEFAULT_DATA_DIR,
  SqliteStore,
} from "../lib/engine/sqlite_store.ts";
import { LineCollector, TestScope, waitUntil } from "./helpers.ts";

const WRITER = new URL("./support/store_writer.ts", import.meta.url).pathname;

/** The store writer as a child process; see tests/support/store_writer.ts. */
function startWriter(
  dir: string,
  mode: "write" | "hold",
  permissions = ["--allow-read", "--allow-write"],
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, WRITER, dir, mode],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector();
  const stderr = new LineCollector();
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    to: LineCollector,
  ) => {
    for await (const chunk of stream) to.push(chunk);
    to.end();
  };
  const pumps = Promise.all([
    pump(child.stdout, stdout),
    pump(child.stderr, stderr),
  ]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    stdout,
    stderr,
    status: async () => {
      await waitUntil(() => exited, "the writer to exit", 15_000);
      await pumps;
      return await status;
    },
    kill: () => {
      if (!exited) child.kill("SIGKILL");
    },
    async [Symbol.asyncDispose]() {
      if (!exited) child.kill("SIGKILL");
      await child.stdin.close().catch(() => {});
      await status;
      await pumps;
    },
  };
}

/** Asserts that opening `dir` fails with one line matching `message`. */
async function assertRefused(dir: string, message: RegExp): Promise<void> {
  await assert.rejects(SqliteStore.open({ dir }), (error: unknown) => {
    assert.ok(error instanceof StoreError, String(error));
    assert.match(error.message, message);
    assert.ok(!error.message.includes("\n"), error.message);
    assert.ok(!error.message.includes("os error"), error.message);
    return true;
  });
}

Deno.test("the first start makes a private data directory and a database of the current schema", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const dir = `${root}/${DEFAULT_DATA_DIR}`;
  const store = await SqliteStore.open({ dir, now: () => 1234 });
  try {
    assert.equal(store.location, `${dir}/${DATABASE_FILE}`);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(store.location)).mode! & 0o777, 0o600);
  } finally {
    await store.close();
  }
  const db = new DatabaseSync(`${dir}/${DATABASE_FILE}`, { readOnly: true });
  try {
    assert.deepEqual(
      db.prepare("SELECT version, applied FROM schema_version").all().map((
        row,
      ) => ({ ...row })),
      [{ version: SCHEMA_VERSION, applied: 1234 }],
    );
    assert.equal(
      (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string })
        .journal_mode,
      "wal",
    );
  } finally {
    db.close();
  }
  // Opened again: no migration runs twice, the data is the same file.
  const again = await SqliteStore.open({ dir, now: () => 5678 });
  await again.close();
  const check = new DatabaseSync(`${dir}/${DATABASE_FILE}`, { readOnly: true });
  try {
    const rows = check.prepare("SELECT version FROM schema_version").all();
    assert.equal(rows.length, SCHEMA_VERSION);
  } finally {
    check.close();
  }
});

Deno.test("a directory in use by another server is refused in one line, and free again once it closes", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const dir = `${root}/data`;
  const first = await SqliteStore.open({ dir });
  await assertRefused(
    dir,
    new RegExp(`^The data directory ".*/data" is in use by another server\\.$`),
  );
  await first.register("ada", new Secret("$scrypt$x"));
  await first.close();
  const second = await SqliteStore.open({ dir });
  try {
    assert.ok(await second.account("ada"));
  } finally {
    await second.close();
  }
});

Deno.test("a second server process on the same directory prints one line and exits with status 2", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const dir = `${root}/data`;
  await using holder = startWriter(dir, "hold");
  await holder.stdout.next("open", 15_000);
  await using second = startWriter(dir, "hold");
  const status = await second.status();
  assert.equal(status.code, 2);
  assert.deepEqual(second.stderr.lines, [
    `The data directory "${dir}" is in use by another server.`,
  ]);
  assert.deepEqual(second.stdout.lines, []);
});

Deno.test("a data directory that cannot be made is one line naming it", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const file = `${root}/plain-file`;
  await Deno.writeTextFile(file, "not a directory\n");
  await assertRefused(
    file,
    /^Cannot use the data directory ".*\/plain-file": not a directory\.$/,
  );
  await assertRefused(
    `${file}/chat-data`,
    /^Cannot use the data directory ".*\/plain-file\/chat-data": not a directory\.$/,
  );
});

Deno.test({
  name: "a data directory that cannot be written is one line naming it",
  // root may write anywhere; the check is meaningful for other users only.
  ignore: Deno.uid() === 0,
  async fn() {
    await using scope = new TestScope();
    const root = await scope.tempDir();
    const dir = `${root}/readonly`;
    await Deno.mkdir(dir, { mode: 0o500 });
    try {
      await assertRefused(
        dir,
        /^Cannot use the data directory ".*\/readonly": permission denied\.$/,
      );
    } finally {
      await Deno.chmod(dir, 0o700);
    }
  },
});

Deno.test("without permission to write, the server's one line says which flags it needs", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const dir = `${root}/data`;
  await using writer = startWriter(dir, "hold", [`--allow-read=${WRITER},.`]);
  const status = await writer.status();
  assert.equal(status.code, 2);
  assert.equal(writer.stderr.lines.length, 1, writer.stderr.lines.join("\n"));
  assert.match(
    writer.stderr.lines[0],
    /^Cannot use the data directory ".*": no permission to read and write it \(--allow-read, --allow-write\)\.$/,
  );
});

Deno.test("a file that is not a database, or a newer schema, is refused and left as it was", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const garbage = `${root}/garbage`;
  await Deno.mkdir(garbage);
  const junk = "this is not SQLite, but it is someone's file\n".repeat(200);
  await Deno.writeTextFile(`${garbage}/${DATABASE_FILE}`, junk);
  await assertRefused(garbage, /: accounts\.db is not a database\.$/);
  assert.equal(await Deno.readTextFile(`${garbage}/${DATABASE_FILE}`), junk);

  const newer = `${root}/newer`;
  (await SqliteStore.open({ dir: newer })).close();
  const db = new DatabaseSync(`${newer}/${DATABASE_FILE}`);
  db.prepare("INSERT INTO schema_version (version, applied) VALUES (?, 0)")
    .run(SCHEMA_VERSION + 1);
  db.close();
  await assertRefused(
    newer,
    new RegExp(
      `: its database is of version ${
        SCHEMA_VERSION + 1
      }, newer than this server's ${SCHEMA_VERSION}\\.$`,
    ),
  );
});

Deno.test("kill -9 in the middle of writing loses nothing that was committed and leaves the database whole", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const dir = `${root}/data`;
  let last = -1;
  {
    await using writer = startWriter(dir, "write");
    await writer.stdout.next("open", 15_000);
    await writer.stdout.next("committed 300", 30_000);
    // While it writes, the directory is its own.
    await assertRefused(dir, /is in use by another server/);
    writer.kill();
    const status = await writer.status();
    assert.equal(status.signal, "SIGKILL");
    for (const line of writer.stdout.lines) {
      const match = /^committed (\d+)$/.exec(line);
      if (match) last = Number(match[1]);
    }
  }
  assert.ok(last >= 300, `last committed: ${last}`);
  // The killed process left its changes in the write-ahead log: reopening
  // must recover them from there.
  const wal = await Deno.stat(`${dir}/${DATABASE_FILE}-wal`);
  assert.ok(wal.size > 0, "an empty write-ahead log");

  const store = await SqliteStore.open({ dir });
  try {
    const bans = new Set(
      (await store.bans()).map((ban) =>
        ban.target.kind === "name" ? ban.target.name : ""
      ),
    );
    for (let i = 0; i <= last; i++) {
      const name = `user${i}`;
      const account = await store.account(name);
      assert.equal(account?.hash.reveal(), `$scrypt$hash-of-${i}`, name);
      assert.deepEqual(
        (await store.takeInbox(name)).messages,
        [{ from: "writer", time: i, text: `m${i}` }],
        name,
      );
      assert.ok(bans.has(name), `${name} is not banned`);
    }
  } finally {
    await store.close();
  }
  const db = new DatabaseSync(`${dir}/${DATABASE_FILE}`, { readOnly: true });
  try {
    assert.deepEqual(
      { ...db.prepare("PRAGMA integrity_check").get() },
      { integrity_check: "ok" },
    );
    assert.deepEqual(
      { ...db.prepare("PRAGMA foreign_key_check").get() ?? {} },
      {},
    );
  } finally {
    db.close();
  }
});

Deno.test("a backup is a consistent copy, made while the server runs, by the store or by another program", async () => {
  await using scope = new TestScope();
  const root = await scope.tempDir();
  const dir = `${root}/data`;
  await using store = await SqliteStore.open({ dir });
  await store.register("ada", new Secret("$scrypt$ada"), { operator: true });
  await store.ban({
    target: { kind: "address", network: "10.0.0.0/24" },
    until: null,
    reason: "",
    by: "ada",
    at: 1,
  });
  // By the store (a console command can call it).
  await Deno.mkdir(`${root}/copy1`);
  await store.backup(`${root}/copy1/${DATABASE_FILE}`);
  await assert.rejects(
    store.backup(`${root}/copy1/${DATABASE_FILE}`),
    (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.match(
        error.message,
        /^Cannot back up the account database to ".*\/copy1\/accounts\.db": it exists already\.$/,
      );
      return true;
    },
  );
  // By another program reading the file while the store holds it (what
  // the README tells an operator: sqlite3's .backup, or node:sqlite's).
  await Deno.mkdir(`${root}/copy2`);
  const reader = new DatabaseSync(`${dir}/${DATABASE_FILE}`, {
    readOnly: true,
  });
  try {
    await backup(reader, `${root}/copy2/${DATABASE_FILE}`);
  } finally {
    reader.close();
  }
  await store.register("late", new Secret("$scrypt$late"));
  for (const copy of ["copy1", "copy2"]) {
    await using restored = await SqliteStore.open({ dir: `${root}/${copy}` });
    assert.equal((await restored.account("ada"))?.operator, true, copy);
    assert.equal((await restored.bans()).length, 1, copy);
    assert.equal(await restored.account("late"), undefined, copy);
  }
});
