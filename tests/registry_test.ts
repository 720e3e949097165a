import assert from "node:assert/strict";
import {
  checkName,
  isReservedName,
  MAX_NAME_LENGTH,
  nameKey,
  type NameRefusal,
  normalizeName,
  Registry,
  reserveNames,
  sameButCase,
} from "../lib/room/registry.ts";
import { CONFUSABLE_LETTERS, skeleton } from "../lib/room/confusables.ts";
import { mixedScripts } from "../lib/room/name_scripts.ts";

// U+1D49C MATHEMATICAL SCRIPT CAPITAL A: a letter outside the BMP, so two
// UTF-16 units for one character.
const SCRIPT_A = "\u{1D49C}";

Deno.test("normalizeName accepts letters, digits, '_', '-', '.' and IRC's nick characters", () => {
  for (
    const name of [
      "alice",
      "Bob",
      "a",
      "7",
      "user_1",
      "jean-luc",
      "j.r.r",
      "under_",
      "bob|away",
      "a[1]\\`^{2}",
      "Zoë",
      "Ångström",
      "名前",
      "Дмитрий",
      "٣٤",
    ]
  ) {
    assert.equal(normalizeName(name), name, name);
  }
});

Deno.test("normalizeName trims surrounding whitespace", () => {
  assert.equal(normalizeName("  alice  "), "alice");
  assert.equal(normalizeName("\tbob\t"), "bob");
});

Deno.test("normalizeName accepts 32 characters and rejects 33", () => {
  assert.equal(MAX_NAME_LENGTH, 32);
  assert.equal(normalizeName("a".repeat(32)), "a".repeat(32));
  assert.equal(normalizeName("a".repeat(33)), null);
  assert.equal(normalizeName("é".repeat(32)), "é".repeat(32));
  assert.equal(normalizeName("é".repeat(33)), null);
});

Deno.test("normalizeName counts non-BMP letters as one character each", () => {
  const name = SCRIPT_A.repeat(32);
  assert.equal(name.length, 64);
  assert.equal(normalizeName(name), name);
  assert.equal(normalizeName(SCRIPT_A.repeat(33)), null);
});

Deno.test("normalizeName rejects spaces, '*', punctuation and empty names", () => {
  for (
    const raw of [
      "",
      "   ",
      "two words",
      "a\tb",
      "*",
      "***",
      "* x",
      "*** x",
      "star*",
      "@bob",
      "/who",
      "a:b",
      "a,b",
      'quote"',
      "emoji😀",
      "new\nline",
    ]
  ) {
    assert.equal(normalizeName(raw), null, JSON.stringify(raw));
  }
});

Deno.test("normalizeName rejects a name that starts with a combining mark", () => {
  assert.equal(normalizeName("\u0301a"), null);
});

Deno.test("normalizeName returns NFC so that decomposed and composed forms are equal", () => {
  const decomposed = "e\u0301";
  const composed = "\u00e9";
  assert.equal(normalizeName(decomposed), composed);
  assert.equal(normalizeName(composed), composed);
  assert.equal(normalizeName(`Ren${decomposed}e`), "Renée");
});

Deno.test("normalizeName counts the length after NFC", () => {
  // 33 code points before NFC, 32 after.
  const raw = "e\u0301" + "a".repeat(31);
  assert.equal([...raw].length, 33);
  assert.equal(normalizeName(raw), "é" + "a".repeat(31));
});

Deno.test("nameKey is the same for names that differ only in case or form", () => {
  assert.equal(nameKey("Alice"), nameKey("aLICE"));
  assert.equal(nameKey("ÉLODIE"), nameKey("élodie"));
  assert.equal(nameKey("E\u0301lodie"), nameKey("élodie"));
  assert.notEqual(nameKey("alice"), nameKey("alice2"));
});

Deno.test("registry refuses a name taken in another case", () => {
  const registry = new Registry<number>();
  assert.equal(registry.claim("Alice", 1), true);
  assert.equal(registry.claim("alice", 2), false);
  assert.equal(registry.claim("ALICE", 3), false);
  assert.equal(registry.claim("Élodie", 4), true);
  assert.equal(registry.claim("éLODIE", 5), false);
  assert.equal(registry.size, 2);
  assert.equal(registry.has("aLiCe"), true);
  assert.equal(registry.has("bob"), false);
});

