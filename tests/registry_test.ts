import assert from "node:assert/strict";
import {
  isReservedName,
  MAX_NAME_LENGTH,
  nameKey,
  normalizeName,
  Registry,
} from "../lib/room/registry.ts";

// U+1D49C MATHEMATICAL SCRIPT CAPITAL A: a letter outside the BMP, so two
// UTF-16 units for one character.
const SCRIPT_A = "\u{1D49C}";

Deno.test("normalizeName accepts letters, digits, '_', '-' and '.'", () => {
  for (
    const name of [
      "alice",
      "Bob",
      "a",
      "7",
      "user_1",
      "jean-luc",
      "j.r.r",
      "_under",
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
  for (const name of ["Announcement", "SERVER", "usage", " Server "]) {
    assert.equal(normalizeName(name), null, name);
    assert.ok(isReservedName(name), name);
  }
  assert.equal(normalizeName("Servers"), "Servers");
  assert.ok(!isReservedName("Servers"));
});
