/**
 * Registration and leaving: CAP (`batch` and `server-time`, for the
 * history on JOIN), PASS, NICK (also a rename once registered), USER, the
 * welcome burst (001-005, the MOTD) and QUIT. A nick is claimed in the
 * room only when registration completes, and only after the password was
 * right; then the member is in the chat, in no channel until it joins one.
 *
 * @module
 */

import type { ClaimResult } from "../../room/chat_room.ts";
import type { RoomEvent } from "../../room/events.ts";
import {
  checkName,
  MAX_NAME_LENGTH,
  nameKey,
  sameButCase,
} from "../../room/registry.ts";
import { serverText } from "../../room/texts.ts";
import { MAX_ROOM_NAME_LENGTH } from "../../room/room_names.ts";
import { MAX_MODES } from "./irc_channel_ops.ts";
import { TOPIC_BYTES } from "./irc_channel_info.ts";
import type { IrcClient } from "./irc_client.ts";
import { IRC_CAPABILITIES } from "./irc_history.ts";
import {
  byteLength,
  ircLine,
  ircTextLine,
  MAX_LINE_BYTES,
  splitText,
} from "./irc_message.ts";
import { MAX_TARGETS, plainText } from "./irc_privmsg.ts";
import { AWAY_BYTES } from "./irc_queries.ts";
import { IRC_VERSION, ircText } from "./irc_texts.ts";

/** The longest channel name, its `#` counted, as 005's CHANNELLEN says. */
const CHANNEL_LENGTH = MAX_ROOM_NAME_LENGTH + 1;

/** The longest user name kept from USER (005's USERLEN). */
export const USER_LENGTH = 16;

const WRONG_PASSWORD: RoomEvent = { type: "wrongPassword" };

/**
 * `CAP LS|LIST|REQ|END`: `batch` and `server-time` offered; a REQ gets
 * all it asks for (ACK) or nothing (NAK).
 */
export function cap(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const sub = params[0].toUpperCase();
  const registered = client.registered;
  const server = client.context.serverName;
  switch (sub) {
    case "LS":
    case "LIST": {
      // Registration waits for END once a client negotiates.
      if (sub === "LS" && !registered) client.negotiating = true;
      const caps = sub === "LS" ? IRC_CAPABILITIES : [...client.caps];
      client.send(ircTextLine(server, "CAP", client.me, sub, caps.join(" ")));
      return;
    }
    case "REQ": {
      if (!registered) client.negotiating = true;
      const asked = (params[1] ?? "").split(" ").filter((c) => c !== "");
      const known = asked.every((c) =>
        IRC_CAPABILITIES.includes(c.startsWith("-") ? c.slice(1) : c)
      );
      if (known) {
        for (const c of asked) {
          if (c.startsWith("-")) client.caps.delete(c.slice(1));
          else client.caps.add(c);
        }
      }
      client.send(
        ircTextLine(
          server,
          "CAP",
          client.me,
          known && asked.length > 0 ? "ACK" : "NAK",
          params[1] ?? "",
        ),
      );
      return;
    }
    case "END":
      if (!registered) {
        client.negotiating = false;
        return register(client);
      }
      return;
    default:
      client.reply("invalidCapCmd", params[0]);
  }
}

/** `PASS password`: checked now, refused at registration if wrong. */
export function pass(client: IrcClient, params: string[]): void {
  client.password = params[0];
  client.passwordOk = client.session.checkPassword(params[0]);
}

/** `NICK nick`: the nick to register with, or a rename once registered. */
export function nick(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const session = client.session;
  const wanted = params[0] ?? "";
  if (wanted === "") {
    client.reply("noNicknameGiven");
    return;
  }
  const { name, refusal } = checkName(wanted);
  if (refusal?.rule === "reserved") {
    client.reply(
      "nicknameRefused",
      [wanted],
      serverText.nameReservedPlain(name),
    );
    return;
  }
  // Held by someone else, or by someone it would pass for (even if it breaks
  // a rule: `аlice` with a Cyrillic `а` is told whose name it is). Before
  // the password is right no one learns who is online.
  const told = session.name !== null || !session.needsPassword ||
    client.passwordOk;
  const holder = told ? session.find(name) : undefined;
  if (
    holder !== undefined &&
    (session.name === null || nameKey(holder.name) !== nameKey(session.name))
  ) {
    if (sameButCase(holder.name, name)) client.reply("nicknameInUse", name);
    else client.reply("nicknameLooksLike", [name], name, holder.name);
    return;
  }
  if (refusal !== null) {
    client.reply(
      "nicknameRefused",
      [wanted],
      serverText.nameInvalidPlainFor(refusal),
    );
    return;
  }
  if (session.name === null) {
    // Held only once registration completes (and the password is right).
    client.nick = name;
    return register(client);
  }
  const before = client.mask;
  if (name === session.name) return;
  const renamed = session.rename(name);
  if (renamed instanceof Promise) {
    return renamed.then((result) =>
      afterRename(client, before, name, wanted, result)
    );
  }
  afterRename(client, before, name, wanted, renamed);
}

