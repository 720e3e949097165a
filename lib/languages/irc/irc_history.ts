/**
 * A room's history as IRC shows it on JOIN, so that it cannot pass for
 * live lines: NOTICEs from the server with the time (`[12:30] <bob> hi`,
 * `[12:30] * bob waves`), or, for a client that asked for the IRCv3
 * capabilities `batch` and `server-time`, the lines as their authors said
 * them (a `/me` as CTCP ACTION), each with its `time` tag, inside a
 * `chathistory` batch.
 *
 * @module
 */

import type { HistoryEntry } from "../../room/events.ts";
import { historyStamp } from "../line/line_format.ts";
import { fitLines, ircLine } from "./irc_message.ts";
import { ircText } from "./irc_texts.ts";

/** The user part history's authors show with: their transport is gone. */
export const HISTORY_USER = "chat";

/** The capabilities the door offers, as `CAP LS` lists them. */
export const IRC_CAPABILITIES: readonly string[] = ["batch", "server-time"];

const CTCP = "\x01";

/**
 * The NOTICEs from `server` to `room` that tell its history, ending with
 * the count (`sinceLeft`: of what was said since a registered member left).
 */
export function historyNotices(
  server: string,
  room: string,
  entries: readonly HistoryEntry[],
  now = Date.now(),
  sinceLeft = false,
): string[] {
  const head = `${ircLine(server, "NOTICE", room)} :`;
  const lines: string[] = [];
  for (const entry of entries) {
    const stamp = historyStamp(entry.time, now);
    lines.push(
      ...fitLines(
        head,
        entry.action
          ? ircText.historyAction(stamp, entry.from, entry.text)
          : ircText.historyLine(stamp, entry.from, entry.text),
      ),
    );
  }
  const end = sinceLeft ? ircText.historySinceEnd : ircText.historyEnd;
  lines.push(...fitLines(head, end(entries.length)));
  return lines;
}

/**
 * The history of `room` as a `chathistory` batch called `reference`: each
 * line from its author with the time it was said (`server-time`).
 */
export function historyBatch(
  server: string,
  room: string,
  entries: readonly HistoryEntry[],
  reference: string,
): string[] {
  const lines = [
    ircLine(server, "BATCH", `+${reference}`, "chathistory", room),
  ];
  for (const entry of entries) {
    const tags = `@batch=${reference};time=${
      new Date(entry.time).toISOString()
    }`;
    const source = `${entry.from}!${HISTORY_USER}@chat`;
    const head = `${tags} ${ircLine(source, "PRIVMSG", room)} :`;
    lines.push(
      ...(entry.action
        ? fitLines(`${head}${CTCP}ACTION `, entry.text, CTCP)
        : fitLines(head, entry.text)),
    );
  }
  lines.push(ircLine(server, "BATCH", `-${reference}`));
  return lines;
}
