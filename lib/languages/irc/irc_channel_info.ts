/**
 * What a channel says of itself: NAMES (353/366, `@` for operators), LIST
 * (321/322/323) and TOPIC, asked (332/333 or 331) or set (482 when the
 * topic is locked and the setter is no operator, 442 from outside).
 * Channels are public: anyone may ask about any of them.
 *
 * @module
 */

import type { RoomSummary } from "../../room/events.ts";
import { roomKey } from "../../room/room_names.ts";
import type { IrcClient } from "./irc_client.ts";
import { namesLines, refused, topicLines } from "./irc_channel.ts";
import { splitText } from "./irc_message.ts";
import { plainText } from "./irc_privmsg.ts";

/** The longest topic kept, in bytes (005's TOPICLEN). */
export const TOPIC_BYTES = 390;

/**
 * `NAMES #a,#b`: each channel's names, or its 366 alone when there is no
 * such channel; `NAMES` alone: the channels one is in, then `366 *`.
 */
export function names(
  client: IrcClient,
  params: string[],
): void | Promise<void> {
  const list = params[0] ?? "";
  const session = client.session;
  if (list === "") {
    client.send(
      ...session.rooms.flatMap((room) => namesLines(client, room).slice(0, -1)),
      client.numeric("endOfNames", "*"),
    );
    return;
  }
  const wanted = list.split(",").filter((name) => name !== "");
  return client.each(wanted, (name) => {
    const info = name.startsWith("#") ? session.roomInfo(name) : undefined;
    client.send(
      ...(info === undefined
        ? [client.numeric("endOfNames", name)]
        : namesLines(client, info.name, name)),
    );
  });
}

/**
 * `LIST [#a,#b]`: the channels with members (all of them, or those
 * named), with their sizes and topics.
 */
export function list(client: IrcClient, params: string[]): void {
  const wanted = (params[0] ?? "").split(",").filter((name) => name !== "");
  const keys = new Set(wanted.map(roomKey));
  const rooms = client.session.roomList().filter((room: RoomSummary) =>
    room.members > 0 && (keys.size === 0 || keys.has(roomKey(room.name)))
  );
  client.send(
    client.numeric("listStart", "Channel"),
    ...rooms.map((room) =>
      client.numeric(
        "list",
        room.name,
        String(room.members),
        room.topic ?? "",
      )
    ),
    client.numeric("listEnd"),
  );
}

/** `TOPIC #room` tells the topic; `TOPIC #room :text` sets it. */
export function topic(client: IrcClient, params: string[]): void {
  const session = client.session;
  const name = params[0];
  const info = name.startsWith("#") ? session.roomInfo(name) : undefined;
  if (info === undefined) {
    client.reply("noSuchChannel", name);
    return;
  }
  if (params.length < 2) {
    client.send(...topicLines(client, info.name, true));
    return;
  }
  const text = splitText(plainText(params[1]).trim(), TOPIC_BYTES)[0];
  // Everyone in the room hears the new topic, the setter too.
  const set = session.setTopic(info.name, text === "" ? null : text);
  if (set.kind === "problem") refused(client, set, name);
}
