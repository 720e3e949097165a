/**
 * What the client program prints itself. The server's lines it recognises
 * come from `../room/texts.ts`, the same constants the server sends.
 *
 * @module
 */

/** What the client program prints itself. */
export const clientText = {
  connecting: (address: string): string => `Connecting to ${address}...`,
  couldNotConnect: (address: string, reason: string): string =>
    `Could not connect to ${address}: ${reason}`,
  disconnected: "Disconnected from server.",
} as const;
