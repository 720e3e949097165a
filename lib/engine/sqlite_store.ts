/**
 * The account store of one machine: a SQLite database (`node:sqlite`, in
 * the runtime) in a data directory, `chat-data/accounts.db` by default.
 *
 * - Created on first start (the directory with mode 0700, the file 0600:
 *   it holds password hashes), its schema versioned and migrated in order
 *   (`sqlite_schema.ts`).
 * - Each change is one transaction. The journal is a write-ahead log with
 *   `synchronous=FULL`: a change that returned is in the log and synced
 *   to disk, so neither `kill -9` nor a power cut loses it, and a change
 *   cut off halfway is rolled back at the next open. (WAL with
 *   `synchronous=NORMAL` would be as safe against `kill -9`, whose data
 *   is in the OS already, but could lose the last changes to a power cut;
 *   changes here are few and small, so the sync per change costs little.)
 * - One server at a time: the directory's `lock` file is locked while the
 *   store is open, so a second server on it is told it is in use (the
 *   operating system drops the lock when a process dies). SQLite's own
 *   locking stays as usual, so a backup can read the database meanwhile:
 *   {@linkcode SqliteStore.backup}, `node:sqlite`'s `backup()` in another
 *   process, or `sqlite3 accounts.db ".backup copy.db"`.
 *
 * `node:sqlite` is synchronous: a read takes microseconds, a change waits
 * for its sync to disk (about 0.5 ms in the tests here, a few ms on a slow
 * disk) and holds the event loop meanwhile. Changes come from people
 * (registering, banning, a message kept for someone away, a member
 * leaving), each behind the room's flood limit, so this stays small; the
 * methods return promises to share the interface with `RedisStore`.
 *
 * @module
 */

import { backup, type DatabaseSync, type StatementSync } from "node:sqlite";
import { join } from "node:path";
import { nameKey } from "../room/registry.ts";
import {
  type Account,
  type AccountStore,
  type Ban,
  banKey,
  type BanTarget,
  type ChangeKind,
  type ChangeListener,
  ChangeListeners,
  IGNORE_LIMIT,
  type IgnoreResult,
  type Inbox,
  INBOX_LIMIT,
  inForce,
  type KeepResult,
  type Mute,
  type OfflineMessage,
  StoreError,
} from "./accounts.ts";
import { Secret } from "./secret.ts";
import {
  DATABASE_FILE,
  failureCause,
  type OpenDatabase,
  openDataDirectory,
} from "./sqlite_open.ts";

export { DATABASE_FILE, DEFAULT_DATA_DIR } from "./sqlite_open.ts";

/** Options of {@linkcode SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** The data directory; created if missing. */
  dir: string;
  /** The clock, for ends of bans and mutes. Default `Date.now`. */
  now?: () => number;
  /** Messages kept per name. Default {@linkcode INBOX_LIMIT}. */
  inboxLimit?: number;
  /** Names on one ignore list. Default {@linkcode IGNORE_LIMIT}. */
  ignoreLimit?: number;
}

interface AccountRow {
  name: string;
  hash: string;
  created: number;
  operator: number;
  last_seen: number | null;
}

interface BanRow {
  kind: string;
  target: string;
  until: number | null;
  reason: string;
  by: string;
  at: number;
}

interface MuteRow {
  name: string;
  until: number | null;
  by: string;
  at: number;
}

function toAccount(row: AccountRow): Account {
  return {
    name: row.name,
    hash: new Secret(row.hash),
    created: row.created,
    operator: row.operator === 1,
    lastSeen: row.last_seen,
  };
}

function toBan(row: BanRow): Ban {
  const target: BanTarget = row.kind === "name"
    ? { kind: "name", name: row.target }
    : { kind: "address", network: row.target };
  return {
    target,
    until: row.until,
    reason: row.reason,
    by: row.by,
    at: row.at,
  };
}

function toMute(row: MuteRow): Mute {
  return { name: row.name, until: row.until, by: row.by, at: row.at };
}

// The (kind, key) of a ban's row.
function banRowKey(target: BanTarget): [string, string] {
  return target.kind === "name"
    ? ["name", nameKey(target.name)]
    : ["address", target.network];
}

const ACCOUNT_COLUMNS = "name, hash, created, operator, last_seen";
const BAN_COLUMNS = "kind, target, until, reason, by, at";
// Rows in force at the bound time.
const LIVE = "(until IS NULL OR until > ?)";

