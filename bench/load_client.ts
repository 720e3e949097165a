/**
 * One simulated chat client: a read loop that splits the byte stream into
 * lines without creating strings, a single-writer send queue that coalesces
 * writes and handles partial writes, and the registration handshake.
 *
 * @module
 */

import { decoder, encoder, NAME_LEN } from "./codec.ts";
import { raceTimeout } from "./stats.ts";

/** Collects failures (fail the run) and warnings (reported only). */
export class RunContext {
  /** Failure messages (capped). */
  readonly failures: string[] = [];
  /** Warning messages (capped). */
  readonly warnings: string[] = [];
  /** Total failures, including those not kept. */
  failureCount = 0;
  #warnKeys = new Map<string, number>();

  /** True once any failure was recorded. */
  get failed(): boolean {
    return this.failureCount > 0;
  }

  /** Records a failure; the run will exit with code 1. */
  fail(msg: string): void {
    this.failureCount++;
    if (this.failures.length < 20) this.failures.push(msg);
  }

  /** Records a warning, collapsing repeats of the same `key`. */
  warn(key: string, msg: string): void {
    const n = this.#warnKeys.get(key) ?? 0;
    this.#warnKeys.set(key, n + 1);
    if (n === 0 && this.warnings.length < 20) this.warnings.push(msg);
  }

  /** Warning messages with repeat counts appended. */
  warningsWithCounts(): string[] {
    const keys = [...this.#warnKeys.entries()];
    return this.warnings.map((w, i) => {
      const n = keys[i]?.[1] ?? 1;
      return n > 1 ? `${w} (×${n})` : w;
    });
  }
}

/** A fixed-length line shape (see {@linkcode LineHandler.frameHint}). */
export interface FrameHint {
  /** Line length without the `\n`. */
  length: number;
  /** First byte of such a line. */
  first: number;
  /** Last byte before the `\n`. */
  last: number;
}

/**
 * What a scenario sees of one simulated client, whatever its transport
 * (TCP line protocol, WebSocket, IRC, ncat's chat). Every client turns
 * what it receives into the TCP protocol's lines (`NAME: text`,
 * `Private message from NAME: text`, `*** NAME has joined the chat.`)
 * before the scenario's {@linkcode LineHandler} sees them, and turns the
 * TCP protocol's lines it is given (`text`, `@NAME text`) into its own.
 */
export interface BenchClient {
  /** Client index (also encoded in the name). */
  readonly index: number;
  /** Registered name. */
  readonly name: string;
  /** performance.now() when the connection was started. */
  readonly connectStartedAt: number;
  /** performance.now() when registration completed (0 before). */
  readonly registeredAt: number;
  /** True once the server acknowledged leaving (goodbye or close). */
  readonly saidGoodbye: boolean;
  /** Resolves when registration completed; rejects if it failed. */
  readonly registered: Promise<void>;
  /** Resolves when the read loop has ended (EOF, error or close). */
  readonly done: Promise<void>;
  /** Bytes queued but not yet handed to the socket. */
  readonly queuedBytes: number;
  /**
   * Sends one line of the TCP protocol (ending in `\n`; `@NAME text` is a
   * private message). The bytes may be reused as soon as this returns.
   */
  send(line: Uint8Array): void;
  /** Leaves (bounded); closes the connection if the server does not. */
  quit(timeoutMs: number): Promise<void>;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** Opens one client of some transport (see {@linkcode LoadClient.open}). */
export type Dialer = (opts: ClientOptions) => Promise<BenchClient>;

/** Receives every complete line after registration. */
export interface LineHandler {
  /**
   * Optional shape of the most common line, so the read loop can check
   * `buf[start + length] === 10` instead of scanning for the newline. Only
   * used when the first byte, the last byte and the newline all match.
   */
  readonly frameHint?: FrameHint | null;
  /**
   * Called for each line; `buf[start..end)` is the line without its `\n`.
   * `now` is performance.now() taken once when the chunk was read. The
   * bytes are only valid during the call.
   */
  onLine(
    client: BenchClient,
    buf: Uint8Array,
    start: number,
    end: number,
    now: number,
  ): void;
}

let readCount = 0;

/** Counts one socket read of a client of another transport. */
export function noteRead(): void {
  readCount++;
}

/** Socket reads done by all clients so far (to report lines per read). */
export function totalReads(): number {
  return readCount;
}

/** Options for {@linkcode LoadClient.open}. */
export interface ClientOptions {
  host: string;
  port: number;
  /** Index of this client (0-based, encoded in its name). */
  index: number;
  name: string;
  /** Read buffer size in bytes (one buffer per connection, reused). */
  readBufSize: number;
  handler: LineHandler;
  ctx: RunContext;
}

const GREETING = "Hello client. Please enter your name:";
const HELP_PREFIX = "Type '/who'";
const MAX_LINE = 16 * 1024 * 1024;

/** Client protocol states. */
const State = {
  AwaitGreeting: 0,
  AwaitWelcome: 1,
  InWelcome: 2,
  Registered: 3,
  Quitting: 4,
} as const;
type State = typeof State[keyof typeof State];

/** A TCP line-protocol chat client driven by the load generator. */
export class LoadClient implements BenchClient {
  /** Client index (also encoded in the name). */
  readonly index: number;
  /** Registered name. */
  readonly name: string;
  /** performance.now() when connect() was called. */
  readonly connectStartedAt: number;
  /** performance.now() when the last welcome line arrived (0 before). */
  registeredAt = 0;
  /** Welcome lines received (the protocol says exactly 5). */
  welcomeLines = 0;
  /** True once the server answered `exit` with `Goodbye NAME!`. */
  saidGoodbye = false;
  /** Resolves when registration completed; rejects if it failed. */
  readonly registered: Promise<void>;
  /** Resolves when the read loop has ended (EOF, error or close). */
  readonly done: Promise<void>;

