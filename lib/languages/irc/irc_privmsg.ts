/**
 * PRIVMSG and NOTICE: to the channel (a message to everyone) or to a nick
 * (a private message), `/me` as CTCP ACTION, and the other CTCPs, which
 * only IRC users see, on any node (the server answers VERSION and PING for
 * the others). Also what makes IRC text plain for the rest of the room.
 *
 * @module
 */

import type { MemberInfo } from "../../room/chat_room.ts";
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

/** `PRIVMSG targets :text` and `NOTICE targets :text`. */
export function message(
  client: IrcClient,
  params: string[],
  command: string,
): void | Promise<void> {
  const targets = params[0] ?? "";
  const text = params[1] ?? "";
  if (targets === "") {
    client.reply("noRecipient", [], command);
    return;
  }
  if (text === "") {
    client.reply("noTextToSend");
    return;
  }
  client.session.touch();
  return eachTarget(client, command, distinctTargets(targets), text, 0);
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

// Sends to targets[from...]: the line paid for the first, each other one
// takes a flood token of its own, and waits for it as a line would.
function eachTarget(
  client: IrcClient,
  command: string,
  targets: readonly string[],
  text: string,
  from: number,
): void | Promise<void> {
  for (let i = from; i < targets.length; i++) {
    if (i > 0) {
      const paid = client.session.charge();
      if (paid instanceof Promise) {
        return paid.then((going) => {
          if (!going) return;
          toTarget(client, command, targets[i], text);
          return eachTarget(client, command, targets, text, i + 1);
        });
      }
      if (!paid) return;
    }
    toTarget(client, command, targets[i], text);
  }
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

function toChannel(
  client: IrcClient,
  command: string,
  target: string,
  text: string,
): void {
  const session = client.session;
  if (!client.isChannel(target)) {
    client.reply("noSuchChannel", target);
    return;
  }
  if (!session.present) {
    client.reply("cannotSendToChan", target);
    return;
  }
  const ctcp = parseCtcp(text);
  if (ctcp === null) {
    const plain = plainText(text);
    if (plain.trim() === "") {
      client.reply("noTextToSend");
      return;
    }
    // NOTICE to the channel reads the same as PRIVMSG elsewhere.
    session.say(plain);
    return;
  }
  if (ctcp.command === "ACTION") {
    const plain = plainText(ctcp.args);
    if (plain.trim() !== "") session.act(plain);
    return;
  }
  // Other CTCPs are client machinery: only the channel's IRC users see them.
  session.ctcpRoom(ctcpBody(ctcp), command === "NOTICE");
}

function toNick(
  client: IrcClient,
  command: string,
  target: string,
  text: string,
): void {
  const session = client.session;
  const found = session.find(target);
  if (found === undefined) {
    client.reply("noSuchNick", target);
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
    client.reply("noTextToSend");
    return;
  }
  if (command === "PRIVMSG" && found.away !== null) {
    client.reply("away", found.name, found.away);
  }
  if (session.tell(found.name, plain) === null) {
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
