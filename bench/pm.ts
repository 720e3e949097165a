/**
 * Private-message ping-pong: P pairs (clients 2i and 2i+1), each pair with
 * exactly one message in flight. A sends `@B #SEQ TS`, B receives
 * `Private message from A: #SEQ TS` and echoes the text back with `@A`;
 * A measures the round trip and sends SEQ+1.
 *
 * @module
 */

import { clientName, DigitField, encoder, NAME_LEN, TAG_LEN } from "./codec.ts";
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
  cpuByProcess,
  type CpuUse,
  otherCpuPct,
  sampleEach,
  sampleProc,
  sampleSystem,
  sumSamples,
  type Target,
} from "./proc.ts";
import { Histogram, type LatencySummary, sleep, waitUntil } from "./stats.ts";

/** Options for {@linkcode runPm}. */
export interface PmOptions {
  target: Target;
  ctx: RunContext;
  tag: string;
  pairs: number;
  seconds: number;
  warmupSeconds: number;
  readBufSize: number;
  concurrency: number;
  /** Opens one client (default: TCP line protocol). */
  dial?: Dialer;
  /** False: the server announces no joins (the Python original). */
  joinNotices?: boolean;
}

/** Result of the private-message scenario. */
export interface PmResult {
  scenario: "pm";
  pairs: number;
  seconds: number;
  registerMs: number;
  roundTrips: number;
  roundTripsPerSec: number;
  rttMs: LatencySummary;
  /** The system under test: one server, or the sum over all its processes. */
  server: {
    cpu: CpuUse | null;
    /** CPU % of each process (`node1`, `node2`, `redis`...). */
    cpuByProcess: { label: string; cpuPct: number }[] | null;
    usPerRoundTrip: number | null;
  };
  generator: { cpu: CpuUse | null };
  /** CPU % (of one core) used by other processes while measuring. */
  otherCpuPct: number | null;
  ok: boolean;
}

const PM_PREFIX = encoder.encode("Private message from ");
const HDR = PM_PREFIX.length + NAME_LEN + 2; // "Private message from NAME: "
const OUT_HDR = 1 + NAME_LEN + 1; // "@NAME "
const TEXT_LEN = 1 + 9 + 1 + 12; // "#SEQ TS"
// Fields of the outgoing line "@PARTNER #SEQ TS\n"...
const SEQ_OUT = new DigitField(OUT_HDR + 1, 9);
const TS_OUT = new DigitField(OUT_HDR + 11, 12);
// ...and of the delivered "Private message from NAME: #SEQ TS".
const FROM_IN = new DigitField(
  PM_PREFIX.length + TAG_LEN,
  NAME_LEN - TAG_LEN,
);
const SEQ_IN = new DigitField(HDR + 1, SEQ_OUT.width);
const TS_IN = new DigitField(HDR + 11, TS_OUT.width);

class PmRun implements LineHandler {
  readonly joins: JoinCounter;
  readonly hist: Histogram = new Histogram();
  clients: BenchClient[] = [];
  /** Per pair: sequence number in flight (A side) / expected next (B side). */
  readonly seqA: Int32Array;
  readonly expB: Int32Array;
  readonly inFlight: Uint8Array;
  roundTrips = 0;
  sending = false;
  measuring = false;
  readonly #out: Uint8Array[];
  readonly #ctx: RunContext;

  constructor(opts: PmOptions) {
    this.joins = new JoinCounter(opts.tag);
    this.#ctx = opts.ctx;
    this.seqA = new Int32Array(opts.pairs);
    this.expB = new Int32Array(opts.pairs);
    this.inFlight = new Uint8Array(opts.pairs);
    // One reusable outgoing line per client: "@PARTNER #SEQ TS\n".
    this.#out = [];
    for (let i = 0; i < opts.pairs * 2; i++) {
      const partner = clientName(opts.tag, i ^ 1);
      const line = encoder.encode(
        `@${partner} #${"0".repeat(SEQ_OUT.width)} ${
          "0".repeat(TS_OUT.width)
        }\n`,
      );
      this.#out.push(line);
    }
  }

  /** A side of `pair` sends its next ping. */
  ping(pair: number): void {
    const out = this.#out[pair * 2];
    SEQ_OUT.write(out, this.seqA[pair]);
    TS_OUT.write(out, Math.round(performance.now() * 1000));
    this.inFlight[pair] = 1;
    this.clients[pair * 2].send(out);
  }

