import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  DEFAULT_SCRYPT,
  parseHash,
  PasswordHasher,
  passwordProblem,
  PasswordsBusyError,
} from "../lib/engine/passwords.ts";
import { Secret } from "../lib/engine/secret.ts";

// Cheap parameters, so that the tests that hash many times stay quick; the
// default parameters are tested once on their own.
const FAST = { logN: 10, r: 8, p: 1 };

Deno.test("Secret never shows its text, however it is printed", () => {
  const secret = new Secret("hunter2-hunter2");
  const shown = [
    String(secret),
    `${secret}`,
    "" + secret,
    JSON.stringify({ password: secret }),
    Deno.inspect(secret),
    Deno.inspect({ nested: { secret } }),
    inspect(secret),
    inspect([secret]),
  ];
  for (const text of shown) {
    assert.ok(!text.includes("hunter2"), text);
    assert.match(text, /\[secret\]/);
  }
  assert.equal(secret.reveal(), "hunter2-hunter2");
});

Deno.test("passwordProblem: at least 8 characters, at most 512 bytes", () => {
  assert.equal(passwordProblem(new Secret("1234567")), "tooShort");
  assert.equal(passwordProblem(new Secret("")), "tooShort");
  assert.equal(passwordProblem(new Secret("12345678")), null);
  // Characters, not UTF-16 units or bytes: 7 emoji are 7 characters.
  assert.equal(passwordProblem(new Secret("😀".repeat(7))), "tooShort");
  assert.equal(passwordProblem(new Secret("😀".repeat(8))), null);
  assert.equal(passwordProblem(new Secret("x".repeat(512))), null);
  assert.equal(passwordProblem(new Secret("x".repeat(513))), "tooLong");
});

Deno.test("a hash verifies its password and no other, and carries its parameters", async () => {
  const hasher = new PasswordHasher({ params: FAST });
  const hash = await hasher.hash(new Secret("correct horse"));
  assert.match(
    hash,
    /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
  );
  assert.ok(!hash.includes("correct"));
  assert.equal(await hasher.verify(new Secret("correct horse"), hash), true);
  assert.equal(await hasher.verify(new Secret("correct horsf"), hash), false);
  assert.equal(await hasher.verify(new Secret("correct horse "), hash), false);
  assert.equal(await hasher.verify(new Secret(""), hash), false);
  // Salted: the same password never gives the same hash twice.
  const again = await hasher.hash(new Secret("correct horse"));
  assert.notEqual(again, hash);
  assert.equal(await hasher.verify(new Secret("correct horse"), again), true);
});

Deno.test("a password is compared in its NFC form", async () => {
  const hasher = new PasswordHasher({ params: FAST });
  const composed = "caf\u00e9-caf\u00e9";
  const decomposed = "cafe\u0301-cafe\u0301";
  const hash = await hasher.hash(new Secret(composed));
  assert.equal(await hasher.verify(new Secret(decomposed), hash), true);
});

Deno.test("the default parameters are N=2^15, r=8, p=3, and a hash made with them verifies", async () => {
  assert.deepEqual(DEFAULT_SCRYPT, { logN: 15, r: 8, p: 3 });
  const hasher = new PasswordHasher();
  const hash = await hasher.hash(new Secret("a long enough password"));
  assert.ok(hash.startsWith("$scrypt$ln=15,r=8,p=3$"), hash);
  assert.equal(
    await hasher.verify(new Secret("a long enough password"), hash),
    true,
  );
  assert.equal(hasher.needsRehash(hash), false);
});

Deno.test("verify uses the parameters of the stored hash; needsRehash tells when to raise them", async () => {
  const old = await new PasswordHasher({ params: FAST }).hash(
    new Secret("old parameters"),
  );
  const raised = new PasswordHasher({ params: { logN: 11, r: 8, p: 2 } });
  assert.equal(await raised.verify(new Secret("old parameters"), old), true);
  assert.equal(raised.needsRehash(old), true);
  const fresh = await raised.hash(new Secret("old parameters"));
  assert.equal(raised.needsRehash(fresh), false);
  assert.equal(new PasswordHasher({ params: FAST }).needsRehash(fresh), false);
  assert.equal(raised.needsRehash("not a hash"), true);
});

