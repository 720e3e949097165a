/**
 * Drives the client's screen in a terminal with a width guess given on the
 * command line, so that a test can show what a wrong guess costs:
 *
 *     screen_driver.ts DRAFT GRAPHEME=COLUMNS LINE...
 *
 * draws the prompt and DRAFT as the line being typed, counting GRAPHEME as
 * COLUMNS wide, then prints each LINE above it, and exits leaving the
 * screen as it is.
 *
 * @module
 */

import { graphemes, graphemeWidth } from "../../lib/io/display_width.ts";
import { Screen } from "../../lib/client/screen.ts";

const [draft, guess, ...lines] = Deno.args;
const [wrong, columns] = guess.split("=");
const encoder = new TextEncoder();
const screen = new Screen({
  write: (text) => {
    let bytes = encoder.encode(text);
    while (bytes.length > 0) {
      bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
    }
  },
  size: () => Deno.consoleSize(),
  widthOf: (g) => g === wrong ? Number(columns) : graphemeWidth(g),
});
const chars = graphemes(draft);
screen.setInput("> ", chars, chars.length);
for (const line of lines) screen.print(line);
