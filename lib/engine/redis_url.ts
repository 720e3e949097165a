/**
 * Where a Redis server is and how to log in, read from a `redis://` URL,
 * and the URL with its password hidden for messages.
 *
 * @module
 */

/** Where a Redis server is and how to log in, from a `redis://` URL. */
export interface RedisEndpoint {
  /** The URL with its password replaced by `***`, for messages. */
  url: string;
  /** Whether the connection uses TLS (`rediss://`). */
  tls: boolean;
  /** The host name or IP address (an IPv6 address in brackets). */
  hostname: string;
  /** The TCP port. Default 6379. */
  port: number;
  /** The ACL user name, if the URL has one. */
  username?: string;
  /** The password, if the URL has one. */
  password?: string;
  /** The database selected after connecting. Default 0. */
  db: number;
}

/**
 * Reads `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` or the same with
 * `rediss://` (TLS). Throws an error quoting the URL (password hidden) if it
 * is not one.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  const shown = redactUrl(url);
  const fail = (why: string): never => {
    throw new Error(`Invalid Redis URL "${shown}": ${why}`);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail("it is not a URL");
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    fail("it must start with redis:// or rediss://");
  }
  if (parsed.hostname === "") fail("it has no host");
  let port = 6379;
  if (parsed.port !== "") {
    port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      fail(`the port "${parsed.port}" is not 1-65535`);
    }
  }
  let db = 0;
  const path = parsed.pathname;
  if (path !== "" && path !== "/") {
    if (!/^\/\d+$/.test(path)) {
      fail(`the database "${path.slice(1)}" is not a number`);
    }
    db = Number(path.slice(1));
  }
  const endpoint: RedisEndpoint = {
    url: shown,
    tls: parsed.protocol === "rediss:",
    hostname: parsed.hostname,
    port,
    db,
  };
  if (parsed.username !== "") {
    endpoint.username = decodeURIComponent(parsed.username);
  }
  if (parsed.password !== "") {
    endpoint.password = decodeURIComponent(parsed.password);
  }
  return endpoint;
}

// The URL with whatever is between `//` and `@` hidden but a user name.
function redactUrl(url: string): string {
  return url.replace(
    /^([a-z]+:\/\/)([^@/]*)@/i,
    (_, scheme: string, auth: string) => {
      const colon = auth.indexOf(":");
      return colon === -1
        ? `${scheme}${auth}@`
        : `${scheme}${auth.slice(0, colon)}:***@`;
    },
  );
}
