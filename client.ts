/**
 * The chat client's entry point: flags and Ctrl+C. Everything else lives in
 * `lib/`.
 *
 * @module
 */

import { runChatClient } from "./lib/client/chat_client.ts";
import { passwordFromEnv } from "./lib/app/flags.ts";
import { CLIENT_USAGE, parseClientFlags } from "./lib/client/client_flags.ts";
import { describeError } from "./lib/io/errors.ts";
import { Outbox } from "./lib/io/outbox.ts";

const encoder = new TextEncoder();

async function main(): Promise<number> {
  const parsed = parseClientFlags(Deno.args);
  if (parsed.kind === "help") {
    console.log(CLIENT_USAGE);
    return 0;
  }
  if (parsed.kind === "error") {
    console.error(parsed.message);
    return 2;
  }
  const flags = parsed.flags;
  let caCerts: string[] | undefined;
  if (flags.caFile !== undefined) {
    try {
      caCerts = [await Deno.readTextFile(flags.caFile)];
    } catch (error) {
      console.error(`Cannot read the CA file: ${describeError(error)}.`);
      return 2;
    }
  }

  const stdout = new Outbox({ writer: Deno.stdout });
  const interrupted = new AbortController();
  const onInterrupt = () => interrupted.abort();
  Deno.addSignalListener("SIGINT", onInterrupt);
  const where = { hostname: flags.hostname, port: flags.port };
  const code = await runChatClient({
    address: `${flags.hostname}:${flags.port}`,
    connect: () =>
      flags.tls ? Deno.connectTls({ ...where, caCerts }) : Deno.connect(where),
    input: Deno.stdin,
    print: (line) => stdout.send(encoder.encode(line + "\n")),
    printError: (line) => console.error(line),
    name: flags.name,
    password: flags.password ?? passwordFromEnv(),
    signal: interrupted.signal,
  });
  Deno.removeSignalListener("SIGINT", onInterrupt);
  await stdout.drain();
  return code;
}

Deno.exit(await main());
