/**
 * Test helpers: a line-oriented test client on a real socket, servers
 * in-process and as subprocesses, and waits with named timeouts.
 *
 * @module
 */

import {
  type ChatServer,
  type ChatServerOptions,
  startChatServer,
} from "../lib/chat_server.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The default time a wait may take before the test fails. */
export const WAIT_MS = 5_000;

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
  async next(
    match: string | RegExp | ((line: string) => boolean),
    timeoutMs = WAIT_MS,
  ): Promise<string> {
    const test = typeof match === "string"
      ? (line: string) => line === match
      : match instanceof RegExp
      ? (line: string) => match.test(line)
      : match;
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

/** A chat client on a real TCP socket, for tests. */
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

  /** Connects and registers `name`, waiting for the whole welcome. */
  static async join(port: number, name: string): Promise<TestClient> {
    const client = await TestClient.connect(port);
    await client.received.next("Hello client. Please enter your name:");
    await client.send(name);
    await client.received.next(
      "Type '/who' to see who is online, '/help' for all commands.",
    );
    return client;
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
      // Reset or closed by us: the stream has ended either way.
    } finally {
      this.received.end();
    }
  }

  /** Sends one line (a `\n` is added). */
  send(line: string): Promise<void> {
    return this.sendRaw(encoder.encode(line + "\n"));
  }

  /** Sends bytes as they are, in one write call (looping on partial writes). */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      offset += await this.conn.write(bytes.subarray(offset));
    }
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
  /** Its log file (a temp file, removed by `cleanup`). */
  logPath: string;
  /** Every console line so far. */
  console: string[];
  /** Shuts the server down and removes the log. */
  cleanup(): Promise<void>;
}

/** Starts a server in-process on 127.0.0.1, port 0, with a temp log. */
export async function startTestServer(
  options: ChatServerOptions = {},
): Promise<TestServer> {
  const dir = await Deno.makeTempDir({ prefix: "chat_test_" });
  const logPath = options.logPath ?? `${dir}/chat_documentation.txt`;
  const consoleLines: string[] = [];
  const server = await startChatServer({
    hostname: "127.0.0.1",
    port: 0,
    ...options,
    logPath,
    onConsole: (line) => {
      consoleLines.push(line);
      options.onConsole?.(line);
    },
  });
  return {
    server,
    port: server.addr.port,
    logPath,
    console: consoleLines,
    async cleanup() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Reads the log's lines without their timestamps. */
export async function readLogEvents(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l !== "").map((line) => {
    const space = line.indexOf(" ");
    return line.slice(space + 1);
  });
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

/**
 * Starts `server.ts` or `client.ts` with `deno run` and the permissions its
 * task gives, with piped stdin, stdout and stderr.
 */
export function spawnProgram(
  program: "server.ts" | "client.ts",
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Subprocess {
  const permissions = program === "server.ts"
    ? [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env=CHAT_PASSWORD",
    ]
    : ["--allow-net", "--allow-read", "--allow-env=CHAT_PASSWORD"];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...permissions, `${ROOT}${program}`, ...args],
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
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Subprocess & { port: number }> {
  const process = spawnProgram("server.ts", [
    "--port",
    "0",
    "--host",
    "127.0.0.1",
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