Deno.test("an unreadable or over-costly stored hash verifies nothing and allocates nothing", async () => {
  const hasher = new PasswordHasher({ params: FAST });
  const good = await hasher.hash(new Secret("password1"));
  const [, , , salt, key] = good.split("$");
  const bad = [
    "",
    "plain text",
    `$argon2id$v=19$m=65536,t=3,p=4$${salt}$${key}`,
    `$scrypt$ln=10,r=8,p=1$${salt}`,
    `$scrypt$ln=10,r=8,p=1$${salt}$${key}$`,
    `$scrypt$ln=10,r=8,p=1$${salt}$!!!`,
    // Parameters that would need gigabytes: refused before scrypt runs.
    `$scrypt$ln=30,r=8,p=1$${salt}$${key}`,
    `$scrypt$ln=20,r=32,p=1$${salt}$${key}`,
    `$scrypt$ln=10,r=8,p=99$${salt}$${key}`,
    `$scrypt$ln=0,r=8,p=1$${salt}$${key}`,
  ];
  for (const encoded of bad) {
    assert.equal(parseHash(encoded), null, encoded);
    assert.equal(await hasher.verify(new Secret("password1"), encoded), false);
  }
  assert.equal(hasher.running, 0);
});

Deno.test("at most maxRunning hashes run at once; the rest wait in order, and past the queue it is busy", async () => {
  const hasher = new PasswordHasher({
    params: FAST,
    maxRunning: 2,
    maxWaiting: 3,
  });
  const order: number[] = [];
  const calls = [0, 1, 2, 3, 4].map((i) =>
    hasher.hash(new Secret(`password ${i}`)).then((hash) => {
      order.push(i);
      // A finished hash hands its slot on: never more than two at once.
      assert.ok(hasher.running <= 2, `${hasher.running} running`);
      return hash;
    })
  );
  assert.equal(hasher.running, 2);
  assert.equal(hasher.waiting, 3);
  // An unreadable hash needs no slot: false at once, even now.
  assert.equal(
    await hasher.verify(new Secret("password 5"), "$scrypt$whatever"),
    false,
  );
  // The queue is full: the next one is refused at once, not queued.
  await assert.rejects(
    hasher.hash(new Secret("password 5")),
    PasswordsBusyError,
  );
  const hashes = await Promise.all(calls);
  assert.equal(hasher.running, 0);
  assert.equal(hasher.waiting, 0);
  assert.equal(order.length, 5);
  for (const [i, hash] of hashes.entries()) {
    assert.ok(await hasher.verify(new Secret(`password ${i}`), hash));
  }
});

Deno.test("hashes waiting for a slot get it in the order they came", async () => {
  const hasher = new PasswordHasher({ params: FAST, maxRunning: 1 });
  const order: number[] = [];
  await Promise.all(
    [0, 1, 2, 3].map((i) =>
      hasher.hash(new Secret(`password ${i}`)).then(() => order.push(i))
    ),
  );
  assert.deepEqual(order, [0, 1, 2, 3]);
});

Deno.test("the busy error says nothing of the password", async () => {
  const hasher = new PasswordHasher({
    params: FAST,
    maxRunning: 1,
    maxWaiting: 0,
  });
  const first = hasher.hash(new Secret("first password"));
  const error = await hasher.hash(new Secret("second secret!")).catch((e) => e);
  assert.ok(error instanceof PasswordsBusyError);
  assert.ok(!String(error.message).includes("second"));
  assert.ok(!Deno.inspect(error).includes("second secret"));
  await first;
});
