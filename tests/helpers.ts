/**
 * Test helpers: a line-oriented test client on a real socket (TCP or TLS),
 * servers in-process and as subprocesses, waits with named timeouts, and
 * the protocol's texts as the spec gives them.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type ChatServer,
  type ChatServerOptions,
  startChatServer,
} from "../lib/app/chat_server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The default time a wait may take before the test fails. */
export const WAIT_MS = 5_000;

/** How long a subprocess may take to start on a busy machine. */
export const START_MS = 15_000;

// The protocol's texts, written out as the spec gives them. They are not
// imported from lib/texts.ts on purpose: a test must fail if the server's
// text changes.

/** The first line the server sends: it asks for a name. */
export const NAME_PROMPT = "Hello client. Please enter your name:";

/** The last line of the welcome after a name was accepted. */
export const LAST_WELCOME_LINE =
  "Type '/who' to see who is online, '/help' for all commands.";

/** The answer to a name that breaks the rules; it asks again. */
export const INVALID_NAME =
  "Invalid name: use 1-32 letters, digits, '_', '-' or '.'. Please enter your name:";

/** The line every client gets when the server shuts down. */
export const SHUTTING_DOWN = "Server is shutting down. Disconnecting...";

/** The chat log's last two events after a server shut down cleanly. */
export const LOG_ENDING: readonly string[] = [
  "Server has been shutdown",
  "Chat finished",
];

/** The notice to the others that `name` joined. */
export function joined(name: string): string {
  return `*** ${name} has joined the chat.`;
}

/** The notice to the others that `name` left. */
export function left(name: string): string {
  return `*** ${name} has left the chat.`;
}

/** Polls `condition` until it is true, failing after `timeoutMs` with `what`. */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Checks that `condition` holds for `ms`, polling it, failing with `what` as
 * soon as it does not: for "nothing more arrives" after a bounded time.
 */
export async function holdsFor(
  condition: () => boolean,
  what: string,
  ms: number,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (!condition()) throw new Error(`No longer true: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!condition()) throw new Error(`No longer true: ${what}`);
}

/**
 * Polls an async `condition` until it is true, failing after `timeoutMs`
 * with `what`.
 */
export async function waitUntilAsync(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rejects after `ms` with `what`, unless `promise` settles first. */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} took more than ${ms} ms`)),
          Math.max(0, ms),
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes every client (anything with an async `close`), even if some fail. */
export async function closeAll(
  clients: Iterable<{ close(): Promise<void> }>,
): Promise<void> {
  await Promise.allSettled([...clients].map((client) => client.close()));
}

/** Closes `conn` if there is one, ignoring that it may be closed already. */
export function closeQuietly(conn: { close(): void } | undefined): void {
  try {
    conn?.close();
  } catch {
    // Closed already.
  }
}

/** Writes all of `bytes` to `conn`, looping on partial writes. */
export async function writeAll(
  conn: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(bytes.subarray(offset));
  }
}

/** The byte arrays `parts` joined into one. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** What a line must match to be waited for: itself, a pattern, a test. */
export type LineMatch = string | RegExp | ((line: string) => boolean);

/** The test of a line that {@linkcode LineMatch} describes. */
export function lineTest(match: LineMatch): (line: string) => boolean {
  return typeof match === "string"
    ? (line) => line === match
    : match instanceof RegExp
    ? (line) => match.test(line)
    : match;
}

/** Collects the lines of a byte stream as they arrive, for waiting on. */
export class LineCollector {
  /** Every complete line so far, without `\n`. */
  readonly lines: string[] = [];
  /** Whether the stream has ended. */
  ended = false;
  #partial = "";
  #cursor = 0;

  /** Adds a chunk of the stream. */
  push(chunk: Uint8Array): void {
    const text = this.#partial + decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.#partial = parts.pop()!;
    this.lines.push(...parts);
  }

  /** Marks the end of the stream. */
  end(): void {
    this.ended = true;
  }

