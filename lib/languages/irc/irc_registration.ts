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
import { namesLines, topicLines } from "./irc_channel.ts";
import { knownCap, offeredCaps } from "./irc_sasl.ts";
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
      const caps = sub === "LS"
        ? offeredCaps(client, params[1] ?? "")
        : [...client.caps];
      client.send(ircTextLine(server, "CAP", client.me, sub, caps.join(" ")));
      return;
    }
    case "REQ": {
      if (!registered) client.negotiating = true;
      const asked = (params[1] ?? "").split(" ").filter((c) => c !== "");
      const known = asked.every((c) =>
        knownCap(client, c.startsWith("-") ? c.slice(1) : c)
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
  // The name logged in to is taken over from whoever holds it.
  const own = client.account !== null &&
    nameKey(client.account) === nameKey(name);
  const holder = told && !own ? session.find(name) : undefined;
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
  if (session.accountsKept && nameKey(name) !== nameKey(session.name)) {
    return renameWithAccounts(client, before, name, wanted);
  }
  const renamed = session.rename(name);
  if (renamed instanceof Promise) {
    return renamed.then((result) =>
      afterRename(client, before, name, wanted, result)
    );
  }
  afterRename(client, before, name, wanted, renamed);
}

// A rename where names can be registered: to someone else's registered
// name (or an `--operator` name) only by logging in to it, which IRC does
// before registration.
async function renameWithAccounts(
  client: IrcClient,
  before: string,
  name: string,
  wanted: string,
): Promise<void> {
  const session = client.session;
  if (!(await ownName(client, name))) return;
  afterRename(client, before, name, wanted, await session.rename(name));
}

// Whether `name` may be had without logging in to it (or was logged in
// to): 432 for an `--operator` name, 433 and a NOTICE for a registered
// one.
async function ownName(client: IrcClient, name: string): Promise<boolean> {
  const session = client.session;
  if (client.account !== null && nameKey(client.account) === nameKey(name)) {
    return true;
  }
  if (session.reservedForOperator(name)) {
    client.reply(
      "nicknameRefused",
      [name],
      serverText.nameReservedPlain(name),
    );
    return false;
  }
  if (await session.isRegistered(name)) {
    client.reply("nicknameRegistered", name);
    client.send(client.serverNotice(ircText.nickRegistered(name)));
    return false;
  }
  return true;
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
  // Logged in with SASL, the account's name is the nick (its NICK may
  // have been refused while an older connection held it).
  const nick = client.account ?? client.nick;
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
  if (session.accountsKept) return registerWithAccounts(client, nick);
  const claimed = session.claim(nick);
  if (claimed instanceof Promise) {
    return claimed.then((result) => afterClaim(client, nick, result));
  }
  afterClaim(client, nick, claimed);
}

// Registration where names can be registered: logged in with SASL, the
// account's name is held, taken over from an older connection if need be
// (whatever nick was asked for: it is the account's); otherwise a
// registered nick is refused (433 and a NOTICE saying how to log in).
async function registerWithAccounts(
  client: IrcClient,
  nick: string,
): Promise<void> {
  const session = client.session;
  const account = client.account;
  if (account !== null) {
    afterClaim(client, account, await session.takeOver(account));
    return;
  }
  if (!(await ownName(client, nick))) {
    client.nick = null;
    return;
  }
  afterClaim(client, nick, await session.claim(nick));
}

function afterClaim(
  client: IrcClient,
  nick: string,
  result: ClaimResult,
): void {
  if (result !== "ok") {
    // Someone took it since NICK: the client picks another.
    client.nick = null;
    if (result === "unavailable") {
      client.send(client.serverNotice(serverText.unavailable));
    }
    if (result === "taken") client.reply("nicknameInUse", nick);
    else client.reply("erroneousNickname", nick);
    return;
  }
  client.send(...welcome(client));
  // In the chat from now on (what was kept for it comes after the
  // welcome), in no channel until it joins one; a name taken over goes
  // on in the channels its older connection was in.
  client.session.enter();
  for (const room of client.session.rooms) {
    client.send(
      ircLine(client.mask, "JOIN", room),
      ...topicLines(client, room, false),
      ...namesLines(client, room),
    );
  }
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
    // No key or limit: every room is open to all; bans (server-wide,
    // set by server operators) where accounts are kept.
    client.session.accountsKept ? "CHANMODES=b,,,nt" : "CHANMODES=,,,nt",
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
