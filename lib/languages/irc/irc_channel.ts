/**
 * The one channel: JOIN (entering the room), PART and `JOIN 0` (leaving it
 * but keeping the nick), NAMES, LIST and TOPIC. The topic is the server's.
 *
 * @module
 */

import type { IrcClient } from "./irc_client.ts";
import { ircLine, ircTextLine } from "./irc_message.ts";
import { plainText } from "./irc_privmsg.ts";
import { ircText } from "./irc_texts.ts";

/** `JOIN #chat[,...]`, or `JOIN 0` to leave. */
export function join(client: IrcClient, params: string[]): void {
  const list = params[0];
  if (list === "0") {
    leaveChannel(client, ircText.partDefault);
    return;
  }
  for (const name of list.split(",")) {
    if (name === "") continue;
    if (client.isChannel(name)) enterChannel(client);
    else client.reply("noSuchChannel", name);
  }
}

function enterChannel(client: IrcClient): void {
  const session = client.session;
  const { channel, topic } = client.context;
  if (session.rooms.includes(channel)) return;
  const names = (session.roomMembers(channel) ?? []).map((m) => m.name);
  names.push(session.name!);
  const lines = [ircLine(client.mask, "JOIN", channel)];
  if (topic !== null) lines.push(client.numeric("topic", channel, topic));
  lines.push(...namesLines(client, names));
  // Before entering: the room sends history next, and it must follow
  // the JOIN, or the client shows it outside the channel.
  client.send(...lines);
  if (!session.present) session.enter();
  session.join(channel);
  const history = session.history(channel);
  if (history.length > 0) session.reply({ type: "history", entries: history });
}

function namesLines(client: IrcClient, names: readonly string[]): string[] {
  const channel = client.context.channel;
  // The head with an empty trailing parameter, names appended to it.
  const head = client.numeric("namReply", "=", channel, "");
  return [
    ...client.packed(head, names),
    client.numeric("endOfNames", channel),
  ];
}

/** `PART #chat[,...] [:reason]`. */
export function part(client: IrcClient, params: string[]): void {
  for (const name of params[0].split(",")) {
    if (name === "") continue;
    if (!client.isChannel(name)) {
      client.reply("noSuchChannel", name);
    } else if (!client.session.rooms.includes(client.context.channel)) {
      client.reply("notOnChannel", name);
    } else {
      leaveChannel(client, plainText(params[1] ?? ""));
    }
  }
}

function leaveChannel(client: IrcClient, reason: string): void {
  const session = client.session;
  const channel = client.context.channel;
  if (!session.rooms.includes(channel)) return;
  client.send(
    reason === ""
      ? ircTextLine(client.mask, "PART", channel)
      : ircTextLine(client.mask, "PART", channel, reason),
  );
  session.part(channel, reason);
}

/** `NAMES [#chat[,...]]`. */
export function names(client: IrcClient, params: string[]): void {
  const list = params[0] ?? client.context.channel;
  const lines: string[] = [];
  for (const name of list.split(",")) {
    if (name === "") continue;
    if (client.isChannel(name)) {
      const present = client.session.who().map((member) => member.name);
      lines.push(...namesLines(client, present));
    } else {
      lines.push(client.numeric("endOfNames", name));
    }
  }
  client.send(...lines);
}

/** `LIST [#chat[,...]]`: the one channel, with its size and topic. */
export function list(client: IrcClient, params: string[]): void {
  const { channel, topic } = client.context;
  const wanted = params[0] ?? "";
  const lines = [client.numeric("listStart", "Channel")];
  if (
    wanted === "" || wanted.split(",").some((name) => client.isChannel(name))
  ) {
    lines.push(
      client.numeric(
        "list",
        channel,
        String(client.session.who().length),
        topic ?? "",
      ),
    );
  }
  lines.push(client.numeric("listEnd"));
  client.send(...lines);
}

/** `TOPIC #chat`: the topic; setting it is the server's (482). */
export function topic(client: IrcClient, params: string[]): void {
  const target = params[0];
  const { channel, topic } = client.context;
  if (!client.isChannel(target)) {
    client.reply("noSuchChannel", target);
  } else if (params.length >= 2) {
    client.reply("chanOpPrivsNeeded", channel);
  } else if (topic === null) {
    client.reply("noTopic", channel);
  } else {
    client.reply("topic", channel, topic);
  }
}
