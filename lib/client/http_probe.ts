/**
 * Whether the other end of a connection that says nothing is a web server
 * (which never speaks first), asked on a connection of its own, and the
 * page's address were the chat's address a web port.
 *
 * @module
 */

import type { ClientConnection } from "./chat_client.ts";

const encoder = new TextEncoder();
const HTTP_PROBE = "HEAD / HTTP/1.1\r\nHost: HOST\r\nConnection: close\r\n\r\n";
// Long enough for a web server on a busy machine; the user is waiting.
const PROBE_WAIT_MS = 3000;

/**
 * Whether the server at the other end of `connect` answers HTTP, asked on a
 * connection of its own. Gives up (false) after a while or when `signal`
 * aborts, closing what it opened; never rejects.
 */
export async function speaksHttp(
  connect: () => Promise<ClientConnection>,
  address: string,
  signal: AbortSignal,
): Promise<boolean> {
  const giveUp = Promise.withResolvers<null>();
  const timer = setTimeout(() => giveUp.resolve(null), PROBE_WAIT_MS);
  const onAbort = () => giveUp.resolve(null);
  signal.addEventListener("abort", onAbort);
  const connecting = connect();
  let conn: ClientConnection | null = null;
  try {
    conn = await Promise.race([connecting, giveUp.promise]);
    if (conn === null) return false;
    const host = address.slice(0, address.lastIndexOf(":"));
    await conn.write(encoder.encode(HTTP_PROBE.replace("HOST", host)));
    const head = new Uint8Array(5);
    let got = 0;
    while (got < head.length) {
      const n = await Promise.race([
        conn.read(head.subarray(got)),
        giveUp.promise,
      ]);
      if (n === null) break;
      got += n;
    }
    return new TextDecoder().decode(head.subarray(0, got)) === "HTTP/";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    // A connection that came too late is closed when it comes.
    connecting.then(closeQuietly, () => {});
  }
}

function closeQuietly(conn: ClientConnection): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

/** The page's address, were `address` (`HOST:PORT`) a web port. */
export function webUrl(address: string, tls = false): string {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  const port = address.slice(colon + 1);
  const shown = host.includes(":") ? `[${host}]` : host;
  return `${tls ? "https" : "http"}://${shown}:${port}/`;
}
