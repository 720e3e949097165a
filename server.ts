/**
 * The chat server's entry point: flags, console and signals. Everything
 * else lives in `lib/`.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { type AccountStore, StoreError } from "./lib/engine/accounts.ts";
import { DEFAULT_DATA_DIR, SqliteStore } from "./lib/engine/sqlite_store.ts";
import { RedisStore } from "./lib/engine/redis_store.ts";
import { Accounts } from "./lib/room/accounts.ts";
import { passwordFromEnv } from "./lib/app/flags.ts";
import {
  parseServerFlags,
  redisUrlFromEnv,
  SERVER_USAGE,
} from "./lib/app/server_flags.ts";
import { parseRedisUrl } from "./lib/engine/redis_client.ts";
import { RedisEngine } from "./lib/engine/redis_engine.ts";
import { resolveLimits } from "./lib/room/limits.ts";
import {
  DoorError,
  startChatServer,
  type TlsOptions,
} from "./lib/app/chat_server.ts";
import { runConsoleLine } from "./lib/app/server_console.ts";
import type { ChatRoom } from "./lib/room/chat_room.ts";
import { describeError } from "./lib/io/errors.ts";
import { LineReader } from "./lib/io/line_reader.ts";
import { Outbox } from "./lib/io/outbox.ts";
import { consoleText } from "./lib/room/texts.ts";
import type { HistoryEntry } from "./lib/room/events.ts";

const encoder = new TextEncoder();

// The console is written through an outbox, so a console nobody reads (a
// full pipe) never stalls the chat; past 4 MiB unread it is given up on.
const stdout = new Outbox({ writer: Deno.stdout, maxQueuedBytes: 4 << 20 });
function print(line: string): void {
  stdout.send(encoder.encode(line + "\n"));
}

function fail(message: string): number {
  console.error(message);
  return 2;
}

async function readTls(cert: string, key: string): Promise<TlsOptions> {
  return {
    cert: await Deno.readTextFile(cert),
    key: await Deno.readTextFile(key),
  };
}

// Reads console lines until stdin ends; then the server runs on as a
// service, stopped by a signal.
async function watchConsole(
  room: ChatRoom,
  onTerminate: () => void,
): Promise<void> {
  const lines = new LineReader(Deno.stdin, { maxLineBytes: 4096 });
  try {
    for (let batch; (batch = await lines.next()) !== null;) {
      for (const line of batch) {
        if (typeof line !== "string") continue;
        if (runConsoleLine(line, { room, print })) {
          onTerminate();
          return;
        }
      }
    }
  } catch {
    // No usable console (closed or not readable): signals still work.
  }
}

// SIGHUP (the terminal was closed) stops the server gracefully too: left
// to its default, it would end the process at once, losing the log's
// unwritten lines and telling no one.
function onSignals(handler: () => void): () => void {
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK", "SIGTERM"]
    : ["SIGINT", "SIGTERM", "SIGHUP"];
  const added: Deno.Signal[] = [];
  for (const signal of signals) {
    try {
      Deno.addSignalListener(signal, handler);
      added.push(signal);
    } catch {
      // Not supported on this system: the others still are.
    }
  }
  return () => added.forEach((s) => Deno.removeSignalListener(s, handler));
}

// The Redis server as the console shows it: scheme, host, port and
// database, never the user or the password the URL may carry.
function redisShown(url: string): string {
  // An IPv6 host comes in brackets already, as URL gives it.
  const { tls, hostname, port, db } = parseRedisUrl(url);
  return `${tls ? "rediss" : "redis"}://${hostname}:${port}/${db}`;
}

async function main(): Promise<number> {
  const parsed = parseServerFlags(Deno.args);
  if (parsed.kind === "help") {
    console.log(SERVER_USAGE);
    return 0;
  }
  if (parsed.kind === "error") return fail(parsed.message);
  const flags = parsed.flags;

  let tls: TlsOptions | undefined;
  if (flags.tlsCertFile !== undefined && flags.tlsKeyFile !== undefined) {
    try {
      tls = await readTls(flags.tlsCertFile, flags.tlsKeyFile);
    } catch (error) {
      return fail(`Cannot read the TLS files: ${describeError(error)}.`);
    }
  }

  let motd: string[] | undefined;
  if (flags.motdFile !== undefined) {
    try {
      motd = (await Deno.readTextFile(flags.motdFile)).split(/\r?\n/);
      if (motd.at(-1) === "") motd.pop();
    } catch (error) {
      return fail(`Cannot read the MOTD file: ${describeError(error)}.`);
    }
  }

  const redisUrl = flags.redisUrl ?? redisUrlFromEnv();
  if (redisUrl !== undefined && flags.redisUrl === undefined) {
    try {
      parseRedisUrl(redisUrl);
    } catch (error) {
      return fail(`CHAT_REDIS_URL: ${describeError(error)}.`);
    }
  }
  let historyLimit: number;
  try {
    historyLimit = resolveLimits(flags.limits).historyMessages;
  } catch (error) {
    return fail(`${describeError(error)}.`);
  }
  const engine = redisUrl === undefined
    ? undefined
    : (history: HistoryEntry[]) =>
      new RedisEngine({
        url: redisUrl,
        historyLimit,
        history,
        mainRoom: flags.ircChannel,
        leaseMs: flags.redisLeaseMs,
      });

  // Registered names and moderation: SQLite beside the log, or Redis.
  const openAccounts = async () => {
    const store: AccountStore = redisUrl === undefined
      ? await SqliteStore.open({
        dir: flags.dataDir ?? join(dirname(flags.logPath), DEFAULT_DATA_DIR),
      })
      : await RedisStore.open({ url: redisUrl });
    const accounts = new Accounts({ store, operators: flags.operators });
    try {
      await accounts.start();
    } catch (error) {
      await accounts.close();
      throw error;
    }
    return accounts;
  };

  let server;
  try {
    server = await startChatServer({
      accounts: openAccounts,
      engine,
      hostname: flags.hostname,
      port: flags.port,
      logPath: flags.logPath,
      limits: flags.limits,
      tls,
      password: flags.password ?? passwordFromEnv(),
      onConsole: print,
      trustProxy: flags.trustProxy,
      mainRoom: flags.ircChannel,
      web: flags.webPort === null ? undefined : {
        port: flags.webPort,
        hosts: flags.webHosts,
        origins: flags.webOrigins,
        trustProxy: flags.trustProxy,
      },
      irc: flags.ircPort === null ? undefined : {
        port: flags.ircPort,
        channel: flags.ircChannel,
        serverName: flags.ircServerName,
        topic: flags.ircTopic,
        motd,
      },
    });
  } catch (error) {
    if (error instanceof StoreError) return fail(error.message);
    const cause = error instanceof DoorError ? error.cause : error;
    const port = error instanceof DoorError ? error.port : flags.port;
    if (cause instanceof Deno.errors.AddrInUse) {
      return fail(`Port ${port} on ${flags.hostname} is already in use.`);
    }
    if (cause instanceof RangeError) return fail(`${cause.message}.`);
    return fail(`Cannot start the server: ${describeError(cause)}.`);
  }
  if (redisUrl !== undefined) print(consoleText.redisAt(redisShown(redisUrl)));
  print(consoleText.howToQuit);

  const terminate = () => {
    print(consoleText.shuttingDown);
    server.shutdown();
  };
  const removeSignals = onSignals(terminate);
  watchConsole(server.room, terminate);
  await server.finished;
  removeSignals();
  print(consoleText.shutDown);
  await stdout.drain();
  return 0;
}

Deno.exit(await main());