  onLine(
    client: BenchClient,
    buf: Uint8Array,
    start: number,
    end: number,
    now: number,
  ): void {
    if (
      end - start === HDR + TEXT_LEN && buf[start] === 80 /* P */ &&
      buf[start + HDR - 2] === 58 && buf[start + HDR] === 35
    ) {
      const me = client.index;
      const from = FROM_IN.read(buf, start);
      const seq = SEQ_IN.read(buf, start);
      const pair = me >> 1;
      if (from !== (me ^ 1) || seq < 0) {
        this.#ctx.fail(
          `pm: ${client.name} got a private message not from its partner: ${
            JSON.stringify(new TextDecoder().decode(buf.subarray(start, end)))
          }`,
        );
        return;
      }
      if ((me & 1) === 1) {
        // B side: check order, echo the text back.
        if (seq !== this.expB[pair]) {
          this.#ctx.fail(
            `pm: ${client.name} got seq ${seq} from ${
              this.clients[me ^ 1].name
            }, expected ${this.expB[pair]}`,
          );
        }
        this.expB[pair] = seq + 1;
        const out = this.#out[me];
        out.set(buf.subarray(start + HDR, end), OUT_HDR);
        client.send(out);
        return;
      }
      // A side: the pong of the message in flight.
      if (seq !== this.seqA[pair] || this.inFlight[pair] !== 1) {
        this.#ctx.fail(
          `pm: ${client.name} got pong seq ${seq}, expected ${this.seqA[pair]}`,
        );
        return;
      }
      this.inFlight[pair] = 0;
      this.seqA[pair]++;
      if (this.measuring) {
        this.roundTrips++;
        const ts = TS_IN.read(buf, start);
        this.hist.record(now * 1000 - ts);
      }
      if (this.sending) this.ping(pair);
      return;
    }
    if (this.joins.count(buf, start, end)) return;
    this.#ctx.warn(
      "pm-unexpected",
      `pm: unexpected line for ${client.name}: ${
        JSON.stringify(new TextDecoder().decode(buf.subarray(start, end)))
      }`,
    );
  }
}

/** Runs the private-message ping-pong scenario. */
export async function runPm(opts: PmOptions): Promise<PmResult | null> {
  const { target, ctx } = opts;
  const run = new PmRun(opts);
  const n = opts.pairs * 2;
  const reg = await connectAll({
    host: target.host,
    port: target.port,
    count: n,
    concurrency: opts.concurrency,
    readBufSize: opts.readBufSize,
    handler: run,
    ctx,
    dial: opts.dial,
    nameOf: (i) => clientName(opts.tag, i),
    timeoutMs: 60_000,
  });
  run.clients = reg.clients;
  try {
    if (!reg.complete) {
      ctx.fail(`pm: only ${reg.clients.length} of ${n} registered`);
      return null;
    }
    const expectedJoins = opts.joinNotices === false ? 0 : (n * (n - 1)) / 2;
    if (
      !await waitUntil(() => run.joins.joins >= expectedJoins, {
        timeoutMs: 30_000,
        stallMs: 10_000,
        progress: () => run.joins.joins,
      })
    ) {
      ctx.fail(`pm: only ${run.joins.joins} of ${expectedJoins} join notices`);
    }
    run.sending = true;
    for (let p = 0; p < opts.pairs; p++) run.ping(p);
    await sleep(opts.warmupSeconds * 1000);
    const [eachA, genA, sysA] = await Promise.all([
      sampleEach(target),
      sampleProc(Deno.pid),
      sampleSystem(),
    ]);
    const srvA = sumSamples(eachA);
    const tA = performance.now();
    run.measuring = true;
    const endAt = tA + opts.seconds * 1000;
    while (performance.now() < endAt && !ctx.failed) {
      await sleep(Math.min(50, endAt - performance.now()));
    }
    run.measuring = false;
    const [eachB, genB, sysB] = await Promise.all([
      sampleEach(target),
      sampleProc(Deno.pid),
      sampleSystem(),
    ]);
    const srvB = sumSamples(eachB);
    const seconds = (performance.now() - tA) / 1000;
    const roundTrips = run.roundTrips;
    run.sending = false;
    const drained = await waitUntil(
      () => run.inFlight.every((f) => f === 0),
      { timeoutMs: 10_000 },
    );
    if (!drained) {
      const lost = run.inFlight.reduce((a, f) => a + f, 0);
      ctx.fail(`pm: ${lost} pings never got their pong (lost messages)`);
    }
    const srvCpu = cpuBetween(srvA, srvB);
    const genCpu = cpuBetween(genA, genB);
    const other = otherCpuPct([sysA, sysB], [srvCpu, genCpu]);
    if (other !== null && other > 10) {
      ctx.warn(
        "busy-pm",
        `pm: other processes used ${
          other.toFixed(0)
        } % of a core during the measurement; results may be disturbed`,
      );
    }
    return {
      scenario: "pm",
      pairs: opts.pairs,
      seconds,
      registerMs: reg.elapsedMs,
      roundTrips,
      roundTripsPerSec: roundTrips / seconds,
      rttMs: run.hist.summary(),
      server: {
        cpu: srvCpu,
        cpuByProcess: cpuByProcess(target, eachA, eachB),
        usPerRoundTrip: srvCpu && roundTrips > 0
          ? (srvCpu.cpuSec * 1e6) / roundTrips
          : null,
      },
      generator: { cpu: genCpu },
      otherCpuPct: other,
      ok: drained && !ctx.failed,
    };
  } finally {
    await Promise.all(run.clients.map((c) => c.quit(10_000)));
  }
}
