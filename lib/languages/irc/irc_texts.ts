/**
 * Every text an IRC user (or the server console, for the IRC door) sees
 * that is not a numeric's: ERROR and QUIT reasons, server notices, CTCP
 * answers. Numerics and their texts are in `irc_numerics.ts`.
 *
 * @module
 */

import { serverText } from "../../room/texts.ts";

/** The server's version, as 002, 004 and CTCP VERSION give it. */
export const IRC_VERSION = "deno-chat-1.0";

/** Texts of the IRC door. */
export const ircText = {
  /** ERROR before a close. */
  closingLink: (reason: string): string => `Closing link: ${reason}`,
  quitReason: (message: string): string =>
    message === "" ? "Quit" : `Quit: ${message}`,
  pingTimeout: (seconds: number): string => `Ping timeout: ${seconds} seconds`,
  shuttingDown: serverText.shuttingDown,
  registrationTimedOut: serverText.registrationTimedOut,
  wrongPassword: serverText.wrongPassword,
  serverFull: serverText.serverFull,
  tooManyFromAddress: serverText.tooManyFromAddress,
  kicked: serverText.kicked,
  /** The QUIT others see when a member leaves (IRC or not). */
  leftQuit: "Left the chat",
  /** The QUIT others see when a member was removed from the console. */
  removedQuit: "Removed from the chat",
  announcement: (text: string): string => `Announcement: ${text}`,
  historyLine: (stamp: string, name: string, text: string): string =>
    `[${stamp}] <${name}> ${text}`,
  historyAction: (stamp: string, name: string, text: string): string =>
    `[${stamp}] * ${name} ${text}`,
  historyEnd: (count: number): string =>
    `End of history (${count} ${count === 1 ? "message" : "messages"}).`,
  historySinceEnd: (count: number): string =>
    `End of history (${count} ${
      count === 1 ? "message" : "messages"
    } since you left).`,
  /** What a private /me to a member of another transport reads as. */
  privateAction: (name: string, text: string): string => `* ${name} ${text}`,
  /** The CTCP VERSION reply for a member whose client is not IRC. */
  versionReply: (transport: string): string =>
    `${IRC_VERSION} (${transport} member, answered by the server)`,
  ctcpNotDelivered: (target: string, command: string): string =>
    `${target} is not on IRC: CTCP ${command} was not delivered.`,
  serverInfo: "Deno chat",
  joinHint: (channel: string): string =>
    `Everyone is in ${channel}: /join ${channel} to talk with them.`,
  /** The NOTICE with 433 for a registered nick given without a login. */
  nickRegistered: (name: string): string =>
    `${name} is a registered name: log in to it with SASL PLAIN (the name and its password in your client's SASL settings), or choose another nick.`,
  /** A MODE +b/-b mask that names neither a nick nor an address. */
  banMaskUnsupported: (mask: string): string =>
    `Cannot ban ${mask}: a ban is of a nick (nick or nick!*@*) or of an address (*!*@192.0.2.1 or *!*@10.0.0.0/24).`,
  /** Before 904 when the server's password (PASS) did not come first. */
  saslNeedsPass: "Give the server's password (PASS) before logging in.",
  /** The console line once the door listens. */
  consoleListening: (address: string, channel: string): string =>
    `IRC at ${address}, channel ${channel}`,
} as const;
