/**
 * The client's flags: parsing, checking every value, and the usage text;
 * and the password of a registered name from the environment.
 *
 * @module
 */

import { number, parse, type Parsed } from "../app/flags.ts";

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
  /** Come back after the connection dropped. */
  reconnect: boolean;
  /** No colours, even on a terminal (`--no-color`). */
  noColor: boolean;
  /** Ring the bell on a private message or a mention. */
  bell: boolean;
  /** Show `[HH:MM]` before each live line. */
  timestamps: boolean;
}

/** Usage of the client, printed by `--help`. */
export const CLIENT_USAGE = `Usage: deno task client [flags]

A chat client: prints what the server sends and sends what you type.
Leave with 'exit', Ctrl+D or Ctrl+C.

Flags:
  --host H        server address (default 127.0.0.1)
  --port P        server port (default 2025)
  --name NAME     answer the name prompt with NAME
  --tls           connect with TLS
  --ca FILE       trust this CA certificate (PEM): ca.crt from 'deno task cert'
  --password P    the server password (better: env CHAT_PASSWORD)
  --reconnect     reconnect (1, 2, 4... up to 30 s) when the connection drops,
                  back in the rooms you were in
  --timestamps    show [HH:MM] before each line as it arrives
  --no-color      no colours on a terminal (or set NO_COLOR)
  --bell          ring the bell on a private message or a mention
  --help          show this text

A registered name's password is asked after the name, typed hidden; for
scripts set CHAT_ACCOUNT_PASSWORD. With --reconnect it is given again.

On a terminal: Left/Right, Home/End, Backspace/Delete, Ctrl+A/E/U/K/W,
Ctrl+L redraws, Up/Down walk the lines sent, Tab completes names, commands
and rooms (after /join, /part and /msg). The prompt shows the current room
once you are in another room than the main one (#games> ).`;

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
    reconnect: { type: "boolean" },
    "no-color": { type: "boolean" },
    bell: { type: "boolean" },
    timestamps: { type: "boolean" },
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
    reconnect: v.reconnect === true,
    noColor: v["no-color"] === true,
    bell: v.bell === true,
    timestamps: v.timestamps === true,
  }));
}

/**
 * The registered name's password from `CHAT_ACCOUNT_PASSWORD` (for scripts;
 * a flag would show in the process list), or undefined if it is unset or
 * the program may not read it.
 */
export function accountPasswordFromEnv(): string | undefined {
  const variable = "CHAT_ACCOUNT_PASSWORD";
  const permission = { name: "env", variable } as const;
  if (Deno.permissions.querySync(permission).state !== "granted") {
    return undefined;
  }
  return Deno.env.get(variable) || undefined;
}
