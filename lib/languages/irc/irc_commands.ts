/**
 * The table of IRC commands the door answers: each with its handler, the
 * parameters it needs and when it is allowed, so that the table, not the
 * handlers, answers 421 (unknown), 451 (not registered yet), 462 (already
 * registered) and 461 (not enough parameters).
 *
 * @module
 */

import {
  away,
  ison,
  mode,
  nickList,
  userhost,
  who,
  whois,
} from "./irc_queries.ts";
import { join, part } from "./irc_channel.ts";
import { list, names, topic } from "./irc_channel_info.ts";
import { kick } from "./irc_channel_ops.ts";
import { kill } from "./irc_moderation.ts";
import { authenticate } from "./irc_sasl.ts";
import type { IrcClient } from "./irc_client.ts";
import { ping, pong } from "./irc_keepalive.ts";
import type { IrcMessage } from "./irc_message.ts";
import { message } from "./irc_privmsg.ts";
import { cap, motd, nick, pass, quit, user } from "./irc_registration.ts";

/** One command of the table. */
export interface IrcCommand {
  /** Handles the command once the table's checks passed. */
  readonly run: (
    client: IrcClient,
    params: string[],
    command: string,
  ) => void | Promise<void>;
  /**
   * The parameters it needs: fewer, or an empty first one (`JOIN :`), get
   * 461.
   */
  readonly minParams: number;
  /**
   * When it is allowed: `registered` only after registration (else 451),
   * `unregistered` only before it (else 462), `always` either way.
   */
  readonly when: "registered" | "unregistered" | "always";
  /** An empty first parameter counts as one (PASS's empty password). */
  readonly emptyAllowed?: true;
  /** The parameters as the handler and the count see them. */
  readonly args?: (params: string[]) => string[];
}

/** Every command the door answers, by its upper-case name. */
export const IRC_COMMANDS: ReadonlyMap<string, IrcCommand> = new Map<
  string,
  IrcCommand
>([
  // Registration and leaving.
  ["CAP", { run: cap, minParams: 1, when: "always" }],
  [
    "PASS",
    { run: pass, minParams: 1, when: "unregistered", emptyAllowed: true },
  ],
  ["NICK", { run: nick, minParams: 0, when: "always" }],
  ["USER", { run: user, minParams: 4, when: "unregistered" }],
  ["QUIT", { run: quit, minParams: 0, when: "always" }],
  ["AUTHENTICATE", { run: authenticate, minParams: 1, when: "always" }],
  ["MOTD", { run: motd, minParams: 0, when: "registered" }],
  // Keep-alive.
  ["PING", { run: ping, minParams: 0, when: "always" }],
  ["PONG", { run: pong, minParams: 0, when: "always" }],
  // Channels.
  ["JOIN", { run: join, minParams: 1, when: "registered" }],
  ["PART", { run: part, minParams: 1, when: "registered" }],
  ["NAMES", { run: names, minParams: 0, when: "registered" }],
  ["LIST", { run: list, minParams: 0, when: "registered" }],
  ["TOPIC", { run: topic, minParams: 1, when: "registered" }],
  ["KICK", { run: kick, minParams: 2, when: "registered" }],
  // Server operators.
  ["KILL", { run: kill, minParams: 1, when: "registered" }],
  // Messages and CTCP.
  ["PRIVMSG", { run: message, minParams: 0, when: "registered" }],
  ["NOTICE", { run: message, minParams: 0, when: "registered" }],
  // Queries.
  ["MODE", { run: mode, minParams: 1, when: "registered" }],
  ["WHO", { run: who, minParams: 0, when: "registered" }],
  ["WHOIS", { run: whois, minParams: 0, when: "registered" }],
  ["AWAY", { run: away, minParams: 0, when: "registered" }],
  [
    "ISON",
    { run: ison, minParams: 1, when: "registered", args: nickList },
  ],
  [
    "USERHOST",
    { run: userhost, minParams: 1, when: "registered", args: nickList },
  ],
]);

/**
 * Runs one message through the table: the table's own answers first
 * (451, 421, 462, 461), then the command's handler.
 */
export function dispatch(
  client: IrcClient,
  message: IrcMessage,
): void | Promise<void> {
  const { command } = message;
  const entry = IRC_COMMANDS.get(command);
  const registered = client.registered;
  if (!registered && (entry === undefined || entry.when === "registered")) {
    client.reply("notRegistered");
    return;
  }
  if (entry === undefined) {
    client.reply("unknownCommand", command);
    return;
  }
  if (registered && entry.when === "unregistered") {
    client.reply("alreadyRegistered");
    return;
  }
  const params = entry.args?.(message.params) ?? message.params;
  if (
    params.length < entry.minParams ||
    (entry.minParams > 0 && params[0] === "" && !entry.emptyAllowed)
  ) {
    client.reply("needMoreParams", command);
    return;
  }
  return entry.run(client, params, command);
}
