/**
 * `deno task cert --host NAME [--ip IP] [--out DIR]`: makes a small CA and a
 * server certificate signed by it with `openssl`, in DIR (default `tls/`):
 * `ca.crt`, `ca.key`, `server.crt`, `server.key`. Existing files are never
 * overwritten. The server certificate covers NAME, IP, `localhost` and
 * `127.0.0.1`, and is a leaf (`CA:FALSE`): Deno's TLS refuses a CA
 * certificate as a server's (`CaUsedAsEndEntity`).
 *
 * @module
 */

import { isIP } from "node:net";
import { parse, type Parsed } from "./flags.ts";

/** Usage of the task, printed by `--help`. */
export const CERT_USAGE =
  `Usage: deno task cert --host NAME [--ip IP] [--out DIR]

Makes a small certificate authority and a server certificate signed by it,
with openssl, in DIR (default ./tls): ca.crt, ca.key, server.crt, server.key.
Existing files are never overwritten.

  --host NAME   the name (or IP) clients connect to, e.g. chat.lan
  --ip IP       an IP address the certificate covers too, e.g. 192.168.1.20
  --out DIR     where the four files go (default ./tls)

The certificate covers NAME, IP, localhost and 127.0.0.1. Run the server with
  deno task server --tls-cert DIR/server.crt --tls-key DIR/server.key
and give ca.crt (never ca.key) to the users:
  deno task client --host NAME --ca ca.crt`;

/** What the task was asked for. */
export interface CertFlags {
  /** The server's name. */
  host: string;
  /** An IP address to cover too. */
  ip?: string;
  /** The directory for the files. */
  out: string;
}

const DNS_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/;
const FILES = ["ca.crt", "ca.key", "server.crt", "server.key"] as const;

/** Parses the task's flags. */
export function parseCertFlags(args: string[]): Parsed<CertFlags> {
  const s = { type: "string" } as const;
  return parse<CertFlags>(args, { host: s, ip: s, out: s }, (v) => {
    const host = v.host as string | undefined;
    if (host === undefined || host === "") {
      throw new Error("Missing --host NAME (the name clients connect to).");
    }
    if (isIP(host) === 0 && !DNS_NAME.test(host)) {
      throw new Error(
        `Invalid value for --host: "${host}" (expected a DNS name or an IP address).`,
      );
    }
    const ip = v.ip as string | undefined;
    if (ip !== undefined && isIP(ip) === 0) {
      throw new Error(
        `Invalid value for --ip: "${ip}" (expected an IPv4 or IPv6 address).`,
      );
    }
    const out = (v.out as string | undefined) ?? "tls";
    if (out === "") throw new Error("Invalid value for --out: empty.");
    return { host, ip, out };
  });
}

/** The server certificate's subjectAltName: the host, the IP, localhost. */
export function subjectAltNames(flags: CertFlags): string {
  const names: string[] = [];
  for (const name of [flags.host, flags.ip, "localhost", "127.0.0.1"]) {
    if (name === undefined) continue;
    const entry = isIP(name) === 0 ? `DNS:${name}` : `IP:${name}`;
    if (!names.includes(entry)) names.push(entry);
  }
  return names.join(",");
}

/** A problem the user must fix, said in one message. */
class CertError extends Error {}

async function openssl(args: string[], stdin?: string): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("openssl", {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CertError(
        'openssl is not installed. Install it (Debian/Ubuntu: apt install openssl; macOS: brew install openssl; Windows: it comes with Git for Windows) and run this again, or make the files by hand as README.md, section "TLS", shows.',
      );
    }
    if (error instanceof Deno.errors.NotCapable) {
      throw new CertError(
        "Not allowed to run openssl: run this with --allow-run=openssl (deno task cert does).",
      );
    }
    throw error;
  }
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) {
    const reason = new TextDecoder().decode(stderr).trim().split("\n")
      .filter((l) => l.trim() !== "").at(-1) ?? `exit code ${code}`;
    throw new CertError(`openssl ${args[0]} failed: ${reason}`);
  }
  return new TextDecoder().decode(stdout);
}

