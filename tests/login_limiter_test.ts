import assert from "node:assert/strict";
import {
  LoginLimiter,
  type LoginLimiterOptions,
  type LoginVerdict,
} from "../lib/engine/login_limiter.ts";
import { sourceKey } from "../lib/room/addresses.ts";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** A limiter on a clock the test moves. */
function limiter(options: LoginLimiterOptions = {}) {
  const clock = { now: 1_000_000 };
  const limiter = new LoginLimiter({ now: () => clock.now, ...options });
  return { limiter, clock };
}

/** Tries once and reports a wrong password; returns the verdict. */
function fail(l: LoginLimiter, name: string, source: string): LoginVerdict {
  const verdict = l.begin(name, source);
  if (verdict.kind === "go") verdict.attempt.failed();
  return verdict;
}

Deno.test("three wrong passwords are free, then the wait doubles from 2 s, up to 5 min", () => {
  const { limiter: l, clock } = limiter();
  const waits: number[] = [];
  for (let i = 0; i < 9; i++) {
    const verdict = l.begin("ada", "192.0.2.1");
    if (verdict.kind === "wait") {
      waits.push(verdict.ms);
      clock.now += verdict.ms;
      i--;
      continue;
    }
    assert.equal(verdict.kind, "go");
    if (verdict.kind === "go") verdict.attempt.failed();
  }
  assert.deepEqual(waits, [2, 4, 8, 16, 32].map((s) => s * SECOND));
  // Asking again early does not restart the wait.
  clock.now += 10 * SECOND;
  assert.deepEqual(l.begin("ada", "192.0.2.1"), {
    kind: "wait",
    ms: 54 * SECOND,
  });
  const capped = limiter({ lockAfter: 100 });
  for (let i = 0; i < 20; i++) {
    const verdict = capped.limiter.begin("ada", "192.0.2.1");
    if (verdict.kind === "go") verdict.attempt.failed();
    else if (verdict.kind === "wait") {
      assert.ok(verdict.ms <= 5 * MINUTE, `${verdict.ms}`);
      capped.clock.now += verdict.ms;
      fail(capped.limiter, "ada", "192.0.2.1");
    }
  }
  assert.deepEqual(capped.limiter.begin("ada", "192.0.2.1"), {
    kind: "wait",
    ms: 5 * MINUTE,
  });
});

Deno.test("ten wrong passwords lock the name for that source for 15 minutes", () => {
  const { limiter: l, clock } = limiter();
  for (let failures = 0; failures < 10;) {
    const verdict = l.begin("ada", "192.0.2.1");
    if (verdict.kind === "wait") clock.now += verdict.ms;
    else if (verdict.kind === "go") {
      verdict.attempt.failed();
      failures++;
    } else assert.fail(`locked after ${failures}`);
  }
  const lockedAt = clock.now;
  assert.deepEqual(l.begin("ada", "192.0.2.1"), {
    kind: "locked",
    until: lockedAt + 15 * MINUTE,
  });
  // Any case of the name is the same name.
  assert.equal(l.begin("ADA", "192.0.2.1").kind, "locked");
  clock.now = lockedAt + 15 * MINUTE - 1;
  assert.equal(l.begin("ada", "192.0.2.1").kind, "locked");
  clock.now = lockedAt + 15 * MINUTE;
  const after = l.begin("ada", "192.0.2.1");
  assert.equal(after.kind, "go");
  // After a lock, the next failure waits at once (no free tries again).
  if (after.kind === "go") after.attempt.failed();
  assert.equal(l.begin("ada", "192.0.2.1").kind, "wait");
});

Deno.test("failures count per name and source together: nobody locks someone out from elsewhere", () => {
  const { limiter: l, clock } = limiter();
  // An attacker locks "ada" for their own address...
  for (let i = 0; i < 10;) {
    const verdict = l.begin("ada", "203.0.113.66");
    if (verdict.kind === "wait") clock.now += verdict.ms;
    else if (verdict.kind === "go") {
      verdict.attempt.failed();
      i++;
    }
  }
  assert.equal(l.begin("ada", "203.0.113.66").kind, "locked");
  // ...ada from home is not affected, nor is bob from the attacker's.
  const ada = l.begin("ada", "198.51.100.7");
  assert.equal(ada.kind, "go");
  if (ada.kind === "go") ada.attempt.succeeded();
  const bob = l.begin("bob", "203.0.113.66");
  assert.equal(bob.kind, "go");
  if (bob.kind === "go") bob.attempt.abandoned();
});

