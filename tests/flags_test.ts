import assert from "node:assert/strict";
import { parseServerFlags } from "../lib/app/server_flags.ts";
import { parseClientFlags } from "../lib/client/client_flags.ts";
import type { Parsed } from "../lib/app/flags.ts";

function errorOf<T>(parsed: Parsed<T>): string {
  assert.equal(parsed.kind, "error", JSON.stringify(parsed));
  return (parsed as { message: string }).message;
}

const SERVER_NUMBERS = [
  "port",
  "max-line",
  "registration-timeout",
  "max-clients",
  "max-per-ip",
  "flood-rate",
  "flood-burst",
  "max-sendq",
  "shutdown-timeout",
  "history",
  "web-port",
  "irc-port",
  "redis-lease-ms",
];

for (const flag of SERVER_NUMBERS) {
  for (const value of ["-1", "-0.5", "-2e3"]) {
    Deno.test(`server flag --${flag} ${value} gets the same message as --${flag}=${value}`, () => {
      const spaced = errorOf(parseServerFlags([`--${flag}`, value]));
      const joined = errorOf(parseServerFlags([`--${flag}=${value}`]));
      assert.equal(spaced, joined);
      assert.ok(
        spaced.startsWith(`Invalid value for --${flag}: "${value}"`),
        spaced,
      );
    });
  }
}

Deno.test("client flag --port -1 gets the same message as --port=-1", () => {
  const spaced = errorOf(parseClientFlags(["--port", "-1"]));
  assert.equal(spaced, errorOf(parseClientFlags(["--port=-1"])));
  assert.ok(spaced.startsWith('Invalid value for --port: "-1"'), spaced);
});

Deno.test("a negative number after a flag that takes a value is that value, as after =", () => {
  const parsed = parseServerFlags(["--irc-topic", "-5", "--port", "0"]);
  assert.equal(parsed.kind, "run");
  if (parsed.kind === "run") assert.equal(parsed.flags.ircTopic, "-5");
});

Deno.test("an option after a flag that takes a value is still refused as before", () => {
  const message = errorOf(parseServerFlags(["--log", "--port", "0"]));
  assert.match(message, /--log/);
});

Deno.test("a negative number after a flag that takes none is still a stray argument", () => {
  const message = errorOf(parseServerFlags(["--no-web", "-1"]));
  assert.match(message, /-1/);
});

Deno.test("two doors given one port get one line naming both flags", () => {
  assert.equal(
    errorOf(parseServerFlags(["--port", "40031", "--web-port", "40031"])),
    "--port and --web-port are both 40031: each door needs a port of its own.",
  );
  assert.equal(
    errorOf(parseServerFlags(["--no-web", "--irc-port", "2025"])),
    "--port and --irc-port are both 2025: each door needs a port of its own.",
  );
  assert.equal(
    errorOf(parseServerFlags(["--port", "1", "--irc-port", "8025"])),
    "--web-port and --irc-port are both 8025: each door needs a port of its own.",
  );
});

Deno.test("doors on port 0 each pick their own, and a door that is off has none", () => {
  const zero = parseServerFlags(["--port", "0", "--web-port", "0"]);
  assert.equal(zero.kind, "run");
  const off = parseServerFlags(["--no-web", "--port", "8025"]);
  assert.equal(off.kind, "run");
});
