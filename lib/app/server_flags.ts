/**
 * The server's flags: parsing, checking every value, and the usage text.
 *
 * @module
 */

import { normalizeRoomName } from "../room/room_names.ts";
import type { Limits } from "../room/limits.ts";
import { parseRedisUrl } from "../engine/redis_client.ts";
import { number, parse, type Parsed, seconds } from "./flags.ts";

/** What the server was asked to do. */
export interface ServerFlags {
  /** Address to listen on. */
  hostname: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** The chat log file. */
  logPath: string;
  /** Limits given on the command line. */
  limits: Partial<Limits>;
  /** TLS certificate and key files, if both were given. */
  tlsCertFile?: string;
  /** See `tlsCertFile`. */
  tlsKeyFile?: string;
  /** The password given with `--password`, if any. */
  password?: string;
  /** The web door's port, or null with `--no-web`. */
  webPort: number | null;
  /** Extra host names the web door answers to (`--web-host`). */
  webHosts: string[];
  /** Extra origins allowed to open the socket (`--web-origin`). */
  webOrigins: string[];
  /** Proxies whose client address headers are believed. */
  trustProxy: string[];
  /** The IRC door's port, or null when it is off. */
  ircPort: number | null;
  /** The IRC channel, with its `#`. */
  ircChannel: string;
  /** The server's IRC name; the host name when left out. */
  ircServerName?: string;
  /** The IRC channel's topic. */
  ircTopic?: string;
  /** A file with the message of the day. */
  motdFile?: string;
  /** The Redis URL with `--redis`: this process is one node of its room. */
  redisUrl?: string;
  /** Where accounts are kept on one machine (`--data`). */
  dataDir?: string;
  /** The server's operators (`--operator`, repeatable). */
  operators: string[];
  /** A node's lease in ms (`--redis-lease-ms`, hidden: for tests). */
  redisLeaseMs?: number;
}

/** Usage of the server, printed by `--help`. */
export const SERVER_USAGE = `Usage: deno task server [flags]

One chat room for terminals (our client or nc), browsers and IRC clients:
the line protocol on --port, the web page on --web-port, IRC on --irc-port.
Type 'Terminate server' on its console (or send SIGINT, SIGTERM or SIGHUP)
to shut it down gracefully.

Flags (0 turns a limit off, except --max-line):
  --host H                   address to listen on (default 0.0.0.0)
  --port P                   port, 0 picks a free one (default 2025)
  --log PATH                 chat log, appended to (default chat_documentation.txt)
  --max-line N               longest line in bytes (default 4096)
  --registration-timeout S   seconds to choose a name (default 30)
  --max-clients N            connections at once (default 10000)
  --max-per-ip N             connections at once from one address (default 50)
  --flood-rate N             lines per second per connection (default 10)
  --flood-burst N            lines at once before --flood-rate applies (default 20)
  --max-sendq N              unsent bytes per connection before it is cut (default 1048576)
  --shutdown-timeout S       seconds shutdown waits for output to go out (default 5)
  --tls-cert FILE            listen with TLS, with this certificate (PEM)...
  --tls-key FILE             ...and this private key (PEM)
  --password P               require a password (better: env CHAT_PASSWORD)
  --history N                messages replayed to newcomers (default 20)
  --max-rooms N              rooms on the server at once (default 1000)
  --max-joins N              rooms one member may be in (default 20)
  --main-room '#NAME'        the main room, everyone's on joining (default #chat)
  --web-port P               web chat port, 0 picks a free one (default 8025)
  --no-web                   no web chat
  --web-host NAME            another host name browsers use (repeatable)
  --web-origin ORIGIN        another origin allowed to open the socket (repeatable)
  --trust-proxy IP           believe X-Forwarded-For from IP (repeatable)
  --irc-port P               IRC door, 0 picks a free port (default off; 6667 is usual)
  --irc-channel '#NAME'      the same as --main-room (IRC clients see it as a channel)
  --irc-server-name NAME     the server's IRC name (default the host name)
  --irc-topic TEXT           the channel's topic (default none)
  --motd FILE                IRC message of the day (default none)
  --data DIR                 where registered names, bans and kept messages live
                             (default chat-data/ beside the log; with --redis, in Redis)
  --operator NAME            a server operator (repeatable); register it on the console
  --redis URL                one node of the room kept in Redis:
                             redis://[:PASSWORD@]HOST:PORT[/DB] (better: env CHAT_REDIS_URL)
  --help                     show this text`;