/**
 * The account store in a SQLite file. {@linkcode SqliteStore.open} makes
 * or opens it; a directory that cannot be used, or that another server
 * uses, is a {@linkcode StoreError} with one line to print.
 *
 * @example
 * ```ts
 * await using store = await SqliteStore.open({ dir: "chat-data" });
 * await store.register("ada", new Secret(await hasher.hash(password)));
 * ```
 */
export class SqliteStore implements AccountStore {
  readonly location: string;
  #db: DatabaseSync;
  #lock: Deno.FsFile;
  #now: () => number;
  #inboxLimit: number;
  #ignoreLimit: number;
  #changes = new ChangeListeners();
  #statements = new Map<string, StatementSync>();
  #closed = false;

  private constructor(
    { db, lock }: OpenDatabase,
    location: string,
    options: SqliteStoreOptions,
  ) {
    this.#db = db;
    this.#lock = lock;
    this.location = location;
    this.#now = options.now ?? Date.now;
    this.#inboxLimit = Math.max(1, options.inboxLimit ?? INBOX_LIMIT);
    this.#ignoreLimit = Math.max(1, options.ignoreLimit ?? IGNORE_LIMIT);
  }

  /**
   * Opens the store in `options.dir`, creating the directory, the database
   * and its tables if need be, and migrating an older schema. Rejects with
   * a {@linkcode StoreError} whose message is one line naming the
   * directory: it cannot be made or written, another server uses it, or it
   * holds something that is not our database (or a newer one).
   */
  static open(options: SqliteStoreOptions): Promise<SqliteStore> {
    try {
      const now = (options.now ?? Date.now)();
      const opened = openDataDirectory(options.dir, now);
      return Promise.resolve(
        new SqliteStore(opened, join(options.dir, DATABASE_FILE), options),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  account(name: string): Promise<Account | undefined> {
    return this.#run(() => {
      const row = this.#get<AccountRow>(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE key = ?`,
        nameKey(name),
      );
      return row === undefined ? undefined : toAccount(row);
    });
  }

