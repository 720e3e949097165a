/**
 * Channels are the room's rooms: JOIN (several at once, `JOIN 0` to leave
 * them all), PART with its message, and what a JOIN sends back: the JOIN,
 * the topic (332/333, nothing without one), the names (353/366, `@` for
 * operators), then the room's history. The nick stays in the chat when it
 * leaves every channel.
 *
 * @module
 */

import type { RoomRefusal } from "../../room/rooms.ts";
import { roomKey } from "../../room/room_names.ts";
import { serverText } from "../../room/texts.ts";
import type { IrcClient } from "./irc_client.ts";
import { historyBatch, historyNotices } from "./irc_history.ts";
import { ircLine, ircTextLine } from "./irc_message.ts";
import { plainText } from "./irc_privmsg.ts";

/** `JOIN #a,#b [keys]` (keys ignored: no channel has one), or `JOIN 0`. */
export function join(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  if (params[0] === "0") {
    return client.each(client.session.rooms, (room) => leave(client, room, ""));
  }
  return client.each(names(params[0]), (name) => joinOne(client, name));
}

function joinOne(client: IrcClient, name: string): void {
  const session = client.session;
  if (!name.startsWith("#")) {
    client.reply("noSuchChannel", name);
    return;
  }
  const joined = session.join(name);
  if (joined.kind === "current") return;
  if (joined.kind === "problem") {
    refused(client, joined, name);
    return;
  }
  const room = joined.room;
  client.send(
    ircLine(client.mask, "JOIN", room),
    ...topicLines(client, room, false),
    ...namesLines(client, room),
  );
  sendHistory(client, room);
}

/** `PART #a,#b [:message]`. */
export function part(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const reason = plainText(params[1] ?? "").trim();
  return client.each(names(params[0]), (name) => {
    if (!name.startsWith("#")) client.reply("noSuchChannel", name);
    else leave(client, name, reason);
  });
}

function leave(client: IrcClient, name: string, reason: string): void {
  const left = client.session.part(name, reason);
  if (left.kind === "problem") {
    refused(client, left, name);
    return;
  }
  client.send(
    reason === ""
      ? ircLine(client.mask, "PART", left.room)
      : ircTextLine(client.mask, "PART", left.room, reason),
  );
}

// The names of a comma list, each once (by the ascii case mapping); the
// line's length bounds how many.
function names(list: string): string[] {
  const seen = new Set<string>();
  return list.split(",").filter((name) => {
    if (name === "" || seen.has(roomKey(name))) return false;
    seen.add(roomKey(name));
    return true;
  });
}

/**
 * A room operation refused, as its numeric: 403 for no such channel (or a
 * name without `#`), 479 for a name against the rules, 442, 482, 441, 405.
 */
export function refused(
  client: IrcClient,
  refusal: RoomRefusal,
  name: string,
  nick = "",
): void {
  const session = client.session;
  switch (refusal.problem) {
    case "invalidName":
      if (name.startsWith("#")) client.reply("badChanName", name);
      else client.reply("noSuchChannel", name);
      return;
    case "notIn":
    case "inNoRoom":
      if (session.roomInfo(name) === undefined) {
        client.reply("noSuchChannel", name);
      } else client.reply("notOnChannel", refusal.room ?? name);
      return;
    case "noSuchRoom":
      client.reply("noSuchChannel", name);
      return;
    case "notOperator":
      client.reply("chanOpPrivsNeeded", refusal.room ?? name);
      return;
    case "noSuchMember":
      if (session.find(nick) === undefined) client.reply("noSuchNick", nick);
      else client.reply("userNotInChannel", nick, refusal.room ?? name);
      return;
    case "tooManyJoins":
      client.reply(
        "tooManyChannels",
        [name],
        serverText.tooManyJoins(refusal.limit ?? 0),
      );
      return;
    case "tooManyRooms":
      client.reply(
        "tooManyChannels",
        [name],
        serverText.tooManyRooms(refusal.limit ?? 0),
      );
  }
}

/**
 * 332 and 333 (who set it, when) for a room with a topic; without one,
 * 331 when asked (`TOPIC #room`) and nothing on JOIN.
 */
export function topicLines(
  client: IrcClient,
  room: string,
  asked: boolean,
): string[] {
  const info = client.session.roomInfo(room);
  if (info === undefined || info.topic === null) {
    return asked ? [client.numeric("noTopic", room)] : [];
  }
  const lines = [client.numeric("topic", room, info.topic)];
  if (info.topicBy !== null) {
    lines.push(
      client.numeric(
        "topicWhoTime",
        room,
        info.topicBy,
        String(Math.floor(info.topicAt / 1000)),
      ),
    );
  }
  return lines;
}

/** A room's 353 lines (`@` before its operators) and its 366. */
export function namesLines(
  client: IrcClient,
  room: string,
  end: string = room,
): string[] {
  const session = client.session;
  const members = session.roomMembers(room) ?? [];
  const names = members.map((member) =>
    session.isOperator(room, member.name) ? `@${member.name}` : member.name
  );
  // The head with an empty trailing parameter, names appended to it.
  const head = client.numeric("namReply", "=", room, "");
  return [
    ...(names.length > 0 ? client.packed(head, names) : []),
    client.numeric("endOfNames", end),
  ];
}

// The room's history after a JOIN: as a batch to a client that asked for
// it, as NOTICEs to the others; nothing for a room without any. A
// registered member back gets what was said since it left instead, the
// first time it joins the room after its login (with the count, even of
// nothing).
function sendHistory(client: IrcClient, room: string): void {
  const history = client.session.history(room);
  const missed = client.session.missed(room, history);
  const entries = missed ?? history;
  if (entries.length === 0 && missed === null) return;
  const server = client.context.serverName;
  const batch = client.caps.has("batch") && client.caps.has("server-time");
  if (batch && entries.length === 0) return;
  client.send(
    ...(batch
      ? historyBatch(server, room, entries, `history${++client.batches}`)
      : historyNotices(server, room, entries, Date.now(), missed !== null)),
  );
}
