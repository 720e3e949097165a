/**
 * Names that cannot pass for someone else's (issue 20), on every door:
 * look-alikes of a name online (compatibility forms, other scripts'
 * letters, invisible marks) refused as looking like it, reserved words and
 * their look-alikes refused as reserved, and the other rules each named in
 * the refusal; IRC's nick characters allowed after the first and reachable
 * with `@name`; look-alikes colliding across nodes on a real Redis.
 *
 * Real sockets on 127.0.0.1; servers in-process on port 0, the nodes as
 * processes.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  LAST_WELCOME_LINE,
  NAME_PROMPT,
  startTestServer,
  TestClient,
  TestScope,
  withServer,
} from "./helpers.ts";
import { IrcLineClient } from "./support/irc_line_client.ts";
import { Nodes } from "./support/nodes.ts";
import { RedisServer } from "./support/redis_server.ts";
import { WebTestClient } from "./support/web_client.ts";

const looksLike = (given: string, holder: string) =>
  `Name "${given}" looks like "${holder}", which is taken.`;
const invalid = (why: string) => `Invalid name: ${why}.`;
const reserved = (name: string) => `Name "${name}" is reserved.`;
const START = invalid("it must start with a letter or a digit");
const IP = invalid("it looks like an IP address");
const invisible = (hex: string) =>
  invalid(`it has an invisible character (U+${hex})`);
// The prompt forms: the plain refusal and what to do next.
const again = (plain: string) => `${plain} Please enter another name:`;
const retry = (plain: string) => `${plain} Please enter your name:`;

// A Cyrillic а (U+0430) and о (U+043E), a Greek Α (U+0391), a Cyrillic Ѕ
// (U+0405): letters that look like Latin ones.
const CYRILLIC_A = "\u0430";
const CYRILLIC_O = "\u043e";
const GREEK_ALPHA = "\u0391";
const CYRILLIC_DZE = "\u0405";

/**
 * Names given while `ada` and `alice` are online, and the line the name
 * prompt answers with (the issue's examples among them).
 */
const REFUSALS: readonly (readonly [string, string])[] = [
  // Compatibility forms: fullwidth and math bold letters are letters.
  ["ＡＤＡ", again(looksLike("ＡＤＡ", "ada"))],
  ["\u{1D41A}\u{1D41D}\u{1D41A}", again(looksLike("𝐚𝐝𝐚", "ada"))],
  // Other scripts' letters, alone or mixed with Latin ones.
  [`${CYRILLIC_A}lice`, again(looksLike(`${CYRILLIC_A}lice`, "alice"))],
  [`${GREEK_ALPHA}LICE`, again(looksLike(`${GREEK_ALPHA}LICE`, "alice"))],
  ["\ua4ee\ua4d3\ua4ee", again(looksLike("\ua4ee\ua4d3\ua4ee", "ada"))],
  // An invisible mark on a name online: it still looks like it.
  ["ada\u034f", again(looksLike("ada\u034f", "ada"))],
  // The same name in another case is taken, as before.
  ["ADA", 'Name "ADA" is already taken. Please enter another name:'],
  // Invisible marks: U+034F, a variation selector (VS16), a Mongolian one,
  // the Hangul fillers.
  ["eve\u034f", retry(invisible("034F"))],
  ["eve\ufe0f", retry(invisible("FE0F"))],
  ["eve\u180b", retry(invisible("180B"))],
  ["\u3164eve", retry(invisible("3164"))],
  ["eve\uffa0", retry(invisible("FFA0"))],
  // A letter or a digit first.
  [".", retry(START)],
  ["..", retry(START)],
  ["_eve", retry(START)],
  ["|eve", retry(START)],
  // Reserved, in any case and any look-alike form.
  ["Server", again(reserved("Server"))],
  ["admin", again(reserved("admin"))],
  ["NickServ", again(reserved("NickServ"))],
  ["chanserv", again(reserved("chanserv"))],
  ["Operator", again(reserved("Operator"))],
  ["SYSTEM", again(reserved("SYSTEM"))],
  [`${CYRILLIC_DZE}erver`, again(reserved(`${CYRILLIC_DZE}erver`))],
  ["ＡＤＭＩＮ", again(reserved("ＡＤＭＩＮ"))],
  // Addresses.
  ["1.2.3.4", retry(IP)],
  ["::1", retry(IP)],
  ["010.0.0.1", retry(IP)],
  // Scripts held to TR39's "Highly Restrictive" level.
  [
    `brun${CYRILLIC_O}`,
    retry(
      invalid(
        `it mixes scripts ("brun${CYRILLIC_O}" has Latin and Cyrillic letters)`,
      ),
    ),
  ],
  // The general rule keeps its text.
  [
    "a:b",
    retry(
      invalid(
        "use 1-32 letters, digits, '_', '-', '.' or any of [ ] \\ ` ^ { } |",
      ),
    ),
  ],
];

