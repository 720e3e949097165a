/**
 * The addresses people can reach a door at, for the console's start lines:
 * a door bound to every interface (`0.0.0.0` or `::`) is named by each of
 * the machine's IPv4 addresses and then `localhost`, since the wildcard
 * itself is no address anyone can connect to.
 *
 * @module
 */

/** Whether `hostname` is a wildcard bind (every interface). */
export function isWildcard(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::";
}

/**
 * The machine's IPv4 addresses other than loopback, in the order the
 * system lists them; none when the program may not look.
 */
export function machineIpv4(): string[] {
  const ipv4: string[] = [];
  try {
    for (const nic of Deno.networkInterfaces()) {
      if (nic.family === "IPv4" && !nic.address.startsWith("127.")) {
        ipv4.push(nic.address);
      }
    }
  } catch {
    // Not allowed to look: localhost still works.
  }
  return ipv4;
}

/**
 * The hosts a door bound to `hostname` can be reached at: for a wildcard,
 * each IPv4 address then `localhost`; otherwise `hostname` itself.
 */
export function reachableHosts(hostname: string): string[] {
  return isWildcard(hostname) ? [...machineIpv4(), "localhost"] : [hostname];
}

/** `host:port`, with an IPv6 address in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