Deno.test("registry finds a member without regard to case, with the name as claimed", () => {
  const registry = new Registry<string>();
  registry.claim("Alice", "conn-1");
  assert.deepEqual(registry.find("ALICE"), { name: "Alice", member: "conn-1" });
  assert.deepEqual(registry.find("alice"), { name: "Alice", member: "conn-1" });
  assert.equal(registry.find("bob"), undefined);
});

Deno.test("registry releases a name only for the member that holds it", () => {
  const registry = new Registry<string>();
  registry.claim("Alice", "first");
  registry.release("alice", "second");
  assert.equal(registry.has("Alice"), true);
  assert.equal(registry.find("Alice")?.member, "first");
  registry.release("ALICE", "first");
  assert.equal(registry.has("Alice"), false);
  assert.equal(registry.size, 0);
  assert.equal(registry.claim("alice", "second"), true);
  assert.deepEqual(registry.find("Alice"), { name: "alice", member: "second" });
  // The old holder letting go again does not free the new holder's name.
  registry.release("Alice", "first");
  assert.equal(registry.find("ALICE")?.member, "second");
});

Deno.test("registry names() are sorted without regard to case", () => {
  const registry = new Registry<number>();
  for (const [i, name] of ["carol", "Bob", "dave", "alice", "Erin"].entries()) {
    registry.claim(name, i);
  }
  assert.deepEqual(registry.names(), ["alice", "Bob", "carol", "dave", "Erin"]);
  registry.release("carol", 0);
  assert.deepEqual(registry.names(), ["alice", "Bob", "dave", "Erin"]);
});

Deno.test("registry members() are in the order they joined", () => {
  const registry = new Registry<number>();
  registry.claim("zed", 1);
  registry.claim("amy", 2);
  assert.deepEqual([...registry.members()], [
    { name: "zed", member: 1 },
    { name: "amy", member: 2 },
  ]);
});

Deno.test("normalizeName refuses the names the server shows as senders", () => {
  for (
    const name of [
      "Announcement",
      "SERVER",
      "usage",
      " Server ",
      "admin",
      "Operator",
      "system",
      "NickServ",
      "chanserv",
    ]
  ) {
    assert.equal(normalizeName(name), null, name);
    assert.ok(isReservedName(name), name);
  }
  assert.equal(normalizeName("Servers"), "Servers");
  assert.ok(!isReservedName("Servers"));
});

// Letters of other scripts that look like Latin ones (TR39 confusables).
const CYRILLIC_A = "\u0430";
const CYRILLIC_O = "\u043e";
const CYRILLIC_DZE = "\u0405";

Deno.test("nameKey folds compatibility forms: fullwidth and math letters are letters", () => {
  assert.equal(nameKey("ＡＤＡ"), nameKey("ada"));
  assert.equal(nameKey("ａｄａ"), "ada");
  // MATHEMATICAL BOLD SMALL A, D; SCRIPT CAPITAL A.
  assert.equal(nameKey("\u{1D41A}\u{1D41D}\u{1D41A}"), "ada");
  assert.equal(nameKey(`${SCRIPT_A}da`), "ada");
  assert.equal(nameKey("ﬁona"), "fiona");
});

Deno.test("nameKey treats look-alike letters of other scripts as the Latin ones", () => {
  assert.equal(nameKey(`${CYRILLIC_A}lice`), nameKey("alice"));
  assert.equal(nameKey(`brun${CYRILLIC_O}`), "bruno");
  // Cyrillic е, о, р, с, у, х; Greek capitals; Lisu; Cherokee.
  assert.equal(nameKey("\u0435\u043e\u0440\u0441\u0443\u0445"), "eopcyx");
  assert.equal(nameKey("\u0397\u0391\u039d\u039d\u0391"), "hanna");
  assert.equal(nameKey("\u03b7\u03b1\u03bd\u03bd\u03b1"), "hanna");
  assert.equal(nameKey("\ua4ee\ua4d3\ua4ee"), "ada");
  assert.equal(nameKey("\u13aa\u13a0\u13aa"), "ada");
  // Marks stay: Cyrillic ё is Latin ë, not e.
  assert.equal(nameKey("\u0451"), nameKey("ë"));
  assert.notEqual(nameKey("ë"), nameKey("e"));
  // Letters that look like no Latin letter stay themselves.
  assert.notEqual(nameKey("Дмитрий"), nameKey("Dmitrij"));
  assert.equal(nameKey("たなか太郎"), "たなか太郎");
});

