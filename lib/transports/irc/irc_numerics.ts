/**
 * The one table of IRC numeric replies this server sends: each with its
 * code and, where the reply has one, its text (the trailing parameter).
 * Parameters between the recipient's nick and the text are the caller's.
 *
 * @module
 */

import { serverText } from "../../room/texts.ts";

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
  myInfo: { code: "004" },
  isupport: { code: "005", text: "are supported by this server" },
  umodeIs: { code: "221" },
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
  channelModeIs: { code: "324" },
  creationTime: { code: "329" },
  noTopic: { code: "331", text: "No topic is set" },
  topic: { code: "332" },
  whoReply: { code: "352" },
  namReply: { code: "353" },
  endOfNames: { code: "366", text: "End of /NAMES list" },
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
  notOnChannel: { code: "442", text: "You're not on that channel" },
  notRegistered: { code: "451", text: "You have not registered" },
  needMoreParams: { code: "461", text: "Not enough parameters" },
  alreadyRegistered: { code: "462", text: "You may not reregister" },
  passwdMismatch: { code: "464", text: "Password incorrect" },
  chanOpPrivsNeeded: {
    code: "482",
    text: "You're not channel operator (the topic and modes are the server's)",
  },
  umodeUnknownFlag: { code: "501", text: "Unknown MODE flag" },
  usersDontMatch: {
    code: "502",
    text: "Cannot change mode for other users",
  },
} as const;
