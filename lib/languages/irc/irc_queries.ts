/**
 * Questions about members and modes: MODE (a channel's in
 * `irc_channel_ops.ts`; a user has +i only), WHO, WHOIS, AWAY, ISON and
 * USERHOST. A member shows with the user name it gave in USER (`~bob`);
 * members of other doors, who gave none, with their door (`tcp`, `web`).
 *
 * @module
 */

import type { MemberInfo } from "../../room/session_api.ts";
import { nameKey } from "../../room/registry.ts";
import { roomKey } from "../../room/room_names.ts";
import type { IrcClient } from "./irc_client.ts";
import { channelMode } from "./irc_channel_ops.ts";
import { IRC_TRANSPORT, MEMBER_HOST } from "./irc_format.ts";
import { ircLine, splitText } from "./irc_message.ts";
import { plainText } from "./irc_privmsg.ts";
import { ircText } from "./irc_texts.ts";

/** The longest away message kept, in bytes (005's AWAYLEN). */
export const AWAY_BYTES = 200;

/** `MODE #room [modes]` or `MODE nick [modes]`. */
export function mode(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const session = client.session;
  const target = params[0];
  const modes = params[1] ?? "";
  if (target.startsWith("#")) return channelMode(client, params);
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
    else if (flag === "i") client.setInvisible(adding);
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

/** The user part a member shows with: `~` and its USER name, or its door. */
export function userOf(member: MemberInfo): string {
  return member.user === null ? member.transport : `~${member.user}`;
}

// One 352: the channel (or `*`), H or G (away), `@` for its operators.
function whoLine(
  client: IrcClient,
  member: MemberInfo,
  channel: string | null,
): string {
  const op = channel !== null &&
    client.session.isOperator(channel, member.name);
  return client.numeric(
    "whoReply",
    channel ?? "*",
    userOf(member),
    MEMBER_HOST,
    client.context.serverName,
    member.name,
    (member.away !== null ? "G" : "H") + (op ? "@" : ""),
    `0 ${member.realName || member.name}`,
  );
}

/**
 * `WHO #room` (its members), `WHO nick`, or `WHO mask` (`*`, `0` and
 * `*?` masks: everyone present but the invisible, who show only to those
 * who share a channel with them).
 */
export function who(client: IrcClient, params: string[]): void {
  const session = client.session;
  const mask = params[0] || "*";
  const lines: string[] = [];
  if (mask.startsWith("#")) {
    const info = session.roomInfo(mask);
    for (const member of info ? session.roomMembers(info.name) ?? [] : []) {
      lines.push(whoLine(client, member, info!.name));
    }
  } else if (mask === "0" || /[*?]/.test(mask)) {
    const mine = new Set(session.rooms.map(roomKey));
    const { invisible } = client.context;
    for (const member of session.who()) {
      if (mask !== "0" && !globTest(mask, member.name)) continue;
      const shared = member.rooms.find((room) => mine.has(roomKey(room)));
      if (
        invisible.has(nameKey(member.name)) && shared === undefined &&
        member.name !== session.name
      ) continue;
      lines.push(whoLine(client, member, shared ?? member.rooms[0] ?? null));
    }
  } else {
    const found = session.find(mask);
    if (found !== undefined && found.present) {
      lines.push(whoLine(client, found, found.rooms[0] ?? null));
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
      userOf(found),
      MEMBER_HOST,
      "*",
      found.realName || name,
    ),
  ];
  if (found.present && found.rooms.length > 0) {
    const channels = found.rooms.map((room) =>
      session.isOperator(room, name) ? `@${room}` : room
    );
    lines.push(
      ...client.packed(client.numeric("whoisChannels", name, ""), channels),
    );
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
    replies.push(`${found.name}=${away}${userOf(found)}@${MEMBER_HOST}`);
  }
  client.send(...client.packed(client.numeric("userhost", ""), replies));
}