  #conn: Deno.TcpConn;
  #handler: LineHandler;
  #ctx: RunContext;
  #buf: Uint8Array;
  #state: State = State.AwaitGreeting;
  #closing = false;
  #registeredResolvers = Promise.withResolvers<void>();
  #pending: Uint8Array;
  #spare: Uint8Array;
  #pendingLen = 0;
  #flushing = false;
  #goodbye: string;
  #hintLen: number;
  #hintFirst: number;
  #hintLast: number;

  private constructor(
    conn: Deno.TcpConn,
    opts: ClientOptions,
    startedAt: number,
  ) {
    this.#conn = conn;
    this.index = opts.index;
    this.name = opts.name;
    this.connectStartedAt = startedAt;
    this.#handler = opts.handler;
    this.#ctx = opts.ctx;
    this.#buf = new Uint8Array(opts.readBufSize);
    this.#pending = new Uint8Array(256);
    this.#spare = new Uint8Array(256);
    this.#goodbye = `Goodbye ${opts.name}!`;
    const hint = opts.handler.frameHint ?? null;
    this.#hintLen = hint?.length ?? 0;
    this.#hintFirst = hint?.first ?? -1;
    this.#hintLast = hint?.last ?? -1;
    this.registered = this.#registeredResolvers.promise;
    // Avoid unhandled rejections; callers await `registered` explicitly.
    this.registered.catch(() => {});
    this.done = this.#readLoop();
  }

  /** Connects (TCP_NODELAY on), starts reading and begins registration. */
  static async open(opts: ClientOptions): Promise<LoadClient> {
    const startedAt = performance.now();
    const conn = await Deno.connect({
      hostname: opts.host,
      port: opts.port,
      transport: "tcp",
    });
    conn.setNoDelay(true);
    return new LoadClient(conn, opts, startedAt);
  }

