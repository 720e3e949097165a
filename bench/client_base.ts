/**
 * Common machinery of the load generator's non-TCP-line clients (IRC,
 * ncat's chat, WebSocket): the connection, a single-writer send queue
 * that coalesces everything queued in one tick into one write, the
 * registration promise, and a bounded line-splitting read loop.
 *
 * @module
 */

import { encoder } from "./codec.ts";
import {
  type BenchClient,
  type ClientOptions,
  errText,
  type LineHandler,
  noteRead,
  type RunContext,
} from "./load_client.ts";
import { raceTimeout } from "./stats.ts";

const MAX_LINE = 16 * 1024 * 1024;

/** Base class of the IRC, ncat and WebSocket load clients. */
export abstract class StreamClient implements BenchClient {
  /** Client index (also encoded in the name). */
  readonly index: number;
  /** Registered name. */
  readonly name: string;
  /** performance.now() when the connection was started. */
  readonly connectStartedAt: number;
  /** performance.now() when registration completed (0 before). */
  registeredAt = 0;
  /** True once the server acknowledged leaving. */
  saidGoodbye = false;
  /** Resolves when registration completed; rejects if it failed. */
  readonly registered: Promise<void>;
  /** Resolves when the read loop has ended. */
  readonly done: Promise<void>;

  /** The connection. */
  protected readonly conn: Deno.TcpConn;
  /** Where lines go after registration. */
  protected readonly handler: LineHandler;
  /** Failures and warnings of the run. */
  protected readonly ctx: RunContext;
  /** Read buffer size the client starts with. */
  protected readonly readBufSize: number;
  /** True once registration completed. */
  protected isRegistered = false;
  /** True once the client started leaving. */
  protected quitting = false;
  /** True once close() was called. */
  protected closing = false;

  #reg = Promise.withResolvers<void>();
  #done = Promise.withResolvers<void>();
  #pending = new Uint8Array(256);
  #spare = new Uint8Array(256);
  #pendingLen = 0;
  #flushing = false;

  /** Wraps an open connection; call {@linkcode start} afterwards. */
  protected constructor(
    conn: Deno.TcpConn,
    opts: ClientOptions,
    startedAt: number,
  ) {
    this.conn = conn;
    this.index = opts.index;
    this.name = opts.name;
    this.connectStartedAt = startedAt;
    this.handler = opts.handler;
    this.ctx = opts.ctx;
    this.readBufSize = opts.readBufSize;
    this.registered = this.#reg.promise;
    this.registered.catch(() => {});
    this.done = this.#done.promise;
  }

  /** Starts the read loop (after the subclass is fully constructed). */
  protected start(first?: Uint8Array): void {
    this.readLoop(first).catch((err) => {
      if (!this.closing) {
        this.ctx.fail(`client ${this.name}: read failed: ${errText(err)}`);
        this.#reg.reject(err);
      }
    }).finally(() => {
      this.close();
      this.#done.resolve();
    });
  }

  /** Connects over TCP with TCP_NODELAY on. */
  protected static async dialTcp(
    opts: ClientOptions,
  ): Promise<{ conn: Deno.TcpConn; startedAt: number }> {
    const startedAt = performance.now();
    const conn = await Deno.connect({
      hostname: opts.host,
      port: opts.port,
      transport: "tcp",
    });
    conn.setNoDelay(true);
    return { conn, startedAt };
  }

  /** The read loop; `first` holds bytes read during a handshake. */
  protected abstract readLoop(first?: Uint8Array): Promise<void>;

  /** Sends one TCP-protocol line, translated to this client's protocol. */
  abstract send(line: Uint8Array): void;

  /** Leaves the chat in this client's protocol (bounded). */
  abstract quit(timeoutMs: number): Promise<void>;

  /** Bytes queued but not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#pendingLen;
  }

  /** Registration is complete: resolves {@linkcode registered}. */
  protected markRegistered(now: number): void {
    if (this.isRegistered) return;
    this.isRegistered = true;
    this.registeredAt = now;
    this.#reg.resolve();
  }

