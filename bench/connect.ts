/**
 * Connect scenario: N clients connect and register (bounded concurrency),
 * then idle until every join notice has been delivered; measures the time
 * and the server's memory per connection, then closes all connections.
 *
 * @module
 */

import { clientName } from "./codec.ts";
import {
  type BenchClient,
  connectAll,
  type Dialer,
  JoinCounter,
  type LineHandler,
  type RunContext,
} from "./load_client.ts";
import {
  cpuBetween,
  type CpuUse,
  sampleProc,
  sampleTarget,
  type Target,
  waitQuiet,
} from "./proc.ts";
import {
  Histogram,
  type LatencySummary,
  raceTimeout,
  waitUntil,
} from "./stats.ts";

/** Options for {@linkcode runConnect}. */
export interface ConnectOptions {
  target: Target;
  ctx: RunContext;
  tag: string;
  clients: number;
  concurrency: number;
  readBufSize: number;
  /** Seconds to idle after everything settled (RSS is sampled at the end). */
  idleSeconds: number;
  /** Opens one client (default: TCP line protocol). */
  dial?: Dialer;
  /** Excess join notices only warn (see `FanoutOptions.extraJoinsOk`). */
  extraJoinsOk?: boolean;
  /** False: the server announces no joins (the Python original). */
  joinNotices?: boolean;
}

/** Result of the connect scenario. */
export interface ConnectResult {
  scenario: "connect";
  clients: number;
  concurrency: number;
  /** First connect to last welcome. */
  registerMs: number;
  registrationsPerSec: number;
  /** Per-client connect → welcome. */
  registerLatencyMs: LatencySummary;
  /** First connect until all N(N−1)/2 join notices were received. */
  settleMs: number | null;
  joinNotices: number;
  server: {
    rssIdleKiB: number | null;
    rssConnectedKiB: number | null;
    kibPerConnection: number | null;
    rssAfterCloseKiB: number | null;
    /** CPU spent from first connect until settled. */
    cpu: CpuUse | null;
  };
  /** Generator CPU from first connect until settled. */
  generator: { cpu: CpuUse | null };
  /** From closing all connections until the server's CPU went quiet. */
  closeSettleMs: number | null;
  ok: boolean;
}

class CountingHandler implements LineHandler {
  readonly joins: JoinCounter;
  readonly #ctx: RunContext;
  constructor(tag: string, ctx: RunContext) {
    this.joins = new JoinCounter(tag);
    this.#ctx = ctx;
  }
  onLine(
    client: BenchClient,
    buf: Uint8Array,
    start: number,
    end: number,
  ): void {
    if (this.joins.count(buf, start, end)) return;
    this.#ctx.warn(
      "connect-unexpected",
      `connect: unexpected line for ${client.name}: ${
        JSON.stringify(new TextDecoder().decode(buf.subarray(start, end)))
      }`,
    );
  }
}

/** Runs the connect/idle scenario. */
export async function runConnect(
  opts: ConnectOptions,
): Promise<ConnectResult | null> {
  const { target, ctx } = opts;
  const handler = new CountingHandler(opts.tag, ctx);
  const [idle, genIdle] = await Promise.all([
    sampleTarget(target),
    sampleProc(Deno.pid),
  ]);
  const t0 = performance.now();
  const reg = await connectAll({
    host: target.host,
    port: target.port,
    count: opts.clients,
    concurrency: opts.concurrency,
    readBufSize: opts.readBufSize,
    handler,
    ctx,
    dial: opts.dial,
    nameOf: (i) => clientName(opts.tag, i),
    timeoutMs: 300_000,
  });
  const clients = reg.clients;
  try {
    if (!reg.complete) {
      ctx.fail(`connect: only ${clients.length} of ${opts.clients} registered`);
      return null;
    }
    const regHist = new Histogram();
    for (const c of clients) {
      regHist.record((c.registeredAt - c.connectStartedAt) * 1000);
    }
    const expectedJoins = opts.joinNotices === false
      ? 0
      : (opts.clients * (opts.clients - 1)) / 2;
    const settled = await waitUntil(
      () => handler.joins.joins >= expectedJoins,
      {
        timeoutMs: 300_000,
        stallMs: 15_000,
        progress: () => handler.joins.joins,
        pollMs: 10,
      },
    );
    const settleMs = settled ? performance.now() - t0 : null;
    if (!settled) {
      ctx.fail(
        `connect: only ${handler.joins.joins} of ${expectedJoins} join notices arrived`,
      );
    }
    const [busy, genBusy] = await Promise.all([
      sampleTarget(target),
      sampleProc(Deno.pid),
    ]);
    // Let the server settle (GC, buffers) before reading RSS.
    await waitUntil(() => false, { timeoutMs: opts.idleSeconds * 1000 });
    const connected = await sampleTarget(target);
    if (handler.joins.joins > expectedJoins) {
      const msg =
        `connect: ${handler.joins.joins} join notices, expected ${expectedJoins}`;
      if (opts.extraJoinsOk) {
        ctx.warn("extra-joins", `${msg} (joins ordered before their own)`);
      } else ctx.fail(msg);
    }

    const tc = performance.now();
    for (const c of clients) c.close();
    await raceTimeout(Promise.all(clients.map((c) => c.done)), 30_000);
    const afterClose = await waitQuiet(target.pid, {
      quietMs: 500,
      timeoutMs: 60_000,
    });
    clients.length = 0;

    const rssIdle = idle?.rssKiB ?? null;
    const rssConn = connected?.rssKiB ?? null;
    return {
      scenario: "connect",
      clients: opts.clients,
      concurrency: opts.concurrency,
      registerMs: reg.elapsedMs,
      registrationsPerSec: opts.clients / (reg.elapsedMs / 1000),
      registerLatencyMs: regHist.summary(),
      settleMs,
      joinNotices: handler.joins.joins,
      server: {
        rssIdleKiB: rssIdle,
        rssConnectedKiB: rssConn,
        kibPerConnection: rssIdle !== null && rssConn !== null
          ? (rssConn - rssIdle) / opts.clients
          : null,
        rssAfterCloseKiB: afterClose?.sample.rssKiB ?? null,
        cpu: cpuBetween(idle, busy),
      },
      generator: { cpu: cpuBetween(genIdle, genBusy) },
      closeSettleMs: afterClose ? Math.max(0, afterClose.busyUntil - tc) : null,
      ok: settled && !ctx.failed,
    };
  } finally {
    for (const c of clients) c.close();
  }
}
