/**
 * The client on a terminal: raw mode, keys into the line editor, typed
 * lines to the chat, the server's lines styled and printed above the line
 * being typed, Tab completion, the current room in the prompt, and the
 * terminal restored at the end.
 *
 * @module
 */

import type { Line } from "../io/line_reader.ts";
import { stripControls } from "../room/sanitize.ts";
import type { LineSource } from "./chat_client.ts";
import {
  styleInRoom,
  styleNotice,
  styleOwnAction,
  styleOwnMessage,
  styleOwnPrivate,
  styleServerLine,
} from "./colors.ts";
import { complete, NameBook } from "./completion.ts";
import { type Key, KeyDecoder } from "./keys.ts";
import { LineEditor } from "./line_editor.ts";
import { roomKey } from "../room/room_names.ts";
import { MAIN_ROOM, RoomBook } from "./rooms.ts";
import { Screen, type TerminalSize } from "./screen.ts";
import { parseServerLine } from "./server_lines.ts";
import { clientText } from "./texts.ts";

/** The terminal's input: a raw-mode capable reader (Deno.stdin). */
export interface TerminalInput {
  /** Reads bytes; null at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Turns raw mode on or off. */
  setRaw(mode: boolean): void;
}

/** Options of {@linkcode TerminalUi}. */
export interface TerminalUiOptions {
  /** The keyboard. */
  input: TerminalInput;
  /** Writes to stdout, synchronously. */
  write: (text: string) => void;
  /** Writes to stderr, synchronously. */
  writeError: (text: string) => void;
  /** The terminal's size now. */
  size: () => TerminalSize;
  /** Use colours. */
  color: boolean;
  /** Ring the bell on a private message or a mention. */
  bell: boolean;
  /** Show `[HH:MM]` before each live line. */
  timestamps: boolean;
  /** Called on Ctrl+C. */
  onInterrupt: () => void;
}

// A command whose words after it are passwords; the match is the part shown.
const ACCOUNT_COMMAND = /^\s*\/(?:register|password|unregister)\s/i;

