/**
 * The server side of TLS over a TCP connection we own: `node:tls` does the
 * protocol over a stream whose bytes we read and write ourselves. So
 * `close()` closes the socket at once when the handshake is not done (a
 * peer that sends no ClientHello, or half of one, holds nothing after its
 * deadline), and the peer's bytes are read only as fast as they are taken
 * (a flooder's stay in its own socket buffers).
 *
 * @module
 */

import { Duplex } from "node:stream";
import type { Socket } from "node:net";
import tls from "node:tls";

/** A certificate chain and key, in PEM. */
export interface TlsMaterial {
  /** The certificate chain. */
  cert: string;
  /** The private key. */
  key: string;
}

/** A server's TLS settings, made once per listener. */
export type TlsContext = tls.SecureContext;

/** Makes the TLS settings; throws for a certificate or key it cannot use. */
export function tlsContext(material: TlsMaterial): TlsContext {
  return tls.createSecureContext({ cert: material.cert, key: material.key });
}

// Plaintext read and not yet taken, past which no more ciphertext is read.
const HIGH_WATER = 64 * 1024;
// Ciphertext read at once.
const READ_BYTES = 16 * 1024;
// Longest wait for the close_notify to go out before the socket is closed.
const CLOSE_MS = 1000;
// A handshake not done this long after the accept is not waited for by
// those who want to write a last word before closing.
const HANDSHAKE_GRACE_MS = 1000;

/** A TLS connection on the server side, as a byte stream. */
export class TlsServerConn {
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
  /** Our end's address. */
  readonly localAddr: Deno.Addr;
  #tcp: Deno.Conn;
  #tls: tls.TLSSocket;
  #duplex: Duplex;
  #readBuffer = new Uint8Array(READ_BYTES);
  #tcpReading = false;
  #tcpWanted = false;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #reader: (() => void) | null = null;
  #writesInFlight = 0;
  #writers: (() => void)[] = [];
  #secure = false;
  #acceptedAt = performance.now();
  #settled: PromiseWithResolvers<void> = Promise.withResolvers();
  #ended = false;
  #error: unknown = null;
  #closed = false;
  #closing: Promise<void> | null = null;
  #destroyed = false;

