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
  "Invalid name: use 1-32 letters, digits, '_', '-', '.' or any of [ ] \\ ` ^ { } |. Please enter your name:";

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

/**
 * Reads `conn` into `onChunk` as it comes (a chunk is valid during the call
 * only) until it ends; resolves then, and on a failed TLS handshake, a reset
 * or our own close, which are the end too.
 */
export async function readAll(
  conn: { read(buffer: Uint8Array): Promise<number | null> },
  onChunk: (chunk: Uint8Array) => void,
  bufferBytes = 64 * 1024,
): Promise<void> {
  const buffer = new Uint8Array(bufferBytes);
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return;
      onChunk(buffer.subarray(0, n));
    }
  } catch {
    // The end either way.
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

/**
 * What a stream brought so far (lines, frames), in order, to wait on: every
 * test client's waits are these. A wait looks every few milliseconds (as
 * {@linkcode waitUntil} does), and fails with what came last after its
 * timeout, or when the stream ends.
 */
export class Arrivals<T> {
  /** Everything so far. */
  readonly items: T[] = [];
  /** Whether the stream has ended. */
  ended = false;
  #cursor = 0;

  /** Adds items that arrived. */
  add(...items: T[]): void {
    this.items.push(...items);
  }

  /** Marks the end of the stream. */
  end(): void {
    this.ended = true;
  }

  /**
   * Waits for the next item (after those already waited for) that
   * `match`es, and returns it; `what` names it in the error. Items skipped
   * over are not looked at again.
   */
  async next(
    match: (item: T) => boolean,
    timeoutMs = WAIT_MS,
    what = `an item matching ${String(match)}`,
  ): Promise<T> {
    let found: { item: T } | undefined;
    await waitUntil(
      () => {
        while (this.#cursor < this.items.length) {
          const item = this.items[this.#cursor++];
          if (match(item)) {
            found = { item };
            return true;
          }
        }
        return this.ended;
      },
      `${what} (got ${this.#last(5)})`,
      timeoutMs,
    );
    if (found === undefined) {
      throw new Error(`Stream ended before ${what}; last: ${this.#last(10)}`);
    }
    return found.item;
  }

  /** The items from the cursor on, up to and including one that matches. */
  async until(
    match: (item: T) => boolean,
    timeoutMs = WAIT_MS,
    what?: string,
  ): Promise<T[]> {
    const from = this.#cursor;
    await this.next(match, timeoutMs, what);
    return this.items.slice(from, this.#cursor);
  }

  /** Skips what came so far: later waits look at newer items only. */
  skip(): void {
    this.#cursor = this.items.length;
  }

  /** Waits for the stream to end. */
  async closed(timeoutMs = WAIT_MS): Promise<void> {
    await waitUntil(() => this.ended, "the stream to end", timeoutMs);
  }

  #last(count: number): string {
    return JSON.stringify(this.items.slice(-count));
  }
}

/** Collects the lines of a byte stream as they arrive, for waiting on. */
export class LineCollector extends Arrivals<string> {
  #partial = "";

  /** Every complete line so far, without `\n`. */
  get lines(): string[] {
    return this.items;
  }

  /** Adds a chunk of the stream. */
  push(chunk: Uint8Array): void {
    const text = this.#partial + decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.#partial = parts.pop()!;
    if (parts.length > 0) this.add(...parts);
  }

  /**
   * Waits for the next line (after those already waited for) that matches,
   * and returns it. Lines skipped over are not looked at again.
   */
  override next(match: LineMatch, timeoutMs = WAIT_MS): Promise<string> {
    return super.next(
      lineTest(match),
      timeoutMs,
      `a line matching ${String(match)}`,
    );
  }

  /** The lines from the cursor on, up to and including one that matches. */
  override until(match: LineMatch, timeoutMs = WAIT_MS): Promise<string[]> {
    return super.until(
      lineTest(match),
      timeoutMs,
      `a line matching ${String(match)}`,
    );
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

/**
 * A chat client on a real socket (TCP, or TLS), for tests; closed at the
 * end of a scope when held with `await using`.
 */
export class TestClient implements AsyncDisposable {
  /** What the server sent. */
  readonly received: LineCollector = new LineCollector();
  /** The raw connection. */
  readonly conn: Deno.Conn;
  #reading: Promise<void>;

  private constructor(conn: Deno.Conn, options: { read: boolean }) {
    this.conn = conn;
    this.#reading = options.read
      ? readAll(conn, (chunk) => this.received.push(chunk))
        .then(() => this.received.end())
      : Promise.resolve();
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
    closeQuietly(this.conn);
    await this.#reading;
  }

  /** Closes it (see {@linkcode TestClient.close}). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Something a test opens and must close: disposable, or with `close()`. */
export type Closable = AsyncDisposable | Disposable | {
  close(): unknown;
};

// Closes `thing`: its own disposal if it has one (safe to call again), else
// `close()`, which a raw socket refuses the second time.
async function closeThing(thing: Closable): Promise<void> {
  if (Symbol.asyncDispose in thing) await thing[Symbol.asyncDispose]();
  else if (Symbol.dispose in thing) thing[Symbol.dispose]();
  else {
    try {
      await thing.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }
}

/**
 * What a test opened (clients, sockets, subprocesses, temp dirs), closed at
 * its end whatever happens, the last opened first:
 * `await using scope = new TestScope();`, or {@linkcode scoped}.
 */
export class TestScope implements AsyncDisposable {
  #stack = new AsyncDisposableStack();

  // The members below are own properties, so that a test may take them out
  // (`scoped(async ({ join, track }) => ...)`).

  /** Closes `thing` at the end; returns it. */
  readonly track = <T extends Closable>(thing: T): T => {
    this.#stack.defer(() => closeThing(thing));
    return thing;
  };

  /** Runs `cleanup` at the end. */
  readonly defer = (cleanup: () => unknown): void => {
    this.#stack.defer(async () => {
      await cleanup();
    });
  };

  /** A new temp dir, removed at the end. */
  readonly tempDir = async (prefix = "chat_test_"): Promise<string> => {
    const dir = await Deno.makeTempDir({ prefix });
    this.defer(() => Deno.remove(dir, { recursive: true }));
    return dir;
  };

  /** Connects a {@linkcode TestClient} to `port`, closed at the end. */
  readonly connect = async (
    port: number,
    options: { read?: boolean } = {},
  ): Promise<TestClient> => this.track(await TestClient.connect(port, options));

  /** Connects to `port` and registers `name`; closed at the end. */
  readonly join = async (port: number, name: string): Promise<TestClient> => {
    const client = await this.connect(port);
    await client.register(name);
    return client;
  };

  /** Starts a program (see {@linkcode spawnProgram}), killed at the end. */
  readonly spawn = (
    program: "server.ts" | "client.ts",
    args: string[],
    options?: SpawnOptions,
  ): Subprocess => this.track(spawnProgram(program, args, options));

  /** Closes everything, the last opened first; safe to call twice. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#stack.disposed) await this.#stack.disposeAsync();
  }
}

/**
 * Runs `body` with a new {@linkcode TestScope} and a fresh temp dir (`dir`),
 * and closes everything it opened afterwards, whatever happens.
 */
export async function scoped<T>(
  body: (scope: TestScope & { readonly dir: string }) => Promise<T>,
): Promise<T> {
  await using scope = new TestScope();
  const dir = await scope.tempDir();
  return await body(Object.assign(scope, { dir }));
}

/**
 * An in-process server on a free port, with its log and console, and the
 * clients a test opened on it: `await using ts = await startTestServer()`
 * closes them, shuts the server down and removes the log.
 */
export class TestServer implements AsyncDisposable {
  /** The server. */
  readonly server: ChatServer;
  /** Its port. */
  readonly port: number;
  /** Its web door's port, if it was asked for one. */
  readonly webPort: number | null;
  /** Its log file (a temp file, removed at the end). */
  readonly logPath: string;
  /** Every console line so far. */
  readonly console: string[];
  /** Everything opened on it, closed before it shuts down. */
  readonly scope: TestScope = new TestScope();
  #dir: string;
  #cleaning: Promise<void> | null = null;

  /** Takes a started server; see {@linkcode startTestServer}. */
  constructor(
    server: ChatServer,
    options: { dir: string; logPath: string; console: string[] },
  ) {
    this.server = server;
    this.port = server.addr.port;
    this.webPort = server.webAddr?.port ?? null;
    this.logPath = options.logPath;
    this.console = options.console;
    this.#dir = options.dir;
  }

  // The methods below are own properties, so that a test may take them out
  // (`async ({ join }) => ...`).

  /** Connects without registering; closed at the end. */
  readonly connect = (options: { read?: boolean } = {}): Promise<TestClient> =>
    this.scope.connect(this.port, options);

  /** Connects and registers `name`, waiting for the whole welcome. */
  readonly join = (name: string): Promise<TestClient> =>
    this.scope.join(this.port, name);

  /** Closes `thing` at the end, before the server shuts down. */
  readonly track = <T extends Closable>(thing: T): T => this.scope.track(thing);

  /** The log's events so far (without timestamps). */
  readonly events = (): string[] => readLogEventsSync(this.logPath);

  /** Waits until the log holds `event` (it is written in batches). */
  readonly logged = (event: string, timeoutMs = WAIT_MS): Promise<void> =>
    waitUntil(
      () => this.events().includes(event),
      `the log to hold ${JSON.stringify(event)}`,
      timeoutMs,
    );

  /**
   * Closes what was opened on it, shuts the server down and removes the
   * log; safe to call twice.
   */
  readonly cleanup = (): Promise<void> =>
    this.#cleaning ??= (async () => {
      try {
        await this.scope[Symbol.asyncDispose]();
      } finally {
        await this.server.shutdown();
        await Deno.remove(this.#dir, { recursive: true });
      }
    })();

  /** The same as {@linkcode TestServer.cleanup}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.cleanup();
  }
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
  return new TestServer(server, { dir, logPath, console: consoleLines });
}

/**
 * Runs `body` against a fresh in-process server (see
 * {@linkcode startTestServer}); closes every client it opened on it and
 * shuts it down afterwards, whatever happens.
 */
export async function withServer(
  options: ChatServerOptions & { webPort?: number },
  body: (ts: TestServer) => Promise<void>,
): Promise<void> {
  await using ts = await startTestServer(options);
  await body(ts);
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

/**
 * A program of this project run as a subprocess; killed at the end of a
 * scope when held with `await using`.
 */
export interface Subprocess extends AsyncDisposable {
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
    : [
      "--allow-net",
      "--allow-read",
      "--allow-env=CHAT_PASSWORD,CHAT_ACCOUNT_PASSWORD,NO_COLOR",
    ];
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
  const process: Subprocess = {
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
    [Symbol.asyncDispose]: () => process.cleanup(),
  };
  return process;
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
