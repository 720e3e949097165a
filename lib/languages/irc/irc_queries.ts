/**
 * Questions about members and modes: MODE (the channel's are fixed, a user
 * has +i only), WHO, WHOIS, AWAY, ISON and USERHOST. Members of other
 * doors show as `name!tcp@chat` or `name!web@chat`.
 *
 * @module
 */

import type { MemberInfo } from "../../room/chat_room.ts";
import { nameKey } from "../../room/registry.ts";
import type { IrcClient } from "./irc_client.ts";
import { IRC_TRANSPORT, MEMBER_HOST } from "./irc_format.ts";
import { ircLine, splitText } from "./irc_message.ts";
import { plainText } from "./irc_privmsg.ts";
import { ircText } from "./irc_texts.ts";

/** The longest away message kept, in bytes (005's AWAYLEN). */
export const AWAY_BYTES = 200;

/** `MODE #chat [modes]` or `MODE nick [modes]`. */
export function mode(client: IrcClient, params: string[]): void {
  const session = client.session;
  const target = params[0];
  const modes = params[1] ?? "";
  if (target.startsWith("#")) {
    channelMode(client, params);
    return;
  }
  if (nameKey(target) !== nameKey(session.name!)) {
    client.send(
      session.find(target) === undefined
        ? client.numeric("noSuchNick", target)
        : client.numeric("usersDontMatch"),
    );
    return;
  }
  if (modes === "") {
    client.reply("umodeIs", client.invisible ? "+i" : "+");
    return;
  }
  let adding = true;
  let unknown = false;
  const before = client.invisible;
  for (const flag of modes) {
    if (flag === "+") adding = true;
    else if (flag === "-") adding = false;
    else if (flag === "i") client.invisible = adding;
    else unknown = true;
  }
  const lines: string[] = [];
  if (client.invisible !== before) {
    const name = session.name!;
    lines.push(ircLine(name, "MODE", name, client.invisible ? "+i" : "-i"));
  }
  if (unknown) lines.push(client.numeric("umodeUnknownFlag"));
  client.send(...lines);
}

// The channel's modes are +nt and its ban list is empty, for good.
function channelMode(client: IrcClient, params: string[]): void {
  const target = params[0];
  const modes = params[1] ?? "";
  const channel = client.context.channel;
  if (!client.isChannel(target)) {
    client.reply("noSuchChannel", target);
  } else if (modes === "") {
    client.send(
      client.numeric("channelModeIs", channel, "+nt"),
      client.numeric(
        "creationTime",
        channel,
        String(Math.floor(client.context.startedAt / 1000)),
      ),
    );
  } else if (/^[+-]?b+$/.test(modes) && params.length === 2) {
    client.reply("endOfBanList", channel);
  } else {
    client.reply("chanOpPrivsNeeded", channel);
  }
}

// `*` and `?` wildcards, as WHO masks use them, without regard to case.
// Linear backtracking on the last `*` only: a mask of many stars cannot
// make a regular expression run for ever.
function globTest(mask: string, name: string): boolean {
  const p = mask.toLowerCase();
  const s = name.toLowerCase();
  let i = 0, j = 0, star = -1, mark = 0;
  while (i < s.length) {
    if (j < p.length && (p[j] === "?" || p[j] === s[i])) {
      i++;
      j++;
    } else if (j < p.length && p[j] === "*") {
      star = j++;
      mark = i;
    } else if (star !== -1) {
      j = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j] === "*") j++;
  return j === p.length;
}

function whoLine(
  client: IrcClient,
  member: MemberInfo,
  channel: string,
): string {
  const flag = member.away !== null ? "G" : "H";
  return client.numeric(
    "whoReply",
    channel,
    member.transport,
    MEMBER_HOST,
    client.context.serverName,
    member.name,
    flag,
    `0 ${member.realName || member.name}`,
  );
}

