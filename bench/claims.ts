/**
 * Name-claim latency: C clients register one after the other (never two at
 * once) over the TCP line protocol; each measures the time from writing
 * its name to reading `Welcome NAME!`, then says `exit` and waits for the
 * server to close before the next one starts. With the Redis engine that
 * is one claim script in Redis (`EVALSHA`) per registration; with the
 * memory engine a map lookup. Clients go to the target's ports in turn
 * (`ports[i % ports.length]`), so with two nodes every other claim is
 * made on the other node.
 *
 * @module
 */

import { clientName, decoder, encoder } from "./codec.ts";
import { errText, type RunContext } from "./load_client.ts";
import {
  cpuBetween,
  cpuByProcess,
  type CpuUse,
  type ProcSample,
  sampleEach,
  sumSamples,
  type Target,
} from "./proc.ts";
import { Histogram, type LatencySummary, raceTimeout } from "./stats.ts";

/** Options for {@linkcode runClaims}. */
export interface ClaimsOptions {
  target: Target;
  /** Chat ports to use in turn (default `[target.port]`). */
  ports?: number[];
  ctx: RunContext;
  /** Name tag of this run (3 chars). */
  tag: string;
  /** Measured registrations. */
  claims: number;
  /** Unmeasured registrations first (connections, JIT, subscription). */
  warmupClaims: number;
  /** Longest wait for one line from the server. */
  stepTimeoutMs: number;
  /** Deadline of the whole scenario. */
  timeoutMs: number;
}

/** Result of the claims scenario. */
export interface ClaimsResult {
  scenario: "claims";
  /** Measured registrations that completed. */
  claims: number;
  /** Nodes the claims went to in turn. */
  nodes: number;
  seconds: number;
  claimsPerSec: number;
  /** Name written to `Welcome NAME!` read. */
  claimMs: LatencySummary;
  /** Connect to greeting read (for comparison: no engine involved). */
  greetingMs: LatencySummary;
  /** CPU of every server process together over the measured claims. */
  server: {
    cpu: CpuUse | null;
    cpuByProcess: { label: string; cpuPct: number }[] | null;
    /** Server CPU µs per measured registration (connect to close). */
    usPerClaim: number | null;
  };
  ok: boolean;
}

const GREETING = "Hello client. Please enter your name:";

/** Reads lines from `conn`; each `next()` bounded by `timeoutMs`. */
class Lines {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(4096);
  #rest = "";
  #timeoutMs: number;

  constructor(conn: Deno.TcpConn, timeoutMs: number) {
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
  }

  /** The next line (without `\r\n`), or null at EOF. Throws on timeout. */
  async next(): Promise<string | null> {
    while (true) {
      const nl = this.#rest.indexOf("\n");
      if (nl >= 0) {
        const line = this.#rest.slice(0, nl).replace(/\r$/, "");
        this.#rest = this.#rest.slice(nl + 1);
        return line;
      }
      const n = await raceTimeout(this.#conn.read(this.#buf), this.#timeoutMs);
      if (n === undefined) {
        throw new Error(`no line from the server within ${this.#timeoutMs} ms`);
      }
      if (n === null) return null;
      this.#rest += decoder.decode(this.#buf.subarray(0, n));
      if (this.#rest.length > 1 << 20) throw new Error("line too long");
    }
  }
}

/** One registration; returns [greeting ms, claim ms]. */
async function claimOnce(
  host: string,
  port: number,
  name: string,
  stepTimeoutMs: number,
): Promise<[number, number]> {
  const t0 = performance.now();
  const conn = await Deno.connect({ hostname: host, port, transport: "tcp" });
  try {
    conn.setNoDelay(true);
    const lines = new Lines(conn, stepTimeoutMs);
    const greeting = await lines.next();
    if (greeting !== GREETING) {
      throw new Error(`expected the greeting, got ${JSON.stringify(greeting)}`);
    }
    const t1 = performance.now();
    await conn.write(encoder.encode(name + "\n"));
    const welcome = await lines.next();
    const t2 = performance.now();
    if (welcome !== `Welcome ${name}!`) {
      throw new Error(`name ${name} not accepted: ${JSON.stringify(welcome)}`);
    }
    await conn.write(encoder.encode("exit\n"));
    // Bounded: the server closes after "Goodbye NAME!".
    for (let i = 0; i < 10_000; i++) {
      if (await lines.next() === null) break;
    }
    return [t1 - t0, t2 - t1];
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the server
    }
  }
}

/** Runs the name-claim latency scenario. */
export async function runClaims(
  opts: ClaimsOptions,
): Promise<ClaimsResult | null> {
  const { target, ctx } = opts;
  const ports = opts.ports ?? [target.port];
  const claimHist = new Histogram();
  const greetHist = new Histogram();
  const deadline = performance.now() + opts.timeoutMs;
  const total = opts.warmupClaims + opts.claims;
  let eachA: ProcSample[] | null = null;
  let tA = performance.now();
  let done = 0;
  for (let i = 0; i < total && !ctx.failed; i++) {
    if (performance.now() > deadline) {
      ctx.fail(
        `claims: only ${done} of ${opts.claims} within ${opts.timeoutMs} ms`,
      );
      break;
    }
    if (i === opts.warmupClaims) {
      eachA = await sampleEach(target);
      tA = performance.now();
    }
    const name = clientName(opts.tag, i);
    try {
      const [greetMs, claimMs] = await claimOnce(
        target.host,
        ports[i % ports.length],
        name,
        opts.stepTimeoutMs,
      );
      if (i >= opts.warmupClaims) {
        greetHist.record(greetMs * 1000);
        claimHist.record(claimMs * 1000);
        done++;
      }
    } catch (err) {
      ctx.fail(`claims: client ${name}: ${errText(err)}`);
    }
  }
  const eachB = await sampleEach(target);
  const seconds = (performance.now() - tA) / 1000;
  if (done === 0) return null;
  const cpu = cpuBetween(sumSamples(eachA), sumSamples(eachB));
  return {
    scenario: "claims",
    claims: done,
    nodes: ports.length,
    seconds,
    claimsPerSec: done / seconds,
    claimMs: claimHist.summary(),
    greetingMs: greetHist.summary(),
    server: {
      cpu,
      cpuByProcess: cpuByProcess(target, eachA, eachB),
      usPerClaim: cpu ? (cpu.cpuSec * 1e6) / done : null,
    },
    ok: done === opts.claims && !ctx.failed,
  };
}