  /** Registration failed: records it and closes. */
  protected registrationFailed(why: string): void {
    this.ctx.fail(`client ${this.name}: registration failed: ${why}`);
    this.#reg.reject(new Error(why));
    this.close();
  }

  /** The server closed the connection: a failure unless we were leaving. */
  protected onEof(): void {
    if (this.quitting || this.closing) {
      this.saidGoodbye = true;
      return;
    }
    this.ctx.fail(
      `client ${this.name}: server closed the connection unexpectedly`,
    );
    this.#reg.reject(new Error("closed"));
  }

  /**
   * Room for `n` more bytes in the send queue: returns the queue buffer
   * and the offset to write at; call {@linkcode commit} with the bytes
   * actually written.
   */
  protected reserve(n: number): { buf: Uint8Array; offset: number } {
    const need = this.#pendingLen + n;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(Math.max(need, this.#pending.length * 2));
      grown.set(this.#pending.subarray(0, this.#pendingLen));
      this.#pending = grown;
    }
    return { buf: this.#pending, offset: this.#pendingLen };
  }

  /** Marks bytes written after {@linkcode reserve} as queued. */
  protected commit(end: number): void {
    this.#pendingLen = end;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Queues raw protocol bytes (copied). */
  protected queue(bytes: Uint8Array): void {
    if (this.closing) return;
    const { buf, offset } = this.reserve(bytes.length);
    buf.set(bytes, offset);
    this.commit(offset + bytes.length);
  }

  /** Queues a protocol string (registration, rare commands). */
  protected queueText(text: string): void {
    this.queue(encoder.encode(text));
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pendingLen > 0 && !this.closing) {
        const out = this.#pending;
        const outLen = this.#pendingLen;
        this.#pending = this.#spare;
        this.#pendingLen = 0;
        this.#spare = out;
        let off = 0;
        while (off < outLen) {
          off += await this.conn.write(out.subarray(off, outLen));
        }
      }
    } catch (err) {
      if (!this.closing && !this.quitting) {
        this.ctx.fail(`client ${this.name}: write failed: ${errText(err)}`);
        this.close();
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Waits (bounded) for the read loop to end; closes if it does not. */
  protected async awaitEnd(timeoutMs: number): Promise<void> {
    const ended = await raceTimeout(this.done.then(() => true), timeoutMs);
    if (!ended) this.close();
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  /**
   * Reads `\n`-terminated lines (a `\r` before the `\n` is dropped) and
   * calls `onWireLine` for each; returns at EOF or when closing.
   */
  protected async readLines(
    onWireLine: (
      buf: Uint8Array,
      start: number,
      end: number,
      now: number,
    ) => void,
  ): Promise<void> {
    let buf = new Uint8Array(this.readBufSize);
    let len = 0;
    while (!this.closing) {
      if (len === buf.length) {
        if (buf.length >= MAX_LINE) {
          throw new Error(`line longer than ${MAX_LINE} bytes`);
        }
        const grown = new Uint8Array(buf.length * 2);
        grown.set(buf);
        buf = grown;
      }
      let n: number | null;
      try {
        n = await this.conn.read(buf.subarray(len));
      } catch (err) {
        if (this.closing || this.quitting) {
          this.saidGoodbye ||= this.quitting;
          return;
        }
        throw err;
      }
      if (n === null) {
        this.onEof();
        return;
      }
      noteRead();
      const now = performance.now();
      const end = len + n;
      const view = buf.subarray(0, end);
      let start = 0;
      let scan = len;
      while (true) {
        const nl = view.indexOf(10, scan);
        if (nl === -1) break;
        const lineEnd = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        onWireLine(buf, start, lineEnd, now);
        start = nl + 1;
        scan = start;
        if (this.closing) return;
      }
      len = end - start;
      if (len > 0 && start > 0) buf.copyWithin(0, start, end);
    }
  }
}

/** Quotes a line for a message, shortened. */
export function quoteLine(s: string): string {
  return JSON.stringify(s.length > 200 ? s.slice(0, 200) + "…" : s);
}
