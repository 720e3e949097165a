import assert from "node:assert/strict";
import {
  formatClock,
  formatDuration,
  formatStamp,
  formatUntil,
  MAX_DURATION_MS,
  parseDuration,
} from "../lib/room/durations.ts";
import { accountText } from "../lib/room/texts.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

Deno.test("parseDuration reads 10m, 2h, 7d and their sums", () => {
  assert.equal(parseDuration("10m"), 10 * MINUTE);
  assert.equal(parseDuration("2h"), 2 * HOUR);
  assert.equal(parseDuration("7d"), 7 * DAY);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("2w"), 14 * DAY);
  assert.equal(parseDuration("1h30m"), 90 * MINUTE);
  assert.equal(parseDuration("1d12h"), 36 * HOUR);
  assert.equal(parseDuration("2H"), 2 * HOUR);
  assert.equal(parseDuration("0010m"), 10 * MINUTE);
  assert.equal(parseDuration("3650d"), MAX_DURATION_MS);
});

Deno.test("parseDuration refuses what is not a duration, zero and too long", () => {
  for (
    const bad of [
      "",
      "10",
      "m",
      "10 m",
      " 10m",
      "10m ",
      "-10m",
      "1.5h",
      "10x",
      "10mm",
      "0m",
      "0h0m",
      "3651d",
      "99999999d",
      "1h".repeat(17),
      "spamming",
      "10m,",
      "１０m",
    ]
  ) {
    assert.equal(parseDuration(bad), null, JSON.stringify(bad));
  }
});

Deno.test("formatDuration writes the two largest units, rounded up to the minute", () => {
  assert.equal(formatDuration(10 * MINUTE), "10m");
  assert.equal(formatDuration(2 * HOUR), "2h");
  assert.equal(formatDuration(7 * DAY), "7d");
  assert.equal(formatDuration(90 * MINUTE), "1h30m");
  assert.equal(formatDuration(DAY + 3 * HOUR + 5 * MINUTE), "1d3h");
  assert.equal(formatDuration(DAY + 5 * MINUTE), "1d5m");
  assert.equal(formatDuration(1), "1m");
  assert.equal(formatDuration(0), "1m");
  assert.equal(formatDuration(61_000), "2m");
  // What it writes, parseDuration reads.
  for (const text of ["10m", "2h", "7d", "1h30m", "1d3h"]) {
    assert.equal(formatDuration(parseDuration(text)!), text);
  }
});

Deno.test("formatStamp and formatClock show the wall clock of a zone, to the minute", () => {
  const at = Date.UTC(2026, 11, 8, 14, 30);
  assert.equal(formatStamp(at, { offsetMinutes: 0 }), "2026-12-08 14:30");
  assert.equal(formatStamp(at, { offsetMinutes: 60 }), "2026-12-08 15:30");
  assert.equal(
    formatStamp(at, { offsetMinutes: -15 * 60 }),
    "2026-12-07 23:30",
  );
  assert.equal(formatClock(at, { offsetMinutes: 330 }), "20:00");
  // Rounded up: the end is never shown before it comes.
  assert.equal(formatClock(at + 40_000, { offsetMinutes: 0 }), "14:31");
  assert.equal(formatClock(at - 1, { offsetMinutes: 0 }), "14:30");
  // Without a zone, the server's own (the same as Date's local getters).
  const local = new Date(2026, 0, 2, 3, 4);
  assert.equal(formatStamp(local.getTime()), "2026-01-02 03:04");
});

Deno.test("formatUntil shows the time alone on the same day, else the date too", () => {
  const zone = { offsetMinutes: 0 };
  const now = Date.UTC(2026, 11, 8, 9, 0);
  assert.equal(formatUntil(Date.UTC(2026, 11, 8, 14, 30), now, zone), "14:30");
  assert.equal(
    formatUntil(Date.UTC(2026, 11, 9, 0, 10), now, zone),
    "2026-12-09 00:10",
  );
  // The day is the zone's: 23:00 UTC on the 8th is the 9th at UTC+2.
  assert.equal(
    formatUntil(Date.UTC(2026, 11, 8, 23, 0), now, { offsetMinutes: 120 }),
    "2026-12-09 01:00",
  );
});

Deno.test("the ban and mute texts are the issue's, word for word", () => {
  const zone = { offsetMinutes: 0 };
  const until = Date.UTC(2026, 11, 8, 14, 30);
  assert.equal(
    accountText.banned(formatStamp(until, zone), "spamming"),
    "You are banned from this chat until 2026-12-08 14:30 (spamming).",
  );
  assert.equal(
    accountText.banned(null, "spamming"),
    "You are banned from this chat (spamming).",
  );
  assert.equal(
    accountText.banned(formatStamp(until, zone), ""),
    "You are banned from this chat until 2026-12-08 14:30.",
  );
  assert.equal(accountText.banned(null, ""), "You are banned from this chat.");
  assert.equal(
    accountText.muted(formatUntil(until, until - HOUR, zone)),
    "You are muted until 14:30.",
  );
  assert.equal(accountText.muted(null), "You are muted.");
  assert.equal(accountText.onlyOperators, "Only operators can do that.");
  assert.equal(
    accountText.registered("ada"),
    'Name "ada" is now registered. You will be asked for this password when you use it.',
  );
  assert.equal(accountText.passwordPrompt("ada"), "Password for ada:");
  assert.equal(accountText.wrongPassword("ada"), "Wrong password for ada.");
  assert.equal(
    accountText.loggedInElsewhere,
    "This name was logged in from elsewhere.",
  );
  assert.equal(
    accountText.keptForOffline("ada"),
    "ada is offline; your message will be delivered when ada logs in.",
  );
  assert.equal(
    accountText.historySinceEnd(12),
    "*** End of history (12 messages since you left).",
  );
});
