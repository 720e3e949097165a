/**
 * Opening the data directory of the SQLite account store: the directory
 * and the database made if missing (private: they hold password hashes),
 * the journal set up against crashes, the lock that keeps a second server
 * out, the schema migrated, and every way this can fail told in one line.
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

/**
 * Opens (making if need be) the database in `dir` and returns it with the
 * write lock held and the schema current. Throws a {@linkcode StoreError}
 * with one line naming `dir` when that cannot be done.
 *
 * - The directory is made with mode 0700 and the file with 0600 before
 *   SQLite opens it (SQLite gives its log the file's mode).
 * - `locking_mode = EXCLUSIVE` is set before WAL, so that the log's index
 *   lives in this process's memory (no `-shm` file) and the lock taken by
 *   the opening transaction is kept until the connection closes: a second
 *   server on the same directory gets `SQLITE_BUSY` at once (busy timeout
 *   0), "in use". The operating system drops the lock when a process dies.
 * - `journal_mode = WAL` with `synchronous = FULL`: see `sqlite_store.ts`.
 * - The opening transaction writes (the time it opened), so that a
 *   read-only directory or file is found now and not at the first change.
 */
export function openDataDirectory(dir: string, now: number): DatabaseSync {
  const file = join(dir, DATABASE_FILE);
  const refuse = (why: string, error?: unknown): never => {
    throw new StoreError(`Cannot use the data directory "${dir}": ${why}.`, {
      cause: error,
    });
  };
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!Deno.statSync(dir).isDirectory) refuse("not a directory");
    Deno.openSync(file, { read: true, write: true, create: true, mode: 0o600 })
      .close();
  } catch (error) {
    if (error instanceof StoreError) throw error;
    refuse(failureCause(error), error);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: 0 });
  } catch (error) {
    return refuse(failureCause(error), error);
  }
  try {
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    db.exec("BEGIN EXCLUSIVE");
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
    const code = errcode(error);
    if (code === SQLITE_BUSY || code === SQLITE_LOCKED) {
      throw new StoreError(
        `The data directory "${dir}" is in use by another server.`,
        { cause: error },
      );
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
  return db;
}
