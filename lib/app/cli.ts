/**
 * Command-line flags of the server and the client: parsing with
 * `node:util`'s `parseArgs`, checking every value, and the usage texts.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Limits } from "../room/limits.ts";

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
}

/** What the client was asked to do. */
export interface ClientFlags {
  /** Server to connect to. */
  hostname: string;
  /** Its port. */
  port: number;
  /** A name to answer the name prompt with. */
  name?: string;
  /** Connect with TLS. */
  tls: boolean;
  /** A CA certificate file to trust, for a self-signed server. */
  caFile?: string;
  /** The password given with `--password`, if any. */
  password?: string;
}

/** The outcome of parsing: flags, a request for help, or an error line. */
export type Parsed<T> =
  | { kind: "run"; flags: T }
  | { kind: "help" }
  | { kind: "error"; message: string };

/** Usage of the server, printed by `--help`. */
export const SERVER_USAGE = `Usage: deno task server [flags]

A chat server over TCP. Type 'Terminate server' on its console (or send
SIGINT/SIGTERM) to shut it down gracefully.

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
  --help                     show this text`;

/** Usage of the client, printed by `--help`. */
export const CLIENT_USAGE = `Usage: deno task client [flags]

A chat client: prints what the server sends and sends what you type.
Leave with 'exit', Ctrl+D or Ctrl+C.

Flags:
  --host H        server address (default 127.0.0.1)
  --port P        server port (default 2025)
  --name NAME     answer the name prompt with NAME
  --tls           connect with TLS
  --ca FILE       trust this CA certificate (PEM), for a self-signed server
  --password P    the server password (better: env CHAT_PASSWORD)
  --help          show this text`;

const WHOLE = /^\d+$/;
const DECIMAL = /^\d+(\.\d+)?$/;

// Throws the one line a person sees for a bad value.
function number(
  flag: string,
  value: string | undefined,
  rule: { whole: boolean; max?: number; min?: number },
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = (rule.whole ? WHOLE : DECIMAL).test(value)
    ? Number(value)
    : NaN;
  const min = rule.min ?? 0;
  if (
    !Number.isFinite(parsed) || parsed < min ||
    (rule.max !== undefined && parsed > rule.max)
  ) {
    const range = rule.max !== undefined
      ? `from ${min} to ${rule.max}`
      : `of ${min} or more`;
    throw new Error(
      `Invalid value for --${flag}: "${value}" (expected a ${
        rule.whole ? "whole number" : "number"
      } ${range}).`,
    );
  }
  return parsed;
}

function seconds(flag: string, value: string | undefined): number | undefined {
  const s = number(flag, value, { whole: false });
  return s === undefined ? undefined : Math.round(s * 1000);
}

function parse<T>(
  args: string[],
  options: Record<string, { type: "string" | "boolean" }>,
  build: (values: Record<string, string | boolean | undefined>) => T,
): Parsed<T> {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean" } },
      strict: true,
      allowPositionals: true,
    });
    if (values.help) return { kind: "help" };
    if (positionals.length > 0) {
      throw new Error(`Unexpected argument: "${positionals[0]}".`);
    }
    return { kind: "run", flags: build(values) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const fromParseArgs = (error as { code?: string }).code?.startsWith(
      "ERR_PARSE_ARGS",
    );
    // parseArgs' own messages go on with advice for scripts; the first
    // sentence is the part a person needs.
    return {
      kind: "error",
      message: fromParseArgs
        ? message.split(/\n|\. /)[0].replace(/\.$/, "") + "."
        : message,
    };
  }
}

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
  }, (v) => {
    const str = (key: string) => v[key] as string | undefined;
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
    };
    for (const key of Object.keys(limits) as (keyof Limits)[]) {
      if (limits[key] === undefined) delete limits[key];
    }
    return {
      hostname: str("host") ?? "0.0.0.0",
      port: number("port", str("port"), { whole: true, max: 65535 }) ?? 2025,
      logPath: str("log") ?? "chat_documentation.txt",
      limits,
      tlsCertFile: certFile,
      tlsKeyFile: keyFile,
      password: str("password"),
    };
  });
}

/** Parses the client's flags. */
export function parseClientFlags(args: string[]): Parsed<ClientFlags> {
  const s = { type: "string" } as const;
  return parse(args, {
    host: s,
    port: s,
    name: s,
    tls: { type: "boolean" },
    ca: s,
    password: s,
  }, (v) => ({
    hostname: (v.host as string | undefined) ?? "127.0.0.1",
    port: number("port", v.port as string | undefined, {
      whole: true,
      min: 1,
      max: 65535,
    }) ?? 2025,
    name: v.name as string | undefined,
    tls: v.tls === true || v.ca !== undefined,
    caFile: v.ca as string | undefined,
    password: v.password as string | undefined,
  }));
}

/**
 * The password in the environment variable `CHAT_PASSWORD` (preferred to
 * `--password`, which shows in the process list), or undefined if it is unset
 * or the program may not read it.
 */
export function passwordFromEnv(): string | undefined {
  const permission = { name: "env", variable: "CHAT_PASSWORD" } as const;
  if (Deno.permissions.querySync(permission).state !== "granted") {
    return undefined;
  }
  return Deno.env.get("CHAT_PASSWORD") || undefined;
}
