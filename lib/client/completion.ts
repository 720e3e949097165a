/**
 * Tab completion: who is online (followed from the `/who` answer and the
 * join, leave and rename notices) and the commands, completed at the cursor.
 *
 * @module
 */

import type { ServerLine } from "./server_lines.ts";

/** The commands Tab completes at the start of a line. */
export const COMMAND_WORDS: readonly string[] = [
  "/help",
  "/me",
  "/msg",
  "/nick",
  "/quit",
  "/who",
];

/** Who is online, as far as the client has seen. */
export class NameBook {
  #names = new Map<string, string>();

  /** The names, sorted. */
  get names(): string[] {
    return [...this.#names.values()].sort();
  }

  /** Follows one server line: `/who` answers, joins, leaves, renames. */
  follow(line: ServerLine): void {
    switch (line.kind) {
      case "online":
        this.#names.clear();
        for (const name of line.names) this.add(name);
        break;
      case "joined":
        this.add(line.name);
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
}

/**
 * Completes the word before the cursor: a command as the line's first word,
 * a name after `@`, after `/msg ` and anywhere else. A single candidate is
 * completed with a space after it; several are completed as far as they
 * agree and returned as `candidates`.
 */
export function complete(options: CompleteOptions): Completion {
  const { text, cursor } = options;
  const before = text.slice(0, cursor);
  const start = before.search(/\S*$/);
  let word = before.slice(start);
  let prefix = "";
  let pool: readonly string[];
  if (start === 0 && word.startsWith("/")) {
    pool = COMMAND_WORDS;
  } else {
    if (word.startsWith("@")) {
      prefix = "@";
      word = word.slice(1);
    }
    pool = options.names;
  }
  const lower = word.toLowerCase();
  const hits = pool.filter((c) => c.toLowerCase().startsWith(lower));
  if (hits.length === 0 || (word === "" && prefix === "")) {
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

function commonPrefix(words: readonly string[]): string {
  let prefix = words[0];
  for (const word of words) {
    while (!word.toLowerCase().startsWith(prefix.toLowerCase())) {
      prefix = prefix.slice(0, -1);
    }
  }
  return prefix;
}