/** Parses the server's flags. */
export function parseServerFlags(args: string[]): Parsed<ServerFlags> {
  const s = { type: "string" } as const;
  return parse(args, {
    host: s,
    port: s,
    log: s,
    "max-line": s,
    "registration-timeout": s,
    "max-clients": s,
    "max-per-ip": s,
    "flood-rate": s,
    "flood-burst": s,
    "max-sendq": s,
    "shutdown-timeout": s,
    "tls-cert": s,
    "tls-key": s,
    password: s,
    history: s,
    "max-rooms": s,
    "max-joins": s,
    "main-room": s,
    "web-port": s,
    "no-web": { type: "boolean" },
    "web-host": { type: "string", multiple: true },
    "web-origin": { type: "string", multiple: true },
    "trust-proxy": { type: "string", multiple: true },
    "irc-port": s,
    "irc-channel": s,
    "irc-server-name": s,
    "irc-topic": s,
    motd: s,
    redis: s,
    "redis-lease-ms": s,
    data: s,
    operator: { type: "string", multiple: true },
  }, (v) => {
    const str = (key: string) => v[key] as string | undefined;
    const list = (key: string) => (v[key] as string[] | undefined) ?? [];
    const whole = (key: string) => number(key, str(key), { whole: true });
    const certFile = str("tls-cert");
    const keyFile = str("tls-key");
    if ((certFile === undefined) !== (keyFile === undefined)) {
      throw new Error("--tls-cert and --tls-key go together.");
    }
    const limits: Partial<Limits> = {
      maxLineBytes: number("max-line", str("max-line"), {
        whole: true,
        min: 1,
      }),
      registrationTimeoutMs: seconds(
        "registration-timeout",
        str("registration-timeout"),
      ),
      maxClients: whole("max-clients"),
      maxPerIp: whole("max-per-ip"),
      floodRate: number("flood-rate", str("flood-rate"), { whole: false }),
      floodBurst: whole("flood-burst"),
      maxSendqBytes: whole("max-sendq"),
      shutdownTimeoutMs: seconds("shutdown-timeout", str("shutdown-timeout")),
      historyMessages: number("history", str("history"), {
        whole: true,
        max: 10_000,
      }),
      maxRooms: whole("max-rooms"),
      maxJoins: whole("max-joins"),
    };
    for (const key of Object.keys(limits) as (keyof Limits)[]) {
      if (limits[key] === undefined) delete limits[key];
    }
    const port = number("port", str("port"), { whole: true, max: 65535 }) ??
      2025;
    const webPort = v["no-web"] === true
      ? null
      : number("web-port", str("web-port"), { whole: true, max: 65535 }) ??
        8025;
    const ircPort =
      number("irc-port", str("irc-port"), { whole: true, max: 65535 }) ??
        null;
    checkDistinctPorts({ port, "web-port": webPort, "irc-port": ircPort });
    return {
      hostname: str("host") ?? "0.0.0.0",
      port,
      logPath: str("log") ?? "chat_documentation.txt",
      limits,
      tlsCertFile: certFile,
      tlsKeyFile: keyFile,
      password: str("password"),
      webPort,
      webHosts: list("web-host"),
      webOrigins: list("web-origin").map((origin) => checkOrigin(origin)),
      trustProxy: list("trust-proxy"),
      ircPort,
      ircChannel: mainRoom(str("main-room"), str("irc-channel")),
      ircServerName: str("irc-server-name"),
      ircTopic: str("irc-topic"),
      motdFile: str("motd"),
      redisUrl: checkRedisUrl(str("redis")),
      dataDir: str("data"),
      operators: list("operator"),
      redisLeaseMs: number("redis-lease-ms", str("redis-lease-ms"), {
        whole: true,
        min: 200,
      }),
    };
  });
}

// The main room's name, from --main-room or its other name --irc-channel.
function mainRoom(main?: string, channel?: string): string {
  if (main !== undefined && channel !== undefined && main !== channel) {
    throw new Error(
      "--main-room and --irc-channel name the same room: give one of them.",
    );
  }
  const given = main ?? channel;
  if (given === undefined) return "#chat";
  const what = main !== undefined
    ? "--main-room: the main room"
    : "--irc-channel: IRC channel";
  if (!given.startsWith("#") || normalizeRoomName(given) !== given) {
    throw new Error(
      `${what} "${given}" must be '#' and 1-32 letters, digits, '_' or '-'.`,
    );
  }
  return given;
}

// The doors listen on one address, so two of them given one port would
// have the second fail as "already in use" by the first: said here instead.
function checkDistinctPorts(ports: Record<string, number | null>): void {
  const flags = Object.keys(ports);
  for (let i = 0; i < flags.length; i++) {
    for (let j = i + 1; j < flags.length; j++) {
      const port = ports[flags[i]];
      if (port !== null && port !== 0 && port === ports[flags[j]]) {
        throw new Error(
          `--${flags[i]} and --${
            flags[j]
          } are both ${port}: each door needs a port of its own.`,
        );
      }
    }
  }
}

// A Redis URL is checked here, so that a bad one stops the start at once.
function checkRedisUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    parseRedisUrl(url);
  } catch (error) {
    throw new Error(`${(error as Error).message}.`);
  }
  return url;
}

/**
 * The Redis URL in the environment variable `CHAT_REDIS_URL` (it may hold a
 * password, which `--redis` would show in the process list), or undefined
 * if it is unset or the program may not read it.
 */
export function redisUrlFromEnv(): string | undefined {
  const permission = { name: "env", variable: "CHAT_REDIS_URL" } as const;
  if (Deno.permissions.querySync(permission).state !== "granted") {
    return undefined;
  }
  return Deno.env.get("CHAT_REDIS_URL") || undefined;
}

// An origin is a scheme, a host and maybe a port, with nothing after it.
function checkOrigin(origin: string): string {
  const trimmed = origin.replace(/\/$/, "");
  let url: URL | null = null;
  try {
    url = new URL(trimmed);
  } catch {
    // Reported below.
  }
  if (url === null || url.origin !== trimmed.toLowerCase()) {
    throw new Error(
      `Invalid value for --web-origin: "${origin}" (expected an origin such as "https://chat.example.org").`,
    );
  }
  return trimmed.toLowerCase();
}
