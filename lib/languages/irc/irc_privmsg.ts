/**
 * PRIVMSG and NOTICE: to a channel (a message to its members) or to a nick
 * (a private message), `/me` as CTCP ACTION, and the other CTCPs, which
 * only IRC users see, on any node (the server answers VERSION and PING for
 * the others). Also what makes IRC text plain for the rest of the room.
 *
 * @module
 */

import type { MemberInfo } from "../../room/session_api.ts";
import { stripControls } from "../../room/sanitize.ts";
import { nameKey } from "../../room/registry.ts";
import type { IrcClient } from "./irc_client.ts";
import { IRC_TRANSPORT, memberMask } from "./irc_format.ts";
import { asciiLower, ircTextLine } from "./irc_message.ts";
import { ircText } from "./irc_texts.ts";

/** Targets of one PRIVMSG or NOTICE, as 005's TARGMAX says. */
export const MAX_TARGETS = 4;

// mIRC formatting: colours (with their digits), hex colours, and the
// toggles. Removed, so that the others read plain text.
const FORMATTING =
  // deno-lint-ignore no-control-regex
  /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;

/** IRC text made plain: formatting codes and control characters removed. */
export function plainText(text: string): string {
  return stripControls(text.replace(FORMATTING, ""));
}

/** A CTCP request or reply: `\x01COMMAND args\x01`. */
interface Ctcp {
  command: string;
  args: string;
}

function parseCtcp(text: string): Ctcp | null {
  if (text.charCodeAt(0) !== 1) return null;
  let body = text.slice(1);
  if (body.endsWith("\x01")) body = body.slice(0, -1);
  const space = body.indexOf(" ");
  return space === -1 ? { command: body.toUpperCase(), args: "" } : {
    command: body.slice(0, space).toUpperCase(),
    args: body.slice(space + 1),
  };
}

// The request as it travels: without its \x01 marks, made plain.
function ctcpBody(ctcp: Ctcp): string {
  const body = ctcp.args === "" ? ctcp.command : `${ctcp.command} ${ctcp.args}`;
  return stripControls(body);
}

function ctcpText(ctcp: Ctcp): string {
  return `\x01${ctcpBody(ctcp)}\x01`;
}

/**
 * `PRIVMSG targets :text` and `NOTICE targets :text`. A NOTICE never gets
 * an error back (RFC 2812: no automatic reply to a NOTICE).
 */
export function message(
  client: IrcClient,
  params: string[],
  command: string,
): void | Promise<void> {
  const targets = params[0] ?? "";
  const text = params[1] ?? "";
  const notice = command === "NOTICE";
  if (targets === "") {
    if (!notice) client.reply("noRecipient", [], command);
    return;
  }
  if (text === "") {
    if (!notice) client.reply("noTextToSend");
    return;
  }
  client.session.touch();
  return client.each(
    distinctTargets(targets),
    (target) => toTarget(client, command, target, text),
  );
}

// The targets of a PRIVMSG or NOTICE, each once (a nick without regard to
// case, a channel by the ascii case mapping), at most TARGMAX of them.
function distinctTargets(list: string): string[] {
  const seen = new Set<string>();
  const targets: string[] = [];
  for (const target of list.split(",")) {
    if (target === "") continue;
    const key = target.startsWith("#") ? asciiLower(target) : nameKey(target);
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push(target);
    if (targets.length === MAX_TARGETS) break;
  }
  return targets;
}

function toTarget(
  client: IrcClient,
  command: string,
  target: string,
  text: string,
): void {
  if (target.startsWith("#")) toChannel(client, command, target, text);
  else toNick(client, command, target, text);
}

// To a channel one is in: 403 when there is no such channel, 404 when one
// is not in it (neither for a NOTICE).
function toChannel(
  client: IrcClient,
  command: string,
  target: string,
  text: string,
): void {
  const session = client.session;
  const notice = command === "NOTICE";
  const room = session.roomInfo(target)?.name;
  if (room === undefined || !client.isIn(room)) {
    if (notice) return;
    if (room === undefined) client.reply("noSuchChannel", target);
    else client.reply("cannotSendToChan", room);
    return;
  }
  const ctcp = parseCtcp(text);
  if (ctcp === null) {
    const plain = plainText(text);
    if (plain.trim() === "") {
      if (!notice) client.reply("noTextToSend");
      return;
    }
    session.say(plain, room, { notice });
    return;
  }
  if (ctcp.command === "ACTION") {
    const plain = plainText(ctcp.args);
    if (plain.trim() !== "") session.act(plain, room);
    return;
  }
  // Other CTCPs are client machinery: only the channel's IRC users see them.
  session.ctcpRoom(ctcpBody(ctcp), notice, room);
}

function toNick(
  client: IrcClient,
  command: string,
  target: string,
  text: string,
): void {
  const session = client.session;
  const notice = command === "NOTICE";
  const found = session.find(target);
  if (found === undefined) {
    if (!notice) client.reply("noSuchNick", target);
    return;
  }
  const ctcp = parseCtcp(text);
  if (ctcp !== null && ctcp.command !== "ACTION") {
    ctcpTo(client, command, found, ctcp);
    return;
  }
  const plain = ctcp === null
    ? plainText(text)
    : ircText.privateAction(session.name!, plainText(ctcp.args));
  if (plain.trim() === "") {
    if (!notice) client.reply("noTextToSend");
    return;
  }
  if (!notice && found.away !== null) {
    client.reply("away", found.name, found.away);
  }
  if (session.tell(found.name, plain) === null && !notice) {
    client.reply("noSuchNick", target);
  }
}

// A CTCP to one member: passed on to an IRC client (on any node), answered
// by the server for a member of another transport (VERSION, PING), refused
// otherwise.
function ctcpTo(
  client: IrcClient,
  command: string,
  found: MemberInfo,
  ctcp: Ctcp,
): void {
  if (found.transport === IRC_TRANSPORT) {
    client.session.ctcp(found.name, ctcpBody(ctcp), command === "NOTICE");
    return;
  }
  // A reply (NOTICE) is never answered, or two servers could loop.
  if (command !== "PRIVMSG") return;
  const source = memberMask(found.name, found.transport);
  if (ctcp.command === "VERSION") {
    client.send(
      ircTextLine(
        source,
        "NOTICE",
        client.me,
        ctcpText({
          command: "VERSION",
          args: ircText.versionReply(found.transport),
        }),
      ),
    );
  } else if (ctcp.command === "PING") {
    client.send(ircTextLine(source, "NOTICE", client.me, ctcpText(ctcp)));
  } else {
    client.send(
      client.serverNotice(ircText.ctcpNotDelivered(found.name, ctcp.command)),
    );
  }
}