function afterRename(
  client: IrcClient,
  before: string,
  name: string,
  wanted: string,
  result: ClaimResult,
): void {
  if (result === "ok") {
    if (client.invisible) {
      client.setInvisible(false, before.slice(0, before.indexOf("!")));
      client.setInvisible(true);
    }
    client.send(ircLine(before, "NICK", client.session.name ?? name));
  } else if (result === "taken") {
    client.reply("nicknameInUse", name);
  } else {
    client.reply("erroneousNickname", wanted);
  }
}

/**
 * `USER user mode unused :real name`. The user name is kept as WHO and
 * WHOIS show it (`~user`): what a mask may hold, at most USERLEN.
 */
export function user(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  // deno-lint-ignore no-control-regex
  const clean = plainText(params[0]).replace(/[\s!@*?,:\x00-\x1f]/g, "")
    .slice(0, USER_LENGTH);
  client.user = clean === "" ? "user" : clean;
  client.session.setAttributes({
    user: client.user,
    realName: plainText(params[3]).slice(0, 100),
  });
  return register(client);
}

// Completes registration once NICK, USER and CAP END (if CAP began) came.
function register(client: IrcClient): void | Promise<void> {
  const session = client.session;
  const nick = client.nick;
  if (
    session.name !== null || nick === null || client.user === null ||
    client.negotiating
  ) {
    return;
  }
  if (
    session.needsPassword && !session.checkPassword(client.password ?? "")
  ) {
    client.reply("passwdMismatch");
    // The room delays the close, as on every door, so a guesser is slowed.
    session.end("wrongPassword", WRONG_PASSWORD);
    return;
  }
  client.passwordOk = true;
  const claimed = session.claim(nick);
  if (claimed instanceof Promise) {
    return claimed.then((result) => afterClaim(client, nick, result));
  }
  afterClaim(client, nick, claimed);
}

function afterClaim(
  client: IrcClient,
  nick: string,
  result: ClaimResult,
): void {
  if (result !== "ok") {
    // Someone took it since NICK: the client picks another.
    client.nick = null;
    if (result === "taken") client.reply("nicknameInUse", nick);
    else client.reply("erroneousNickname", nick);
    return;
  }
  client.send(...welcome(client));
  // In the chat from now on (what was kept for it comes after the
  // welcome), in no channel until it joins one.
  client.session.enter();
}

function welcome(client: IrcClient): string[] {
  const context = client.context;
  const server = context.serverName;
  const created = new Date(context.startedAt).toUTCString();
  const { maxJoins } = client.session.limits;
  const tokens = [
    "AWAYLEN=" + AWAY_BYTES,
    "CASEMAPPING=ascii",
    // No number: no limit (a limit of 0 turns it off).
    "CHANLIMIT=#:" + (maxJoins > 0 ? maxJoins : ""),
    // No ban, key or limit: every room is open to all.
    "CHANMODES=,,,nt",
    "CHANNELLEN=" + CHANNEL_LENGTH,
    "CHANTYPES=#",
    "MODES=" + MAX_MODES,
    "NETWORK=" + context.network,
    "NICKLEN=" + MAX_NAME_LENGTH,
    "PREFIX=(o)@",
    `TARGMAX=PRIVMSG:${MAX_TARGETS},NOTICE:${MAX_TARGETS},WHOIS:1`,
    "TOPICLEN=" + TOPIC_BYTES,
    "USERLEN=" + USER_LENGTH,
  ];
  const lines = [
    client.numeric("welcome", [], context.network, client.mask),
    client.numeric("yourHost", [], server, IRC_VERSION),
    client.numeric("created", [], created),
    client.numeric("myInfo", server, IRC_VERSION, "i", "not", "o"),
  ];
  // At most 13 tokens a line, as the 005 draft asks.
  for (let i = 0; i < tokens.length; i += 13) {
    lines.push(client.numeric("isupport", ...tokens.slice(i, i + 13)));
  }
  // The hint before the MOTD: clients take the MOTD's end as the end of
  // registration, and scripts often wait for it.
  lines.push(client.serverNotice(ircText.joinHint(context.channel)));
  lines.push(...motdLines(client));
  return lines;
}

/** `MOTD`: the message of the day again. */
export function motd(client: IrcClient): void {
  client.send(...motdLines(client));
}

function motdLines(client: IrcClient): string[] {
  const { motd, serverName } = client.context;
  if (motd === null || motd.length === 0) return [client.numeric("noMotd")];
  const lines = [client.numeric("motdStart", [], serverName)];
  const head = client.numeric("motd", "- x");
  const headBytes = byteLength(head) - 1;
  for (const text of motd) {
    for (
      const piece of splitText(plainText(text), MAX_LINE_BYTES - headBytes)
    ) {
      lines.push(client.numeric("motd", `- ${piece}`));
    }
  }
  lines.push(client.numeric("endOfMotd"));
  return lines;
}

/**
 * `QUIT :message`: ERROR, then the session ends like `exit`; those who
 * share a channel with it see the message, and the log keeps it.
 */
export function quit(client: IrcClient, params: string[]): void {
  const message = plainText(params[0] ?? "").trim();
  if (message !== "" && client.registered) client.session.farewell(message);
  client.closeLink(`${client.me} (${ircText.quitReason(message)})`, "exit");
}
