/**
 * Screen rendering: the line being typed stays whole on the last screen
 * rows, wrapped by display width (so wide characters and lines longer than
 * the terminal are placed as the terminal places them); incoming lines are
 * printed above it and the input is drawn again, cursor and all. After a
 * resize (or Ctrl+L) the screen is painted anew from the last lines shown.
 *
 * @module
 */

import { graphemes, graphemeWidth } from "./display_width.ts";

/** The terminal's size in columns and rows. */
export interface TerminalSize {
  /** Columns. */
  columns: number;
  /** Rows. */
  rows: number;
}

/** Where the input's characters land on the screen. */
export interface InputLayout {
  /** The screen rows the input takes, as text. */
  rows: string[];
  /** The cursor's row, from the input's first row. */
  cursorRow: number;
  /** The cursor's column. */
  cursorColumn: number;
}

/**
 * Lays `cells` (graphemes: the prompt's and the typed line's) out on rows
 * `columns` wide, as a terminal wraps them: a wide character that does not
 * fit in the last column goes to the next row. `cursor` is an index into
 * `cells`; at the very end of a full row it is on the next row.
 */
export function layoutInput(
  cells: readonly string[],
  cursor: number,
  columns: number,
): InputLayout {
  const width = Math.max(2, columns);
  const rows = [""];
  let column = 0;
  let cursorRow = 0;
  let cursorColumn = 0;
  for (let i = 0; i < cells.length; i++) {
    const w = graphemeWidth(cells[i]);
    if (w > 0 && column + w > width) {
      rows.push("");
      column = 0;
    }
    if (i === cursor) {
      cursorRow = rows.length - 1;
      cursorColumn = column;
    }
    rows[rows.length - 1] += cells[i];
    column += w;
  }
  if (cursor >= cells.length) {
    if (column >= width) {
      rows.push("");
      column = 0;
    }
    cursorRow = rows.length - 1;
    cursorColumn = column;
  }
  return { rows, cursorRow, cursorColumn };
}

/** Options of {@linkcode Screen}. */
export interface ScreenOptions {
  /** Writes to the terminal (stdout), synchronously. */
  write: (text: string) => void;
  /** Writes an error line to stderr, synchronously. Default: `write`. */
  writeError?: (text: string) => void;
  /** The terminal's size now. */
  size: () => TerminalSize;
  /** Lines kept for painting the screen anew. Default 500. */
  keep?: number;
}

// deno-lint-ignore no-control-regex -- colour codes are what it strips
const SGR = /\x1b\[[0-9;]*m/g;
const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";

/** The conversation above, the line being typed below. */
export class Screen {
  #write: (text: string) => void;
  #writeError: (text: string) => void;
  #size: () => TerminalSize;
  #keep: number;
  #lines: string[] = [];
  #prompt: string[] = [];
  #chars: readonly string[] = [];
  #cursor = 0;
  // The cursor's row within the drawn input, so the next draw finds its top.
  #cursorRow = 0;
  #columns: number;
  #closed = false;

  /** Creates a screen that writes through `options.write`. */
  constructor(options: ScreenOptions) {
    this.#write = options.write;
    this.#writeError = options.writeError ?? options.write;
    this.#size = options.size;
    this.#keep = options.keep ?? 500;
    this.#columns = this.#size().columns;
  }

  /** Sets what the input shows (the prompt, the line, its cursor) and draws it. */
  setInput(prompt: string, chars: readonly string[], cursor: number): void {
    this.#prompt = graphemes(prompt);
    this.#chars = chars;
    this.#cursor = cursor;
    this.render();
  }

  /** Draws the input again where it is, or paints anew after a resize. */
  render(): void {
    if (this.#closed) return;
    if (this.#size().columns !== this.#columns) {
      this.repaint();
      return;
    }
    this.#write(HIDE_CURSOR + this.#eraseInput() + this.#drawInput());
  }

  /** Prints `line` (it may hold colour codes) above the input. */
  print(line: string, options: { error?: boolean; bell?: boolean } = {}): void {
    this.#remember(line);
    if (this.#closed) {
      (options.error ? this.#writeError : this.#write)(line + "\r\n");
      return;
    }
    if (this.#size().columns !== this.#columns) {
      this.repaint();
      return;
    }
    const bell = options.bell ? "\x07" : "";
    if (options.error) {
      this.#write(HIDE_CURSOR + this.#eraseInput());
      this.#writeError(line + "\r\n");
      this.#write(bell + this.#drawInput());
    } else {
      this.#write(
        HIDE_CURSOR + this.#eraseInput() + line + "\r\n" + bell +
          this.#drawInput(),
      );
    }
  }

  /** Clears the screen and paints the last lines and the input (Ctrl+L). */
  repaint(): void {
    if (this.#closed) return;
    const { columns, rows } = this.#size();
    this.#columns = columns;
    const input = layoutInput(
      [...this.#prompt, ...this.#chars],
      this.#prompt.length + this.#cursor,
      columns,
    );
    let free = Math.max(0, rows - input.rows.length);
    let first = this.#lines.length;
    while (first > 0) {
      const plain = this.#lines[first - 1].replace(SGR, "");
      const needed = Math.max(1, Math.ceil(widthOf(plain) / columns));
      if (needed > free) break;
      free -= needed;
      first--;
    }
    const shown = this.#lines.slice(first).map((l) => l + "\r\n").join("");
    this.#cursorRow = 0;
    this.#write(HIDE_CURSOR + "\x1b[H\x1b[2J" + shown + this.#drawInput());
  }

  /** Erases the input and shows the cursor: the screen as a plain terminal. */
  close(): void {
    if (this.#closed) return;
    this.#write(this.#eraseInput() + SHOW_CURSOR);
    this.#closed = true;
  }

  #remember(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#keep) this.#lines.shift();
  }

  // Moves to the input's first row and clears from there down.
  #eraseInput(): string {
    const up = this.#cursorRow > 0 ? `\x1b[${this.#cursorRow}A` : "";
    this.#cursorRow = 0;
    return up + "\r\x1b[J";
  }

  // Draws the input from the cursor's row start and puts the cursor in place.
  #drawInput(): string {
    const layout = layoutInput(
      [...this.#prompt, ...this.#chars],
      this.#prompt.length + this.#cursor,
      this.#columns,
    );
    const last = layout.rows.length - 1;
    const up = last - layout.cursorRow;
    this.#cursorRow = layout.cursorRow;
    return layout.rows.join("\r\n") + (up > 0 ? `\x1b[${up}A` : "") + "\r" +
      (layout.cursorColumn > 0 ? `\x1b[${layout.cursorColumn}C` : "") +
      SHOW_CURSOR;
  }
}

function widthOf(text: string): number {
  let width = 0;
  for (const g of graphemes(text)) {
    width += g === "\t" ? 8 - (width % 8) : graphemeWidth(g);
  }
  return width;
}
