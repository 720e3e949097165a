/**
 * The server's console language: `who`, `say TEXT`, `kick NAME [reason]`,
 * `help` and `Terminate server`; anything else gets the usage hint.
 *
 * @module
 */

import type { ChatRoom, KickOutcome, MemberInfo } from "../room/chat_room.ts";
import { consoleText } from "../room/texts.ts";
import { displayWidth } from "../io/display_width.ts";
import { ACCOUNT_COMMANDS, runAccountCommand } from "./console_accounts.ts";

/** Options of {@linkcode runConsoleLine}. */
export interface ConsoleLineOptions {
  /** The room the console acts on. */
  room: ChatRoom;
  /** Prints one console line. */
  print: (line: string) => void;
}

/**
 * Acts on one console line. Returns true for `Terminate server`, which the
 * caller carries out.
 */
export function runConsoleLine(
  line: string,
  options: ConsoleLineOptions,
): boolean {
  const { room, print } = options;
  const trimmed = line.trim();
  if (trimmed === "") return false;
  if (trimmed.toLowerCase() === consoleText.terminateCommand) return true;
  const space = trimmed.search(/\s/);
  const word = (space === -1 ? trimmed : trimmed.slice(0, space))
    .toLowerCase();
  const rest = space === -1 ? "" : trimmed.slice(space + 1).trim();
  switch (word) {
    case "who": {
      const members = room.members();
      print(consoleText.whoHeader(members.length));
      if (members.length > 0) whoTable(members).forEach((row) => print(row));
      return false;
    }
    case "say":
      if (rest === "") print(consoleText.consoleUsage("say TEXT"));
      else room.announce(rest);
      return false;
    case "kick": {
      if (rest === "") {
        print(consoleText.consoleUsage("kick NAME [reason]"));
        return false;
      }
      const gap = rest.search(/\s/);
      const name = gap === -1 ? rest : rest.slice(0, gap);
      const reason = gap === -1 ? "" : rest.slice(gap + 1).trim();
      // A member of another node is kicked after a round trip.
      const answer = (result: KickOutcome) => {
        if (result === "notFound") print(consoleText.notOnline(name));
        else if (result === "unavailable") {
          print(consoleText.kickUnavailable(name));
        }
      };
      const result = room.kick(name, reason);
      if (result instanceof Promise) result.then(answer);
      else answer(result);
      return false;
    }
    case "help":
      for (const help of consoleText.consoleHelp) print(help);
      return false;
  }
  if (word in ACCOUNT_COMMANDS) {
    runAccountCommand(word, rest, {
      room,
      accounts: room.accounts,
      print,
    });
    return false;
  }
  print(consoleText.howToQuit);
  return false;
}

// `who`'s rows under their headings, each column as wide as its widest
// cell (in terminal columns: a name may have wide letters), two spaces
// apart.
function whoTable(members: MemberInfo[]): string[] {
  const rows: string[][] = [
    [...consoleText.whoColumns],
    ...members.map((m) => [m.name, m.address, m.transport, since(m.since)]),
  ];
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((row) => displayWidth(row[i])))
  );
  return rows.map((row) =>
    "  " +
    row.map((cell, i) =>
      i === row.length - 1
        ? cell
        : cell + " ".repeat(widths[i] - displayWidth(cell) + 2)
    ).join("")
  );
}

// A connection time as the console shows it: the machine's local time,
// `YYYY-MM-DD HH:MM:SS`.
function since(time: number | null): string {
  if (time === null || !Number.isFinite(time)) {
    return consoleText.whoSinceUnknown;
  }
  const t = new Date(time);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${
    two(t.getHours())
  }:${two(t.getMinutes())}:${two(t.getSeconds())}`;
}
