/**
 * TLS connecting: the handshake is made as part of connecting, so that a
 * certificate problem is a failure to connect, and its reason is put in
 * words a person can act on.
 *
 * @module
 */

import { clientText } from "./texts.ts";

/** Options of {@linkcode connectTlsWithHandshake}. */
export interface TlsConnectOptions {
  /** The server's name or IP; the certificate must cover it. */
  hostname: string;
  /** Its port. */
  port: number;
  /** CA certificates (PEM) to trust besides the system's. */
  caCerts?: string[];
}

/**
 * Connects with TLS and completes the handshake; on failure the connection
 * is closed and the error's message says why, in words.
 */
export async function connectTlsWithHandshake(
  options: TlsConnectOptions,
): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls(options);
  try {
    await conn.handshake();
  } catch (error) {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
    throw new Error(explainTlsError(error, options.hostname));
  }
  return conn;
}

/** A TLS handshake error as a reason a person understands. */
export function explainTlsError(error: unknown, hostname: string): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/CaUsedAsEndEntity/.test(message)) return clientText.tlsCaAsServer;
  if (/UnknownIssuer|BadSignature|UnknownCA/i.test(message)) {
    return clientText.tlsUnknownIssuer;
  }
  if (/NotValidForName|CertNotValidForName/i.test(message)) {
    return clientText.tlsWrongName(hostname);
  }
  if (/Expired|NotValidYet/i.test(message)) return clientText.tlsExpired;
  if (/corrupt message|InvalidContentType|wrong version/i.test(message)) {
    return clientText.tlsNotTls;
  }
  const detail = message.replace(/^invalid peer certificate: /, "")
    .replace(/ \(os error \d+\)[^]*$/, "");
  return clientText.tlsOther(detail || "no reason given");
}