  /**
   * Waits for the next line (after those already waited for) that matches,
   * and returns it. Lines skipped over are not looked at again.
   */
  async next(match: LineMatch, timeoutMs = WAIT_MS): Promise<string> {
    const test = lineTest(match);
    let found: string | undefined;
    await waitUntil(
      () => {
        while (this.#cursor < this.lines.length) {
          const line = this.lines[this.#cursor++];
          if (test(line)) {
            found = line;
            return true;
          }
        }
        return this.ended;
      },
      `a line matching ${String(match)} (got ${
        JSON.stringify(this.lines.slice(-5))
      })`,
      timeoutMs,
    );
    if (found === undefined) {
      throw new Error(
        `Stream ended before a line matching ${String(match)}; lines: ${
          JSON.stringify(this.lines.slice(-10))
        }`,
      );
    }
    return found;
  }

  /** Waits for the stream to end. */
  async closed(timeoutMs = WAIT_MS): Promise<void> {
    await waitUntil(() => this.ended, "the stream to end", timeoutMs);
  }
}

/** Waits for `marker` and returns every line `collector` got before it. */
export async function linesBefore(
  collector: LineCollector,
  marker: string,
  timeoutMs = WAIT_MS,
): Promise<string[]> {
  await waitUntil(
    () => collector.lines.includes(marker),
    `${JSON.stringify(marker)} (got ${
      JSON.stringify(collector.lines.slice(-5))
    })`,
    timeoutMs,
  );
  return collector.lines.slice(0, collector.lines.indexOf(marker));
}

/** A chat client on a real socket (TCP, or TLS), for tests. */
export class TestClient {
  /** What the server sent. */
  readonly received: LineCollector = new LineCollector();
  /** The raw connection. */
  readonly conn: Deno.Conn;
  #reading: Promise<void>;
  #closed = false;

  private constructor(conn: Deno.Conn, options: { read: boolean }) {
    this.conn = conn;
    this.#reading = options.read ? this.#readLoop() : Promise.resolve();
  }

  /**
   * Connects to `port` on 127.0.0.1. With `read: false` it never reads, like
   * a stuck client.
   */
  static async connect(
    port: number,
    options: { read?: boolean } = {},
  ): Promise<TestClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new TestClient(conn, { read: options.read ?? true });
  }

  /**
   * Connects with TLS to `port` on `hostname` (default `localhost`),
   * trusting `caCerts`. The handshake happens on the first read or write: if
   * it fails, the received stream just ends.
   */
  static async connectTls(
    port: number,
    options: { hostname?: string; caCerts?: string[] } = {},
  ): Promise<TestClient> {
    const conn: Deno.TlsConn = await Deno.connectTls({
      hostname: options.hostname ?? "localhost",
      port,
      caCerts: options.caCerts,
    });
    return new TestClient(conn, { read: true });
  }

  /** Connects and registers `name`, waiting for the whole welcome. */
  static async join(port: number, name: string): Promise<TestClient> {
    return await TestClient.#registered(await TestClient.connect(port), name);
  }

  /**
   * Connects with TLS (see {@linkcode TestClient.connectTls}) and registers
   * `name`, waiting for the whole welcome.
   */
  static async joinTls(
    port: number,
    name: string,
    options: { hostname?: string; caCerts?: string[] } = {},
  ): Promise<TestClient> {
    const client = await TestClient.connectTls(port, options);
    return await TestClient.#registered(client, name);
  }

  /** Registers `client` as `name`, closing it if that fails. */
  static async #registered(
    client: TestClient,
    name: string,
  ): Promise<TestClient> {
    try {
      await client.register(name);
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /**
   * Answers the name prompt with `name` and waits for the whole welcome:
   * `Welcome <name>!` and then its last line.
   */
  async register(name: string): Promise<void> {
    await this.next(NAME_PROMPT);
    await this.send(name);
    await this.next(`Welcome ${name}!`);
    await this.next(LAST_WELCOME_LINE);
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        this.received.push(buffer.subarray(0, n));
      }
    } catch {
      // A failed TLS handshake, a reset or our own close: the end either way.
    } finally {
      this.received.end();
    }
  }

  /** Sends one line (a `\n` is added). */
  send(line: string): Promise<void> {
    return this.sendRaw(encoder.encode(line + "\n"));
  }

  /** Sends bytes as they are, in one write call (looping on partial writes). */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return writeAll(this.conn, bytes);
  }

  /** Waits for the next line that matches. */
  next(
    match: string | RegExp | ((line: string) => boolean),
    timeoutMs = WAIT_MS,
  ): Promise<string> {
    return this.received.next(match, timeoutMs);
  }

  /** Closes the socket and waits for the read loop; safe to call twice. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch {
        // Closed already.
      }
    }
    await this.#reading;
  }
}

/** An in-process server on a free port, with its log and console. */
export interface TestServer {
  /** The server. */
  server: ChatServer;
  /** Its port. */
  port: number;
  /** Its web door's port, if it was asked for one. */
  webPort: number | null;
  /** Its log file (a temp file, removed by `cleanup`). */
  logPath: string;
  /** Every console line so far. */
  console: string[];
  /** Shuts the server down and removes the log. */
  cleanup(): Promise<void>;
}

