/**
 * A real `redis-server` for tests: on a free loopback port, in a temporary
 * directory, with nothing saved to disk, stopped with `await using`.
 * Optionally over TLS, with a throwaway CA made by `openssl`.
 *
 * @module
 */

/** Options of {@linkcode RedisServer.start}. */
export interface RedisServerOptions {
  /** Makes the server ask for this password (`--requirepass`). */
  password?: string;
  /**
   * Serves TLS only (`rediss://`), with a certificate for 127.0.0.1 signed
   * by a CA made for this server; see {@linkcode RedisServer.caCert}.
   */
  tls?: boolean;
  /** More `redis-server` arguments, such as `["--maxmemory", "10mb"]`. */
  args?: string[];
  /** The program. Default Debian's `/usr/bin/redis-server`. */
  program?: string;
  /** Longest wait for the server to answer PING. Default 10000. */
  startTimeoutMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A port that was free a moment ago: bound with port 0, then released. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * One `redis-server` process. `kill()` stops it (as a crash would, with
 * SIGKILL by default), `restart()` starts it again on the same port, and
 * `stop()` (or `await using`) ends it for good and removes its directory.
 *
 * @example
 * ```ts
 * await using redis = await RedisServer.start();
 * const client = await RedisClient.connect({ url: redis.url });
 * ```
 */
export class RedisServer implements AsyncDisposable {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
  /** The password it asks for, if any. */
  readonly password: string | undefined;
  /** The CA certificate (PEM) to trust, when it serves TLS. */
  readonly caCert: string | undefined;
  #program: string;
  #args: string[];
  #dir: string;
  #startTimeout: number;
  #child: Deno.ChildProcess | null = null;
  #stopped = false;

  private constructor(
    port: number,
    dir: string,
    caCert: string | undefined,
    options: RedisServerOptions,
  ) {
    this.port = port;
    this.password = options.password;
    this.caCert = caCert;
    this.#dir = dir;
    this.#program = options.program ?? "/usr/bin/redis-server";
    this.#startTimeout = options.startTimeoutMs ?? 10_000;
    const listen = caCert === undefined ? ["--port", String(port)] : [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      `${dir}/server.pem`,
      "--tls-key-file",
      `${dir}/server.key`,
      "--tls-ca-cert-file",
      `${dir}/ca.pem`,
      "--tls-auth-clients",
      "no",
    ];
    this.#args = [
      ...listen,
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--logfile",
      `${dir}/redis.log`,
      "--daemonize",
      "no",
      ...(options.password === undefined
        ? []
        : ["--requirepass", options.password]),
      ...(options.args ?? []),
    ];
  }

  /** Starts a server and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "redis_test_" });
    let server: RedisServer | undefined;
    try {
      const caCert = options.tls ? await makeCertificates(dir) : undefined;
      server = new RedisServer(freePort(), dir, caCert, options);
      await server.#spawn();
    } catch (error) {
      if (server === undefined) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      } else {
        await server.stop();
      }
      throw error;
    }
    return server;
  }

  /** `redis[s]://[:PASSWORD@]127.0.0.1:PORT`, for the client. */
  get url(): string {
    const auth = this.password === undefined
      ? ""
      : `:${encodeURIComponent(this.password)}@`;
    const scheme = this.caCert === undefined ? "redis" : "rediss";
    return `${scheme}://${auth}127.0.0.1:${this.port}`;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#child !== null;
  }

  /**
   * Sends `signal` and waits until the process has exited; `SIGSTOP` and
   * `SIGCONT` only freeze and thaw it (a hung server), so they do not wait.
   */
  async kill(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    if (signal === "SIGSTOP" || signal === "SIGCONT") {
      child.kill(signal);
      return;
    }
    this.#child = null;
    // A frozen process would not act on a signal that can be handled.
    if (signal !== "SIGKILL") {
      try {
        child.kill("SIGCONT");
      } catch {
        // It had exited already.
      }
    }
    try {
      child.kill(signal);
    } catch {
      // It had exited already.
    }
    await child.status;
  }

  /** Starts it again on the same port (killing it first if it runs). */
  async restart(): Promise<void> {
    if (this.#stopped) throw new Error("The Redis server was stopped");
    await this.kill();
    await this.#spawn();
  }

  /** Ends the process and removes its directory; harmless to repeat. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.kill();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }

  /** Same as {@linkcode RedisServer.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #spawn(): Promise<void> {
    const child = new Deno.Command(this.#program, {
      args: this.#args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#child = child;
    let exited = false;
    child.status.then(() => exited = true);
    const deadline = performance.now() + this.#startTimeout;
    while (!(await this.#answersPing())) {
      if (exited || performance.now() > deadline) {
        const log = await Deno.readTextFile(`${this.#dir}/redis.log`)
          .catch(() => "");
        await this.kill();
        throw new Error(
          `redis-server on port "${this.port}" ${
            exited
              ? "exited"
              : `did not answer PING within ${this.#startTimeout} ms`
          }; its log:\n${log.split("\n").slice(-10).join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  // One PING on a fresh connection. A server that wants a password answers
  // NOAUTH: it is up all the same.
  async #answersPing(): Promise<boolean> {
    let conn: Deno.Conn;
    try {
      conn = this.caCert === undefined
        ? await Deno.connect({ hostname: "127.0.0.1", port: this.port })
        : await Deno.connectTls({
          hostname: "127.0.0.1",
          port: this.port,
          caCerts: [this.caCert],
        });
    } catch {
      return false;
    }
    try {
      await conn.write(encoder.encode("PING\r\n"));
      const buffer = new Uint8Array(256);
      const count = await conn.read(buffer);
      if (count === null) return false;
      const reply = decoder.decode(buffer.subarray(0, count));
      return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
    } catch {
      return false;
    } finally {
      conn.close();
    }
  }
}

// A CA and a server certificate for 127.0.0.1 signed by it, in `dir`, as
// `ca.pem`, `server.pem` and `server.key`; returns the CA certificate. A
// self-signed server certificate would not do: rustls refuses a CA
// certificate as the server's own.
async function makeCertificates(dir: string): Promise<string> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n" +
      "basicConstraints=CA:FALSE\n" +
      "extendedKeyUsage=serverAuth\n",
  );
  const steps = [
    ["req", "-x509", ...ec, "-nodes", "-days", "1", "-subj", "/CN=Test CA"]
      .concat(["-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.pem`]),
    ["req", ...ec, "-nodes", "-subj", "/CN=127.0.0.1"]
      .concat(["-keyout", `${dir}/server.key`, "-out", `${dir}/server.csr`]),
    ["x509", "-req", "-days", "1", "-in", `${dir}/server.csr`]
      .concat(["-CA", `${dir}/ca.pem`, "-CAkey", `${dir}/ca.key`])
      .concat(["-CAcreateserial", "-CAserial", `${dir}/ca.srl`])
      .concat(["-extfile", `${dir}/server.ext`, "-out", `${dir}/server.pem`]),
  ];
  for (const args of steps) {
    const { success, stderr } = await new Deno.Command("openssl", {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(
        `"openssl ${args[0]}" failed: ${new TextDecoder().decode(stderr)}`,
      );
    }
  }
  return await Deno.readTextFile(`${dir}/ca.pem`);
}