  /**
   * Queues bytes for sending (copied, so `bytes` may be reused at once).
   * Everything queued in the same tick goes out in one write; there is
   * never more than one write in flight on the connection.
   */
  send(bytes: Uint8Array): void {
    if (this.#closing) return;
    const need = this.#pendingLen + bytes.length;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(Math.max(need, this.#pending.length * 2));
      grown.set(this.#pending.subarray(0, this.#pendingLen));
      this.#pending = grown;
    }
    this.#pending.set(bytes, this.#pendingLen);
    this.#pendingLen = need;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Bytes queued but not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#pendingLen;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pendingLen > 0 && !this.#closing) {
        const out = this.#pending;
        const outLen = this.#pendingLen;
        this.#pending = this.#spare;
        this.#pendingLen = 0;
        this.#spare = out;
        let off = 0;
        while (off < outLen) {
          off += await this.#conn.write(out.subarray(off, outLen));
        }
      }
    } catch (err) {
      if (!this.#closing) {
        this.#ctx.fail(`client ${this.name}: write failed: ${errText(err)}`);
        this.close();
      }
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * Sends `exit` and waits (bounded) for the server to answer and close.
   * Closes the connection itself if the server does not.
   */
  async quit(timeoutMs: number): Promise<void> {
    if (this.#closing) return;
    if (this.#state === State.Registered) this.#state = State.Quitting;
    this.send(encoder.encode("exit\n"));
    const ended = await raceTimeout(this.done.then(() => true), timeoutMs);
    if (!ended) this.close();
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #readLoop(): Promise<void> {
    let buf = this.#buf;
    let len = 0; // bytes of an incomplete line kept at buf[0..len)
    try {
      while (true) {
        if (len === buf.length) {
          if (buf.length >= MAX_LINE) {
            throw new Error(`line longer than ${MAX_LINE} bytes`);
          }
          const grown = new Uint8Array(buf.length * 2);
          grown.set(buf);
          buf = this.#buf = grown;
        }
        const n = await this.#conn.read(buf.subarray(len));
        if (n === null) {
          if (!this.#closing && this.#state !== State.Quitting) {
            this.#ctx.fail(
              `client ${this.name}: server closed the connection unexpectedly`,
            );
            this.#registeredResolvers.reject(new Error("closed"));
          }
          break;
        }
        readCount++;
        const now = performance.now();
        const end = len + n;
        const view = buf.subarray(0, end);
        let start = 0;
        const registered = this.#state === State.Registered;
        const hintLen = registered ? this.#hintLen : 0;
        while (true) {
          // Bytes before `len` were scanned already: they hold no newline.
          const guess = start + hintLen;
          let nl: number;
          if (
            hintLen > 0 && guess < end && view[guess] === 10 &&
            view[guess - 1] === this.#hintLast &&
            view[start] === this.#hintFirst
          ) {
            nl = guess;
          } else {
            nl = view.indexOf(10, start < len ? len : start);
            if (nl === -1) break;
          }
          if (this.#state === State.Registered) {
            this.#handler.onLine(this, view, start, nl, now);
          } else {
            this.#slowLine(view, start, nl, now);
          }
          start = nl + 1;
        }
        len = end - start;
        if (len > 0 && start > 0) buf.copyWithin(0, start, end);
        if (this.#closing) break;
      }
    } catch (err) {
      if (!this.#closing) {
        this.#ctx.fail(`client ${this.name}: read failed: ${errText(err)}`);
        this.#registeredResolvers.reject(err);
      }
    }
    this.close();
  }

  /** Lines during registration and after `exit` (rare, may allocate). */
  #slowLine(buf: Uint8Array, start: number, end: number, now: number): void {
    if (this.#state === State.Quitting) {
      if (
        end - start === this.#goodbye.length &&
        decoder.decode(buf.subarray(start, end)) === this.#goodbye
      ) {
        this.saidGoodbye = true;
      } else {
        this.#handler.onLine(this, buf, start, end, now);
      }
      return;
    }
    const line = decoder.decode(buf.subarray(start, end)).replace(/\r$/, "");
    switch (this.#state) {
      case State.AwaitGreeting:
        if (line !== GREETING) {
          this.#registrationFailed(`expected greeting, got ${quote(line)}`);
          return;
        }
        this.#state = State.AwaitWelcome;
        this.send(encoder.encode(this.name + "\n"));
        return;
      case State.AwaitWelcome:
        if (line !== `Welcome ${this.name}!`) {
          this.#registrationFailed(
            `name ${this.name} not accepted: ${quote(line)}`,
          );
          return;
        }
        this.welcomeLines = 1;
        this.#state = State.InWelcome;
        return;
      case State.InWelcome:
        if (line.startsWith("*** ")) {
          // A notice interleaved with the welcome block.
          this.#handler.onLine(this, buf, start, end, now);
          return;
        }
        this.welcomeLines++;
        if (line.startsWith(HELP_PREFIX)) {
          if (this.welcomeLines !== 5) {
            this.#ctx.warn(
              "welcome-lines",
              `welcome block had ${this.welcomeLines} lines, expected 5`,
            );
          }
          this.registeredAt = now;
          this.#state = State.Registered;
          this.#registeredResolvers.resolve();
        } else if (this.welcomeLines > 50) {
          this.#registrationFailed(
            `no "${HELP_PREFIX}..." line after 50 welcome lines`,
          );
        }
        return;
    }
  }