Deno.test("tcp: look-alike, invisible, reserved and address names are refused with the rule that failed", async () => {
  await withServer(
    { limits: { maxNameAttempts: REFUSALS.length + 5 } },
    async ({ join, connect }) => {
      const ada = await join("ada");
      await join("alice");
      const client = await connect();
      await client.next(NAME_PROMPT);
      for (const [given, answer] of REFUSALS) {
        await client.send(given);
        assert.equal(
          await client.next((line) => line !== NAME_PROMPT),
          answer,
          JSON.stringify(given),
        );
      }
      // Japanese (Hiragana with Han) is one writing system.
      await client.send("たなか太郎");
      assert.equal(await client.next(/^Welcome/), "Welcome たなか太郎!");
      await client.next(LAST_WELCOME_LINE);
      await ada.send("/who");
      assert.equal(
        await ada.next(/^Online/),
        "Online (3): ada, alice, たなか太郎",
      );
    },
  );
});

Deno.test("tcp: /nick refuses look-alikes and names the rule, without the prompt", async () => {
  await withServer({}, async ({ join }) => {
    const ada = await join("ada");
    await join("alice");
    for (
      const [wanted, answer] of [
        ["ａｌｉｃｅ", looksLike("ａｌｉｃｅ", "alice")],
        [`${CYRILLIC_A}lice`, looksLike(`${CYRILLIC_A}lice`, "alice")],
        ["_ada", START],
        ["Admin", reserved("Admin")],
        ["192.168.1.23", IP],
        ["ada\ufe0f", invisible("FE0F")],
        // Her own name in Cyrillic letters is no one else's, but mixed.
        [
          `${CYRILLIC_A}da`,
          invalid(
            `it mixes scripts ("${CYRILLIC_A}da" has Cyrillic and Latin letters)`,
          ),
        ],
      ]
    ) {
      await ada.send(`/nick ${wanted}`);
      assert.equal(
        await ada.next((line) => !line.startsWith("*** ")),
        answer,
        JSON.stringify(wanted),
      );
    }
    await ada.send("/nick ada|away");
    assert.equal(await ada.next(/^You are/), "You are now known as ada|away.");
  });
});

Deno.test("tcp: IRC's nick characters after the first, and @name reaches them", async () => {
  await withServer({}, async ({ join }) => {
    const ada = await join("ada");
    const bob = await join("bob|away");
    const odd = await join("x[1]^`{2}\\");
    await ada.send("@bob|away hi");
    assert.equal(await bob.next(/^Private/), "Private message from ada: hi");
    await ada.send("@X[1]^`{2}\\ there");
    assert.equal(
      await odd.next(/^Private/),
      "Private message from ada: there",
    );
    await bob.send("/msg ada back");
    assert.equal(
      await ada.next(/^Private/),
      "Private message from bob|away: back",
    );
  });
});

