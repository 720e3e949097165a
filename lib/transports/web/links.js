/**
 * Finds the `http:` and `https:` links in a line of chat, for the page.
 *
 * Any member can send a line, and history replays it to every newcomer, so
 * the cost must be linear in the line's length whatever it holds: one scan,
 * no regular expression that can backtrack. A link starts at `http://` or
 * `https://` (any case) that does not follow a letter, digit or `_`, and
 * runs to the next space, `<`, `>` or `"`; the punctuation that most likely
 * ends the sentence is left out (`.,;:!?'"]}>` at its end, and a `)` the
 * link did not open).
 *
 * An ES module with no dependencies: the page loads it (`/links.js`) and
 * the tests import it from Deno.
 *
 * @example
 * ```js
 * import { findLinks } from "./links.js";
 * findLinks("see (http://example.com/a_(b)).");
 * // [{ start: 5, end: 29, href: "http://example.com/a_(b)" }]
 * ```
 *
 * @module
 */

/**
 * One link in a text: `text.slice(start, end)` is what to show, `href` the
 * URL it opens (parsed, `http:` or `https:` only).
 *
 * @typedef {{ start: number, end: number, href: string }} Link
 */

/**
 * Counts what a call read, for the tests that check it stays linear.
 *
 * @typedef {{ visited: number }} LinkStats
 */

// Ends a link: the characters JavaScript's `\s` matches, and `<`, `>`, `"`.
const STOPS = new Set([
  0x09,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0x20,
  0x22,
  0x3c,
  0x3e,
  0xa0,
  0x1680,
  0x2028,
  0x2029,
  0x202f,
  0x205f,
  0x3000,
  0xfeff,
]);
// Left out at a link's end, as most likely the sentence's.
const TRAILING = new Set([...".,;:!?'\"]}>"].map((c) => c.charCodeAt(0)));
const OPEN = 0x28; // (
const CLOSE = 0x29; // )

/** @param {number} code */
function isStop(code) {
  return STOPS.has(code) || (code >= 0x2000 && code <= 0x200a);
}

/** @param {number} code */
function isWordChar(code) {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

/**
 * `code` in lower case if it is an ASCII capital.
 *
 * @param {number} code
 */
function lower(code) {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

/**
 * The URL `text` names, if it is `http:` or `https:`; else null.
 *
 * @param {string} text
 * @returns {string | null}
 */
function safeUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:"
      ? url.href
      : null;
  } catch {
    return null;
  }
}

/**
 * Finds the links in `text`, in order. Reads each character of `text` at
 * most a few times (`stats.visited` counts the reads), then lets `URL`
 * parse each link once.
 *
 * @param {string} text
 * @param {{ stats?: LinkStats }} [options]
 * @returns {Link[]}
 */
export function findLinks(text, options = {}) {
  /** @type {Link[]} */
  const links = [];
  let visited = 0;
  /** @param {number} index */
  const at = (index) => {
    visited++;
    return text.charCodeAt(index);
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    // "http://" or "https://", any case, not inside a word.
    if (lower(at(i)) !== 0x68 || (i > 0 && isWordChar(at(i - 1)))) {
      i++;
      continue;
    }
    let j = i + 1;
    for (const expected of [0x74, 0x74, 0x70]) { // t t p
      if (j < n && lower(at(j)) === expected) j++;
      else break;
    }
    if (j === i + 4 && j < n && lower(at(j)) === 0x73) j++; // s
    let slashes = 0;
    if (j - i >= 4 && j < n && at(j) === 0x3a) { // :
      while (
        slashes < 2 && j + 1 + slashes < n && at(j + 1 + slashes) === 0x2f
      ) {
        slashes++;
      }
    }
    if (slashes < 2) {
      // Nothing read past j can start a link but an "h" at j itself.
      i = Math.max(i + 1, j);
      continue;
    }
    const start = i;
    const bodyStart = j + 3;
    let end = bodyStart;
    let opens = 0;
    let closes = 0;
    while (end < n) {
      const code = at(end);
      if (isStop(code)) break;
      if (code === OPEN) opens++;
      else if (code === CLOSE) closes++;
      end++;
    }
    // The next link is looked for after the whole run, as the page always
    // has: what is trimmed off here is shown as text.
    i = end;
    if (end === bodyStart) continue;
    // Trims from the end, one character a step: sentence punctuation, and
    // a ")" while the link has more of them than "(".
    let last = end;
    while (last > start) {
      const code = at(last - 1);
      if (TRAILING.has(code)) {
        last--;
      } else if (code === CLOSE && opens < closes) {
        closes--;
        last--;
      } else {
        break;
      }
    }
    const href = safeUrl(text.slice(start, last));
    if (href !== null) links.push({ start, end: last, href });
  }
  if (options.stats) options.stats.visited += visited;
  return links;
}
