/**
 * Colours (ANSI SGR): a stable colour per name, private messages in and out
 * in bold magenta, server notices and history dim, a line that mentions the
 * user highlighted, and the `[#room]` tag of a line from another room as a
 * badge in its room's own colour (dark text on a coloured ground, which no
 * name and no other line has). With colours off every function returns the
 * line as is.
 *
 * @module
 */

import { serverText } from "../room/texts.ts";
import type { ServerLine } from "./server_lines.ts";

const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const PRIVATE = "\x1b[1;35m";
const MENTION = "\x1b[1;33m";
// Readable on dark and light backgrounds; magenta is for private messages.
const NAME_COLORS = [
  "31",
  "32",
  "33",
  "34",
  "36",
  "91",
  "92",
  "93",
  "94",
  "96",
];

// Black on a light ground: readable on dark and light terminals alike.
const ROOM_COLORS = [
  "30;42",
  "30;43",
  "30;45",
  "30;46",
  "30;102",
  "30;103",
  "30;105",
  "30;106",
];

// FNV-1a of the lower-cased text: the same on every run and machine.
function hashOf(text: string): number {
  let hash = 2166136261;
  for (const ch of text.toLowerCase()) {
    hash = Math.imul(hash ^ ch.codePointAt(0)!, 16777619) >>> 0;
  }
  return hash;
}

/** The colour of `name`: the same on every run and every machine. */
export function nameColor(name: string): string {
  return `\x1b[${NAME_COLORS[hashOf(name) % NAME_COLORS.length]}m`;
}

/** The colour of a room's tag: the same on every run, in any case. */
export function roomColor(room: string): string {
  return `\x1b[${ROOM_COLORS[hashOf(room) % ROOM_COLORS.length]}m`;
}

/**
 * A line of another room (`styled`, coloured already) after its `[#room]`
 * tag, the tag in the room's colour.
 */
export function styleInRoom(
  room: string,
  styled: string,
  color: boolean,
): string {
  const head = serverText.inRoom(room, "");
  const tag = head.trimEnd();
  const gap = head.slice(tag.length);
  return (color ? roomColor(room) + tag + RESET : tag) + gap + styled;
}

/** Whether `text` mentions `name` as a whole word, in any case. */
export function mentions(text: string, name: string | undefined): boolean {
  if (name === undefined || name === "") return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}_])${escaped}($|[^\\p{L}\\p{N}_])`, "iu")
    .test(text);
}

/** How one line is shown. */
export interface Styled {
  /** The line, with colour codes when colours are on. */
  text: string;
  /** Whether it calls for the bell: a private message or a mention. */
  alert: boolean;
}

/** Options of {@linkcode styleServerLine}. */
export interface StyleOptions {
  /** Use colours. */
  color: boolean;
  /** The user's own name, for mentions. */
  self?: string;
}

/** Styles a line from the server. */
export function styleServerLine(
  line: string,
  parsed: ServerLine,
  options: StyleOptions,
): Styled {
  const paint = (code: string, text: string) =>
    options.color ? code + text + RESET : text;
  switch (parsed.kind) {
    case "inRoom": {
      // The tag in the room's colour, the line inside as any line.
      const head = serverText.inRoom(parsed.room, "");
      const inner = styleServerLine(
        line.slice(head.length),
        parsed.line,
        options,
      );
      return {
        text: styleInRoom(parsed.room, inner.text, options.color),
        alert: inner.alert,
      };
    }
    case "private":
      return { text: paint(PRIVATE, line), alert: true };
    case "message":
    case "action": {
      const mentioned = parsed.from.toLowerCase() !==
          options.self?.toLowerCase() && mentions(parsed.text, options.self);
      const name = paint(nameColor(parsed.from), parsed.from);
      const text = mentioned ? paint(MENTION, parsed.text) : parsed.text;
      return {
        text: parsed.kind === "message"
          ? `${name}: ${text}`
          : `${paint(nameColor(parsed.from), "*")} ${name} ${text}`,
        alert: mentioned,
      };
    }
    case "joined":
    case "left":
    case "renamed":
    case "notice":
    case "history":
    case "historyEnd":
    case "youJoined":
    case "currentRoom":
    case "youLeft":
    case "youWereKicked":
    case "joinedRoom":
    case "leftRoom":
      return { text: paint(DIM, line), alert: false };
    default:
      return { text: line, alert: false };
  }
}

/** Styles the user's own message as the others see it: `NAME: text`. */
export function styleOwnMessage(
  name: string,
  text: string,
  color: boolean,
): string {
  return color
    ? `${nameColor(name)}${name}${RESET}: ${text}`
    : `${name}: ${text}`;
}

/** Styles the user's own action as the others see it: `* NAME text`. */
export function styleOwnAction(
  name: string,
  text: string,
  color: boolean,
): string {
  return color
    ? `${nameColor(name)}* ${name}${RESET} ${text}`
    : `* ${name} ${text}`;
}

/** Styles a private message the user sent: `-> bob: text`. */
export function styleOwnPrivate(
  target: string,
  text: string,
  color: boolean,
): string {
  const line = `-> ${target}: ${text}`;
  return color ? PRIVATE + line + RESET : line;
}

/** Styles a line the client itself says (a notice, dim). */
export function styleNotice(line: string, color: boolean): string {
  return color ? DIM + line + RESET : line;
}
