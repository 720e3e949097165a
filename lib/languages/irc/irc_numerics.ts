/**
 * The one table of IRC numeric replies this server sends: each with its
 * code and, where the reply has one, its text (the trailing parameter),
 * and {@linkcode numericLine}, which writes a reply from the table.
 * Parameters between the recipient's nick and the text are the caller's.
 *
 * @module
 */

import { serverText } from "../../room/texts.ts";
import { ircLine, ircTextLine } from "./irc_message.ts";

/** One numeric reply. */
export interface Numeric {
  /** The three digits. */
  readonly code: string;
  /** The trailing text, fixed or made from values; none: the caller's. */
  readonly text?: string | ((...values: string[]) => string);
  /**
   * The last parameter is a token, not a text: written without the `:`
   * that every other numeric's last parameter gets (as clients expect).
   */
  readonly token?: true;
}

/** Every numeric reply, by its name in the IRC documents (camel-cased). */
export const NUMERICS = {
  welcome: {
    code: "001",
    text: (network: string, mask: string): string =>
      `Welcome to the ${network} IRC network, ${mask}`,
  },
  yourHost: {
    code: "002",
    text: (server: string, version: string): string =>
      `Your host is ${server}, running version ${version}`,
  },
  created: {
    code: "003",
    text: (date: string): string => `This server was created ${date}`,
  },
  myInfo: { code: "004", token: true },
  isupport: { code: "005", text: "are supported by this server" },
  umodeIs: { code: "221", token: true },
  away: { code: "301" },
  userhost: { code: "302" },
  ison: { code: "303" },
  unaway: { code: "305", text: "You are no longer marked as being away" },
  nowAway: { code: "306", text: "You have been marked as being away" },
  whoisUser: { code: "311" },
  whoisServer: { code: "312" },
  endOfWho: { code: "315", text: "End of /WHO list" },
  whoisIdle: { code: "317", text: "seconds idle, signon time" },
  endOfWhois: { code: "318", text: "End of /WHOIS list" },
  whoisChannels: { code: "319" },
  whoisSpecial: {
    code: "320",
    text: (transport: string): string => `is connected via ${transport}`,
  },
  listStart: { code: "321", text: "Users  Name" },
  list: { code: "322" },
  listEnd: { code: "323", text: "End of /LIST" },
  channelModeIs: { code: "324", token: true },
  creationTime: { code: "329", token: true },
  noTopic: { code: "331", text: "No topic is set" },
  topic: { code: "332" },
  topicWhoTime: { code: "333", token: true },
  whoReply: { code: "352" },
  namReply: { code: "353" },
  endOfNames: { code: "366", text: "End of /NAMES list" },
  banList: { code: "367", token: true },
  endOfBanList: { code: "368", text: "End of channel ban list" },
  motd: { code: "372" },
  motdStart: {
    code: "375",
    text: (server: string): string => `- ${server} Message of the day -`,
  },
  endOfMotd: { code: "376", text: "End of /MOTD command" },
  noSuchNick: { code: "401", text: "No such nick/channel" },
  noSuchChannel: { code: "403", text: "No such channel" },
  cannotSendToChan: {
    code: "404",
    text: "Cannot send to channel (join it first)",
  },
  // The room's words for its two limits (rooms per member, on the server).
  tooManyChannels: { code: "405", text: (why: string): string => why },
  noOrigin: { code: "409", text: "No origin specified" },
  invalidCapCmd: { code: "410", text: "Invalid CAP command" },
  noRecipient: {
    code: "411",
    text: (command: string): string => `No recipient given (${command})`,
  },
  noTextToSend: { code: "412", text: "No text to send" },
  inputTooLong: { code: "417", text: "Input line was too long" },
  unknownCommand: { code: "421", text: "Unknown command" },
  noMotd: { code: "422", text: "MOTD File is missing" },
  noNicknameGiven: { code: "431", text: "No nickname given" },
  // The room's own rules, so the two never disagree.
  erroneousNickname: { code: "432", text: serverText.nameInvalidPlain },
  nicknameInUse: { code: "433", text: "Nickname is already in use" },
  nicknameLooksLike: { code: "433", text: serverText.nameLooksLikePlain },
  // A registered nick given without logging in to it (SASL).
  nicknameRegistered: {
    code: "433",
    text: "Nickname is registered: log in to it with SASL",
  },
  // A nick refused with the room's words for why (reserved, a rule).
  nicknameRefused: { code: "432", text: (why: string): string => why },
  userNotInChannel: { code: "441", text: "They aren't on that channel" },
  notOnChannel: { code: "442", text: "You're not on that channel" },
  notRegistered: { code: "451", text: "You have not registered" },
  needMoreParams: { code: "461", text: "Not enough parameters" },
  alreadyRegistered: { code: "462", text: "You may not reregister" },
  passwdMismatch: { code: "464", text: "Password incorrect" },
  unknownMode: { code: "472", text: "is unknown mode char to me" },
  noPrivileges: {
    code: "481",
    text: "Permission Denied- You're not an IRC operator",
  },
  badChanName: { code: "479", text: serverText.invalidRoomName },
  chanOpPrivsNeeded: { code: "482", text: "You're not channel operator" },
  umodeUnknownFlag: { code: "501", text: "Unknown MODE flag" },
  usersDontMatch: {
    code: "502",
    text: "Cannot change mode for other users",
  },
  // SASL (IRCv3 `sasl`): PLAIN only.
  loggedIn: {
    code: "900",
    text: (account: string): string => `You are now logged in as ${account}`,
  },
  saslSuccess: { code: "903", text: "SASL authentication successful" },
  saslFail: { code: "904", text: "SASL authentication failed" },
  saslTooLong: { code: "905", text: "SASL message too long" },
  saslAborted: { code: "906", text: "SASL authentication aborted" },
  saslAlready: {
    code: "907",
    text: "You have already authenticated using SASL",
  },
  saslMechs: { code: "908", text: "are available SASL mechanisms" },
} as const satisfies Record<string, Numeric>;

/** The name of a numeric reply in {@linkcode NUMERICS}. */
export type NumericName = keyof typeof NUMERICS;

/**
 * What numeric `K` takes after its recipient: its parameters; for a numeric
 * whose text is made from values, the parameters as a list, then the values.
 */
export type NumericArgs<K extends NumericName> = (typeof NUMERICS)[K] extends
  { text: (...values: infer V) => string } ? [params: readonly string[], ...V]
  : string[];

/**
 * The line of numeric `name` from `server` to `nick`: `:server CODE nick`,
 * the parameters, then the numeric's text, if it has one, as the trailing
 * parameter.
 *
 * @example
 * ```ts
 * numericLine("irc.lab", "ann", "noSuchNick", "bob");
 * // ":irc.lab 401 ann bob :No such nick/channel"
 * numericLine("irc.lab", "ann", "noRecipient", [], "PRIVMSG");
 * // ":irc.lab 411 ann :No recipient given (PRIVMSG)"
 * ```
 */
export function numericLine<K extends NumericName>(
  server: string,
  nick: string,
  name: K,
  ...args: NumericArgs<K>
): string {
  const numeric: Numeric = NUMERICS[name];
  const text = numeric.text;
  let params: readonly string[];
  if (typeof text === "function") {
    const [head, ...values] = args as [readonly string[], ...string[]];
    params = [...head, text(...values)];
  } else if (text !== undefined) {
    params = [...(args as string[]), text];
  } else {
    params = args as string[];
  }
  const write = numeric.token ? ircLine : ircTextLine;
  return write(server, numeric.code, nick, ...params);
}
