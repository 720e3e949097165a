/**
 * Opening the data directory of the SQLite account store: the directory
 * and the database made if missing (private: they hold password hashes),
 * the lock file that keeps a second server out, the journal set up
 * against crashes, the schema migrated, and every way this can fail told
 * in one line.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { StoreError } from "./accounts.ts";
import { migrate, NewerSchemaError, SCHEMA_VERSION } from "./sqlite_schema.ts";

/** The data directory when none is given, beside the log. */
export const DEFAULT_DATA_DIR = "chat-data";

/** The database's file name inside the data directory. */
export const DATABASE_FILE = "accounts.db";

/** The file locked while a server uses the directory. */
export const LOCK_FILE = "lock";

// How long a change waits for another program's write (a backup tool
// writing the file); a server alone never waits.
const BUSY_TIMEOUT_MS = 2_000;

// SQLite's result codes that tell why an open or a write failed.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

// SQLite's messages for those codes: `exec` throws errors without `errcode`.
const MESSAGES: [RegExp, number][] = [
  [/^database is locked/, SQLITE_BUSY],
  [/^database table is locked/, SQLITE_LOCKED],
  [/^attempt to write a readonly database/, SQLITE_READONLY],
  [/^unable to open database file/, SQLITE_CANTOPEN],
  [/^file is not a database/, SQLITE_NOTADB],
];

function errcode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  if (typeof code === "number") return code & 0xff;
  const message = error instanceof Error ? error.message : "";
  return MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
}

/** The cause of a failure in a few words, without a path or an os error. */
export function failureCause(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) {
    return "no permission to read and write it (--allow-read, --allow-write)";
  }
  if (
    error instanceof Deno.errors.NotADirectory ||
    error instanceof Deno.errors.AlreadyExists
  ) return "not a directory";
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\)[^]*$/, "").replace(/:.*$/, "") ||
    "unknown error";
}

/** The database open, and the lock that keeps other servers out. */
export interface OpenDatabase {
  /** The database, its schema current. */
  db: DatabaseSync;
  /** The lock file, held (exclusively) until it is closed. */
  lock: Deno.FsFile;
}

/**
 * Opens (making if need be) the database in `dir` and returns it with the
 * schema current and the directory's lock held. Throws a
 * {@linkcode StoreError} with one line naming `dir` when that cannot be
 * done.
 *
 * - The directory is made with mode 0700 and the files with 0600 before
 *   SQLite opens them (SQLite gives its log the database file's mode).
 * - One server at a time: `LOCK_FILE` is locked exclusively (an advisory
 *   lock, `flock` on Unix) and held until the store closes; a second
 *   server finds it locked and is told the directory is in use. The
 *   operating system drops the lock when a process dies, `kill -9` too.
 *   SQLite's own locking is left as usual, so that a backup tool may read
 *   the database while the server runs (a write-ahead log lets readers
 *   and the writer go on together).
 * - `journal_mode = WAL` with `synchronous = FULL`: see `sqlite_store.ts`.
 * - The opening transaction writes (the time it opened), so that a
 *   read-only directory or file is found now and not at the first change.
 */
export function openDataDirectory(dir: string, now: number): OpenDatabase {
  const file = join(dir, DATABASE_FILE);
  const refuse = (why: string, error?: unknown): never => {
    throw new StoreError(`Cannot use the data directory "${dir}": ${why}.`, {
      cause: error,
    });
  };
  let lock: Deno.FsFile | undefined;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!Deno.statSync(dir).isDirectory) refuse("not a directory");
    lock = Deno.openSync(join(dir, LOCK_FILE), {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    if (!lock.tryLockSync(true)) {
      throw new StoreError(
        `The data directory "${dir}" is in use by another server.`,
      );
    }
    Deno.openSync(file, { read: true, write: true, create: true, mode: 0o600 })
      .close();
  } catch (error) {
    lock?.close();
    if (error instanceof StoreError) throw error;
    return refuse(failureCause(error), error);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    lock.close();
    return refuse(failureCause(error), error);
  }
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("BEGIN IMMEDIATE");
    try {
      migrate(db, now);
      db.prepare(
        "INSERT INTO meta (key, value) VALUES ('opened', ?) " +
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ).run(String(now));
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  } catch (error) {
    db.close();
    lock.close();
    const code = errcode(error);
    if (code === SQLITE_BUSY || code === SQLITE_LOCKED) {
      // Not another server (that one holds the lock file): a program
      // holding the database itself.
      refuse("its database is locked by another program", error);
    }
    if (error instanceof NewerSchemaError) {
      refuse(
        `its database is of version ${error.found}, newer than this server's ${SCHEMA_VERSION}`,
        error,
      );
    }
    if (code === SQLITE_NOTADB) {
      refuse(`${DATABASE_FILE} is not a database`, error);
    }
    if (code === SQLITE_READONLY) refuse("it cannot be written", error);
    if (code === SQLITE_CANTOPEN) {
      refuse("its database cannot be opened", error);
    }
    refuse(failureCause(error), error);
  }
  return { db, lock };
}