Deno.test("a right password clears that name's failures from that source", () => {
  const { limiter: l, clock } = limiter();
  for (let i = 0; i < 3; i++) fail(l, "ada", "192.0.2.1");
  const fourth = fail(l, "ada", "192.0.2.1");
  assert.equal(fourth.kind, "go");
  const waiting = l.begin("ada", "192.0.2.1");
  assert.equal(waiting.kind, "wait");
  if (waiting.kind === "wait") clock.now += waiting.ms;
  const right = l.begin("ada", "192.0.2.1");
  assert.equal(right.kind, "go");
  if (right.kind === "go") right.attempt.succeeded();
  assert.equal(l.size.pairs, 0);
  // Three free failures again.
  for (let i = 0; i < 3; i++) {
    assert.equal(fail(l, "ada", "192.0.2.1").kind, "go");
  }
});

Deno.test("one try of a name from a source at a time: a second one waits for the first", () => {
  const { limiter: l, clock } = limiter();
  const first = l.begin("ada", "192.0.2.1");
  assert.equal(first.kind, "go");
  const second = l.begin("ada", "192.0.2.1");
  assert.equal(second.kind, "wait");
  // Other names and sources are not held up.
  assert.equal(l.begin("bob", "192.0.2.1").kind, "go");
  assert.equal(l.begin("ada", "192.0.2.2").kind, "go");
  if (first.kind === "go") first.attempt.failed();
  assert.equal(l.begin("ada", "192.0.2.1").kind, "go");

  // A try never reported on stops counting after a minute.
  const { limiter: forgetful, clock: c2 } = limiter();
  assert.equal(forgetful.begin("ada", "x").kind, "go");
  c2.now += 59 * SECOND;
  assert.equal(forgetful.begin("ada", "x").kind, "wait");
  c2.now += SECOND;
  assert.equal(forgetful.begin("ada", "x").kind, "go");
  void clock;
});

Deno.test("one source failing on many names is slowed down as a whole", () => {
  const { limiter: l } = limiter({ sourceFreeFailures: 20 });
  for (let i = 0; i < 21; i++) {
    assert.equal(fail(l, `name${i}`, "203.0.113.66").kind, "go");
  }
  // After 20 free failures, the next name from that source waits; the same
  // name from another source does not.
  assert.deepEqual(l.begin("name21", "203.0.113.66"), {
    kind: "wait",
    ms: 2 * SECOND,
  });
  assert.equal(l.begin("name21", "198.51.100.7").kind, "go");
});

Deno.test("an IPv6 /64 is one source: changing the low bits does not reset the count", () => {
  const { limiter: l } = limiter();
  for (let i = 0; i < 4; i++) {
    fail(l, "ada", sourceKey(`2001:db8:1:2::${i + 1}`));
  }
  assert.equal(l.begin("ada", sourceKey("2001:db8:1:2::99")).kind, "wait");
  assert.equal(l.begin("ada", sourceKey("2001:db8:1:3::1")).kind, "go");
});

Deno.test("memory is bounded: entries are forgotten after an hour and capped in number", () => {
  const { limiter: l, clock } = limiter({ maxEntries: 100 });
  for (let i = 0; i < 500; i++) {
    fail(l, `name${i}`, `10.0.${i >> 8}.${i & 255}`);
  }
  assert.deepEqual(l.size, { pairs: 100, sources: 100 });
  // The most recent stay; the oldest went first.
  for (let i = 0; i < 3; i++) fail(l, "name499", "10.0.1.243");
  assert.equal(l.begin("name499", "10.0.1.243").kind, "wait");
  clock.now += 59 * MINUTE;
  fail(l, "late", "10.9.9.9");
  clock.now += MINUTE;
  // The next call sweeps all but the late one.
  assert.equal(l.begin("name499", "10.0.1.243").kind, "go");
  assert.deepEqual(l.size, { pairs: 1, sources: 1 });
});
