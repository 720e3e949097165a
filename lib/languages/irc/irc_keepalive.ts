/**
 * Keep-alive: the client's PING answered, and the server's own PING to a
 * client that went silent, which is dropped if it stays so.
 *
 * @module
 */

import type { IrcClient } from "./irc_client.ts";
import { ircLine, ircTextLine } from "./irc_message.ts";
import { ircText } from "./irc_texts.ts";

/** `PING token`: `PONG server :token`. */
export function ping(client: IrcClient, params: string[]): void {
  const token = params[0];
  if (token === undefined || token === "") {
    client.reply("noOrigin");
    return;
  }
  const server = client.context.serverName;
  client.send(ircTextLine(server, "PONG", server, token));
}

/** `PONG`: nothing to do; any line counts as an answer. */
export function pong(): void {}

/**
 * Watches one connection's silence: any line counts as an answer; a client
 * silent for the interval is PINGed, one silent for the timeout dropped.
 */
export class KeepAlive {
  #client: IrcClient;
  #heardAt = performance.now();
  #pinged = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  /** Starts watching `client`. */
  constructor(client: IrcClient) {
    this.#client = client;
    this.#schedule(client.context.pingIntervalMs);
  }

  /** A line came: the silence starts again. */
  heard(): void {
    this.#heardAt = performance.now();
    this.#pinged = false;
  }

  /** Stops the timer; the connection closed. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    if (this.#disposed) return;
    this.#timer = setTimeout(() => this.#check(), Math.max(1, ms));
  }

  #check(): void {
    this.#timer = undefined;
    const client = this.#client;
    const { pingIntervalMs, pingTimeoutMs, serverName } = client.context;
    const silent = performance.now() - this.#heardAt;
    if (silent >= pingTimeoutMs) {
      if (client.attached === null) {
        client.cut("pingTimeout");
        return;
      }
      client.closeLink(
        ircText.pingTimeout(Math.round(pingTimeoutMs / 1000)),
        "pingTimeout",
      );
      return;
    }
    if (silent >= pingIntervalMs) {
      if (!this.#pinged) {
        this.#pinged = true;
        client.send(ircLine(null, "PING", serverName));
      }
      this.#schedule(pingTimeoutMs - silent);
      return;
    }
    this.#schedule(pingIntervalMs - silent);
  }
}
