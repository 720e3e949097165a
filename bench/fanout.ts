/**
 * Fan-out scenario: N registered clients, S of them send fixed-size chat
 * lines, every other client must receive every line exactly once and in
 * order per sender.
 *
 * Delivered line layout (msgSize bytes including `\n`, default 64):
 *
 * ```
 * bqx00003: #000000042 000012345678 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n
 * ^name(8)  ^seq(9)    ^send time µs (12), then padding
 * ```
 *
 * The sender writes only the text after `NAME: ` (msgSize − 10 bytes incl.
 * `\n`); the server adds the prefix. Receivers read the sender index from
 * the fixed-width name and the sequence number at a fixed offset, and parse
 * the timestamp of every `latEvery`-th line only.
 *
 * Saturation mode: each sender keeps `window` messages in flight, where a
 * message counts as arrived only when all N−1 receivers got it (a per-sender
 * ring of delivery counters; per receiver the order is fixed, so messages
 * complete in order); with `windowReceivers` K, once any K receivers got it,
 * so that the others may fall behind (readers slower than the server). Rate mode: senders emit `rate` messages/s in total,
 * evenly spread.
 *
 * @module
 */

import { clientName, DigitField, encoder, NAME_LEN, TAG_LEN } from "./codec.ts";
import {
  type BenchClient,
  connectAll,
  type Dialer,
  type FrameHint,
  JoinCounter,
  type LineHandler,
  type RunContext,
  totalReads,
} from "./load_client.ts";
import {
  cpuBetween,
  cpuByProcess,
  type CpuUse,
  otherCpuPct,
  type ProcSample,
  sampleEach,
  sampleProc,
  sampleSystem,
  sampleTarget,
  sumSamples,
  type Target,
} from "./proc.ts";
import {
  Histogram,
  type LatencySummary,
  LoopLagMonitor,
  sleep,
  waitUntil,
} from "./stats.ts";

/** Fan-out load mode. */
export type FanoutMode = "saturation" | "rate";

/** Options for {@linkcode runFanout}. */
export interface FanoutOptions {
  target: Target;
  ctx: RunContext;
  /** Name tag of this run (3 chars). */
  tag: string;
  clients: number;
  senders: number;
  /** Messages in flight per sender (saturation). */
  window: number;
  /**
   * Saturation: a message leaves its sender's window once this many
   * receivers have it (default all N−1). Fewer lets the other readers fall
   * behind: the server is then offered output faster than they take it.
   */
  windowReceivers?: number;
  /** Total messages per second over all senders (rate mode). */
  rate: number;
  /** Modes to run, in order, on the same registered clients. */
  modes: FanoutMode[];
  /** Measured seconds per mode (after warm-up). */
  seconds: number;
  warmupSeconds: number;
  /** Delivered line length in bytes including `NAME: ` and `\n`. */
  msgSize: number;
  readBufSize: number;
  /** Receivers that parse every timestamp (the others parse none). */
  probes: number;
  /** Clients connecting at the same time during registration. */
  concurrency: number;
  /** Opens one client (default: TCP line protocol). */
  dial?: Dialer;
  /**
   * More than N(N−1)/2 join notices is a warning, not a failure. With the
   * Redis engine two clients registering at once may each be told of the
   * other's join (a newcomer hears joins ordered before its own).
   */
  extraJoinsOk?: boolean;
  /** False: the server announces no joins (the Python original). */
  joinNotices?: boolean;
  /**
   * Rooms (our line protocol, issue 19): after registering, client `i`
   * joins `#rK` with K = i mod rooms and talks there, so a sender's
   * messages reach only its room. 1 (default): everyone in the main room.
   */
  rooms?: number;
}