/** Makes the four files; returns the lines to print. */
export async function makeCertificates(flags: CertFlags): Promise<string[]> {
  const dir = flags.out.replace(/[\\/]+$/, "") || "/";
  const path = (name: string) => `${dir}/${name}`;
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    throw new CertError(
      error instanceof Deno.errors.NotCapable
        ? `Not allowed to write "${dir}": deno task cert may write ./tls only; for another --out run: deno run --allow-run=openssl --allow-write=${dir} lib/app/make_cert.ts --host ${flags.host} --out ${dir}`
        : `Cannot make the directory "${dir}": ${reasonOf(error)}.`,
    );
  }
  // Each file is made new, or nothing is done: never an overwrite.
  const made: string[] = [];
  try {
    for (const name of FILES) {
      try {
        const file = await Deno.open(path(name), {
          write: true,
          createNew: true,
          mode: name.endsWith(".key") ? 0o600 : 0o644,
        });
        file.close();
        made.push(path(name));
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) {
          throw new CertError(
            `${
              path(name)
            } exists already; nothing was overwritten. Remove the old files or choose another --out.`,
          );
        }
        if (error instanceof Deno.errors.NotCapable) {
          throw new CertError(
            `Not allowed to write "${dir}": deno task cert may write ./tls only; for another --out run: deno run --allow-run=openssl --allow-write=${dir} lib/app/make_cert.ts --host ${flags.host} --out ${dir}`,
          );
        }
        throw new CertError(`Cannot write ${path(name)}: ${reasonOf(error)}.`);
      }
    }
    await runOpenssl(flags, path);
    return [
      `Made ${FILES.map(path).join(", ")}.`,
      `The server certificate covers ${subjectAltNames(flags)}.`,
      `Server: deno task server --tls-cert ${path("server.crt")} --tls-key ${
        path("server.key")
      }`,
      `Users:  deno task client --host ${flags.host} --ca ca.crt   (give them ${
        path("ca.crt")
      }; keep ${path("ca.key")} secret)`,
    ];
  } catch (error) {
    for (const file of made) await Deno.remove(file).catch(() => {});
    throw error;
  }
}

async function runOpenssl(
  flags: CertFlags,
  path: (name: string) => string,
): Promise<void> {
  await openssl(["version"]);
  // The CA: self-signed, CA:TRUE, 10 years.
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "3650",
    "-subj",
    "/CN=Chat CA",
    "-keyout",
    path("ca.key"),
    "-out",
    path("ca.crt"),
  ]);
  // The server's key and signing request (on stdout).
  const csr = await openssl([
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${flags.host}`,
    "-keyout",
    path("server.key"),
  ]);
  // The leaf, signed by the CA: CA:FALSE, for servers, ~2 years.
  const extFile = path(`.server-ext-${crypto.randomUUID()}.cnf`);
  await Deno.writeTextFile(
    extFile,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${subjectAltNames(flags)}`,
      "",
    ].join("\n"),
    { createNew: true },
  );
  try {
    const serial = "0x" + Array.from(
      crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    await openssl([
      "x509",
      "-req",
      "-CA",
      path("ca.crt"),
      "-CAkey",
      path("ca.key"),
      "-set_serial",
      serial,
      "-days",
      "825",
      "-extfile",
      extFile,
      "-out",
      path("server.crt"),
    ], csr);
  } finally {
    await Deno.remove(extFile).catch(() => {});
  }
  await openssl(["verify", "-CAfile", path("ca.crt"), path("server.crt")]);
}

function reasonOf(error: unknown): string {
  return error instanceof Error
    ? error.message.replace(/ \(os error \d+\)[^]*$/, "")
    : String(error);
}

async function main(): Promise<number> {
  const parsed = parseCertFlags(Deno.args);
  if (parsed.kind === "help") {
    console.log(CERT_USAGE);
    return 0;
  }
  if (parsed.kind === "error") {
    console.error(parsed.message);
    return 2;
  }
  try {
    for (const line of await makeCertificates(parsed.flags)) console.log(line);
    return 0;
  } catch (error) {
    console.error(
      error instanceof CertError ? error.message : `Failed: ${reasonOf(error)}`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
