/**
 * Tab completion: who is online (followed from the `/who` answers and the
 * join, leave and rename notices), room names after `/join`, `/part` and
 * `/msg`, and the commands, completed at the cursor.
 *
 * @module
 */

import type { ServerLine } from "./server_lines.ts";

/** The commands Tab completes at the start of a line. */
export const COMMAND_WORDS: readonly string[] = [
  "/deop",
  "/help",
  "/join",
  "/kick",
  "/me",
  "/msg",
  "/nick",
  "/op",
  "/part",
  "/quit",
  "/rooms",
  "/topic",
  "/topiclock",
  "/who",
];

/** Who is online, as far as the client has seen. */
export class NameBook {
  #names = new Map<string, string>();

  /** The names, sorted. */
  get names(): string[] {
    return [...this.#names.values()].sort();
  }

  /**
   * Follows one server line: `/who` answers, joins, leaves, renames. A
   * `/who` answers for one room, so it adds names and removes none; a new
   * registration starts afresh.
   */
  follow(line: ServerLine): void {
    switch (line.kind) {
      case "welcome":
        this.#names.clear();
        break;
      case "online":
      case "onlineIn":
        for (const name of line.names) this.add(name);
        break;
      case "joined":
      case "joinedRoom":
        this.add(line.name);
        break;
      case "inRoom":
        this.follow(line.line);
        break;
      case "left":
        this.#names.delete(line.name.toLowerCase());
        break;
      case "renamed":
        this.#names.delete(line.from.toLowerCase());
        this.add(line.to);
        break;
    }
  }

  /** Adds one name. */
  add(name: string): void {
    this.#names.set(name.toLowerCase(), name);
  }
}

/** The outcome of a Tab press. */
export interface Completion {
  /** The new line. */
  text: string;
  /** The new cursor, in UTF-16 units of `text`. */
  cursor: number;
  /** When several candidates share the prefix typed: all of them. */
  candidates: string[];
}

/** Options of {@linkcode complete}. */
export interface CompleteOptions {
  /** The line typed. */
  text: string;
  /** The cursor, in UTF-16 units of `text`. */
  cursor: number;
  /** The names to complete, without the user's own. */
  names: readonly string[];
  /** The rooms to complete; none when not given. */
  rooms?: RoomPools;
}

/** The room names Tab offers. */
export interface RoomPools {
  /** Every room seen, for `/join`. */
  known: readonly string[];
  /** The rooms the user is in, for `/part` and `/msg`. */
  joined: readonly string[];
}

// The commands whose first argument is a room: which rooms, and whether
// names are offered too (`/msg` takes a name or a room).
const ROOM_ARGUMENT: ReadonlyMap<
  string,
  { pool: keyof RoomPools; names: boolean }
> = new Map([
  ["/join", { pool: "known", names: false }],
  ["/part", { pool: "joined", names: false }],
  ["/msg", { pool: "joined", names: true }],
]);

/**
 * Completes the word before the cursor: a command as the line's first word;
 * a room as the first argument of `/join` (any room seen), `/part` (the
 * user's rooms) and `/msg` (a name or one of the user's rooms), where
 * `ga` and `#ga` both find `#games` and Tab on no word at all lists the
 * rooms; a name after `@`, after `/msg ` and anywhere else. A single
 * candidate is completed with a space after it; several are completed as
 * far as they agree and returned as `candidates`.
 */
export function complete(options: CompleteOptions): Completion {
  const { text, cursor } = options;
  const before = text.slice(0, cursor);
  const start = before.search(/\S*$/);
  let word = before.slice(start);
  let prefix = "";
  let pool: readonly string[];
  // Tab on no word lists what may come there: rooms only.
  let emptyWord = false;
  const argument = roomArgument(before.slice(0, start), options.rooms);
  if (start === 0 && word.startsWith("/")) {
    pool = COMMAND_WORDS;
  } else if (argument !== null && (!argument.names || word.startsWith("#"))) {
    pool = argument.rooms;
    emptyWord = true;
    // `/join games` means `/join #games`: `ga` finds `#games`.
    if (!word.startsWith("#")) word = "#" + word;
  } else {
    if (word.startsWith("@")) {
      prefix = "@";
      word = word.slice(1);
    }
    pool = options.names;
  }
  const lower = word.toLowerCase();
  const hits = pool.filter((c) => c.toLowerCase().startsWith(lower));
  if (hits.length === 0 || (word === "" && prefix === "" && !emptyWord)) {
    return { text, cursor, candidates: [] };
  }
  const after = text.slice(cursor);
  const replace = (insert: string) => {
    const head = before.slice(0, start) + prefix + insert;
    return { text: head + after, cursor: head.length };
  };
  if (hits.length === 1) {
    const spaced = after.startsWith(" ") ? hits[0] : hits[0] + " ";
    const done = replace(spaced);
    if (after.startsWith(" ")) done.cursor++;
    return { ...done, candidates: [] };
  }
  const common = commonPrefix(hits);
  const extended = common.length > word.length ? common : word;
  return { ...replace(extended), candidates: hits };
}

// The rooms to offer when the word starts the first argument of a room
// command (`head` is the line before the word), or null.
function roomArgument(
  head: string,
  rooms: RoomPools | undefined,
): { rooms: readonly string[]; names: boolean } | null {
  if (rooms === undefined) return null;
  const match = head.match(/^(\/\S+)\s+$/);
  if (match === null) return null;
  const command = ROOM_ARGUMENT.get(match[1].toLowerCase());
  if (command === undefined) return null;
  return { rooms: rooms[command.pool], names: command.names };
}

function commonPrefix(words: readonly string[]): string {
  let prefix = words[0];
  for (const word of words) {
    while (!word.toLowerCase().startsWith(prefix.toLowerCase())) {
      prefix = prefix.slice(0, -1);
    }
  }
  return prefix;
}
