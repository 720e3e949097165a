/**
 * A real HAProxy for tests: Debian's `/usr/sbin/haproxy` in `mode tcp`,
 * run in the foreground (`-db`) from a generated config in a temporary
 * directory, with frontends on free 127.0.0.1 ports, each in front of one
 * backend server that gets a PROXY header (`send-proxy`, `send-proxy-v2`)
 * or none.
 *
 * @example
 * ```ts
 * await using haproxy = await startHaproxy({
 *   frontends: [{ backendPort: chatPort, sendProxy: "v1" }],
 * });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: haproxy.ports[0] });
 * ```
 *
 * @module
 */

/** Where Debian installs HAProxy. */
export const HAPROXY_PATH = "/usr/sbin/haproxy";

/** One frontend and the one server behind it. */
export interface HaproxyFrontend {
  /** The port of the server on 127.0.0.1 it forwards to. */
  backendPort: number;
  /** The header it sends first: `send-proxy` (v1), `send-proxy-v2`, or none. */
  sendProxy: "v1" | "v2" | "none";
  /**
   * More words for the `server` line, such as `["check", "inter", "100ms"]`
   * (health checks, which send a v2 LOCAL header) or
   * `["proxy-v2-options", "crc32c"]` (a TLV).
   */
  serverOptions?: string[];
  /**
   * More lines for the backend section, such as
   * `["option tcp-check", "tcp-check connect default linger"]`: health
   * checks that end with a FIN, where plain `check` ends with a reset.
   */
  backendLines?: string[];
  /**
   * `http` for a web door: HAProxy then adds `X-Forwarded-For` (`option
   * forwardfor`) instead of a PROXY header, which Deno.serve cannot read.
   * Default `tcp`.
   */
  mode?: "tcp" | "http";
}

/** Options of {@linkcode startHaproxy}. */
export interface HaproxyOptions {
  /** The frontends, in the order of {@linkcode Haproxy.ports}. */
  frontends: HaproxyFrontend[];
  /** The program. Default {@linkcode HAPROXY_PATH}. */
  program?: string;
  /** Longest wait for the frontends to accept. Default 10000. */
  startTimeoutMs?: number;
}

/** A running HAProxy; `stop()` (or `await using`) ends it. */
export interface Haproxy extends AsyncDisposable {
  /** The frontend ports on 127.0.0.1, in the order of the options. */
  readonly ports: number[];
  /** The config it runs with, for error messages. */
  readonly config: string;
  /** What it printed on stderr so far (warnings, alerts). */
  output(): string;
  /** Stops the process and removes its directory; harmless to repeat. */
  stop(): Promise<void>;
}

/** How long HAProxy may take to exit on SIGTERM before it is killed. */
const STOP_MS = 5_000;

/** Times to try again when a port taken meanwhile keeps HAProxy from starting. */
const START_ATTEMPTS = 3;

/**
 * Starts HAProxy with one frontend per entry of `options.frontends` and
 * resolves once they accept connections. Probing them would send a
 * connection through to the backends, so it probes instead an extra
 * frontend, bound after them, that rejects every connection: HAProxy binds
 * all its listeners before it runs, so that one accepting means all do.
 */
