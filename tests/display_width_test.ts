/**
 * The client's width maths against a real terminal: a table of what tmux
 * (Debian 12's 3.3a, the terminal the tests run in) draws, each case checked
 * both in the maths and in tmux by its cursor; and how long lines are cut
 * into rows.
 */

import assert from "node:assert/strict";
import { displayWidth, graphemes } from "../lib/io/display_width.ts";
import { layoutInput, wrapLine } from "../lib/client/screen.ts";
import { drawnWidth } from "./support/tmux.ts";

/** The columns the client counts for `text`. */
const counted = displayWidth;

// [text, the columns tmux 3.3a draws it in, what it is]
const DRAWN: readonly [string, number, string][] = [
  ["a", 1, "ASCII"],
  ["漢字", 4, "CJK"],
  ["ｶＦ", 3, "half- and full-width forms"],
  ["가", 2, "a Hangul syllable"],
  ["\u1100\u1161", 2, "the same syllable as jamo"],
  ["e\u0301", 1, "a combining accent"],
  ["क्ष", 2, "a Devanagari conjunct"],
  ["नि", 2, "a Devanagari spacing vowel sign"],
  ["ก่", 1, "a Thai tone mark"],
  ["a\u200bb", 2, "a zero-width space"],
  ["\u00ad", 1, "a soft hyphen (glibc gives it a column)"],
  ["™", 1, "a text symbol"],
  ["😀", 2, "an emoji"],
  ["⌚✅", 4, "emoji in the BMP"],
  ["👋🏽", 4, "a skin tone (the modifier adds 2)"],
  ["👍🏿x", 5, "a skin tone and a letter"],
  ["❤️", 1, "VS16 (adds nothing)"],
  ["❤", 1, "a text-style heart"],
  ["🕴️", 1, "a narrow pictograph with VS16"],
  ["🌡", 1, "a narrow pictograph"],
  ["1️⃣", 1, "a keycap"],
  ["🇫🇷", 2, "a flag (two regional indicators)"],
  ["🇺🇸🇫", 3, "a flag and a lone indicator"],
  ["👨‍👩‍👧‍👦", 2, "a ZWJ family (joined onto the first)"],
  ["🏳️‍🌈", 1, "a ZWJ flag on a narrow base"],
  ["🧑🏽‍💻", 4, "a ZWJ sequence with a skin tone"],
  ["👩🏽‍❤️‍💋‍👨🏿", 6, "a ZWJ sequence with two skin tones"],
  ["🐻‍❄️", 2, "a ZWJ animal"],
  ["hi 👋🏽 x", 9, "issue 17's line"],
];

for (const [text, columns, what] of DRAWN) {
  Deno.test(`display width of ${what} (${JSON.stringify(text)}) is ${columns}, as tmux draws it`, async () => {
    assert.equal(counted(text), columns, "the client's count");
    assert.equal(await drawnWidth(text), columns, "tmux's cursor");
  });
}

Deno.test("display width: an emoji newer than the terminal's tables is counted 2, which tmux 3.3a does not draw", async () => {
  // Unicode 15's goose: terminals that know it draw 2 columns; glibc 2.36
  // does not, and tmux 3.3a drops it. The client keeps 2; the screen test in
  // client_tty_test.ts shows what such a disagreement costs.
  assert.equal(counted("🪿"), 2);
  assert.equal(await drawnWidth("a🪿b"), 2);
});

Deno.test("wrapLine indents every row after the first, so no row but the first starts at column 0", () => {
  const line = `mallory: ok${" ".repeat(69)}bob: I quit`;
  assert.deepEqual(wrapLine(line, { columns: 80 }), [
    `mallory: ok${" ".repeat(69)}`,
    "  bob: I quit",
  ]);
  assert.deepEqual(wrapLine("x".repeat(25), { columns: 10 }), [
    "x".repeat(10),
    "  " + "x".repeat(8),
    "  " + "x".repeat(7),
  ]);
  assert.deepEqual(wrapLine("short", { columns: 10 }), ["short"]);
  assert.deepEqual(wrapLine("", { columns: 10 }), [""]);
});

Deno.test("wrapLine keeps wide graphemes whole, colour codes free and tabs as spaces", () => {
  // A wide character that does not fit in the last column starts a row.
  assert.deepEqual(wrapLine("abcdefghi漢x", { columns: 10 }), [
    "abcdefghi",
    "  漢x",
  ]);
  assert.deepEqual(wrapLine("abcdefg👋🏽z", { columns: 10 }), [
    "abcdefg",
    "  👋🏽z",
  ]);
  // Colour codes take no columns.
  const red = "\x1b[31m";
  const reset = "\x1b[0m";
  assert.deepEqual(
    wrapLine(`${red}bob${reset}: ${"y".repeat(10)}`, { columns: 10 }),
    [`${red}bob${reset}: yyyyy`, "  yyyyy"],
  );
  // A tab becomes the spaces to the next stop, and never wraps (as in a
  // terminal): it stops at the row's end.
  assert.deepEqual(wrapLine("ab\tcd", { columns: 20 }), ["ab      cd"]);
  assert.deepEqual(wrapLine("abcdefghi\tz", { columns: 10 }), [
    "abcdefghi ",
    "  z",
  ]);
});

Deno.test("wrapLine rows never exceed the width, for any mix of characters", () => {
  const alphabet = ["a", " ", "漢", "👋🏽", "❤️", "e\u0301", "\t", "🇫🇷"];
  let seed = 7;
  const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let n = 0; n < 300; n++) {
    // Room for the indent and the widest character (4 columns).
    const columns = 6 + Math.floor(random() * 40);
    let line = "";
    for (let i = Math.floor(random() * 120); i > 0; i--) {
      line += alphabet[Math.floor(random() * alphabet.length)];
    }
    const rows = wrapLine(line, { columns });
    rows.forEach((row, i) => {
      assert.ok(counted(row) <= columns, `${JSON.stringify(row)} > ${columns}`);
      if (i > 0) assert.ok(row.startsWith("  "), JSON.stringify(row));
    });
    const joined = rows.map((r, i) => (i > 0 ? r.slice(2) : r)).join("");
    assert.equal(joined.replaceAll(" ", ""), line.replace(/[\t ]/g, ""));
  }
});

Deno.test("layoutInput counts a skin-tone emoji as 4 columns and VS16 as none", () => {
  const cells = graphemes("> hi 👋🏽 x");
  assert.deepEqual(layoutInput(cells, cells.length, 60), {
    rows: ["> hi 👋🏽 x"],
    cursorRow: 0,
    cursorColumn: 11,
  });
  const heart = graphemes("> I ❤️ u");
  assert.equal(layoutInput(heart, heart.length, 60).cursorColumn, 7);
});
