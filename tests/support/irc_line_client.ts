/**
 * A small IRC client on a real socket, for tests: it sends raw lines,
 * collects what the server sends (checking that every line ends in CRLF,
 * fits 512 bytes and is valid UTF-8), and knows the registration dance.
 *
 * @module
 */

import {
  closeQuietly,
  LineCollector,
  type LineMatch,
  readAll,
  WAIT_MS,
  writeAll,
} from "../helpers.ts";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export type { LineMatch };

/** An IRC client for tests; closed at the end of an `await using` scope. */
export class IrcLineClient implements AsyncDisposable {
  /** What the server sent, by lines without their CRLF, to wait on. */
  readonly received: LineCollector = new LineCollector();
  /** Lines that broke the wire rules (no CRLF, too long, bad UTF-8). */
  readonly violations: string[] = [];
  readonly conn: Deno.Conn;
  #pending: number[] = [];
  #reading: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.#reading = readAll(conn, (chunk) => this.#push(chunk), 16 * 1024)
      .then(() => {
        if (this.#pending.length > 0) {
          this.violations.push(`unterminated: ${this.#pending.length} bytes`);
        }
        this.received.end();
      });
  }

  /** Connects to 127.0.0.1:`port` (or with TLS to `localhost`). */
  static async connect(
    port: number,
    options: { tls?: { caCerts: string[] } } = {},
  ): Promise<IrcLineClient> {
    const conn = options.tls
      ? await Deno.connectTls({
        hostname: "localhost",
        port,
        caCerts: options.tls.caCerts,
      })
      : await Deno.connect({ hostname: "127.0.0.1", port });
    return new IrcLineClient(conn);
  }

  /** Every line received, without its CRLF. */
  get lines(): string[] {
    return this.received.lines;
  }

  /** Whether the server closed the connection. */
  get ended(): boolean {
    return this.received.ended;
  }

  /**
   * Connects and registers as `nick` (NICK and USER, with PASS first if
   * given), waiting for the end of the MOTD (376 or 422).
   */
  static async register(
    port: number,
    nick: string,
    options: { password?: string } = {},
  ): Promise<IrcLineClient> {
    const client = await IrcLineClient.connect(port);
    try {
      if (options.password !== undefined) {
        await client.send(`PASS ${options.password}`);
      }
      await client.send(`NICK ${nick}`);
      await client.send(`USER ${nick} 0 * :${nick} Test`);
      await client.next(/^:\S+ (376|422) /);
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /** Registers (see {@linkcode IrcLineClient.register}) and joins `channel`. */
  static async joined(
    port: number,
    nick: string,
    channel = "#chat",
  ): Promise<IrcLineClient> {
    const client = await IrcLineClient.register(port, nick);
    try {
      await client.send(`JOIN ${channel}`);
      await client.next(new RegExp(`^:\\S+ 366 ${nick} `));
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  #push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte !== 0x0a) {
        this.#pending.push(byte);
        continue;
      }
      const bytes = Uint8Array.from(this.#pending);
      this.#pending = [];
      let end = bytes.length;
      if (bytes[end - 1] === 0x0d) end--;
      else this.violations.push("a line without CR");
      if (bytes.length + 1 > 512) {
        this.violations.push(`${bytes.length + 1} bytes`);
      }
      let line: string;
      try {
        line = strictDecoder.decode(bytes.subarray(0, end));
      } catch {
        this.violations.push("invalid UTF-8");
        line = new TextDecoder().decode(bytes.subarray(0, end));
      }
      this.received.add(line);
    }
  }

  /** Sends one line with CRLF. */
  send(line: string): Promise<void> {
    return this.sendRaw(encoder.encode(line + "\r\n"));
  }

  /** Sends bytes as they are. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return writeAll(this.conn, bytes);
  }

  /**
   * Waits for the next line (after those waited for already) that matches,
   * and returns it.
   */
  next(match: LineMatch, timeoutMs = WAIT_MS): Promise<string> {
    return this.received.next(match, timeoutMs);
  }

  /** The lines from now on up to and including one that matches. */
  until(match: LineMatch, timeoutMs = WAIT_MS): Promise<string[]> {
    return this.received.until(match, timeoutMs);
  }

  /** Skips what came so far: later waits look at newer lines only. */
  skip(): void {
    this.received.skip();
  }

  /** Waits for the server to close the connection. */
  closed(timeoutMs = WAIT_MS): Promise<void> {
    return this.received.closed(timeoutMs);
  }

  /** Closes the socket and waits for the read loop; safe to call twice. */
  async close(): Promise<void> {
    closeQuietly(this.conn);
    await this.#reading;
  }

  /** Closes it (see {@linkcode IrcLineClient.close}). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
