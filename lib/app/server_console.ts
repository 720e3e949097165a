/**
 * The server's console language: `who`, `say TEXT`, `kick NAME [reason]`,
 * `help` and `Terminate server`; anything else gets the usage hint.
 *
 * @module
 */

import type { ChatRoom } from "../room/chat_room.ts";
import { consoleText } from "../room/texts.ts";

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
      for (const m of members) {
        print(consoleText.whoLine(m.name, m.address, m.transport));
      }
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
      if (!room.kick(name, reason)) print(consoleText.notOnline(name));
      return false;
    }
    case "help":
      for (const help of consoleText.consoleHelp) print(help);
      return false;
  }
  print(consoleText.howToQuit);
  return false;
}