/** `WHO [mask]`: the channel, everyone, a nick, or a `*?` mask. */
export function who(client: IrcClient, params: string[]): void {
  const session = client.session;
  const mask = params[0] ?? "*";
  const channel = client.context.channel;
  const lines: string[] = [];
  if (client.isChannel(mask) || mask === "*" || mask === "0") {
    for (const member of session.who()) {
      lines.push(whoLine(client, member, channel));
    }
  } else if (!mask.startsWith("#")) {
    if (/[*?]/.test(mask)) {
      for (const member of session.who()) {
        if (globTest(mask, member.name)) {
          lines.push(whoLine(client, member, channel));
        }
      }
    } else {
      const found = session.find(mask);
      if (found !== undefined) {
        lines.push(whoLine(client, found, found.present ? channel : "*"));
      }
    }
  }
  lines.push(client.numeric("endOfWho", mask));
  client.send(...lines);
}

/** `WHOIS nick`, or `WHOIS server nick` (irssi's /whois nick nick). */
export function whois(client: IrcClient, params: string[]): void {
  const session = client.session;
  const target = (params.length >= 2 ? params[1] : params[0] ?? "")
    .split(",")[0];
  if (target === "") {
    client.reply("noNicknameGiven");
    return;
  }
  const found = session.find(target);
  const end = client.numeric("endOfWhois", found?.name ?? target);
  if (found === undefined) {
    client.send(client.numeric("noSuchNick", target), end);
    return;
  }
  const name = found.name;
  const lines = [
    client.numeric(
      "whoisUser",
      name,
      found.transport,
      MEMBER_HOST,
      "*",
      found.realName || name,
    ),
  ];
  if (found.present) {
    lines.push(client.numeric("whoisChannels", name, client.context.channel));
  }
  lines.push(
    client.numeric(
      "whoisServer",
      name,
      client.context.serverName,
      ircText.serverInfo,
    ),
  );
  // An IRC member, on this node or another, shows as IRC shows users.
  if (found.transport !== IRC_TRANSPORT) {
    lines.push(client.numeric("whoisSpecial", [name], found.transport));
  } else {
    if (found.away !== null) {
      lines.push(client.numeric("away", name, found.away));
    }
    lines.push(
      client.numeric(
        "whoisIdle",
        name,
        String(Math.floor((found.idleMs ?? 0) / 1000)),
        String(Math.floor((found.signedOn ?? 0) / 1000)),
      ),
    );
  }
  lines.push(end);
  client.send(...lines);
}

/** `AWAY :message` marks away; `AWAY` alone marks back. */
export function away(client: IrcClient, params: string[]): void {
  const message = plainText(params[0] ?? "").trim();
  if (message === "") {
    client.session.setAway(null);
    client.reply("unaway");
  } else {
    client.session.setAway(splitText(message, AWAY_BYTES)[0]);
    client.reply("nowAway");
  }
}

/**
 * The nicks of ISON and USERHOST: in middle parameters, or several in one
 * trailing parameter.
 */
export function nickList(params: string[]): string[] {
  return params.flatMap((param) => param.split(" ")).filter((nick) =>
    nick !== ""
  );
}

/** `ISON nick...`: which of them are online (given {@linkcode nickList}). */
export function ison(client: IrcClient, nicks: string[]): void {
  const online: string[] = [];
  for (const nick of nicks) {
    const found = client.session.find(nick);
    if (found !== undefined) online.push(found.name);
  }
  client.send(...client.packed(client.numeric("ison", ""), online));
}

/** `USERHOST nick...`: up to five (given {@linkcode nickList}). */
export function userhost(client: IrcClient, nicks: string[]): void {
  const replies: string[] = [];
  for (const nick of nicks.slice(0, 5)) {
    const found = client.session.find(nick);
    if (found === undefined) continue;
    const away = found.away !== null ? "-" : "+";
    replies.push(`${found.name}=${away}${found.transport}@${MEMBER_HOST}`);
  }
  client.send(...client.packed(client.numeric("userhost", ""), replies));
}