/**
 * Starts a server in-process on 127.0.0.1, port 0, with a temp log; with
 * `webPort` (0 for a free one) the web door too.
 */
export async function startTestServer(
  options: ChatServerOptions & { webPort?: number } = {},
): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "chat_test_" });
  const logPath = options.logPath ?? `${dir}/chat_documentation.txt`;
  const consoleLines: string[] = [];
  const server = await startChatServer({
    hostname: "127.0.0.1",
    port: 0,
    ...options,
    web: options.web ??
      (options.webPort === undefined ? undefined : { port: options.webPort }),
    logPath,
    onConsole: (line) => {
      consoleLines.push(line);
      options.onConsole?.(line);
    },
  });
  return {
    server,
    port: server.addr.port,
    webPort: server.webAddr?.port ?? null,
    logPath,
    console: consoleLines,
    async cleanup() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The lines of a chat log's text without their timestamps. */
function logEventsOf(text: string): string[] {
  return text.split("\n").filter((l) => l !== "").map((line) => {
    const space = line.indexOf(" ");
    return line.slice(space + 1);
  });
}

/** Reads the log's lines without their timestamps. */
export async function readLogEvents(path: string): Promise<string[]> {
  return logEventsOf(await Deno.readTextFile(path));
}

/** Reads the log's lines without their timestamps, synchronously. */
export function readLogEventsSync(path: string): string[] {
  return logEventsOf(Deno.readTextFileSync(path));
}

/**
 * Sends broadcasts from `sender` in rounds of about `roundBytes` (lines of
 * 4000 bytes), each round only after `watcher` got the previous one, so that
 * the watcher never falls behind, until `done(sentBytes)`. Fails past
 * `maxBytes` or `timeoutMs`. Returns the bytes and the last line sent.
 */
export async function chatInRounds(
  sender: TestClient,
  senderName: string,
  watcher: TestClient,
  options: {
    done: (sentBytes: number) => boolean;
    roundBytes: number;
    maxBytes?: number;
    timeoutMs: number;
  },
): Promise<{ sentBytes: number; lastLine: string }> {
  const lineBytes = 4_000;
  const perRound = Math.max(1, Math.floor(options.roundBytes / lineBytes));
  const maxBytes = options.maxBytes ?? Infinity;
  const deadline = performance.now() + options.timeoutMs;
  let sent = 0;
  let last = "";
  for (let round = 0; !options.done(sent); round++) {
    if (sent >= maxBytes || performance.now() > deadline) {
      throw new Error(
        `gave up after sending ${sent} bytes in ${options.timeoutMs} ms`,
      );
    }
    const lines: string[] = [];
    for (let i = 0; i < perRound; i++) {
      const head = `r${round} i${i} `;
      lines.push(head + "x".repeat(lineBytes - head.length));
    }
    const bytes = encoder.encode(lines.join("\n") + "\n");
    await sender.sendRaw(bytes);
    sent += bytes.length;
    last = lines.at(-1)!;
    await watcher.next(`${senderName}: ${last}`, 10_000);
  }
  return { sentBytes: sent, lastLine: last };
}

/** The lines that hold more than white space. */
export function nonEmpty(lines: string[]): string[] {
  return lines.filter((l) => l.trim() !== "");
}

/** Fails if any of `lines` (a program's stderr, say) is a stack trace's. */
export function assertNoStackTrace(lines: string[]): void {
  for (const line of lines) {
    assert.ok(!line.startsWith("    at "), `stack trace: ${lines.join(" | ")}`);
  }
}

/** A program of this project run as a subprocess. */
export interface Subprocess {
  /** The child. */
  child: Deno.ChildProcess;
  /** Its stdout, by lines. */
  stdout: LineCollector;
  /** Its stderr, by lines. */
  stderr: LineCollector;
  /** Writes to its stdin. */
  write(text: string): Promise<void>;
  /** Closes its stdin. */
  closeStdin(): Promise<void>;
  /** Waits for it to exit (after its output ended) and returns its status. */
  status(timeoutMs?: number): Promise<Deno.CommandStatus>;
  /** Kills it if it still runs and waits for it. */
  cleanup(): Promise<void>;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** Options of {@linkcode spawnProgram}. */
export interface SpawnOptions {
  /** Working directory of the program. */
  cwd?: string;
  /** Its environment. */
  env?: Record<string, string>;
  /** Open file descriptors it may have (Unix only). */
  fdLimit?: number;
}

/**
 * Starts `server.ts` or `client.ts` with `deno run` and the permissions its
 * task gives, with piped stdin, stdout and stderr.
 */
export function spawnProgram(
  program: "server.ts" | "client.ts",
  args: string[],
  options: SpawnOptions = {},
): Subprocess {
  const permissions = program === "server.ts"
    ? [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env=CHAT_PASSWORD,CHAT_REDIS_URL",
      "--allow-sys=hostname,networkInterfaces",
    ]
    : ["--allow-net", "--allow-read", "--allow-env=CHAT_PASSWORD,NO_COLOR"];
  const deno = [
    Deno.execPath(),
    "run",
    "--quiet",
    ...permissions,
    `${ROOT}${program}`,
    ...args,
  ];
  // With a descriptor limit, a shell sets it (soft and hard, so that Deno
  // cannot raise it again) and then becomes the program.
  const [command, ...commandArgs] = options.fdLimit === undefined
    ? deno
    : ["sh", "-c", `ulimit -n ${options.fdLimit} && exec "$@"`, "sh", ...deno];
  const child = new Deno.Command(command, {
    args: commandArgs,
    cwd: options.cwd,
    env: options.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new LineCollector();
  const stderr = new LineCollector();
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    into: LineCollector,
  ) => {
    for await (const chunk of stream) into.push(chunk);
    into.end();
  };
  const pumps = Promise.all([
    pump(child.stdout, stdout),
    pump(child.stderr, stderr),
  ]);
  const stdin = child.stdin.getWriter();
  let stdinClosed = false;
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    child,
    stdout,
    stderr,
    write: (text) => stdin.write(encoder.encode(text)),
    async closeStdin() {
      if (stdinClosed) return;
      stdinClosed = true;
      await stdin.close().catch(() => {});
    },
    async status(timeoutMs = WAIT_MS) {
      await waitUntil(() => exited, `${program} to exit`, timeoutMs);
      await pumps;
      return await status;
    },
    async cleanup() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Gone already.
        }
      }
      if (!stdinClosed) {
        stdinClosed = true;
        await stdin.close().catch(() => {});
      }
      await status;
      await pumps;
    },
  };
}

/** Starts `server.ts` on port 0 and waits for its listening line. */
export async function spawnServer(
  args: string[],
  options: SpawnOptions = {},
): Promise<Subprocess & { port: number }> {
  // The web door takes a free port too, unless the test chose one or none.
  const web = args.includes("--web-port") || args.includes("--no-web")
    ? []
    : ["--web-port", "0"];
  const process = spawnProgram("server.ts", [
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    ...web,
    ...args,
  ], options);
  const line = await process.stdout.next(/^Server is listening on /, 15_000)
    .catch(async (error) => {
      await process.cleanup();
      throw new Error(
        `${error.message}; stderr: ${process.stderr.lines.join(" | ")}`,
      );
    });
  const port = Number(line.match(/:(\d+)\.\.\.$/)![1]);
  return { ...process, port };
}
