/**
 * The schema of the SQLite account store, as migrations applied in order:
 * migration N takes a database from version N-1 to N, in the transaction
 * that opens it, and `schema_version` records each one applied. A new
 * version of the server adds a migration at the end and never edits an
 * old one; a database newer than the server knows is refused, not read.
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/**
 * The migrations, in order: index 0 makes version 1. Each is SQL run as
 * one script inside the opening transaction.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, bans, mutes, kept messages, ignore lists.
  `
  CREATE TABLE accounts (
    key TEXT PRIMARY KEY,          -- nameKey(name)
    name TEXT NOT NULL,            -- as registered
    hash TEXT NOT NULL,            -- PHC string (passwords.ts)
    created INTEGER NOT NULL,      -- ms since the epoch
    operator INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER
  ) STRICT;
  CREATE INDEX accounts_operator ON accounts (operator) WHERE operator = 1;

  CREATE TABLE bans (
    kind TEXT NOT NULL CHECK (kind IN ('name', 'address')),
    key TEXT NOT NULL,             -- nameKey(name), or the network
    target TEXT NOT NULL,          -- the name as given, or the network
    until INTEGER,                 -- null: until lifted
    reason TEXT NOT NULL,
    by TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
  ) STRICT;

  CREATE TABLE mutes (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    until INTEGER,
    by TEXT NOT NULL,
    at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    sender TEXT NOT NULL,
    time INTEGER NOT NULL,
    text TEXT NOT NULL
  ) STRICT;
  CREATE INDEX messages_recipient ON messages (recipient, id);

  CREATE TABLE inbox_dropped (
    recipient TEXT PRIMARY KEY REFERENCES accounts (key) ON DELETE CASCADE,
    count INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE ignores (
    owner TEXT NOT NULL REFERENCES accounts (key) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (owner, key)
  ) STRICT;

  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
];

/** The version this server writes: the number of migrations. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database's version is newer than this server knows. */
export class NewerSchemaError extends Error {
  /** The version found. */
  readonly found: number;

  /** Names the version found. */
  constructor(found: number) {
    super(`schema version ${found}, newer than ${SCHEMA_VERSION}`);
    this.name = "NewerSchemaError";
    this.found = found;
  }
}

/**
 * Brings `db` to {@linkcode SCHEMA_VERSION}; call it inside a transaction.
 * Returns the version it found (0 for a new database). Throws
 * {@linkcode NewerSchemaError} for a database from a newer server.
 */
export function migrate(db: DatabaseSync, now: number): number {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_version (" +
      "version INTEGER PRIMARY KEY, applied INTEGER NOT NULL) STRICT",
  );
  const row = db.prepare("SELECT max(version) AS v FROM schema_version")
    .get() as { v: number | null } | undefined;
  const found = row?.v ?? 0;
  if (found > SCHEMA_VERSION) throw new NewerSchemaError(found);
  const record = db.prepare(
    "INSERT INTO schema_version (version, applied) VALUES (?, ?)",
  );
  for (let version = found + 1; version <= SCHEMA_VERSION; version++) {
    db.exec(MIGRATIONS[version - 1]);
    record.run(version, now);
  }
  return found;
}