export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const dir = await Deno.makeTempDir({ prefix: "haproxy_test_" });
  try {
    for (let attempt = 1;; attempt++) {
      try {
        return await startIn(dir, options);
      } catch (error) {
        // A free port found by binding port 0 may be taken before HAProxy
        // binds it: try with new ports. Any other failure is final.
        if (!(error instanceof PortTaken) || attempt === START_ATTEMPTS) {
          throw error;
        }
      }
    }
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

class PortTaken extends Error {}

async function startIn(dir: string, options: HaproxyOptions): Promise<Haproxy> {
  const [readyPort, ...ports] = freePorts(options.frontends.length + 1);
  const config = makeConfig(options.frontends, ports, readyPort);
  const configPath = `${dir}/haproxy.cfg`;
  await Deno.writeTextFile(configPath, config);
  const child = new Deno.Command(options.program ?? HAPROXY_PATH, {
    args: ["-db", "-f", configPath],
    cwd: dir,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const stderrDone = child.stderr
    .pipeThrough(new TextDecoderStream())
    .pipeTo(
      new WritableStream({
        write(chunk) {
          stderr += chunk;
        },
      }),
    )
    .catch(() => {});
  let exited = false;
  const status = child.status.then((status) => {
    exited = true;
    return status;
  });

  let stopped = false;
  const stop = async (removeDir: boolean) => {
    if (!stopped) {
      stopped = true;
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // It exited meanwhile.
        }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // It exited meanwhile.
          }
        }, STOP_MS);
        await status;
        clearTimeout(timer);
      }
      await stderrDone;
    }
    if (removeDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };

  const startTimeout = options.startTimeoutMs ?? 10_000;
  const deadline = performance.now() + startTimeout;
  try {
    while (!(await accepts(readyPort))) {
      if (exited || performance.now() > deadline) {
        const why = exited
          ? `exited with code "${(await status).code}"`
          : `did not accept on port "${readyPort}" within ${startTimeout} ms`;
        await stop(false);
        if (
          exited && /cannot bind socket|Address already in use/.test(stderr)
        ) {
          throw new PortTaken(why);
        }
        throw new Error(
          `HAProxy ${why}; its output:\n${stderr.trim()}\nits config:\n${config}`,
        );
      }
      // Polling, not waiting: the loop ends as soon as the port accepts.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } catch (error) {
    await stop(false);
    throw error;
  }

  return {
    ports,
    config,
    output: () => stderr,
    stop: () => stop(true),
    [Symbol.asyncDispose]: () => stop(true),
  };
}

function makeConfig(
  frontends: readonly HaproxyFrontend[],
  ports: readonly number[],
  readyPort: number,
): string {
  const lines = [
    "global",
    "  maxconn 1000",
    "  nbthread 1",
    "",
    "defaults",
    "  mode tcp",
    "  timeout connect 2s",
    "  timeout client 30s",
    "  timeout server 30s",
  ];
  frontends.forEach((frontend, i) => {
    const send = { v1: ["send-proxy"], v2: ["send-proxy-v2"], none: [] }[
      frontend.sendProxy
    ];
    const server = [
      "server",
      "s1",
      `127.0.0.1:${frontend.backendPort}`,
      ...send,
      ...(frontend.serverOptions ?? []),
    ];
    const http = frontend.mode === "http"
      ? ["  mode http", "  option forwardfor"]
      : [];
    lines.push(
      "",
      `frontend f${i}`,
      `  bind 127.0.0.1:${ports[i]}`,
      ...http,
      `  default_backend b${i}`,
      "",
      `backend b${i}`,
      ...(frontend.mode === "http" ? ["  mode http"] : []),
      ...(frontend.backendLines ?? []).map((line) => `  ${line}`),
      `  ${server.join(" ")}`,
    );
  });
  // Last, so that it accepting means every frontend above is bound.
  lines.push(
    "",
    "frontend ready",
    `  bind 127.0.0.1:${readyPort}`,
    "  tcp-request connection reject",
  );
  return lines.join("\n") + "\n";
}

// Ports that were free a moment ago, all different: each is held bound
// until all are found, since a port just released may be handed out again,
// and HAProxy (with SO_REUSEPORT) would share one port between frontends.
function freePorts(count: number): number[] {
  const listeners: Deno.Listener[] = [];
  try {
    for (let i = 0; i < count; i++) {
      listeners.push(Deno.listen({ hostname: "127.0.0.1", port: 0 }));
    }
    return listeners.map((listener) => (listener.addr as Deno.NetAddr).port);
  } finally {
    for (const listener of listeners) listener.close();
  }
}

// Whether a connection to `port` is accepted; it is closed at once.
async function accepts(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
