/**
 * Server operators' moderation in IRC's words (issue 20): `KILL nick
 * :reason` disconnects a member from the whole chat, `MODE #chan +b mask`
 * and `-b mask` ban and unban a nick (`nick` or `nick!*@*`) or an address
 * (`*!*@192.0.2.1`, `*!*@10.0.0.0/24`), and `MODE #chan b` lists the bans
 * (367, 368). Bans hold the whole chat, not one channel: the channel only
 * says where the command was typed. Others get 481 for KILL and 482 for a
 * ban; what was done comes back as a NOTICE in the moderation's words.
 *
 * @module
 */

import type { Ban } from "../../engine/accounts.ts";
import { parseNetwork } from "../../room/addresses.ts";
import type { ModerationAction } from "../../room/moderation.ts";
import { checkName } from "../../room/registry.ts";
import { accountNoticeText } from "../../room/texts.ts";
import type { IrcClient } from "./irc_client.ts";
import { plainText } from "./irc_privmsg.ts";
import { ircText } from "./irc_texts.ts";

/** `KILL nick [:reason]`: `/disconnect` for server operators. */
export async function kill(
  client: IrcClient,
  params: string[],
): Promise<void> {
  const session = client.session;
  if (!session.isServerOperator) {
    client.reply("noPrivileges");
    return;
  }
  const nick = params[0];
  if (session.find(nick) === undefined) {
    client.reply("noSuchNick", nick);
    return;
  }
  const reason = plainText(params[1] ?? "").trim();
  await moderate(client, { kind: "disconnect", name: nick, reason });
}

/** One `+b mask` or `-b mask` of a MODE. */
export interface BanChange {
  /** `+b` (true) or `-b`. */
  on: boolean;
  /** The mask as given. */
  mask: string;
}

/**
 * Carries out the ban changes of `MODE #chan`, one after another: 482 for
 * anyone but a server operator, a NOTICE for a mask that names neither a
 * nick nor an address.
 */
export async function changeBans(
  client: IrcClient,
  channel: string,
  changes: readonly BanChange[],
): Promise<void> {
  const session = client.session;
  if (changes.length === 0) return;
  if (!session.isServerOperator) {
    client.reply("chanOpPrivsNeeded", channel);
    return;
  }
  for (const [i, change] of changes.entries()) {
    if (i > 0 && !(await session.charge())) return;
    const target = banTarget(change.mask);
    if (target === null) {
      client.send(client.serverNotice(ircText.banMaskUnsupported(change.mask)));
      continue;
    }
    await moderate(
      client,
      change.on
        ? { kind: "ban", target, durationMs: null, reason: "" }
        : { kind: "unban", target },
    );
  }
}

/** `MODE #chan b`: the bans as 367 lines (for a server operator), 368. */
export async function listBans(
  client: IrcClient,
  channel: string,
): Promise<void> {
  const bans = await client.session.banList();
  client.send(
    ...bans.map((ban) =>
      client.numeric(
        "banList",
        channel,
        banMask(ban),
        ban.by,
        String(Math.floor(ban.at / 1000)),
      )
    ),
    client.numeric("endOfBanList", channel),
  );
}

/**
 * What a ban mask names for `/ban`: a nick (`nick`, `nick!*@*`, `nick!*`)
 * or an address or network (`1.2.3.4`, `*!*@1.2.3.4`, `*@10.0.0.0/24`);
 * null for any other mask (wildcards in a nick, a user part, a host name).
 */
export function banTarget(mask: string): string | null {
  const at = mask.lastIndexOf("@");
  const bang = mask.indexOf("!");
  if (at === -1 && bang === -1) {
    if (parseNetwork(mask) !== null) return mask;
    return checkName(mask).refusal === null ? mask : null;
  }
  if (at === -1) {
    const nick = mask.slice(0, bang);
    return mask.slice(bang + 1) === "*" && checkName(nick).refusal === null
      ? nick
      : null;
  }
  const host = mask.slice(at + 1);
  const who = mask.slice(0, at);
  if (who === "*" || who === "*!*") {
    return parseNetwork(host) !== null ? host : null;
  }
  if (host === "*" && bang !== -1 && mask.slice(bang + 1, at) === "*") {
    const nick = mask.slice(0, bang);
    return checkName(nick).refusal === null ? nick : null;
  }
  return null;
}

/** The mask a ban shows with in 367. */
export function banMask(ban: Ban): string {
  return ban.target.kind === "name"
    ? `${ban.target.name}!*@*`
    : `*!*@${ban.target.network}`;
}

async function moderate(
  client: IrcClient,
  action: ModerationAction,
): Promise<void> {
  const notice = await client.session.moderate(action);
  for (const line of accountNoticeText(notice).split("\n")) {
    client.send(client.serverNotice(line));
  }
}
