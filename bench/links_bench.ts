/**
 * The cost of the page's link detection (lib/transports/web/links.js) on
 * the lines of issue 16, item 4, next to the former regular expressions:
 * `deno task bench:micro`. The former one runs a few times only: one call
 * took about 220 ms in Chromium.
 *
 * @module
 */

import { findLinks } from "../lib/transports/web/links.js";

const ISSUE_LINE = "http://a" + ")".repeat(4_080);
const DOTS_LINE = "http://a/" + ".".repeat(4_080) + "x";
const TYPICAL_LINE =
  "morning all! the slides are up at https://example.com/slides (v2).";
const PLAIN_LINE = "the quick brown fox jumps over the lazy dog ".repeat(95);

// The page's former detection, kept here to show what changed.
const FORMER_TRAILING = /[.,;:!?'"\]}>]+$/u;
function formerLinks(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/\bhttps?:\/\/[^\s<>"]+/giu)) {
    let url = match[0].replace(FORMER_TRAILING, "");
    while (
      url.endsWith(")") &&
      url.split("(").length <= url.split(")").length - 1
    ) {
      url = url.slice(0, -1).replace(FORMER_TRAILING, "");
    }
    out.push(url);
  }
  return out;
}

function expectOne(count: number): void {
  if (count !== 1) throw new Error(`found ${count} links, expected 1`);
}

Deno.bench(
  "links: http://a + 4,080 ')' (the issue's line)",
  { group: "brackets", baseline: true },
  () => expectOne(findLinks(ISSUE_LINE).length),
);

Deno.bench(
  "links: the same line, former regular expressions",
  { group: "brackets", n: 5, warmup: 1 },
  () => expectOne(formerLinks(ISSUE_LINE).length),
);

Deno.bench(
  "links: http://a/ + 4,080 '.' + x",
  { group: "dots", baseline: true },
  () => expectOne(findLinks(DOTS_LINE).length),
);

Deno.bench(
  "links: the same line, former regular expressions",
  { group: "dots", n: 5, warmup: 1 },
  () => expectOne(formerLinks(DOTS_LINE).length),
);

Deno.bench("links: a typical line with a link", { group: "lines" }, () => {
  expectOne(findLinks(TYPICAL_LINE).length);
});

Deno.bench("links: 4 KB of text without a link", { group: "lines" }, () => {
  if (findLinks(PLAIN_LINE).length !== 0) throw new Error("found a link");
});
