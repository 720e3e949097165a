/**
 * The page's link detection (lib/transports/web/links.js): what it finds,
 * and that its work stays linear in the line's length on inputs built to
 * make a backtracking pattern quadratic (issue 16, item 4). The work is
 * counted in characters read, never timed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { findLinks, type Link } from "../lib/transports/web/links.js";
import { Random } from "./random.ts";

/** What the page shows as links: [text, href] pairs. */
function shown(text: string): [string, string][] {
  return findLinks(text).map((link: Link) => [
    text.slice(link.start, link.end),
    link.href,
  ]);
}

/** A link shown as `text`, opening what `URL` makes of it. */
function link(text: string): [string, string] {
  return [text, new URL(text).href];
}

/** A short account of `links`, for a failure's message. */
function brief(links: [string, string][]): string {
  return JSON.stringify(
    links.map(([text, href]) =>
      [text, href].map((s) => s.length > 40 ? `${s.slice(0, 40)}…` : s)
    ),
  );
}

/** Finds the links of `text` and how many characters it read. */
function counted(text: string): { links: Link[]; visited: number } {
  const stats = { visited: 0 };
  const links = findLinks(text, { stats });
  return { links, visited: stats.visited };
}

/**
 * The page's former detection, regular expressions and all: the reference
 * for what a link is, run here on short lines only (on long runs of `)` or
 * punctuation it is quadratic, which is the bug).
 */
function reference(text: string): [string, string][] {
  const trailing = /[.,;:!?'"\]}>]+$/u;
  const trim = (url: string) => {
    let out = url.replace(trailing, "");
    while (
      out.endsWith(")") &&
      out.split("(").length <= out.split(")").length - 1
    ) {
      out = out.slice(0, -1).replace(trailing, "");
    }
    return out;
  };
  const out: [string, string][] = [];
  for (const match of text.matchAll(/\bhttps?:\/\/[^\s<>"]+/giu)) {
    const raw = trim(match[0]);
    let href: string | null = null;
    try {
      const url = new URL(raw);
      if (url.protocol === "http:" || url.protocol === "https:") {
        href = url.href;
      }
    } catch {
      // Not a URL: shown as text.
    }
    if (href !== null) out.push([raw, href]);
  }
  return out;
}

// At most this many reads per character of the line, whatever it holds.
const READS_PER_CHAR = 3;

Deno.test("links: what the page makes a link of", () => {
  const cases: [string, [string, string][]][] = [
    ["no link here", []],
    ["see https://example.com/a?b=1&c=2. or javascript:alert(3)", [
      link("https://example.com/a?b=1&c=2"),
    ]],
    ["(see http://example.com/a_(b)), ok", [
      link("http://example.com/a_(b)"),
    ]],
    ["(http://example.com/x)", [link("http://example.com/x")]],
    ['"http://example.com/q"!', [link("http://example.com/q")]],
    ["HTTPS://Example.COM/Path <b>", [[
      "HTTPS://Example.COM/Path",
      "https://example.com/Path",
    ]]],
    // One run without spaces is one candidate, as the page always had it.
    ["a http://one.org,http://two.org b", [
      link("http://one.org,http://two.org"),
    ]],
    ["two: http://one.org and http://two.org/.", [
      ["http://one.org", "http://one.org/"],
      ["http://two.org/", "http://two.org/"],
    ]],
    ["xhttp://inside.a.word ftp://x http:/half http:// end", []],
    ["http://[::1 http://...", []],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(shown(text), expected, text);
    assert.deepEqual(reference(text), expected, `reference: ${text}`);
  }
});

Deno.test("links: adversarial lines are read in linear time", () => {
  const n = 4_080;
  const cases: [string, string, [string, string][]][] = [
    // The line: 220 ms in the former page.
    ["closing brackets", "http://a" + ")".repeat(n), [link("http://a")]],
    ["closing brackets then a letter", "http://a" + ")".repeat(n) + "b", [
      link("http://a" + ")".repeat(n) + "b"),
    ]],
    ["opening brackets", "http://a/" + "(".repeat(n), [
      link("http://a/" + "(".repeat(n)),
    ]],
    ["pairs, then closing", "http://a/" + "()".repeat(n) + ")".repeat(n), [
      link("http://a/" + "()".repeat(n)),
    ]],
    ["dots", "http://a" + ".".repeat(n), [link("http://a")]],
    ["dots then a letter", "http://a/" + ".".repeat(n) + "x", [
      link("http://a/" + ".".repeat(n) + "x"),
    ]],
    ["quotes", "http://a/" + "'".repeat(n), [link("http://a/")]],
    [
      "double quotes",
      '"http://a/"'.repeat(n / 11),
      Array.from(
        { length: Math.floor(n / 11) },
        () => link("http://a/"),
      ),
    ],
    ["mixed punctuation", "http://a/" + ".)!'?]".repeat(n / 6), [
      link("http://a/"),
    ]],
    [
      "many links",
      "http://a ".repeat(n / 9),
      Array.from(
        { length: Math.floor(n / 9) },
        () => link("http://a"),
      ),
    ],
    ["schemes that never finish", "http:/".repeat(n / 6), []],
    ["h after h", "h".repeat(n) + "http://a", []],
    ["spaced h", "h ".repeat(n / 2), []],
    ["brackets before a link", "(".repeat(n) + "http://a)", [
      link("http://a"),
    ]],
  ];
  for (const [what, text, expected] of cases) {
    const { links, visited } = counted(text);
    const found = links.map((
      l,
    ): [string, string] => [text.slice(l.start, l.end), l.href]);
    assert.ok(
      JSON.stringify(found) === JSON.stringify(expected),
      `${what}: found ${brief(found)}, expected ${brief(expected)}`,
    );
    assert.ok(
      visited <= READS_PER_CHAR * text.length,
      `${what}: ${visited} reads for ${text.length} characters`,
    );
  }
});

Deno.test("links: twice the line, at most twice the reads", () => {
  for (const unit of [")", ".", "'", "(", "h", "http:/", ".)"]) {
    const reads = [1_000, 2_000, 4_000].map((n) =>
      counted("http://a" + unit.repeat(n)).visited
    );
    for (let k = 1; k < reads.length; k++) {
      assert.ok(
        reads[k] <= 2 * reads[k - 1] + 16,
        `${JSON.stringify(unit)}: ${reads.join(", ")} reads`,
      );
    }
  }
});

Deno.test("links: the same as the former detection on random lines", () => {
  const random = new Random(1604);
  const pieces = [
    "http://",
    "https://",
    "HTTP://",
    "http:/",
    "h",
    "a",
    "x.org",
    "_",
    "(",
    ")",
    ".",
    ",",
    "'",
    '"',
    "]",
    "}",
    ">",
    "<",
    " ",
    "\u00a0",
    "\t",
    "/",
    "?",
    "%",
    "[",
    ":",
    "é",
    "😀",
  ];
  for (let round = 0; round < 3_000; round++) {
    const parts: string[] = [];
    const count = 1 + random.int(24);
    for (let k = 0; k < count; k++) parts.push(random.pick(pieces));
    const text = parts.join("");
    const { visited } = counted(text);
    assert.deepEqual(shown(text), reference(text), JSON.stringify(text));
    assert.ok(visited <= READS_PER_CHAR * text.length + 8, text);
  }
});
