/**
 * Screen rendering: the line being typed stays whole on the last screen
 * rows, wrapped by display width (so wide characters and lines longer than
 * the terminal are placed as the terminal places them); incoming lines are
 * printed above it, their rows after the first indented, and the input is
 * drawn again, cursor and all. After a resize (or Ctrl+L) the screen is
 * painted anew from the last lines shown.
 *
 * The screen cuts every row itself and draws with the terminal's automatic
 * wrap off, so that the terminal never starts a row the screen did not: a
 * row always starts where the screen says (a padded message cannot start a
 * row where a sender's name would), and the input takes exactly the rows
 * the screen erases next time. Where the terminal draws a character wider
 * or narrower than the screen counts, that row is cut short or ends early
 * and the cursor may sit a few columns off; nothing is left behind.
 *
 * @module
 */

import { graphemes, graphemeWidth } from "../io/display_width.ts";

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

/** How many columns a grapheme takes. */
export type WidthOf = (grapheme: string) => number;

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
  widthOf: WidthOf = graphemeWidth,
): InputLayout {
  const width = Math.max(2, columns);
  const rows = [""];
  let column = 0;
  let cursorRow = 0;
  let cursorColumn = 0;
  for (let i = 0; i < cells.length; i++) {
    const w = widthOf(cells[i]);
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

/** Options of {@linkcode wrapLine}. */
export interface WrapOptions {
  /** The terminal's width. */
  columns: number;
  /** Spaces before every row after the first. Default 2. */
  indent?: number;
  /** How wide a grapheme is. Default {@linkcode graphemeWidth}. */
  widthOf?: WidthOf;
}

// deno-lint-ignore no-control-regex -- colour codes are what it finds
const SGR_OR_TEXT = /(\x1b\[[0-9;]*m)|[^\x1b]+|\x1b/g;
const CONTROL = /^\p{Cc}/u;
const TAB_STOP = 8;

/**
 * Cuts `line` (it may hold colour codes) into rows at most `columns` wide,
 * every row after the first starting with `indent` spaces: so that no row
 * but the first starts at column 0, where lines start. A wide character is
 * never split; a tab becomes the spaces to the next tab stop and, as in a
 * terminal, never runs past the row's end.
 */
export function wrapLine(line: string, options: WrapOptions): string[] {
  const width = Math.max(2, options.columns);
  const indent = " ".repeat(Math.min(options.indent ?? 2, width - 1));
  const widthOf = options.widthOf ?? graphemeWidth;
  const rows = [""];
  let column = 0;
  // Whether the row holds something besides its indent.
  let used = false;
  const place = (cell: string, w: number) => {
    if (used && column + w > width) {
      rows.push(indent);
      column = indent.length;
    }
    rows[rows.length - 1] += cell;
    column += w;
    used = true;
  };
  for (const [token, sgr] of line.matchAll(SGR_OR_TEXT)) {
    if (sgr !== undefined) {
      rows[rows.length - 1] += sgr;
      continue;
    }
    for (const g of graphemes(token)) {
      if (g === "\t") {
        const spaces = Math.min(TAB_STOP - column % TAB_STOP, width - column);
        if (spaces > 0) place(" ".repeat(spaces), spaces);
        continue;
      }
      // Nothing that moves the cursor: a row starts where the screen says.
      if (CONTROL.test(g)) continue;
      place(g, widthOf(g));
    }
  }
  return rows;
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
  /** How wide a grapheme is. Default {@linkcode graphemeWidth}. */
  widthOf?: WidthOf;
}

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
// DECAWM: with it off, a row that is wider than counted is cut at the last
// column instead of running onto a row of its own.
const WRAP_OFF = "\x1b[?7l";
const WRAP_ON = "\x1b[?7h";

/** The conversation above, the line being typed below. */
export class Screen {
  #write: (text: string) => void;
  #writeError: (text: string) => void;
  #size: () => TerminalSize;
  #keep: number;
  #widthOf: WidthOf;
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
    this.#widthOf = options.widthOf ?? graphemeWidth;
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
      // The client's own words, on stderr as they are (it may be a file).
      this.#write(HIDE_CURSOR + this.#eraseInput());
      this.#writeError(line + "\r\n");
      this.#write(bell + this.#drawInput());
    } else {
      this.#write(
        HIDE_CURSOR + this.#eraseInput() + WRAP_OFF + this.#rowsOf(line) +
          bell + this.#drawInput(),
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
      this.#widthOf,
    );
    let free = Math.max(0, rows - input.rows.length);
    const shown: string[] = [];
    for (let i = this.#lines.length - 1; i >= 0; i--) {
      const needed = this.#wrap(this.#lines[i]).length;
      if (needed > free) break;
      free -= needed;
      shown.unshift(this.#rowsOf(this.#lines[i]));
    }
    this.#cursorRow = 0;
    this.#write(
      HIDE_CURSOR + WRAP_OFF + "\x1b[H\x1b[2J" + shown.join("") +
        this.#drawInput(),
    );
  }

  /** Erases the input and shows the cursor: the screen as a plain terminal. */
  close(): void {
    if (this.#closed) return;
    this.#write(this.#eraseInput() + WRAP_ON + SHOW_CURSOR);
    this.#closed = true;
  }

  #remember(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#keep) this.#lines.shift();
  }

  #wrap(line: string): string[] {
    return wrapLine(line, { columns: this.#columns, widthOf: this.#widthOf });
  }

  // A line's rows, each ended, to be written with the wrap off.
  #rowsOf(line: string): string {
    return this.#wrap(line).map((row) => row + "\r\n").join("");
  }

  // Moves to the input's first row and clears from there down.
  #eraseInput(): string {
    const up = this.#cursorRow > 0 ? `\x1b[${this.#cursorRow}A` : "";
    this.#cursorRow = 0;
    return up + "\r\x1b[J";
  }

  // Draws the input from the cursor's row start, rows cut by the screen and
  // the wrap off, then puts the cursor on its row and, by absolute column,
  // in place.
  #drawInput(): string {
    const layout = layoutInput(
      [...this.#prompt, ...this.#chars],
      this.#prompt.length + this.#cursor,
      this.#columns,
      this.#widthOf,
    );
    const last = layout.rows.length - 1;
    const up = last - layout.cursorRow;
    this.#cursorRow = layout.cursorRow;
    return WRAP_OFF + layout.rows.join("\r\n") + WRAP_ON +
      (up > 0 ? `\x1b[${up}A` : "") + `\x1b[${layout.cursorColumn + 1}G` +
      SHOW_CURSOR;
  }
}