/** Result of one fan-out mode. */
export interface FanoutResult {
  scenario: "fanout";
  mode: FanoutMode;
  clients: number;
  senders: number;
  /** Rooms the clients were spread over (1: the main room). */
  rooms: number;
  window: number | null;
  /** Saturation: receivers that must have a message to close its window. */
  windowReceivers: number | null;
  targetRate: number | null;
  msgBytes: number;
  /** Actual measured interval in seconds. */
  seconds: number;
  registerMs: number;
  messagesSent: number;
  deliveries: number;
  messagesPerSec: number;
  deliveriesPerSec: number;
  latencyMs: LatencySummary;
  /** Receivers whose latency was recorded. */
  latencyProbes: number;
  /**
   * Latency per probe (client index = registration order), to show whether
   * early and late registered clients are served alike.
   */
  latencyByProbe: ({ client: number } & LatencySummary)[];
  /**
   * The system under test: its one server process, or with `procs` in the
   * target (several nodes, redis-server) the sum over all of them.
   */
  server: {
    cpu: CpuUse | null;
    /** CPU % of each process (`node1`, `node2`, `redis`...). */
    cpuByProcess: { label: string; cpuPct: number }[] | null;
    deliveriesPerCpuSec: number | null;
    usPerDelivery: number | null;
    rssIdleKiB: number | null;
    rssRegisteredKiB: number | null;
    rssAfterKiB: number | null;
  };
  generator: {
    cpu: CpuUse | null;
    usPerDelivery: number | null;
    /** Chat lines handled per socket read. */
    deliveriesPerRead: number;
    /** How late a 1 ms timer fired in the generator (its own delay). */
    loopLagMs: LatencySummary;
  };
  /** CPU % (of one core) used by other processes while measuring. */
  otherCpuPct: number | null;
  /** Rate mode: backlog grew too large, sending stopped early. */
  overloaded: boolean;
  /** Seconds the final drain took after sending stopped. */
  drainSeconds: number;
  ok: boolean;
}

const PREFIX = NAME_LEN + 2; // "bqx00003: "
// Fields of the text the sender writes ("#SEQ TS pad\n")...
const SEQ_OUT = new DigitField(1, 9);
const TS_OUT = new DigitField(11, 12);
const TEXT_FIXED = TS_OUT.offset + TS_OUT.width;
// ...and of the line delivered to receivers ("NAME: " + text).
const SENDER_IN = new DigitField(TAG_LEN, NAME_LEN - TAG_LEN);
const SEQ_IN = new DigitField(PREFIX + SEQ_OUT.offset, SEQ_OUT.width);
const TS_IN = new DigitField(PREFIX + TS_OUT.offset, TS_OUT.width);
/** Smallest allowed msgSize: prefix + fixed fields + newline. */
export const MIN_MSG_SIZE: number = PREFIX + TEXT_FIXED + 1;
/** Largest allowed msgSize. */
export const MAX_MSG_SIZE = 8192;

const YOU_JOINED = encoder.encode("*** You joined #");

function startsWith(
  buf: Uint8Array,
  start: number,
  end: number,
  w: Uint8Array,
): boolean {
  if (end - start < w.length) return false;
  for (let i = 0; i < w.length; i++) if (buf[start + i] !== w[i]) return false;
  return true;
}

class FanoutRun implements LineHandler {
  readonly joins: JoinCounter;
  readonly frameHint: FrameHint | null;
  readonly hist: Histogram = new Histogram();
  clients: BenchClient[] = [];
  delivered = 0;
  sentTotal = 0;
  completed = 0;
  sending = false;
  windowed = false;
  measuring = false;
  unexpected = 0;

  readonly #n: number;
  readonly #s: number;
  readonly #w: number;
  /** Per sender: receivers that close a message's window. */
  readonly #need: Int32Array;
  readonly #rooms: number;
  /** Messages each sender's message reaches (its room's size − 1). */
  readonly receiversOf: Int32Array;
  /** `*** You joined #rK` notices received (rooms). */
  roomJoins = 0;
  readonly #lineLen: number;
  readonly #exp: Int32Array;
  readonly #ring: Int32Array;
  // The message each ring slot counts for: with fewer window receivers than
  // all, late receivers still report a message after its slot was reused.
  readonly #ringSeq: Int32Array;
  readonly nextSeq: Int32Array;
  /** Per client: its probe number + 1, or 0 if it is not a probe. */
  readonly probe: Uint16Array;
  /** Latency of each probe separately (delivery order fairness). */
  readonly probeHists: Histogram[] = [];
  readonly probeClients: number[] = [];
  readonly #scratch: Uint8Array[];
  readonly #t0: number;
  readonly #t1: number;
  readonly #t2: number;
  readonly #ctx: RunContext;
  #orderFailures = 0;

