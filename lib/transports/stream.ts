/**
 * What a door listens with: a byte-stream listener, plain TCP or TLS. TLS
 * is done over a plain TCP connection we own (see `tls_server.ts`), so
 * that closing a connection closes its socket whatever state its handshake
 * is in: `Deno.listenTls` keeps a socket open until its handshake ends,
 * which a peer that never sends a ClientHello never lets happen.
 *
 * @module
 */

import type { ByteReader } from "../io/line_reader.ts";
import type { ByteWriter } from "../io/outbox.ts";
import { tlsContext, TlsServerConn } from "./tls_server.ts";

/** An accepted connection: bytes both ways, and its addresses. */
export interface StreamConn extends ByteReader, ByteWriter {
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
  /** Our end's address. */
  readonly localAddr: Deno.Addr;
  /**
   * Closes the socket: at once, or once a TLS close_notify is out (the
   * promise, if any, says when).
   */
  close(): void | Promise<void>;
  /** Ends our side of the stream; reads go on. */
  closeWrite(): Promise<void>;
  /**
   * Resolves true once output can reach the peer, false if it never will
   * in time (a TLS handshake not done a second after the accept); absent
   * when output can always be written.
   */
  ready?(): Promise<boolean>;
  /** Turns Nagle's algorithm off (TCP). */
  setNoDelay?(noDelay?: boolean): void;
  /** Turns TCP keepalive on. */
  setKeepAlive?(keepAlive?: boolean): void;
}

/** A listener handing out {@linkcode StreamConn}s. */
export interface StreamListener {
  /** The address it listens on. */
  readonly addr: Deno.Addr;
  /** The next connection; rejects as `Deno.Listener.accept` does. */
  accept(): Promise<StreamConn>;
  /** Stops listening. */
  close(): void;
}

/** Options of {@linkcode listenStream}. */
export interface ListenStreamOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Speak TLS with this certificate chain and key (PEM). */
  tls?: { cert: string; key: string };
}

/**
 * Listens on `hostname:port`, with TLS if asked. Throws as `Deno.listen`
 * does (a port in use), or for a certificate or key it cannot use.
 */
export function listenStream(options: ListenStreamOptions): StreamListener {
  const where = { hostname: options.hostname, port: options.port };
  if (options.tls === undefined) return Deno.listen(where);
  const context = tlsContext(options.tls);
  const listener = Deno.listen(where);
  return {
    addr: listener.addr,
    async accept() {
      const conn = await listener.accept();
      return new TlsServerConn(conn, context);
    },
    close() {
      listener.close();
    },
  };
}
