/**
 * The chat client's entry point: flags, the terminal or the pipe, Ctrl+C.
 * Everything else lives in `lib/`.
 *
 * @module
 */

import {
  type ChatClientOptions,
  type ClientConnection,
  runChatClient,
} from "./lib/client/chat_client.ts";
import { passwordFromEnv } from "./lib/app/flags.ts";
import {
  accountPasswordFromEnv,
  CLIENT_USAGE,
  parseClientFlags,
} from "./lib/client/client_flags.ts";
import { parseServerLine } from "./lib/client/server_lines.ts";
import { clockTime, TerminalUi } from "./lib/client/terminal_ui.ts";
import { clientText } from "./lib/client/texts.ts";
import { connectTlsWithHandshake } from "./lib/client/tls_connect.ts";
import { describeError } from "./lib/io/errors.ts";
import { Outbox } from "./lib/io/outbox.ts";

const encoder = new TextEncoder();

/** Whether `NO_COLOR` is set (no-color.org), read only if allowed. */
function noColorEnv(): boolean {
  const permission = { name: "env", variable: "NO_COLOR" } as const;
  if (Deno.permissions.querySync(permission).state !== "granted") {
    return Deno.noColor;
  }
  return (Deno.env.get("NO_COLOR") ?? "") !== "";
}

/** Writes all of `text` to a terminal, ignoring a terminal that went away. */
function writeAllSync(writer: { writeSync(p: Uint8Array): number }) {
  return (text: string) => {
    let bytes = encoder.encode(text);
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writer.writeSync(bytes));
    } catch {
      // The terminal is gone (SIGHUP); nothing to show it on.
    }
  };
}

function terminalSize(): { columns: number; rows: number } {
  try {
    return Deno.consoleSize();
  } catch {
    return { columns: 80, rows: 24 };
  }
}

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
    let pem: string;
    try {
      pem = await Deno.readTextFile(flags.caFile);
    } catch (error) {
      console.error(clientText.caFileUnreadable(describeError(error)));
      return 2;
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      console.error(clientText.caFileNotPem(flags.caFile));
      return 2;
    }
    caCerts = [pem];
  }

  const interrupted = new AbortController();
  const onInterrupt = () => interrupted.abort();
  const terminal = Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  // On a terminal, ending by a signal leaves too, so the terminal is restored.
  const signals: Deno.Signal[] = !terminal
    ? ["SIGINT"]
    : Deno.build.os === "windows"
    ? ["SIGINT", "SIGBREAK"]
    : ["SIGINT", "SIGTERM", "SIGHUP"];
  const listening: Deno.Signal[] = [];
  for (const signal of signals) {
    try {
      Deno.addSignalListener(signal, onInterrupt);
      listening.push(signal);
    } catch {
      // Not a signal on this system.
    }
  }

  const where = { hostname: flags.hostname, port: flags.port };
  const connect = (): Promise<ClientConnection> =>
    flags.tls
      ? connectTlsWithHandshake({ ...where, caCerts })
      : Deno.connect(where);
  const common: ChatClientOptions = {
    address: `${flags.hostname}:${flags.port}`,
    connect,
    print: () => {},
    printError: () => {},
    name: flags.name,
    password: flags.password ?? passwordFromEnv(),
    accountPassword: accountPasswordFromEnv(),
    reconnect: flags.reconnect,
    signal: interrupted.signal,
    tls: flags.tls,
  };

  let code: number;
  if (terminal) {
    const ui = new TerminalUi({
      input: Deno.stdin,
      write: writeAllSync(Deno.stdout),
      writeError: writeAllSync(Deno.stderr),
      size: terminalSize,
      color: !flags.noColor && !noColorEnv(),
      bell: flags.bell,
      timestamps: flags.timestamps,
      onInterrupt,
    });
    // The terminal is given back however the program ends.
    const restore = () => ui.stop();
    globalThis.addEventListener("unload", restore);
    const onFatal = (event: Event) => {
      restore();
      event.preventDefault();
      const reason = "reason" in event
        ? (event as PromiseRejectionEvent).reason
        : (event as ErrorEvent).error;
      console.error(clientText.unexpected(describeError(reason)));
      Deno.exit(1);
    };
    globalThis.addEventListener("error", onFatal);
    globalThis.addEventListener("unhandledrejection", onFatal);
    ui.start();
    try {
      code = await runChatClient({
        ...common,
        lines: ui,
        print: (line) => ui.print(line),
        printError: (line) => ui.printError(line),
        observe: (line) => ui.observe(line),
        echo: (line) => ui.echo(line),
        echoAnswer: (line) => ui.echoAnswer(line),
        askSecret: () => ui.askSecret(),
        askWho: true,
        askRoom: true,
      });
    } finally {
      restore();
    }
  } else {
    // Not a terminal: today's behaviour, byte for byte.
    const stdout = new Outbox({ writer: Deno.stdout });
    const stamp = (line: string) =>
      flags.timestamps && parseServerLine(line).kind !== "history"
        ? `[${clockTime()}] ${line}`
        : line;
    code = await runChatClient({
      ...common,
      input: Deno.stdin,
      print: (line) => stdout.send(encoder.encode(stamp(line) + "\n")),
      printError: (line) => console.error(line),
    });
    await stdout.drain();
  }
  for (const signal of listening) {
    Deno.removeSignalListener(signal, onInterrupt);
  }
  return code;
}

Deno.exit(await main());
