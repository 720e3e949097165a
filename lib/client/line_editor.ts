/**
 * The line editor's state: the line being typed (as graphemes), the cursor,
 * the history of sent lines with the draft kept aside, and the editing
 * operations. No terminal here: `screen.ts` draws it.
 *
 * @module
 */

import { graphemes } from "../io/display_width.ts";

/** Options of {@linkcode LineEditor}. */
export interface LineEditorOptions {
  /** How many sent lines Up can walk back. Default 500. */
  historySize?: number;
}

/** The line being typed, its cursor and the history of sent lines. */
export class LineEditor {
  #chars: string[] = [];
  #cursor = 0;
  #history: string[] = [];
  // Where Up/Down stand: history.length is the draft.
  #historyIndex = 0;
  #draft = "";
  #historySize: number;

  /** Creates an empty editor with an empty history. */
  constructor(options: LineEditorOptions = {}) {
    this.#historySize = options.historySize ?? 500;
  }

  /** The text typed so far. */
  get text(): string {
    return this.#chars.join("");
  }

  /** The typed text's graphemes. */
  get chars(): readonly string[] {
    return this.#chars;
  }

  /** The cursor, as a grapheme index (0 to `chars.length`). */
  get cursor(): number {
    return this.#cursor;
  }

  /** Replaces the whole line, the cursor at its end (or at `cursor`). */
  setText(text: string, cursor?: number): void {
    this.#chars = graphemes(text);
    this.#cursor = cursor === undefined
      ? this.#chars.length
      : Math.min(cursor, this.#chars.length);
  }

  /** Inserts `text` at the cursor. */
  insert(text: string): void {
    const before = this.#chars.slice(0, this.#cursor).join("") + text;
    const after = this.#chars.slice(this.#cursor).join("");
    // Segmenting again lets a combining mark join the character before it.
    const cursor = graphemes(before).length;
    this.#chars = graphemes(before + after);
    this.#cursor = Math.min(cursor, this.#chars.length);
  }

  /** Moves the cursor one character left. */
  left(): void {
    if (this.#cursor > 0) this.#cursor--;
  }

  /** Moves the cursor one character right. */
  right(): void {
    if (this.#cursor < this.#chars.length) this.#cursor++;
  }

  /** Moves the cursor to the start of the line. */
  home(): void {
    this.#cursor = 0;
  }

  /** Moves the cursor to the end of the line. */
  end(): void {
    this.#cursor = this.#chars.length;
  }

  /** Moves the cursor to the start of the word before it. */
  wordLeft(): void {
    this.#cursor = this.#wordStart();
  }

  /** Moves the cursor past the end of the word after it. */
  wordRight(): void {
    let i = this.#cursor;
    while (i < this.#chars.length && isSpace(this.#chars[i])) i++;
    while (i < this.#chars.length && !isSpace(this.#chars[i])) i++;
    this.#cursor = i;
  }

  /** Deletes the character before the cursor. */
  backspace(): void {
    if (this.#cursor === 0) return;
    this.#chars.splice(this.#cursor - 1, 1);
    this.#cursor--;
  }

  /** Deletes the character under the cursor. */
  deleteForward(): void {
    if (this.#cursor < this.#chars.length) this.#chars.splice(this.#cursor, 1);
  }

  /** Ctrl+U: deletes from the start of the line to the cursor. */
  killToStart(): void {
    this.#chars.splice(0, this.#cursor);
    this.#cursor = 0;
  }

  /** Ctrl+K: deletes from the cursor to the end of the line. */
  killToEnd(): void {
    this.#chars.splice(this.#cursor);
  }

  /** Ctrl+W: deletes the word before the cursor. */
  killWord(): void {
    const start = this.#wordStart();
    this.#chars.splice(start, this.#cursor - start);
    this.#cursor = start;
  }

  #wordStart(): number {
    let i = this.#cursor;
    while (i > 0 && isSpace(this.#chars[i - 1])) i--;
    while (i > 0 && !isSpace(this.#chars[i - 1])) i--;
    return i;
  }

  /** Up: the line sent before the one shown; the draft is kept. */
  historyUp(): void {
    if (this.#historyIndex === 0) return;
    if (this.#historyIndex === this.#history.length) this.#draft = this.text;
    this.#historyIndex--;
    this.setText(this.#history[this.#historyIndex]);
  }

  /** Down: the line sent after the one shown, and at the end the draft. */
  historyDown(): void {
    if (this.#historyIndex >= this.#history.length) return;
    this.#historyIndex++;
    this.setText(
      this.#historyIndex === this.#history.length
        ? this.#draft
        : this.#history[this.#historyIndex],
    );
  }

  /**
   * Enter: returns the line and starts an empty one. With `remember` the
   * line goes into the history (not a password, say).
   */
  submit(options: { remember: boolean }): string {
    const line = this.text;
    if (
      options.remember && line.trim() !== "" && this.#history.at(-1) !== line
    ) {
      this.#history.push(line);
      if (this.#history.length > this.#historySize) this.#history.shift();
    }
    this.#historyIndex = this.#history.length;
    this.#draft = "";
    this.setText("");
    return line;
  }
}

function isSpace(grapheme: string): boolean {
  return /^\s$/u.test(grapheme);
}
