/**
 * A real terminal for tests: one tmux server per pane (its own `-L` socket,
 * so tests never meet), a fixed size, keys in with `send-keys`, the screen
 * out with `capture-pane`, waits that poll the screen with a timeout.
 *
 * @module
 */

let counter = 0;

/** `text` quoted for `sh`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/**
 * The columns tmux's cursor moves when `text` is printed on an empty row:
 * what this terminal draws, to compare the client's width maths with.
 */
export async function drawnWidth(text: string): Promise<number> {
  // The title is set after the text, so once it shows the text is drawn.
  const pane = await TmuxPane.start({
    command: `printf '%s\\033]2;drawn\\033\\\\' ${
      shellQuote(text)
    }; exec sleep 600`,
    width: 200,
    height: 3,
  });
  try {
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      const title = await pane.tmux(["display-message", "-p", "#{pane_title}"]);
      if (title.trim() === "drawn") return (await pane.cursor()).x;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(
      `Timed out waiting for tmux to draw ${JSON.stringify(text)}`,
    );
  } finally {
    await pane.kill();
  }
}

/** Options of {@linkcode TmuxPane.start}. */
export interface TmuxPaneOptions {
  /** The shell command the pane runs. */
  command: string;
  /** Columns. Default 80. */
  width?: number;
  /** Rows. Default 24. */
  height?: number;
}

/** Where the cursor is and whether it shows. */
export interface CursorState {
  /** Column, from 0. */
  x: number;
  /** Row, from 0. */
  y: number;
  /** Whether the cursor is visible. */
  visible: boolean;
}

/** One tmux pane running a command. */
export class TmuxPane {
  /** The tmux socket name (`tmux -L`), unique to this pane. */
  readonly socket: string;

  private constructor(socket: string) {
    this.socket = socket;
  }

  /** Starts a detached tmux server and session running `command`. */
  static async start(options: TmuxPaneOptions): Promise<TmuxPane> {
    const socket = `chat-test-${Deno.pid}-${++counter}-${
      Math.random().toString(36).slice(2, 8)
    }`;
    const pane = new TmuxPane(socket);
    await pane.tmux([
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-x",
      String(options.width ?? 80),
      "-y",
      String(options.height ?? 24),
      options.command,
    ]);
    return pane;
  }

  /** Runs one tmux command on this pane's server; returns its stdout. */
  async tmux(args: string[]): Promise<string> {
    const { code, stdout, stderr } = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(
        `tmux ${args[0]} failed: ${new TextDecoder().decode(stderr).trim()}`,
      );
    }
    return new TextDecoder().decode(stdout);
  }

  /** Types `text` literally (no key names). */
  async type(text: string): Promise<void> {
    await this.tmux(["send-keys", "-l", "--", text]);
  }

  /** Presses keys by tmux's names: `Enter`, `Left`, `C-c`, `Tab`... */
  async press(...keys: string[]): Promise<void> {
    await this.tmux(["send-keys", ...keys]);
  }

  /** The screen's rows; with `escapes`, with the colour codes. */
  async screen(options: { escapes?: boolean } = {}): Promise<string[]> {
    const text = await this.tmux([
      "capture-pane",
      "-p",
      ...(options.escapes ? ["-e"] : []),
    ]);
    const rows = text.split("\n");
    if (rows.at(-1) === "") rows.pop();
    return rows;
  }

  /** The screen's rows without the empty ones at the end. */
  async visibleRows(): Promise<string[]> {
    const rows = await this.screen();
    while (rows.length > 0 && rows.at(-1)!.trim() === "") rows.pop();
    return rows;
  }

  /** The cursor. */
  async cursor(): Promise<CursorState> {
    const out = await this.tmux([
      "display-message",
      "-p",
      "#{cursor_x} #{cursor_y} #{cursor_flag}",
    ]);
    const [x, y, flag] = out.trim().split(" ").map(Number);
    return { x, y, visible: flag === 1 };
  }

  /** Resizes the window. */
  async resize(width: number, height: number): Promise<void> {
    await this.tmux([
      "resize-window",
      "-x",
      String(width),
      "-y",
      String(height),
    ]);
  }

  /**
   * Polls the screen until `check` returns true for its visible rows; fails
   * after `timeoutMs` showing the last screen.
   */
  async waitFor(
    check: (rows: string[]) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    let rows: string[] = [];
    while (performance.now() < deadline) {
      rows = await this.visibleRows();
      if (check(rows)) return rows;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    throw new Error(
      `Timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${
        rows.join("\n")
      }`,
    );
  }

  /** Waits until some row holds `text`. */
  waitForText(text: string, timeoutMs?: number): Promise<string[]> {
    return this.waitFor(
      (rows) => rows.some((row) => row.includes(text)),
      JSON.stringify(text),
      timeoutMs,
    );
  }

  /** Waits until the cursor is at column `x`, row `y`. */
  async waitForCursor(x: number, y: number, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let last: CursorState | undefined;
    while (performance.now() < deadline) {
      last = await this.cursor();
      if (last.x === x && last.y === y) return;
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    throw new Error(
      `Timed out waiting for the cursor at ${x},${y}; it is at ${last?.x},${last?.y}`,
    );
  }

  /** Stops the tmux server and everything in it. */
  async kill(): Promise<void> {
    await new Deno.Command("tmux", {
      args: ["-L", this.socket, "kill-server"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
  }
}
