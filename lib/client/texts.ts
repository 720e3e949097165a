/**
 * What the client program prints itself. The server's lines it recognises
 * come from `../room/texts.ts`, the same constants the server sends.
 *
 * @module
 */

/** The README section on TLS, for error messages. */
const README_TLS = 'README.md, section "TLS"';

/** What to check when the other end is not a chat server. */
const CHECK_PORT =
  "check --host, --port and --tls (the chat port is 2025 unless the server was given another)";

/** What the client program prints itself. */
export const clientText = {
  connecting: (address: string): string => `Connecting to ${address}...`,
  couldNotConnect: (address: string, reason: string): string =>
    `Could not connect to ${address}: ${reason}`,
  disconnected: "Disconnected from server.",
  reconnecting: (seconds: number): string =>
    `Disconnected; reconnecting in ${seconds} s...`,
  reconnected: (name: string): string => `Reconnected as ${name}.`,
  webPort: (address: string, url: string): string =>
    `${address} is a web port, not the chat port: open ${url} in a browser, or connect the client to the chat port (2025 unless the server was given another --port).`,
  notChatServer: (address: string, said: string): string =>
    `${address} does not greet like a chat server (it said "${said}"): ${CHECK_PORT}.`,
  closedWithoutGreeting: (address: string): string =>
    `${address} closed the connection without greeting: ${CHECK_PORT}.`,
  noGreeting: (address: string, seconds: number): string =>
    `${address} sent no greeting within ${seconds} s: ${CHECK_PORT}.`,
  prompt: "> ",
  /** The prompt in a room other than the main room alone. */
  roomPrompt: (room: string): string => `${room}> `,
  noRoomPrompt: "(no room)> ",
  candidates: (names: readonly string[]): string => names.join("  "),
  caFileUnreadable: (reason: string): string =>
    `Cannot read the CA file: ${reason}.`,
  caFileNotPem: (path: string): string =>
    `The CA file "${path}" holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block); give the CA's .crt file (ca.crt).`,
  tlsCaAsServer:
    `the server's certificate is a CA certificate (CA:TRUE), which TLS refuses as a server certificate (CaUsedAsEndEntity). ` +
    `This is what a single "openssl req -x509" makes. Make a small CA and a server certificate signed by it ("deno task cert --host NAME"), ` +
    `run the server with server.crt and server.key and connect with --ca ca.crt; see ${README_TLS}.`,
  tlsUnknownIssuer:
    `the server's certificate is not trusted (unknown issuer). Pass the CA that signed it with --ca FILE (ca.crt from "deno task cert"); see ${README_TLS}.`,
  tlsWrongName: (host: string): string =>
    `the server's certificate is not valid for "${host}". Connect with --host set to a name or IP it covers, or make a certificate for "${host}" ("deno task cert --host ${host}"); see ${README_TLS}.`,
  tlsExpired:
    `the server's certificate has expired (or is not valid yet: check both clocks). Make a new one; see ${README_TLS}.`,
  tlsNotTls:
    "the server did not answer in TLS (is it running without --tls-cert? then connect without --tls)",
  tlsOther: (detail: string): string =>
    `the TLS handshake failed (${detail}); see ${README_TLS}.`,
  unexpected: (reason: string): string => `The client stopped: ${reason}.`,
} as const;