/** Local time as `HH:MM`. */
export function clockTime(date: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * The terminal front end. It is the client's {@linkcode LineSource}, and its
 * `print`, `printError`, `observe` and `echo` are the client's outputs.
 */
export class TerminalUi implements LineSource {
  #options: TerminalUiOptions;
  #screen: Screen;
  #editor = new LineEditor();
  #keys = new KeyDecoder();
  #names = new NameBook();
  #rooms = new RoomBook();
  #self: string | undefined;
  #secret = false;
  #queue: string[] = [];
  #waiting: PromiseWithResolvers<void> | null = null;
  #ended = false;
  #stopped = false;
  #raw = false;
  #onResize = () => this.#screen.render();

  /** Creates the terminal front end; nothing is drawn before it starts. */
  constructor(options: TerminalUiOptions) {
    this.#options = options;
    this.#screen = new Screen({
      write: options.write,
      writeError: options.writeError,
      size: options.size,
    });
  }

  /** Raw mode on, the input drawn, keys read until `stop`. */
  start(): void {
    this.#options.input.setRaw(true);
    this.#raw = true;
    try {
      Deno.addSignalListener("SIGWINCH", this.#onResize);
    } catch {
      // No SIGWINCH on Windows: the size is checked at every draw.
    }
    this.#draw();
    this.#readKeys();
  }

  /** Erases the input, shows the cursor, raw mode off. Safe to call twice. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      Deno.removeSignalListener("SIGWINCH", this.#onResize);
    } catch {
      // Never added.
    }
    this.#screen.close();
    if (this.#raw) {
      this.#raw = false;
      try {
        this.#options.input.setRaw(false);
      } catch {
        // The terminal is gone.
      }
    }
  }

  /** The lines typed since the last call; null once the input ended. */
  async next(): Promise<Line[] | null> {
    while (this.#queue.length === 0 && !this.#ended) {
      this.#waiting = Promise.withResolvers();
      await this.#waiting.promise;
    }
    if (this.#queue.length > 0) return this.#queue.splice(0);
    return null;
  }

  /** Nothing is left over: Ctrl+D ends the input on an empty line only. */
  rest(): string | null {
    return null;
  }

  /** Shows a line (from the server or the client) above the input. */
  print(received: string): void {
    // Whatever the server, nothing it sends moves the cursor or recolours.
    const line = stripControls(received);
    const parsed = parseServerLine(line);
    const styled = styleServerLine(line, parsed, {
      color: this.#options.color,
      self: this.#self,
    });
    const stamped = this.#options.timestamps && parsed.kind !== "history"
      ? `[${clockTime()}] ${styled.text}`
      : styled.text;
    this.#screen.print(stamped, { bell: this.#options.bell && styled.alert });
  }

  /** Shows an error line (on stderr) above the input. */
  printError(line: string): void {
    this.#screen.print(line, { error: true });
  }

  /**
   * Follows every server line: who is online, the user's name and rooms.
   */
  observe(line: string): void {
    const parsed = parseServerLine(line);
    this.#names.follow(parsed);
    const prompt = this.#prompt();
    this.#rooms.follow(parsed);
    if (this.#prompt() !== prompt) this.#draw();
    if (parsed.kind === "welcome" || parsed.kind === "renamedSelf") {
      this.#self = parsed.name;
      this.#names.add(parsed.name);
    }
  }

  /**
   * The next line typed is a password: shown as `*`, never kept for Up,
   * never completed.
   */
  askSecret(): void {
    this.#secret = true;
    this.#draw();
  }

  /** Shows a line typed in answer to a prompt (a name), after the prompt. */
  echoAnswer(line: string): void {
    this.#screen.print(clientText.prompt + line);
  }

  /** Shows a line the user sent as the others see it (not commands). */
  echo(line: string): void {
    const self = this.#self;
    const color = this.#options.color;
    if (self === undefined || line.trim() === "") return;
    let shown: string | undefined;
    const text = line.trim();
    const direct = text.match(/^@(\S+)\s+(\S.*)$/s);
    const msg = text.match(/^\/msg\s+(\S+)\s+(\S.*)$/is);
    const me = text.match(/^\/me\s+(\S.*)$/is);
    // In no room the server says so instead of passing the line on.
    const inARoom = this.#rooms.current !== null;
    if (direct !== null) shown = styleOwnPrivate(direct[1], direct[2], color);
    else if (msg !== null && msg[1].startsWith("#")) {
      shown = this.#ownInRoom(msg[1], msg[2]);
    } else if (msg !== null) shown = styleOwnPrivate(msg[1], msg[2], color);
    else if (me !== null && inARoom) {
      shown = styleOwnAction(self, me[1], color);
    } else if (!text.startsWith("/") && !text.startsWith("@") && inARoom) {
      shown = styleOwnMessage(self, line, color);
    }
    if (shown === undefined) return;
    this.#screen.print(
      this.#options.timestamps ? `[${clockTime()}] ${shown}` : shown,
    );
  }

  // The user's `/msg #room text` as the room's members see it: tagged when
  // the room is not the current one; nothing when the user is not in it.
  #ownInRoom(room: string, text: string): string | undefined {
    const key = roomKey(room);
    // As the server spells it.
    const name = this.#rooms.joined.find((r) => roomKey(r) === key);
    if (name === undefined) return undefined;
    const color = this.#options.color;
    const own = styleOwnMessage(this.#self!, text, color);
    const current = this.#rooms.current;
    if (typeof current === "string" && roomKey(current) === key) return own;
    return styleInRoom(name, own, color);
  }

  /**
   * The prompt: today's `> ` in the main room alone (where everyone starts,
   * and someone who never uses rooms stays), else the current room's name
   * (`#games> `), or that the user is in no room.
   */
  #prompt(): string {
    const rooms = this.#rooms;
    const current = rooms.current;
    if (rooms.onlyMain || current === MAIN_ROOM) return clientText.prompt;
    if (current === null) return clientText.noRoomPrompt;
    return clientText.roomPrompt(current);
  }

  async #readKeys(): Promise<void> {
    const buffer = new Uint8Array(4096);
    try {
      while (!this.#stopped) {
        const n = await this.#options.input.read(buffer);
        if (n === null) break;
        for (const key of this.#keys.push(buffer.subarray(0, n))) {
          this.#onKey(key);
        }
        if (!this.#stopped) this.#draw();
      }
    } catch {
      // The terminal went away: like the end of input.
    }
    this.#endInput();
  }

  #endInput(): void {
    this.#ended = true;
    this.#waiting?.resolve();
  }

  #onKey(key: Key): void {
    const editor = this.#editor;
    if (key.kind === "text") {
      editor.insert(key.text);
      return;
    }
    switch (key.name) {
      case "enter": {
        const secret = this.#secret || ACCOUNT_COMMAND.test(editor.text);
        const line = editor.submit({ remember: !secret });
        this.#secret = false;
        if (line.trim() === "") return;
        this.#queue.push(line);
        this.#waiting?.resolve();
        return;
      }
      case "ctrl-c":
        this.#options.onInterrupt();
        return;
      case "ctrl-d":
        if (editor.text === "") this.#endInput();
        else editor.deleteForward();
        return;
      case "tab":
        return this.#complete();
      case "ctrl-l":
        this.#screen.repaint();
        return;
      case "backspace":
        return editor.backspace();
      case "delete":
        return editor.deleteForward();
      case "left":
        return editor.left();
      case "right":
        return editor.right();
      case "word-left":
        return editor.wordLeft();
      case "word-right":
        return editor.wordRight();
      case "home":
      case "ctrl-a":
        return editor.home();
      case "end":
      case "ctrl-e":
        return editor.end();
      case "up":
        return editor.historyUp();
      case "down":
        return editor.historyDown();
      case "ctrl-u":
        return editor.killToStart();
      case "ctrl-k":
        return editor.killToEnd();
      case "ctrl-w":
        return editor.killWord();
    }
  }

  #complete(): void {
    const editor = this.#editor;
    if (this.#secret || ACCOUNT_COMMAND.test(editor.text)) return;
    const chars = editor.chars;
    const cursor = chars.slice(0, editor.cursor).join("").length;
    const self = this.#self?.toLowerCase();
    const result = complete({
      text: editor.text,
      cursor,
      names: this.#names.names.filter((n) => n.toLowerCase() !== self),
      rooms: { known: this.#rooms.known, joined: this.#rooms.joined },
    });
    const text = result.text;
    editor.setText(text);
    // Back from UTF-16 units to graphemes for the cursor.
    const head = text.slice(0, result.cursor);
    let index = 0;
    for (let length = 0; index < editor.chars.length; index++) {
      if (length >= head.length) break;
      length += editor.chars[index].length;
    }
    editor.setText(text, index);
    if (result.candidates.length > 1) {
      this.#screen.print(
        styleNotice(
          clientText.candidates(result.candidates),
          this.#options.color,
        ),
      );
    }
  }

  #draw(): void {
    if (this.#stopped) return;
    const editor = this.#editor;
    this.#screen.setInput(this.#prompt(), this.#shown(), editor.cursor);
  }

  // What is typed as it is drawn: a password as `*`, and so the passwords
  // of `/register`, `/password` and `/unregister` after the command word.
  #shown(): readonly string[] {
    const chars = this.#editor.chars;
    if (this.#secret) return chars.map(() => "*");
    const head = ACCOUNT_COMMAND.exec(this.#editor.text);
    if (head === null) return chars;
    let kept = 0;
    for (let length = 0; kept < chars.length; kept++) {
      if (length >= head[0].length) break;
      length += chars[kept].length;
    }
    return chars.map((c, i) => i < kept || /^\s$/u.test(c) ? c : "*");
  }
}
