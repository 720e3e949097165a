/**
 * The client's flags: parsing, checking every value, and the usage text.
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
  --ca FILE       trust this CA certificate (PEM), for a self-signed server
  --password P    the server password (better: env CHAT_PASSWORD)
  --help          show this text`;

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