  #registrationFailed(why: string): void {
    this.#ctx.fail(`client ${this.name}: registration failed: ${why}`);
    this.#registeredResolvers.reject(new Error(why));
    this.close();
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 200 ? s.slice(0, 200) + "…" : s);
}

/** Error message of an unknown thrown value. */
export function errText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Options for {@linkcode connectAll}. */
export interface ConnectAllOptions {
  host: string;
  port: number;
  /** Number of clients; indices `firstIndex .. firstIndex+count-1`. */
  count: number;
  firstIndex?: number;
  /** Clients connecting/registering at the same time. */
  concurrency: number;
  readBufSize: number;
  handler: LineHandler;
  ctx: RunContext;
  /** Opens one client (default: {@linkcode LoadClient.open}, TCP). */
  dial?: Dialer;
  /** Name for index `i`. */
  nameOf: (index: number) => string;
  /** Overall deadline for connecting and registering everyone. */
  timeoutMs: number;
}

/** Result of {@linkcode connectAll}. */
export interface ConnectAllResult {
  clients: BenchClient[];
  /** Wall time from the first connect to the last welcome. */
  elapsedMs: number;
  /** True if every client registered before the deadline. */
  complete: boolean;
}

/**
 * Connects and registers `count` clients with bounded concurrency. Each
 * worker connects one client and waits for its welcome before the next.
 */
export async function connectAll(
  opts: ConnectAllOptions,
): Promise<ConnectAllResult> {
  const first = opts.firstIndex ?? 0;
  const clients: BenchClient[] = [];
  const dial: Dialer = opts.dial ?? ((o) => LoadClient.open(o));
  const t0 = performance.now();
  const deadline = t0 + opts.timeoutMs;
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < opts.count && !opts.ctx.failed) {
      const i = next++;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return;
      const index = first + i;
      const name = opts.nameOf(index);
      try {
        const client = await dial({
          host: opts.host,
          port: opts.port,
          index,
          name,
          readBufSize: opts.readBufSize,
          handler: opts.handler,
          ctx: opts.ctx,
        });
        clients[i] = client;
        const done = await raceTimeout(
          client.registered.then(() => true, () => false),
          remaining,
        );
        if (done === true) ok++;
        else if (done === undefined) {
          opts.ctx.fail(
            `client ${name}: not registered within the ${opts.timeoutMs} ms deadline`,
          );
          return;
        } else return;
      } catch (err) {
        opts.ctx.fail(`client ${name}: connect failed: ${errText(err)}`);
        return;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(opts.concurrency, opts.count); w++) {
    workers.push(worker());
  }
  await Promise.all(workers);
  const elapsedMs = performance.now() - t0;
  return {
    clients: clients.filter((c) => c !== undefined),
    elapsedMs,
    complete: ok === opts.count,
  };
}

/** Byte length of `*** NAME has joined the chat.` for generated names. */
export const JOIN_LINE_LEN: number =
  `*** ${"x".repeat(NAME_LEN)} has joined the chat.`.length;

/**
 * Counts join notices of this run's clients (`*** TAGnnnnn has joined the
 * chat.`) by length and a few fixed bytes, without decoding.
 */
export class JoinCounter {
  /** Join notices of our clients received so far (all receivers). */
  joins = 0;
  /** Other `***` notices (leaves, foreign joins). */
  otherNotices = 0;
  #t0: number;
  #t1: number;
  #t2: number;

  constructor(tag: string) {
    const t = encoder.encode(tag);
    this.#t0 = t[0];
    this.#t1 = t[1];
    this.#t2 = t[2];
  }

  /** Classifies a line starting with `*`; returns false if it is not a notice. */
  count(buf: Uint8Array, start: number, end: number): boolean {
    if (buf[start] !== 42) return false;
    if (
      end - start === JOIN_LINE_LEN && buf[start + 4] === this.#t0 &&
      buf[start + 5] === this.#t1 && buf[start + 6] === this.#t2 &&
      buf[start + 4 + NAME_LEN + 5] === 106 // 'j' of "joined"
    ) {
      this.joins++;
    } else {
      this.otherNotices++;
    }
    return true;
  }
}