  register(
    name: string,
    hash: Secret,
    options: { operator?: boolean; created?: number } = {},
  ): Promise<boolean> {
    return this.#write(() => {
      const { changes } = this.#statement(
        "INSERT INTO accounts (key, name, hash, created, operator) " +
          "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
      ).run(
        nameKey(name),
        name,
        hash.reveal(),
        options.created ?? this.#now(),
        options.operator ? 1 : 0,
      );
      return changes === 1 ? ["account", nameKey(name)] : false;
    });
  }

  setHash(name: string, hash: Secret): Promise<boolean> {
    return this.#write(() => {
      const { changes } = this.#statement(
        "UPDATE accounts SET hash = ? WHERE key = ?",
      ).run(hash.reveal(), nameKey(name));
      return changes === 1 ? ["account", nameKey(name)] : false;
    });
  }

  unregister(name: string): Promise<boolean> {
    return this.#write(() => {
      const { changes } = this.#statement(
        "DELETE FROM accounts WHERE key = ?",
      ).run(nameKey(name));
      return changes === 1 ? ["account", nameKey(name)] : false;
    });
  }

  setOperator(name: string, operator: boolean): Promise<boolean> {
    return this.#write(() => {
      const { changes } = this.#statement(
        "UPDATE accounts SET operator = ? WHERE key = ?",
      ).run(operator ? 1 : 0, nameKey(name));
      return changes === 1 ? ["account", nameKey(name)] : false;
    });
  }

  operators(): Promise<Account[]> {
    return this.#run(() =>
      this.#all<AccountRow>(
        `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE operator = 1 ORDER BY key`,
      ).map(toAccount)
    );
  }

  async setLastSeen(name: string, time: number): Promise<void> {
    await this.#write(() => {
      this.#statement("UPDATE accounts SET last_seen = ? WHERE key = ?")
        .run(time, nameKey(name));
      return false;
    });
  }

  async ban(ban: Ban): Promise<void> {
    const [kind, key] = banRowKey(ban.target);
    const target = ban.target.kind === "name"
      ? ban.target.name
      : ban.target.network;
    await this.#write(() => {
      this.#statement(
        "INSERT OR REPLACE INTO bans (kind, key, target, until, reason, by, at) " +
          "VALUES (?, ?, ?, ?, ?, ?, ?)",
      ).run(kind, key, target, ban.until, ban.reason, ban.by, ban.at);
      return ["ban", banKey(ban.target)];
    });
  }

  unban(target: BanTarget): Promise<Ban | undefined> {
    const [kind, key] = banRowKey(target);
    let lifted: Ban | undefined;
    return this.#write(() => {
      const row = this.#get<BanRow>(
        `DELETE FROM bans WHERE kind = ? AND key = ? RETURNING ${BAN_COLUMNS}`,
        kind,
        key,
      );
      if (row === undefined || !inForce(row, this.#now())) return false;
      lifted = toBan(row);
      return ["ban", banKey(target)];
    }).then(() => lifted);
  }

  banOf(target: BanTarget): Promise<Ban | undefined> {
    const [kind, key] = banRowKey(target);
    return this.#run(() => {
      const row = this.#get<BanRow>(
        `SELECT ${BAN_COLUMNS} FROM bans WHERE kind = ? AND key = ? AND ${LIVE}`,
        kind,
        key,
        this.#now(),
      );
      return row === undefined ? undefined : toBan(row);
    });
  }

  bans(): Promise<Ban[]> {
    let rows: BanRow[] = [];
    return this.#write(() => {
      const now = this.#now();
      this.#statement("DELETE FROM bans WHERE NOT " + LIVE).run(now);
      rows = this.#all<BanRow>(`SELECT ${BAN_COLUMNS} FROM bans ORDER BY at`);
      return false;
    }).then(() => rows.map(toBan));
  }

  async mute(mute: Mute): Promise<void> {
    await this.#write(() => {
      this.#statement(
        "INSERT OR REPLACE INTO mutes (key, name, until, by, at) " +
          "VALUES (?, ?, ?, ?, ?)",
      ).run(nameKey(mute.name), mute.name, mute.until, mute.by, mute.at);
      return ["mute", nameKey(mute.name)];
    });
  }

  unmute(name: string): Promise<boolean> {
    return this.#write(() => {
      const row = this.#get<MuteRow>(
        "DELETE FROM mutes WHERE key = ? RETURNING name, until, by, at",
        nameKey(name),
      );
      if (row === undefined || !inForce(row, this.#now())) return false;
      return ["mute", nameKey(name)];
    });
  }

  muteOf(name: string): Promise<Mute | undefined> {
    return this.#run(() => {
      const row = this.#get<MuteRow>(
        `SELECT name, until, by, at FROM mutes WHERE key = ? AND ${LIVE}`,
        nameKey(name),
        this.#now(),
      );
      return row === undefined ? undefined : toMute(row);
    });
  }

  mutes(): Promise<Mute[]> {
    let rows: MuteRow[] = [];
    return this.#write(() => {
      this.#statement("DELETE FROM mutes WHERE NOT " + LIVE).run(this.#now());
      rows = this.#all<MuteRow>(
        "SELECT name, until, by, at FROM mutes ORDER BY at",
      );
      return false;
    }).then(() => rows.map(toMute));
  }

  keepMessage(to: string, message: OfflineMessage): Promise<KeepResult> {
    const key = nameKey(to);
    let result: KeepResult = "notRegistered";
    return this.#write(() => {
      if (
        this.#get("SELECT 1 FROM accounts WHERE key = ?", key) === undefined
      ) {
        return false;
      }
      this.#statement(
        "INSERT INTO messages (recipient, sender, time, text) VALUES (?, ?, ?, ?)",
      ).run(key, message.from, message.time, message.text);
      const { count } = this.#get<{ count: number }>(
        "SELECT count(*) AS count FROM messages WHERE recipient = ?",
        key,
      )!;
      const over = count - this.#inboxLimit;
      if (over > 0) {
        this.#statement(
          "DELETE FROM messages WHERE id IN (SELECT id FROM messages " +
            "WHERE recipient = ? ORDER BY id LIMIT ?)",
        ).run(key, over);
        this.#statement(
          "INSERT INTO inbox_dropped (recipient, count) VALUES (?, ?) " +
            "ON CONFLICT (recipient) DO UPDATE SET count = count + excluded.count",
        ).run(key, over);
      }
      result = "kept";
      return ["inbox", key];
    }).then(() => result);
  }

  takeInbox(name: string): Promise<Inbox> {
    const key = nameKey(name);
    const inbox: Inbox = { messages: [], dropped: 0 };
    return this.#write(() => {
      inbox.messages = this.#all<
        { sender: string; time: number; text: string }
      >(
        "DELETE FROM messages WHERE recipient = ? RETURNING id, sender, time, text",
        key,
      ).map((row) => ({ from: row.sender, time: row.time, text: row.text }));
      const dropped = this.#get<{ count: number }>(
        "DELETE FROM inbox_dropped WHERE recipient = ? RETURNING count",
        key,
      );
      inbox.dropped = dropped?.count ?? 0;
      return false;
    }).then(() => inbox);
  }

  ignore(owner: string, name: string): Promise<IgnoreResult> {
    const ownerKey = nameKey(owner);
    let result: IgnoreResult = "notRegistered";
    return this.#write(() => {
      if (
        this.#get("SELECT 1 FROM accounts WHERE key = ?", ownerKey) ===
          undefined
      ) return false;
      const key = nameKey(name);
      if (
        this.#get(
          "SELECT 1 FROM ignores WHERE owner = ? AND key = ?",
          ownerKey,
          key,
        ) !== undefined
      ) {
        result = "already";
        return false;
      }
      const { count } = this.#get<{ count: number }>(
        "SELECT count(*) AS count FROM ignores WHERE owner = ?",
        ownerKey,
      )!;
      if (count >= this.#ignoreLimit) {
        result = "full";
        return false;
      }
      this.#statement(
        "INSERT INTO ignores (owner, key, name) VALUES (?, ?, ?)",
      ).run(ownerKey, key, name);
      result = "ok";
      return ["ignore", ownerKey];
    }).then(() => result);
  }

  unignore(owner: string, name: string): Promise<boolean> {
    return this.#write(() => {
      const { changes } = this.#statement(
        "DELETE FROM ignores WHERE owner = ? AND key = ?",
      ).run(nameKey(owner), nameKey(name));
      return changes === 1 ? ["ignore", nameKey(owner)] : false;
    });
  }

  ignored(owner: string): Promise<string[]> {
    return this.#run(() =>
      this.#all<{ name: string }>(
        "SELECT name FROM ignores WHERE owner = ? ORDER BY key",
        nameKey(owner),
      ).map((row) => row.name)
    );
  }

  /**
   * Writes a consistent copy of the database to `file` (which must not
   * exist) with SQLite's online backup, while the store stays in use: for
   * a console command or a scheduled backup. (`VACUUM INTO` would need
   * `ATTACH`, which Deno allows only with every permission.) Rejects with
   * a {@linkcode StoreError} if it cannot.
   */
  async backup(file: string): Promise<void> {
    if (this.#closed) throw this.#closedError();
    try {
      // Refuses to overwrite: an existing file may be an older backup.
      Deno.openSync(file, { write: true, createNew: true, mode: 0o600 })
        .close();
      await backup(this.#db, file);
    } catch (error) {
      const why = error instanceof Deno.errors.AlreadyExists
        ? "it exists already"
        : failureCause(error);
      throw new StoreError(
        `Cannot back up the account database to "${file}": ${why}.`,
        { cause: error },
      );
    }
  }

  onChange(listener: ChangeListener): () => void {
    return this.#changes.add(listener);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#changes.clear();
      this.#statements.clear();
      // Checkpoints the log into the database; then the next server may come.
      this.#db.close();
      this.#lock.close();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #get<T = Record<string, unknown>>(
    sql: string,
    ...params: (string | number | null)[]
  ): T | undefined {
    return this.#statement(sql).get(...params) as T | undefined;
  }

  #all<T>(sql: string, ...params: (string | number | null)[]): T[] {
    return this.#statement(sql).all(...params) as T[];
  }

  // A read, its failure as a StoreError.
  #run<T>(read: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(this.#closedError());
    try {
      return Promise.resolve(read());
    } catch (error) {
      return Promise.reject(this.#failed(error));
    }
  }

  // One transaction: `change` returns the change to tell (after the
  // commit), or false for none.
  #write(change: () => [ChangeKind, string] | false): Promise<boolean> {
    if (this.#closed) return Promise.reject(this.#closedError());
    let told: [ChangeKind, string] | false;
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        told = change();
        this.#db.exec("COMMIT");
      } catch (error) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      return Promise.reject(this.#failed(error));
    }
    if (told !== false) this.#changes.emit(...told);
    return Promise.resolve(told !== false);
  }

  #failed(error: unknown): StoreError {
    return new StoreError(
      `Cannot use the account database "${this.location}": ${
        failureCause(error)
      }.`,
      { cause: error },
    );
  }

  #closedError(): StoreError {
    return new StoreError(`The account database "${this.location}" is closed.`);
  }
}