  /** Starts the handshake on `tcp`, which this object now owns. */
  constructor(tcp: Deno.Conn, context: TlsContext) {
    this.#tcp = tcp;
    this.remoteAddr = tcp.remoteAddr;
    this.localAddr = tcp.localAddr;
    this.#duplex = new Duplex({
      read: () => {
        this.#tcpWanted = true;
        this.#pull();
      },
      write: (chunk: Uint8Array, _encoding, callback) => {
        this.#writeTcp(chunk).then(() => callback(), callback);
      },
      final: (callback) => {
        tcp.closeWrite().then(() => callback(), () => callback());
      },
    });
    this.#duplex.on("error", (error) => this.#fail(error));
    this.#tls = new tls.TLSSocket(this.#duplex as unknown as Socket, {
      isServer: true,
      secureContext: context,
    });
    this.#tls.on("secure", () => {
      this.#secure = true;
      this.#settled.resolve();
    });
    this.#tls.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      this.#wakeReader();
    });
    this.#tls.on("end", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    this.#tls.on("close", () => {
      this.#ended = true;
      this.#wakeReader();
      this.#wakeWriters();
    });
    this.#tls.on("error", (error) => this.#fail(error));
    this.#tls.on("drain", () => this.#wakeWriters());
  }

  /** Reads plaintext into `buffer`; null at the end. */
  async read(buffer: Uint8Array): Promise<number | null> {
    while (true) {
      if (this.#chunks.length > 0) {
        const first = this.#chunks[0];
        const count = Math.min(first.length, buffer.length);
        buffer.set(first.subarray(0, count));
        if (count === first.length) this.#chunks.shift();
        else this.#chunks[0] = first.subarray(count);
        this.#buffered -= count;
        this.#pull();
        return count;
      }
      if (this.#error !== null) throw this.#error;
      if (this.#ended || this.#closed) return null;
      await new Promise<void>((resolve) => this.#reader = resolve);
    }
  }

  /**
   * Writes all of `bytes` (after the handshake); resolves once they are
   * handed to the socket, so a peer that does not read holds the writer up.
   */
  async write(bytes: Uint8Array): Promise<number> {
    if (this.#error !== null) throw this.#error;
    if (this.#closed) throw new Deno.errors.BadResource("Connection closed");
    this.#tls.write(bytes);
    while (!this.#flushed()) {
      await new Promise<void>((resolve) => this.#writers.push(resolve));
    }
    if (this.#error !== null) throw this.#error;
    return bytes.length;
  }

  /**
   * Whether output can reach the peer: once the handshake is done; false
   * if it failed, or is not done a second after the accept.
   */
  async ready(): Promise<boolean> {
    if (this.#secure || this.#error !== null || this.#closed) {
      return this.#secure && this.#error === null && !this.#closed;
    }
    const wait = HANDSHAKE_GRACE_MS - (performance.now() - this.#acceptedAt);
    if (wait > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#settled.promise,
        new Promise((resolve) => timer = setTimeout(resolve, wait)),
      ]);
      clearTimeout(timer);
    }
    return this.#secure && this.#error === null && !this.#closed;
  }

  /** Sends close_notify; reads go on. */
  closeWrite(): Promise<void> {
    this.#tls.end();
    return Promise.resolve();
  }

  /** Turns Nagle's algorithm off. */
  setNoDelay(noDelay = true): void {
    (this.#tcp as Deno.TcpConn).setNoDelay?.(noDelay);
  }

  /** Turns TCP keepalive on. */
  setKeepAlive(keepAlive = true): void {
    (this.#tcp as Deno.TcpConn).setKeepAlive?.(keepAlive);
  }

  /**
   * Closes: after the handshake, once the close_notify is out (1 s at
   * most); before it, at once. Resolves once the socket is closed.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    this.#settled.resolve();
    this.#chunks = [];
    this.#buffered = 0;
    this.#wakeReader();
    this.#wakeWriters();
    if (!this.#secure || this.#error !== null) {
      this.#destroy();
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    const done = () => {
      clearTimeout(timer);
      this.#destroy();
      resolve();
    };
    const timer = setTimeout(done, CLOSE_MS);
    // Once the TLS layer has written its close_notify (its writable side
    // finished) and our writes of it are done, the socket can go.
    const whenWritten = () => {
      if (this.#writesInFlight === 0) done();
      else this.#writers.push(whenWritten);
    };
    if (this.#tls.writableFinished || this.#tls.destroyed) whenWritten();
    else {
      this.#tls.once("finish", whenWritten);
      this.#tls.once("close", done);
      this.#tls.end();
    }
    this.#closing = promise;
    return promise;
  }

  // Reads ciphertext when the TLS layer wants it and the plaintext read
  // but not taken is under the high-water mark.
  #pull(): void {
    if (
      !this.#tcpWanted || this.#tcpReading || this.#destroyed ||
      this.#buffered >= HIGH_WATER
    ) return;
    this.#tcpWanted = false;
    this.#tcpReading = true;
    this.#tcp.read(this.#readBuffer).then((count) => {
      this.#tcpReading = false;
      if (this.#destroyed) return;
      this.#duplex.push(
        count === null ? null : this.#readBuffer.slice(0, count),
      );
    }, (error) => {
      this.#tcpReading = false;
      if (!this.#destroyed) this.#duplex.destroy(error);
    });
  }

  async #writeTcp(chunk: Uint8Array): Promise<void> {
    this.#writesInFlight++;
    try {
      let offset = 0;
      while (offset < chunk.length) {
        offset += await this.#tcp.write(chunk.subarray(offset));
      }
    } finally {
      this.#writesInFlight--;
      this.#wakeWriters();
    }
  }

  #flushed(): boolean {
    return this.#closed || this.#error !== null ||
      (this.#writesInFlight === 0 && this.#tls.writableLength === 0 &&
        this.#duplex.writableLength === 0);
  }

  #fail(error: unknown): void {
    this.#error ??= error;
    this.#settled.resolve();
    this.#wakeReader();
    this.#wakeWriters();
  }

  #wakeReader(): void {
    const reader = this.#reader;
    this.#reader = null;
    reader?.();
  }

  #wakeWriters(): void {
    // Woken writers look again: a write finished is not all of them.
    queueMicrotask(() => {
      const writers = this.#writers;
      this.#writers = [];
      for (const writer of writers) writer();
    });
  }

  #destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#tls.destroy();
    this.#duplex.destroy();
    try {
      this.#tcp.close();
    } catch {
      // Closed already.
    }
  }
}