Deno.test("nameKey drops invisible characters", () => {
  for (const mark of ["\u034f", "\ufe0f", "\u180b", "\u200b", "\u00ad"]) {
    assert.equal(nameKey(`ada${mark}`), "ada", mark);
  }
  assert.equal(nameKey("\u3164ada\uffa0"), "ada");
});

Deno.test("nameKey does not fold look-alikes inside ASCII (rn/m, l/1/I, 0/O)", () => {
  for (
    const [a, b] of [["rn", "m"], ["l", "1"], ["l", "I"], ["0", "O"]]
  ) {
    assert.notEqual(nameKey(a), nameKey(b), `${a} ${b}`);
  }
  // An ASCII name's key is its lower case: the skeleton of it.
  for (const name of ["Alice", "bob|away", "X[1]^`{2}\\", "rn-0.l"]) {
    assert.equal(nameKey(name), name.toLowerCase());
    assert.equal(skeleton(name), nameKey(name));
  }
});

Deno.test("the confusables table: one ASCII letter per letter, none of them ASCII, no row against another", () => {
  const byFolded = new Map<string, string>();
  for (const [codePoint, ascii] of CONFUSABLE_LETTERS) {
    const letter = String.fromCodePoint(codePoint);
    assert.match(ascii, /^[a-z]$/, letter);
    assert.ok(codePoint > 0x7f, letter);
    assert.match(letter, /^\p{L}$/u, letter);
    // NFKC comes first: a letter it changes would be a dead row.
    assert.equal(letter.normalize("NFKC"), letter, letter);
    const folded = letter.toUpperCase().toLowerCase();
    assert.equal([...folded].length, 1, letter);
    const before = byFolded.get(folded);
    assert.ok(before === undefined || before === ascii, letter);
    byFolded.set(folded, ascii);
    assert.equal(skeleton(letter), ascii, letter);
  }
});

Deno.test("sameButCase tells a name in another case from a look-alike", () => {
  assert.ok(sameButCase("Ada", "ADA"));
  assert.ok(sameButCase("Élodie", "éLODIE"));
  assert.ok(!sameButCase("ada", "ＡＤＡ"));
  assert.ok(!sameButCase("alice", `${CYRILLIC_A}lice`));
});

Deno.test("registry refuses a look-alike of a name held, and finds the holder by it", () => {
  const registry = new Registry<number>();
  assert.equal(registry.claim("ada", 1), true);
  assert.equal(registry.claim("ＡＤＡ", 2), false);
  assert.equal(registry.claim(`${CYRILLIC_A}d${CYRILLIC_A}`, 3), false);
  assert.deepEqual(registry.find("ａｄａ"), { name: "ada", member: 1 });
  // The holder may take a look-alike of its own name: kept as given.
  assert.equal(registry.rename("ada", "ＡＤＡ", 1), true);
  assert.deepEqual(registry.find("ada"), { name: "ＡＤＡ", member: 1 });
});