  constructor(opts: FanoutOptions) {
    this.#n = opts.clients;
    this.#s = opts.senders;
    this.#w = opts.window;
    this.#rooms = Math.max(1, Math.min(opts.rooms ?? 1, opts.clients));
    this.receiversOf = new Int32Array(opts.senders);
    this.#need = new Int32Array(opts.senders);
    for (let s = 0; s < opts.senders; s++) {
      const room = s % this.#rooms;
      const size = Math.floor((opts.clients - 1 - room) / this.#rooms) + 1;
      this.receiversOf[s] = size - 1;
      this.#need[s] = Math.min(size - 1, opts.windowReceivers ?? size - 1);
    }
    this.#lineLen = opts.msgSize - 1;
    this.#ctx = opts.ctx;
    this.joins = new JoinCounter(opts.tag);
    this.#exp = new Int32Array(this.#n * this.#s);
    this.#ring = new Int32Array(this.#s * this.#w);
    this.#ringSeq = new Int32Array(this.#s * this.#w);
    this.nextSeq = new Int32Array(this.#s);
    this.probe = new Uint16Array(this.#n);
    const probes = Math.min(opts.probes, this.#n);
    for (let i = 0; i < probes; i++) {
      const client = Math.floor(((i + 0.5) * this.#n) / probes);
      this.probe[client] = i + 1;
      this.probeClients.push(client);
      this.probeHists.push(new Histogram());
    }
    const textLen = opts.msgSize - PREFIX; // includes '\n'
    const template = new Uint8Array(textLen);
    template.fill(120); // 'x'
    template[0] = 35; // '#'
    template[TS_OUT.offset - 1] = 32;
    if (textLen - 1 > TEXT_FIXED) template[TEXT_FIXED] = 32;
    template[textLen - 1] = 10;
    this.#scratch = [];
    for (let i = 0; i < this.#s; i++) this.#scratch.push(template.slice());
    const t = encoder.encode(opts.tag);
    // Chat lines end in padding 'x' unless msgSize leaves no room for it.
    this.frameHint = textLen - 1 > TEXT_FIXED + 1
      ? { length: this.#lineLen, first: t[0], last: 120 }
      : null;
    this.#t0 = t[0];
    this.#t1 = t[1];
    this.#t2 = t[2];
  }

  /** Receivers of one message, averaged over the senders. */
  get meanReceivers(): number {
    let sum = 0;
    for (const r of this.receiversOf) sum += r;
    return sum / Math.max(1, this.#s);
  }

  /** Deliveries owed for every message sent so far. */
  expected(): number {
    let sum = 0;
    for (let s = 0; s < this.#s; s++) {
      sum += this.nextSeq[s] * this.receiversOf[s];
    }
    return sum;
  }

  /** Resets sequence tracking for a new phase. */
  reset(windowed: boolean): void {
    this.#exp.fill(0);
    this.#ring.fill(0);
    this.#ringSeq.fill(-1);
    this.nextSeq.fill(0);
    this.delivered = 0;
    this.sentTotal = 0;
    this.completed = 0;
    this.windowed = windowed;
    this.measuring = false;
    this.hist.reset();
    for (const h of this.probeHists) h.reset();
  }

  /** Sends message `nextSeq[sender]` from `sender` stamped with now. */
  sendNext(sender: number): void {
    const seq = this.nextSeq[sender]++;
    if (this.windowed) {
      const slot = sender * this.#w + (seq % this.#w);
      this.#ring[slot] = 0;
      this.#ringSeq[slot] = seq;
    }
    const msg = this.#scratch[sender];
    SEQ_OUT.write(msg, seq);
    TS_OUT.write(msg, Math.round(performance.now() * 1000));
    this.clients[sender].send(msg);
    this.sentTotal++;
  }

  onLine(
    client: BenchClient,
    buf: Uint8Array,
    start: number,
    end: number,
    now: number,
  ): void {
    if (
      end - start === this.#lineLen && buf[start + NAME_LEN] === 58 &&
      buf[start + PREFIX] === 35 && buf[start] === this.#t0 &&
      buf[start + 1] === this.#t1 && buf[start + 2] === this.#t2
    ) {
      const snd = SENDER_IN.read(buf, start);
      const seq = SEQ_IN.read(buf, start);
      const r = client.index;
      if (
        snd < 0 || snd >= this.#s || seq < 0 || snd === r ||
        snd % this.#rooms !== r % this.#rooms
      ) {
        this.#badMessage(client, buf, start, end);
        return;
      }
      const k = r * this.#s + snd;
      if (seq !== this.#exp[k]) this.#outOfOrder(r, snd, seq, this.#exp[k]);
      this.#exp[k] = seq + 1;
      this.delivered++;
      const p = this.probe[r];
      if (p !== 0 && this.measuring) {
        const us = now * 1000 - TS_IN.read(buf, start);
        this.hist.record(us);
        this.probeHists[p - 1].record(us);
      }
      if (this.windowed) {
        const slot = snd * this.#w + (seq % this.#w);
        if (
          this.#ringSeq[slot] === seq && ++this.#ring[slot] === this.#need[snd]
        ) {
          this.completed++;
          if (this.sending) this.sendNext(snd);
        }
      }
      return;
    }
    if (this.#rooms > 1 && startsWith(buf, start, end, YOU_JOINED)) {
      this.roomJoins++;
      return;
    }
    if (this.joins.count(buf, start, end)) return;
    this.unexpected++;
    this.#ctx.warn(
      "fanout-unexpected",
      `unexpected line for ${client.name}: ${
        JSON.stringify(new TextDecoder().decode(buf.subarray(start, end)))
      }`,
    );
  }

  #badMessage(
    client: BenchClient,
    buf: Uint8Array,
    start: number,
    end: number,
  ): void {
    const text = new TextDecoder().decode(buf.subarray(start, end));
    this.#ctx.fail(
      `fanout: ${client.name} received a malformed or misaddressed chat line ${
        JSON.stringify(text)
      }`,
    );
  }

  #outOfOrder(r: number, snd: number, seq: number, want: number): void {
    if (++this.#orderFailures > 10) {
      this.#ctx.fail("fanout: (more ordering failures suppressed)");
      return;
    }
    const who = `client ${this.clients[r]?.name ?? r} from sender ${
      this.clients[snd]?.name ?? snd
    }`;
    this.#ctx.fail(
      seq < want
        ? `fanout: DUPLICATE or REORDERED message: ${who} got seq ${seq} after ${
          want - 1
        }`
        : `fanout: LOST or REORDERED message: ${who} got seq ${seq}, expected ${want} (missing ${
          seq - want
        })`,
    );
  }

  /** Checks every receiver got exactly `nextSeq[s]` messages from each sender. */
  verify(): number {
    let bad = 0;
    for (let r = 0; r < this.#n; r++) {
      for (let s = 0; s < this.#s; s++) {
        if (r === s || r % this.#rooms !== s % this.#rooms) continue;
        const got = this.#exp[r * this.#s + s];
        const sent = this.nextSeq[s];
        if (got !== sent) {
          if (++bad <= 5) {
            this.#ctx.fail(
              `fanout: ${
                this.clients[r].name
              } received ${got} of ${sent} messages from ${
                this.clients[s].name
              }`,
            );
          }
        }
      }
    }
    if (bad > 5) {
      this.#ctx.fail(`fanout: ${bad} receiver/sender pairs incomplete`);
    }
    return bad;
  }
}

async function sleepUnless(ms: number, ctx: RunContext): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end && !ctx.failed) {
    await sleep(Math.min(50, end - performance.now()));
  }
}

/** Emits `rate` msg/s over all senders, evenly staggered, until `endAt`. */
async function rateLoop(
  run: FanoutRun,
  opts: FanoutOptions,
  endAt: number,
): Promise<boolean> {
  const perSender = opts.rate / opts.senders;
  const t0 = performance.now();
  const maxBacklog = Math.max(
    10_000,
    opts.rate * run.meanReceivers * 5, // ≈ 5 s of deliveries
  );
  const maxBurst = Math.max(1, Math.ceil(perSender)); // at most 1 s behind
  while (run.sending && !opts.ctx.failed) {
    const now = performance.now();
    if (now >= endAt) break;
    const el = ((now - t0) / 1000) * perSender;
    for (let s = 0; s < opts.senders; s++) {
      const due = Math.floor(el - s / opts.senders) + 1;
      let k = Math.min(due - run.nextSeq[s], maxBurst);
      while (k-- > 0) run.sendNext(s);
    }
    if (run.expected() - run.delivered > maxBacklog) {
      return true; // overloaded
    }
    await sleep(1);
  }
  return false;
}

/** Runs the fan-out scenario for each requested mode on one client set. */
export async function runFanout(opts: FanoutOptions): Promise<FanoutResult[]> {
  const { target, ctx } = opts;
  const run = new FanoutRun(opts);
  const self = Deno.pid;
  const idle = await sampleTarget(target);
  const reg = await connectAll({
    host: target.host,
    port: target.port,
    count: opts.clients,
    concurrency: opts.concurrency,
    readBufSize: opts.readBufSize,
    handler: run,
    ctx,
    dial: opts.dial,
    nameOf: (i) => clientName(opts.tag, i),
    timeoutMs: 120_000,
  });
  run.clients = reg.clients;
  const results: FanoutResult[] = [];
  try {
    if (!reg.complete) {
      ctx.fail(
        `fanout: only ${reg.clients.length} of ${opts.clients} registered`,
      );
      return results;
    }
    const expectedJoins = opts.joinNotices === false
      ? 0
      : (opts.clients * (opts.clients - 1)) / 2;
    const settled = await waitUntil(() => run.joins.joins >= expectedJoins, {
      timeoutMs: 60_000,
      stallMs: 10_000,
      progress: () => run.joins.joins,
    });
    if (!settled) {
      ctx.fail(
        `fanout: only ${run.joins.joins} of ${expectedJoins} join notices arrived`,
      );
    }
    const rooms = opts.rooms ?? 1;
    if (rooms > 1 && !ctx.failed) {
      // Every client joins its room; "/join" also makes it the current one.
      for (const c of run.clients) {
        c.send(encoder.encode(`/join #r${c.index % rooms}\n`));
      }
      const joined = await waitUntil(() => run.roomJoins >= opts.clients, {
        timeoutMs: 60_000,
        stallMs: 10_000,
        progress: () => run.roomJoins,
      });
      if (!joined) {
        ctx.fail(
          `fanout: only ${run.roomJoins} of ${opts.clients} clients joined their room`,
        );
      }
    }
    const registered = await sampleTarget(target);

    for (const mode of opts.modes) {
      if (ctx.failed) break;
      results.push(
        await runPhase(run, opts, mode, {
          idle,
          registered,
          registerMs: reg.elapsedMs,
          self,
        }),
      );
    }
    if (run.joins.joins > expectedJoins) {
      const msg =
        `fanout: ${run.joins.joins} join notices, expected ${expectedJoins}`;
      if (opts.extraJoinsOk) {
        ctx.warn(
          "extra-joins",
          `${msg}: ${
            run.joins.joins - expectedJoins
          } newcomers were told of joins ordered before their own`,
        );
      } else ctx.fail(`${msg} (duplicates?)`);
    }
  } finally {
    await Promise.all(run.clients.map((c) => c.quit(15_000)));
    const noBye = run.clients.filter((c) => !c.saidGoodbye).length;
    if (noBye > 0 && !ctx.failed) {
      ctx.warn(
        "no-goodbye",
        `fanout: ${noBye} clients got no "Goodbye NAME!" after exit`,
      );
    }
  }
  return results;
}

async function runPhase(
  run: FanoutRun,
  opts: FanoutOptions,
  mode: FanoutMode,
  base: {
    idle: ProcSample | null;
    registered: ProcSample | null;
    registerMs: number;
    self: number;
  },
): Promise<FanoutResult> {
  const { ctx, target } = opts;
  run.reset(mode === "saturation");
  run.sending = true;
  const tStart = performance.now();
  const endAt = tStart + (opts.warmupSeconds + opts.seconds) * 1000;
  let rateDone: Promise<boolean> = Promise.resolve(false);
  if (mode === "saturation") {
    for (let s = 0; s < opts.senders; s++) {
      for (let i = 0; i < opts.window; i++) run.sendNext(s);
    }
  } else {
    rateDone = rateLoop(run, opts, endAt);
  }
  let overloaded = false;
  rateDone.then((o) => {
    if (o) {
      overloaded = true;
      run.sending = false;
    }
  });

  await sleepUnless(opts.warmupSeconds * 1000, ctx);
  const [eachA, genA, sysA] = await Promise.all([
    sampleEach(target),
    sampleProc(base.self),
    sampleSystem(),
  ]);
  const srvA = sumSamples(eachA);
  const delA = run.delivered;
  const readsA = totalReads();
  const sentA = run.sentTotal;
  const tA = performance.now();
  run.hist.reset();
  for (const h of run.probeHists) h.reset();
  run.measuring = true;
  const lag = new LoopLagMonitor();
  lag.start(opts.seconds * 1000 + 5000);

  await sleepUnless(Math.max(0, endAt - performance.now()), ctx);
  const [eachB, genB, sysB] = await Promise.all([
    sampleEach(target),
    sampleProc(base.self),
    sampleSystem(),
  ]);
  const srvB = sumSamples(eachB);
  const delB = run.delivered;
  const readsB = totalReads();
  const sentB = run.sentTotal;
  const tB = performance.now();
  run.measuring = false;
  const loopLagMs = lag.stop();
  run.sending = false;
  overloaded = (await rateDone) || overloaded;
  if (overloaded) {
    ctx.warn(
      `overload-${mode}`,
      `fanout ${mode}: backlog exceeded ~5 s of deliveries; sending stopped early (server cannot keep up)`,
    );
  }

  const tDrain = performance.now();
  const drained = await waitUntil(
    () => run.delivered >= run.expected(),
    {
      timeoutMs: 120_000,
      stallMs: 10_000,
      progress: () => run.delivered,
    },
  );
  const drainSeconds = (performance.now() - tDrain) / 1000;
  if (!drained) {
    const missing = run.expected() - run.delivered;
    ctx.fail(
      `fanout ${mode}: ${missing} of ${run.expected()} deliveries never arrived (drain stalled after ${
        drainSeconds.toFixed(1)
      } s)`,
    );
  }
  const bad = run.verify();
  const after = await sampleTarget(target);

  const seconds = (tB - tA) / 1000;
  const deliveries = delB - delA;
  const srvCpu = cpuBetween(srvA, srvB);
  const genCpu = cpuBetween(genA, genB);
  const other = otherCpuPct([sysA, sysB], [srvCpu, genCpu]);
  if (other !== null && other > 10) {
    ctx.warn(
      `busy-${mode}`,
      `fanout ${mode}: other processes used ${
        other.toFixed(0)
      } % of a core during the measurement; results may be disturbed`,
    );
  }
  return {
    scenario: "fanout",
    mode,
    clients: opts.clients,
    senders: opts.senders,
    rooms: opts.rooms ?? 1,
    window: mode === "saturation" ? opts.window : null,
    windowReceivers: mode === "saturation"
      ? Math.min(
        Math.round(run.meanReceivers),
        opts.windowReceivers ?? opts.clients - 1,
      )
      : null,
    targetRate: mode === "rate" ? opts.rate : null,
    msgBytes: opts.msgSize,
    seconds,
    registerMs: base.registerMs,
    messagesSent: sentB - sentA,
    deliveries,
    messagesPerSec: (sentB - sentA) / seconds,
    deliveriesPerSec: deliveries / seconds,
    latencyMs: run.hist.summary(),
    latencyProbes: Math.min(opts.probes, opts.clients),
    latencyByProbe: run.probeClients.map((client, i) => ({
      client,
      ...run.probeHists[i].summary(),
    })),
    server: {
      cpu: srvCpu,
      cpuByProcess: cpuByProcess(target, eachA, eachB),
      deliveriesPerCpuSec: srvCpu && srvCpu.cpuSec > 0
        ? deliveries / srvCpu.cpuSec
        : null,
      usPerDelivery: srvCpu && deliveries > 0
        ? (srvCpu.cpuSec * 1e6) / deliveries
        : null,
      rssIdleKiB: base.idle?.rssKiB ?? null,
      rssRegisteredKiB: base.registered?.rssKiB ?? null,
      rssAfterKiB: after?.rssKiB ?? null,
    },
    generator: {
      cpu: genCpu,
      usPerDelivery: genCpu && deliveries > 0
        ? (genCpu.cpuSec * 1e6) / deliveries
        : null,
      deliveriesPerRead: deliveries / Math.max(1, readsB - readsA),
      loopLagMs,
    },
    otherCpuPct: other,
    overloaded,
    drainSeconds,
    ok: drained && bad === 0 && !ctx.failed,
  };
}