Deno.test("web: a look-alike gets the name prompt again with the reason as its error", async () => {
  await using scope = new TestScope();
  await using ts = await startTestServer({ webPort: 0 });
  await ts.join("ada");
  const page = scope.track(await WebTestClient.connect(ts.webPort!));
  await page.next((f) => f.type === "prompt");
  page.send("ＡＤＡ");
  const frame = await page.next((f) => f.type === "prompt");
  assert.equal(frame.prompt, "name");
  assert.equal(frame.text, again(looksLike("ＡＤＡ", "ada")));
  assert.equal(frame.error, looksLike("ＡＤＡ", "ada"));
  page.send("_ada");
  const second = await page.next((f) => f.type === "prompt");
  assert.equal(second.text, retry(START));
  assert.equal(second.error, START);
});

const S = "irc.test";

Deno.test("irc: NICK gets 433 for a look-alike and 432 with the rule or the reservation", async () => {
  await using scope = new TestScope();
  await using ts = await startTestServer({
    irc: { port: 0, serverName: S },
  });
  await ts.join("ada");
  await ts.join("alice");
  const ircPort = ts.server.ircAddr!.port;
  const c = scope.track(await IrcLineClient.connect(ircPort));
  await c.send("USER x 0 * :Someone");
  for (
    const [wanted, answer] of [
      ["ＡＤＡ", `433 * ＡＤＡ :${looksLike("ＡＤＡ", "ada")}`],
      [
        `${CYRILLIC_A}lice`,
        `433 * ${CYRILLIC_A}lice :${looksLike(`${CYRILLIC_A}lice`, "alice")}`,
      ],
      ["ADA", "433 * ADA :Nickname is already in use"],
      ["admin", `432 * admin :${reserved("admin")}`],
      ["NickServ", `432 * NickServ :${reserved("NickServ")}`],
      ["Server", `432 * Server :${reserved("Server")}`],
      ["_x", `432 * _x :${START}`],
      [".", `432 * . :${START}`],
      ["1.2.3.4", `432 * 1.2.3.4 :${IP}`],
      ["eve\u180b", `432 * eve\u180b :${invisible("180B")}`],
      [
        `brun${CYRILLIC_O}`,
        `432 * brun${CYRILLIC_O} :${
          invalid(
            `it mixes scripts ("brun${CYRILLIC_O}" has Latin and Cyrillic letters)`,
          )
        }`,
      ],
    ]
  ) {
    await c.send(`NICK ${wanted}`);
    assert.equal(await c.next(/ 43\d /), `:${S} ${answer}`, wanted);
  }
  await c.send("NICK bob|away");
  await c.next(new RegExp(`^:${S} 001 bob\\|away `));
  const ada = scope.track(await TestClient.join(ts.port, "ada2"));
  await ada.send("@bob|away hi");
  await c.next(":ada2!tcp@chat PRIVMSG bob|away :hi");
  // Once registered, NICK to a look-alike of someone else's is refused too.
  await c.send("NICK ａｄａ");
  assert.equal(
    await c.next(/ 43\d /),
    `:${S} 433 bob|away ａｄａ :${looksLike("ａｄａ", "ada")}`,
  );
  assert.deepEqual(c.violations, [], "wire rules");
});

Deno.test({
  name:
    "two nodes on Redis: a look-alike of a name held on the other node is refused",
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  await using redis = await RedisServer.start();
  await using nodes = await Nodes.start({ redisUrl: redis.url, count: 2 });
  await using scope = new TestScope();
  scope.track(await TestClient.join(nodes.at(0).port, "ada"));
  const bob = scope.track(await TestClient.join(nodes.at(1).port, "bob"));
  const client = scope.track(await TestClient.connect(nodes.at(1).port));
  await client.next(NAME_PROMPT);
  for (const given of ["ＡＤＡ", `${CYRILLIC_A}d${CYRILLIC_A}`]) {
    await client.send(given);
    assert.equal(
      await client.next(/^Name/),
      again(looksLike(given, "ada")),
    );
  }
  await bob.send("/nick \u{1D41A}\u{1D41D}\u{1D41A}");
  assert.equal(await bob.next(/^Name/), looksLike("𝐚𝐝𝐚", "ada"));
});