/** Names and the rule checkName finds them breaking. */
const REFUSED: readonly (readonly [string, NameRefusal])[] = [
  ["_under", { rule: "start" }],
  [".", { rule: "start" }],
  ["..", { rule: "start" }],
  ["-x", { rule: "start" }],
  ["[foo]", { rule: "start" }],
  ["|bob", { rule: "start" }],
  ["eve\u034f", { rule: "invisible", codePoint: 0x034f }],
  ["eve\ufe0f", { rule: "invisible", codePoint: 0xfe0f }],
  ["eve\u180b", { rule: "invisible", codePoint: 0x180b }],
  ["\u3164", { rule: "invisible", codePoint: 0x3164 }],
  ["eve\uffa0", { rule: "invisible", codePoint: 0xffa0 }],
  ["e\u200dve", { rule: "invisible", codePoint: 0x200d }],
  ["1.2.3.4", { rule: "ipAddress" }],
  ["255.255.255.255", { rule: "ipAddress" }],
  ["010.0.0.1", { rule: "ipAddress" }],
  ["１.２.３.４", { rule: "ipAddress" }],
  ["::1", { rule: "ipAddress" }],
  ["fe80::1", { rule: "ipAddress" }],
  ["Server", { rule: "reserved" }],
  ["admin", { rule: "reserved" }],
  ["NickServ", { rule: "reserved" }],
  ["ChanServ", { rule: "reserved" }],
  ["operator", { rule: "reserved" }],
  ["System", { rule: "reserved" }],
  ["usage", { rule: "reserved" }],
  ["announcement", { rule: "reserved" }],
  [`${CYRILLIC_DZE}erver`, { rule: "reserved" }],
  ["ＡＤＭＩＮ", { rule: "reserved" }],
  ["a:b", { rule: "form" }],
  ["a b", { rule: "form" }],
  ["@bob", { rule: "form" }],
  ["a".repeat(33), { rule: "form" }],
  [
    `brun${CYRILLIC_O}`,
    {
      rule: "scripts",
      name: `brun${CYRILLIC_O}`,
      scripts: ["Latin", "Cyrillic"],
    },
  ],
  [
    "Ελένηa",
    { rule: "scripts", name: "Ελένηa", scripts: ["Greek", "Latin"] },
  ],
  [
    "abcДα",
    { rule: "scripts", name: "abcДα", scripts: ["Latin", "Cyrillic", "Greek"] },
  ],
];

Deno.test("checkName names the rule a name breaks", () => {
  for (const [raw, refusal] of REFUSED) {
    assert.deepEqual(checkName(raw).refusal, refusal, JSON.stringify(raw));
    assert.equal(normalizeName(raw), null, JSON.stringify(raw));
  }
});

Deno.test("checkName holds scripts to TR39's Highly Restrictive level", () => {
  for (
    const name of [
      "たなか太郎", // Hiragana and Han: Japanese
      "タナカ太郎",
      "tanaka太郎", // Latin with Han: allowed
      "ラーメン", // ー belongs to Hiragana and Katakana
      "김민준",
      "Kim민준", // Latin with Hangul
      "中文ㄅㄆ", // Han and Bopomofo
      "Дмитрий",
      "Ελένη",
      "٣٤",
      "ＡＤＡ",
      "user_1",
      "1.2.3", // not four numbers: no address
    ]
  ) {
    assert.deepEqual(checkName(name), { name, refusal: null }, name);
  }
  assert.equal(mixedScripts("たなか太郎"), null);
  assert.deepEqual(mixedScripts("ひらがなДа"), ["Hiragana", "Cyrillic"]);
  assert.deepEqual(mixedScripts("김たなか"), ["Hangul", "Hiragana"]);
});

Deno.test("reserveNames reserves names and their look-alikes until released", () => {
  assert.equal(normalizeName("Grace"), "Grace");
  const release = reserveNames(["grace", " Teacher "]);
  try {
    for (const name of ["Grace", "GRACE", "ｇｒａｃｅ", "teacher"]) {
      assert.ok(isReservedName(name), name);
      assert.deepEqual(checkName(name).refusal, { rule: "reserved" }, name);
    }
  } finally {
    release();
  }
  release();
  assert.equal(normalizeName("Grace"), "Grace");
  assert.ok(!isReservedName("teacher"));
});

Deno.test("nameKey: a printable ASCII name's key is its lower case", () => {
  for (
    const name of ["ada", "Ada", "ADA", "a.b-c_d", "[Z]`^{|}~", "x Y", " ", ""]
  ) {
    assert.equal(nameKey(name), name.toLowerCase());
  }
  // Every printable ASCII character, one at a time.
  for (let code = 0x20; code <= 0x7e; code++) {
    const name = `n${String.fromCharCode(code)}`;
    assert.equal(nameKey(name), name.toLowerCase());
  }
});
