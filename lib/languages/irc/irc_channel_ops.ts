/**
 * What a channel's operators do: KICK (out of the channel, not out of the
 * chat) and MODE `+o`/`-o` (operators) and `+t`/`-t` (only operators set
 * the topic); and the channel's modes asked (324, 329). Server operators
 * operate every channel, and `+b`/`-b` and the ban list are theirs
 * (`irc_moderation.ts`). `+n` always holds: only members send to a channel.
 *
 * @module
 */

import type { RoomInfo } from "../../engine/engine.ts";
import type { IrcClient } from "./irc_client.ts";
import { refused } from "./irc_channel.ts";
import { MAX_TARGETS, plainText } from "./irc_privmsg.ts";
import { type BanChange, changeBans, listBans } from "./irc_moderation.ts";

/** Mode changes one MODE may make (005's MODES). */
export const MAX_MODES = 4;

/** `KICK #room nick[,nick...] [:reason]`: at most TARGMAX nicks. */
export function kick(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const session = client.session;
  const name = params[0];
  const info = name.startsWith("#") ? session.roomInfo(name) : undefined;
  if (info === undefined) {
    client.reply("noSuchChannel", name);
    return;
  }
  const reason = plainText(params[2] ?? "").trim();
  const nicks = params[1].split(",").filter((nick) => nick !== "")
    .slice(0, MAX_TARGETS);
  // The room tells everyone in it, the kicker and the kicked too.
  return client.each(nicks, (nick) => {
    const kicked = session.kickFromRoom(info.name, nick, reason);
    if (kicked.kind === "problem") refused(client, kicked, name, nick);
  });
}

/** One change of a MODE: `+o nick`, `-t`. */
interface ModeChange {
  on: boolean;
  mode: "o" | "t" | "b";
  /** The nick of `o`, the mask of `b`. */
  nick: string;
}

/** `MODE #room [changes [nicks...]]`. */
export function channelMode(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const session = client.session;
  const name = params[0];
  const info = session.roomInfo(name);
  if (info === undefined) {
    client.reply("noSuchChannel", name);
    return;
  }
  const modes = params[1] ?? "";
  if (modes === "") {
    client.send(
      client.numeric("channelModeIs", info.name, modesOf(info)),
      client.numeric(
        "creationTime",
        info.name,
        String(Math.floor((info.createdAt || client.context.startedAt) / 1000)),
      ),
    );
    return;
  }
  if (/^[+-]?b+$/.test(modes) && params.length === 2) {
    return listBans(client, info.name);
  }
  const all = parseChanges(client, modes, params.slice(2));
  const bans: BanChange[] = all.filter((change) => change.mode === "b")
    .map((change) => ({ on: change.on, mask: change.nick }));
  const changes = all.filter((change) => change.mode !== "b");
  if (changes.length === 0) return changeBans(client, info.name, bans);
  if (!client.isIn(info.name)) {
    client.reply("notOnChannel", info.name);
    return;
  }
  if (
    !session.isOperator(info.name, session.name!) && !session.isServerOperator
  ) {
    client.reply("chanOpPrivsNeeded", info.name);
    return;
  }
  // Each change the room makes comes back to everyone in the room as MODE.
  const done = client.each(changes, (change) => {
    const done = change.mode === "t"
      ? session.lockTopic(info.name, change.on)
      : session.setOperator(info.name, change.nick, change.on);
    if (done.kind === "problem") refused(client, done, name, change.nick);
  });
  if (bans.length === 0) return done;
  return Promise.resolve(done).then(() => changeBans(client, info.name, bans));
}

// `+n` always, `+t` while only operators set the topic.
function modesOf(info: RoomInfo): string {
  return info.topicLocked ? "+nt" : "+n";
}

// The changes asked for, at most MAX_MODES; 472 for a mode we do not have
// (a key, voice, bans, limits: every room is open to all), and none for
// `+n`, which always holds.
function parseChanges(
  client: IrcClient,
  modes: string,
  args: string[],
): ModeChange[] {
  const changes: ModeChange[] = [];
  const unknown = new Set<string>();
  let on = true;
  let next = 0;
  for (const mode of modes) {
    if (mode === "+" || mode === "-") on = mode === "+";
    else if (mode === "o") {
      const nick = args[next++];
      if (nick !== undefined) changes.push({ on, mode, nick });
    } else if (mode === "b") {
      const mask = args[next++];
      if (mask !== undefined) changes.push({ on, mode, nick: mask });
    } else if (mode === "t") changes.push({ on, mode, nick: "" });
    else if (mode !== "n" || !on) {
      // Modes with an argument take theirs, so the next `o` gets its own.
      if ("kvlIeq".includes(mode) && (on || mode !== "l")) next++;
      unknown.add(mode);
    }
  }
  for (const mode of unknown) client.reply("unknownMode", mode);
  return changes.slice(0, MAX_MODES);
}
