/**
 * The browser page in a real headless Chromium, against the real server
 * (in-process, with its web port) and real TCP clients. One Chromium serves
 * every step; each step opens its own page in a fresh browser context.
 *
 * `UPDATE_SCREENSHOT=1 deno task test tests/web_page_test.ts` also rewrites
 * docs/web_page.png, the README's screenshot.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Browser, type Page, type PageOptions } from "./support/cdp.ts";
import {
  joined,
  left,
  startTestServer,
  TestScope,
  type TestServer,
  withServer,
} from "./helpers.ts";
import { COMMANDS } from "../lib/languages/line/protocol.ts";
import { SqliteStore } from "../lib/engine/sqlite_store.ts";
import { Accounts } from "../lib/room/accounts.ts";

const UPDATE_SCREENSHOT = Deno.env.get("UPDATE_SCREENSHOT") === "1";
const SCREENSHOT_PATH = new URL("../docs/web_page.png", import.meta.url);

/** The port of `server`'s web door. */
function webPortOf(server: TestServer): number {
  assert.ok(server.webPort !== null, "the server has a web door");
  return server.webPort;
}

/** The web page's address on `server`. */
function pageUrl(server: TestServer): string {
  return `http://127.0.0.1:${webPortOf(server)}/`;
}

/**
 * Opens the page of `server` (with `fragment`, a room's link) in a new tab,
 * runs `fn`, checks, closes it.
 */
async function withPage(
  browser: Browser,
  server: TestServer,
  fn: (page: Page) => Promise<void>,
  options: PageOptions = {},
  fragment = "",
): Promise<void> {
  await using scope = new TestScope();
  const page = scope.track(await browser.newPage(options));
  await page.navigate(pageUrl(server) + fragment);
  await fn(page);
  assert.deepEqual(page.dialogs, [], "no dialog opened");
  assert.deepEqual(page.errors, [], "no script error or CSP violation");
}

/** A string as a JavaScript literal, to put into an evaluated expression. */
function js(value: unknown): string {
  return JSON.stringify(value);
}

/** Types `text` into the join form's name field and submits it. */
async function submitName(page: Page, name: string): Promise<void> {
  await page.evaluate(`(() => {
    const field = document.getElementById("name");
    field.value = "";
    field.focus();
  })()`);
  await page.insertText(name);
  await page.press("Enter");
}

/** Joins as `name` from the page and waits for the conversation. */
async function join(page: Page, name: string): Promise<void> {
  await submitName(page, name);
  await waitConnected(page, name);
  // The page's own /who filled the list.
  await page.waitFor(
    `[...document.querySelectorAll("#people li")].some((li) =>
      li.textContent.includes(${js(name)}))`,
    `${name} in who is online`,
  );
}

/** Waits until the page says it is connected as `name`. */
async function waitConnected(
  page: Page,
  name: string,
  timeoutMs?: number,
): Promise<void> {
  await page.waitFor(
    `!document.getElementById("chat").hidden &&
      document.getElementById("status").textContent === ${
      js(`Connected as ${name}`)
    }`,
    `the page to be connected as ${name}`,
    timeoutMs,
  );
}

/** Types `text` into the message field (newlines included) and sends it. */
async function say(page: Page, text: string): Promise<void> {
  await page.evaluate(`document.getElementById("text").focus()`);
  await page.insertText(text);
  await page.press("Enter");
}

/** The text of every line in the page's log. */
function logLines(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll("#log .entry .body")]
      .map((body) => body.textContent)`,
  );
}

/** Waits for a line in the log equal to `text` and returns its classes. */
async function waitLine(
  page: Page,
  text: string,
  timeoutMs?: number,
): Promise<string[]> {
  const classes = await page.waitFor<string>(
    `[...document.querySelectorAll("#log .entry")]
      .find((entry) => entry.querySelector(".body").textContent === ${
      js(text)
    })?.className`,
    `the line ${js(text)} in the page's log`,
    timeoutMs,
  );
  return classes.split(" ");
}

/** Waits for a page's online list to be exactly `names` (in its order). */
async function waitPeople(page: Page, names: string[]): Promise<void> {
  await page.waitFor(
    `JSON.stringify([...document.querySelectorAll("#people li .person")]
      .map((p) => p.textContent)) === ${js(JSON.stringify(names))}`,
    `who is online to be ${names.join(", ")}`,
  );
}

/** The rooms in the page's list, in its order. */
function roomList(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll("#rooms .room .room-name")]
      .map((name) => name.textContent)`,
  );
}

/** Waits until the page shows room `room` (its header and its URL). */
async function waitShown(page: Page, room: string): Promise<void> {
  await page.waitFor(
    `document.getElementById("room-title").textContent === ${js(room)} &&
      location.hash === ${js(room)} &&
      document.querySelector("#rooms .room[aria-current=true] .room-name")
        ?.textContent === ${js(room)}`,
    `the page to show ${room}`,
  );
}

/** Clicks room `room` in the page's list. */
async function clickRoom(page: Page, room: string): Promise<void> {
  await page.evaluate(`[...document.querySelectorAll("#rooms .room")]
    .find((button) => button.querySelector(".room-name").textContent ===
      ${js(room)}).click()`);
}

/** Joins `room` with the page's form. */
async function joinByForm(page: Page, room: string): Promise<void> {
  await page.evaluate(`document.getElementById("room-name").focus()`);
  await page.insertText(room);
  await page.press("Enter");
}

/** What room `room`'s item in the list shows besides its name. */
function roomMarks(
  page: Page,
  room: string,
): Promise<{ unread: string | null; mention: boolean; label: string }> {
  return page.evaluate(`(() => {
    const button = [...document.querySelectorAll("#rooms .room")]
      .find((b) => b.querySelector(".room-name").textContent === ${js(room)});
    return {
      unread: button.querySelector(".unread")?.textContent ?? null,
      mention: button.querySelector(".mention") !== null,
      label: button.getAttribute("aria-label"),
    };
  })()`);
}

/** Every line in every room's log, shown or not. */
function allLogLines(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...document.querySelectorAll("#logs .entry .body")]
      .map((body) => body.textContent)`,
  );
}

/**
 * A TCP relay to the web door: the page's network, which a test cuts as a
 * lost Wi-Fi would while the server goes on (it sees the socket drop).
 */
class Relay implements AsyncDisposable {
  readonly #listener: Deno.Listener;
  readonly #target: number;
  readonly #pairs = new Set<{ conns: Deno.Conn[]; done: Promise<void> }>();
  readonly #serving: Promise<void>;

  constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#serving = this.#serve();
  }

  /** Where the page is opened. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  async #serve(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        let upstream: Deno.Conn;
        try {
          upstream = await Deno.connect({
            hostname: "127.0.0.1",
            port: this.#target,
          });
        } catch {
          conn.close();
          continue;
        }
        const conns = [conn, upstream];
        const done = Promise.all([
          copy(conn, upstream),
          copy(upstream, conn),
        ]).then(() => {});
        const pair = { conns, done };
        this.#pairs.add(pair);
        done.then(() => this.#pairs.delete(pair));
      }
    } catch {
      // The listener was closed.
    }
  }

  /** Cuts every connection through the relay, both ways, at once. */
  async cut(): Promise<void> {
    const pairs = [...this.#pairs];
    for (const { conns } of pairs) conns.forEach(closeConn);
    await Promise.all(pairs.map((pair) => pair.done));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#serving;
    await this.cut();
  }
}

function closeConn(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

// Copies `from` to `to` until either ends, then closes both.
async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      let written = 0;
      while (written < n) {
        written += await to.write(buffer.subarray(written, n));
      }
    }
  } catch {
    // Cut.
  }
  closeConn(from);
  closeConn(to);
}

/** The page's horizontal extent, which must not pass the viewport's. */
const ACCOUNT_PASSWORD = "correct horse";

/** Accounts in SQLite in a temporary directory, removed at the end. */
async function accountsFor(
  operators: string[] = [],
): Promise<Accounts & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "chat_page_accounts_" });
  const accounts = new Accounts({
    store: await SqliteStore.open({ dir }),
    operators,
  });
  await accounts.start();
  return Object.assign(accounts, {
    async [Symbol.asyncDispose]() {
      // The server closed them; a second close does no harm.
      await accounts.close().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  });
}

/** Waits for the join form's password field, labelled `label`, focused. */
async function waitPasswordField(page: Page, label: string): Promise<void> {
  await page.waitFor(
    `!document.getElementById("password-row").hidden &&
      document.getElementById("password-label").textContent === ${js(label)} &&
      document.activeElement === document.getElementById("password")`,
    `the password field for ${label}`,
  );
}

function scrollWidth(page: Page): Promise<number> {
  return page.evaluate<number>(
    `Math.max(document.documentElement.scrollWidth,
      document.body.scrollWidth)`,
  );
}

/**
 * Fails if `expression` becomes truthy within `ms`: the way to check that
 * something does not happen (a reconnect after goodbye).
 */
async function assertStaysFalse(
  page: Page,
  expression: string,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    assert.ok(!(await page.evaluate(expression)), what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("web page in Chromium", async (t) => {
  await using scope = new TestScope();
  const browser = scope.track(await Browser.launch());
  await t.step("page joins and lists who is online", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      const bob = await server.join("bob");
      // Said before ada came: the page shows it as history.
      await bob.send("anyone here?");
      await bob.send("/me waits");
      await withPage(browser, server, async (page) => {
        assert.equal(await page.evaluate("document.title"), "Chat");
        await page.waitFor(
          `document.activeElement === document.getElementById("name")`,
          "the name field to have the focus",
        );
        await join(page, "ada");
        await bob.next(joined("ada"));
        await waitLine(page, "Welcome ada!");
        await waitPeople(page, ["ada", "bob"]);
        assert.ok(
          (await waitLine(page, "bob: anyone here?")).includes("history"),
        );
        const action = await waitLine(page, "* bob waits");
        assert.ok(action.includes("history") && action.includes("action"));
        await waitLine(page, "end of history");
        await bob.send("now live");
        await waitLine(page, "bob: now live");
        const lines = await logLines(page);
        assert.deepEqual(lines.slice(lines.indexOf("bob: anyone here?")), [
          "bob: anyone here?",
          "* bob waits",
          "end of history",
          "bob: now live",
        ]);
        assert.equal(
          await page.evaluate(
            `document.getElementById("people-title").textContent`,
          ),
          "Online (2)",
        );
        // The conversation is announced to screen readers.
        assert.deepEqual(
          await page.evaluate(`(() => {
            const log = document.getElementById("log");
            return [log.getAttribute("role"),
              log.getAttribute("aria-live")];
          })()`),
          ["log", "polite"],
        );
        assert.ok(
          await page.evaluate(
            `document.activeElement === document.getElementById("text")`,
          ),
          "the message field has the focus after joining",
        );
      });
    });
  });

  await t.step(
    "page shows every history line once, however close their times",
    async () => {
      // History from the log of an earlier run: one millisecond for all,
      // two lines alike in everything.
      await using scope = new TestScope();
      const logPath = `${await scope.tempDir("chat_page_test_")}/chat.log`;
      const then = "2026-01-02T10:00:00.000Z";
      const earlier = ["bob: a", "* bob waves", "bob: b", "bob: b", "dan: c"];
      await Deno.writeTextFile(
        logPath,
        earlier.map((event) => `${then} ${event}\n`).join(""),
      );
      await withServer({ webPort: 0, logPath }, async (server) => {
        const bob = await server.join("bob");
        const carol = await server.join("carol");
        // As nc sends them: three lines in one write.
        await bob.sendRaw(
          new TextEncoder().encode("one\ntwo\nthree\n"),
        );
        for (const text of ["one", "two", "three"]) {
          await carol.next(`bob: ${text}`);
        }
        const history = [
          ...earlier,
          "bob: one",
          "bob: two",
          "bob: three",
        ];
        const said = (lines: string[]) =>
          lines.filter((l) => /^(\* )?(bob|dan|ada)\b/.test(l));
        await withPage(browser, server, async (page) => {
          await join(page, "ada");
          await waitLine(page, "end of history");
          assert.deepEqual(said(await logLines(page)), history);
          const times = await page.evaluate<string[]>(
            `[...document.querySelectorAll("#log .entry.history time")]
              .map((time) => time.dateTime)`,
          );
          assert.deepEqual(
            times.slice(0, earlier.length),
            earlier.map(() => then),
          );
          // A paste from the page: three lines in one frame.
          await say(page, "p1\np2\np3");
          for (const text of ["p1", "p2", "p3"]) {
            await carol.next(`ada: ${text}`);
          }
          await waitLine(page, "ada: p3");
          // A later browser gets them all.
          await withPage(browser, server, async (later) => {
            await join(later, "eve");
            await waitLine(later, "end of history");
            assert.deepEqual(said(await logLines(later)), [
              ...history,
              "ada: p1",
              "ada: p2",
              "ada: p3",
            ]);
          });
        });
      });
    },
  );

  await t.step(
    "page and a TCP client exchange broadcasts and private messages",
    async () => {
      await withServer({ webPort: 0 }, async (server) => {
        const bob = await server.join("bob");
        await withPage(browser, server, async (page) => {
          await join(page, "ada");
          await bob.next(joined("ada"));

          await say(page, "hello from the page");
          await bob.next("ada: hello from the page");
          await bob.send("hi ada, welcome");
          const broadcast = await waitLine(page, "bob: hi ada, welcome");
          assert.ok(broadcast.includes("mentioned"), "ada is mentioned");
          assert.equal(
            await page.evaluate(`[...document.querySelectorAll("mark")]
              .map((m) => m.textContent).join()`),
            "ada",
          );

          await bob.send("@ada a secret");
          const incoming = await waitLine(
            page,
            "private from bob: a secret",
          );
          assert.ok(incoming.includes("private"));
          assert.ok(!incoming.includes("own"));

          await say(page, "@bob a secret back");
          await bob.next("Private message from ada: a secret back");
          const outgoing = await waitLine(
            page,
            "private to bob: a secret back",
          );
          assert.ok(outgoing.includes("private"));
          assert.ok(outgoing.includes("own"));

          // The page shows its own lines once, as the server relayed
          // them; bob's line came after, so the echo is in by now.
          const lines = await logLines(page);
          assert.deepEqual(
            lines.filter((l) => l.includes("hello from the page")),
            ["ada: hello from the page"],
          );
          const own = await waitLine(page, "ada: hello from the page");
          assert.ok(own.includes("own"));
          assert.ok(
            lines.indexOf("ada: hello from the page") <
              lines.indexOf("bob: hi ada, welcome"),
            "in the server's order",
          );
        });
      });
    },
  );

  await t.step("page shows times in the browser's time zone", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      await withPage(browser, server, async (page) => {
        // India is 5:30 from UTC: a time shown in UTC would be wrong.
        await page.setTimezone("Asia/Kolkata");
        await page.navigate(pageUrl(server));
        await join(page, "ada");
        await say(page, "what time is it");
        await waitLine(page, "ada: what time is it");
        const times = await page.evaluate<[string, string][]>(
          `[...document.querySelectorAll("#log .entry time")]
            .map((t) => [t.dateTime, t.textContent])`,
        );
        assert.ok(times.length > 0);
        const format = new Intl.DateTimeFormat("en-GB", {
          timeZone: "Asia/Kolkata",
          hour: "2-digit",
          minute: "2-digit",
          hourCycle: "h23",
        });
        for (const [iso, shown] of times) {
          assert.ok(
            Math.abs(Date.parse(iso) - Date.now()) < 60_000,
            `${iso} is the server's time of the event`,
          );
          assert.match(shown, /^\d\d:\d\d$/);
          assert.equal(shown, format.format(new Date(iso)));
        }
      });
    });
  });

  await t.step("page asks again for a taken or invalid name", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      const bob = await server.join("bob");
      await withPage(browser, server, async (page) => {
        await submitName(page, "Bob");
        await page.waitFor(
          `document.getElementById("join-error").textContent.includes(
            'Name "Bob" is already taken.')`,
          "the taken-name error next to the field",
        );
        assert.equal(
          await page.evaluate(
            `document.getElementById("name").getAttribute("aria-invalid")`,
          ),
          "true",
        );
        assert.ok(
          await page.evaluate(`document.getElementById("chat").hidden`),
        );
        await submitName(page, "no spaces");
        await page.waitFor(
          `document.getElementById("join-error").textContent
            .startsWith("Invalid name: use 1-32 letters")`,
          "the invalid-name rule next to the field",
        );
        // Same socket, third try: accepted.
        await join(page, "ada");
        await bob.next(joined("ada"));
      });
    });
  });

  await t.step("page shows markup and links as text", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      const bob = await server.join("bob");
      await withPage(browser, server, async (page) => {
        await join(page, "ada");
        await bob.next(joined("ada"));
        const xss = "<img src=x onerror=alert(1)>";
        await bob.send(xss);
        await bob.send("<script>alert(2)</script><b>bold</b>");
        await bob.send(
          "docs at https://example.com/a?b=1&c=2. or javascript:alert(3)",
        );
        // The line that froze the former page for 220 ms, and brackets
        // a link opened.
        const brackets = "http://a" + ")".repeat(4_080);
        await bob.send(brackets);
        await bob.send("(see http://example.com/a_(b)).");
        await waitLine(page, `bob: ${xss}`);
        await waitLine(page, "bob: <script>alert(2)</script><b>bold</b>");
        await waitLine(
          page,
          "bob: docs at https://example.com/a?b=1&c=2. or javascript:alert(3)",
        );
        await waitLine(page, `bob: ${brackets}`);
        await waitLine(page, "bob: (see http://example.com/a_(b)).");
        const found = await page.evaluate<{
          img: number;
          b: number;
          scripts: number;
          links: string[][];
        }>(`({
          img: document.querySelectorAll("img").length,
          b: document.querySelectorAll("#log b").length,
          scripts: document.querySelectorAll("#log script").length,
          links: [...document.querySelectorAll("#log a")].map((a) =>
            [a.textContent, a.href, a.target, a.rel]),
        })`);
        assert.deepEqual(found, {
          img: 0,
          b: 0,
          scripts: 0,
          links: [
            [
              "https://example.com/a?b=1&c=2",
              "https://example.com/a?b=1&c=2",
              "_blank",
              "noopener noreferrer",
            ],
            ["http://a", "http://a/", "_blank", "noopener noreferrer"],
            [
              "http://example.com/a_(b)",
              "http://example.com/a_(b)",
              "_blank",
              "noopener noreferrer",
            ],
          ],
        });
        // Anything that would have run had a moment to.
        await say(page, "still here");
        await bob.next("ada: still here");
        assert.deepEqual(page.dialogs, []);
      });
    });
  });

  await t.step(
    "page sends a multi-line paste one message a line",
    async () => {
      await withServer({ webPort: 0 }, async (server) => {
        const bob = await server.join("bob");
        await withPage(browser, server, async (page) => {
          await join(page, "ada");
          await bob.next(joined("ada"));
          await say(page, "first line\nsecond line\n\nthird line");
          await bob.next("ada: first line");
          await bob.next("ada: second line");
          await bob.next("ada: third line");
          await waitLine(page, "ada: third line");
          assert.equal(
            await page.evaluate(`document.getElementById("text").value`),
            "",
          );
          // Shift+Enter starts a new line instead of sending.
          await page.insertText("one");
          await page.press("Enter", { shift: true });
          await page.insertText("two");
          assert.equal(
            await page.evaluate(`document.getElementById("text").value`),
            "one\ntwo",
          );
          await page.press("Enter");
          await bob.next("ada: one");
          await bob.next("ada: two");
        });
      });
    },
  );

  await t.step(
    "page completes names with Tab and starts a private message on a click",
    async () => {
      await withServer({ webPort: 0 }, async (server) => {
        const bob = await server.join("bob");
        const bea = await server.join("bea");
        await withPage(browser, server, async (page) => {
          await join(page, "ada");
          await waitPeople(page, ["ada", "bea", "bob"]);
          const value = () =>
            page.evaluate<string>(`document.getElementById("text").value`);
          await page.insertText("hi bo");
          await page.press("Tab");
          assert.equal(await value(), "hi bob ");
          await page.insertText("and @b");
          await page.press("Tab");
          assert.equal(await value(), "hi bob and @bea ");
          await page.press("Tab");
          assert.equal(await value(), "hi bob and @bob ", "Tab cycles");
          await page.press("Enter");
          await bob.next("ada: hi bob and @bob");

          // Clicking a name (with the keyboard: focus it, Enter).
          await page.evaluate(`[...document.querySelectorAll(
            "#people button")].find((b) => b.textContent === "bea").focus()`);
          await page.press("Enter");
          assert.equal(await value(), "@bea ");
          assert.ok(
            await page.evaluate(
              `document.activeElement === document.getElementById("text")`,
            ),
          );
          await page.insertText("just you");
          await page.press("Enter");
          await bea.next("Private message from ada: just you");

          // With nothing to complete, Tab leaves the field.
          await page.press("Tab");
          assert.equal(
            await page.evaluate(`document.activeElement.id`),
            "send",
          );

          // Who is online follows joins and leaves.
          const cy = await server.join("cy");
          await waitPeople(page, ["ada", "bea", "bob", "cy"]);
          await cy.send("/nick cyrus");
          await waitPeople(page, ["ada", "bea", "bob", "cyrus"]);
          await cy.send("/me waves");
          await waitLine(page, "* cyrus waves");
          await cy.send("exit");
          await cy.close();
          await waitLine(page, left("cyrus"));
          await waitPeople(page, ["ada", "bea", "bob"]);

          // The page's own new name.
          await say(page, "/nick adele");
          await waitConnected(page, "adele");
          await waitPeople(page, ["adele", "bea", "bob"]);
        });
      });
    },
  );

  await t.step(
    "page counts unread messages in the title while hidden",
    async () => {
      await withServer({ webPort: 0 }, async (server) => {
        const bob = await server.join("bob");
        await withPage(browser, server, async (page) => {
          await join(page, "ada");
          await bob.next(joined("ada"));
          // Headless tabs stay visible: the page is told it is hidden.
          await page.setHidden(true);
          await bob.send("one");
          await bob.send("two");
          await bob.send("@ada three");
          await page.waitFor(
            `document.title === "(3) Chat"`,
            "three unread in the title",
          );
          // Notices are not unread messages.
          const cy = await server.join("cy");
          await cy.close();
          await waitLine(page, left("cy"));
          assert.equal(await page.evaluate("document.title"), "(3) Chat");
          await page.setHidden(false);
          await page.waitFor(
            `document.title === "Chat"`,
            "the count reset",
          );
          await bob.send("four");
          await waitLine(page, "bob: four");
          assert.equal(await page.evaluate("document.title"), "Chat");
        });
      });
    },
  );

  await t.step(
    "page joins rooms, switches between them and counts what it missed",
    async () => {
      await withServer({ webPort: 0 }, async (server) => {
        const bob = await server.join("bob");
        const cat = await server.join("cat");
        await withPage(browser, server, async (page) => {
          await join(page, "ada");
          await bob.next(joined("ada"));
          assert.deepEqual(await roomList(page), ["#chat"]);
          await waitShown(page, "#chat");

          // The page's form; a name without its '#' is the same room.
          await joinByForm(page, "games");
          await waitShown(page, "#games");
          await waitLine(page, "*** You joined #games (1 member).");
          assert.deepEqual(await roomList(page), ["#chat", "#games"]);
          // Its maker is its operator.
          await waitPeople(page, ["ada"]);
          assert.equal(
            await page.evaluate(
              `document.querySelector("#people li.me .op")?.textContent`,
            ),
            "@",
          );
          await bob.send("/join #games");
          await bob.next("*** You joined #games (2 members).");
          await waitLine(page, "*** bob has joined #games.");
          await waitPeople(page, ["ada", "bob"]);

          // Plain text goes to the room on screen.
          await say(page, "who plays chess?");
          await bob.next("ada: who plays chess?");

          // A click switches; the server's answer to it is not shown.
          await clickRoom(page, "#chat");
          await waitShown(page, "#chat");
          await waitPeople(page, ["ada", "bob", "cat"]);
          await say(page, "back in the main room");
          await cat.next("ada: back in the main room");
          await bob.next("[#chat] ada: back in the main room");
          assert.ok(
            !cat.received.lines.some((line) => line.includes("chess")),
            "cat is not in #games",
          );

          // What is said in a room not on screen: counted, mentions marked.
          await bob.send("I do");
          await bob.send("ada: tonight at eight?");
          await bob.send("/me sets up the board");
          await page.waitFor(
            `(() => {
              const button = [...document.querySelectorAll("#rooms .room")]
                .find((b) => b.textContent.startsWith("#games"));
              return button.querySelector(".unread")?.textContent === "3" &&
                button.querySelector(".mention") !== null;
            })()`,
            "three unread and a mention on #games",
          );
          assert.deepEqual(await roomMarks(page, "#games"), {
            unread: "3",
            mention: true,
            label: "#games, you were mentioned, 3 unread",
          });
          assert.deepEqual(await roomMarks(page, "#chat"), {
            unread: null,
            mention: false,
            label: "#chat",
          });
          assert.ok(
            !(await logLines(page)).includes("bob: I do"),
            "not in #chat's log",
          );
          assert.equal(await page.evaluate("document.title"), "Chat");
          // Said in #chat by someone in both: no unread for #games.
          await bob.send("/msg #chat hello main room");
          await waitLine(page, "bob: hello main room");

          // Typing /join switches too, and then its answer shows.
          await say(page, "/join #games");
          await waitShown(page, "#games");
          await waitLine(page, "*** Your current room is #games.");
          assert.deepEqual(await roomMarks(page, "#games"), {
            unread: null,
            mention: false,
            label: "#games",
          });
          const lines = await logLines(page);
          assert.deepEqual(
            lines.slice(lines.indexOf("ada: who plays chess?")),
            [
              "ada: who plays chess?",
              "bob: I do",
              "bob: ada: tonight at eight?",
              "* bob sets up the board",
              "*** Your current room is #games.",
            ],
          );
          assert.ok(
            (await waitLine(page, "bob: ada: tonight at eight?"))
              .includes("mentioned"),
          );
          // The page's own switches said nothing anywhere.
          assert.deepEqual(
            (await allLogLines(page)).filter((l) =>
              l.startsWith("*** Your current room")
            ),
            ["*** Your current room is #games."],
          );

          // The topic, in the room's header, as text.
          const topic = "Chess <b>at</b> eight <img src=x onerror=alert(1)>";
          await bob.send(`/topic ${topic}`);
          await waitLine(page, `*** bob set the topic of #games: ${topic}`);
          await page.waitFor(
            `document.getElementById("room-topic").textContent === ${
              js(topic)
            } && !document.getElementById("room-topic").hidden`,
            "the topic in the header",
          );
          assert.equal(
            await page.evaluate(`document.querySelectorAll("img, b").length`),
            0,
          );

          // Leaving with the button.
          await page.evaluate(`document.getElementById("part").click()`);
          await bob.next("*** ada has left #games.");
          await waitShown(page, "#chat");
          await waitLine(
            page,
            "*** You left #games. Your current room is #chat.",
          );
          assert.deepEqual(await roomList(page), ["#chat"]);
          assert.equal(
            await page.evaluate(`document.getElementById("room-topic").hidden`),
            true,
          );

          // `/rooms` (the button) lists rooms to join with a click.
          await page.evaluate(`document.getElementById("list-rooms").click()`);
          const choices = await page.waitFor<string[]>(
            `(() => {
              const entries = document.querySelectorAll("#log .rooms-list");
              const last = entries[entries.length - 1];
              return last && [...last.querySelectorAll("li")]
                .map((li) => li.textContent);
            })()`,
            "the list of rooms",
          );
          assert.deepEqual(choices.toSorted(), [
            "#chat (3)",
            `#games (1) ${topic}`,
          ]);
          await page.evaluate(`[...document.querySelectorAll(
            "#log .rooms-list .room-choice")]
            .find((b) => b.textContent === "#games").click()`);
          await waitShown(page, "#games");
          await waitLine(
            page,
            `*** You joined #games (2 members). Topic: ${topic}`,
          );
          await bob.next("*** ada has joined #games.");
          // And typing /part.
          await say(page, "/part see you");
          await bob.next("*** ada has left #games (see you).");
          await waitShown(page, "#chat");
          assert.deepEqual(await roomList(page), ["#chat"]);
        });
      });
    },
  );

  await t.step(
    "a link with a room in its fragment opens that room",
    async () => {
      await withServer({ webPort: 0 }, async (server) => {
        const bob = await server.join("bob");
        await bob.send("/join #games");
        await bob.next("*** You joined #games (1 member).");
        await withPage(
          browser,
          server,
          async (page) => {
            await join(page, "ada");
            await bob.next("*** ada has joined #games.");
            await waitShown(page, "#games");
            assert.deepEqual(await roomList(page), ["#chat", "#games"]);
            await say(page, "I came by the link");
            await bob.next("ada: I came by the link");

            // A link within the page: another room, then one it is in.
            await page.evaluate(`location.hash = "#lab"`);
            await waitShown(page, "#lab");
            await waitLine(page, "*** You joined #lab (1 member).");
            await page.evaluate(`location.hash = "#GAMES"`);
            await waitShown(page, "#games");

            // A fragment that is not a room's name is never sent: no second
            // line can ride on it.
            await page.evaluate(`location.hash = "#games%0Ahello"`);
            // The URL names the room on screen again.
            await waitShown(page, "#games");
            await say(page, "after the bad link");
            await bob.next("ada: after the bad link");
            assert.ok(
              !bob.received.lines.includes("ada: hello"),
              "nothing said by the link",
            );
            assert.deepEqual(await roomList(page), ["#chat", "#games", "#lab"]);
          },
          {},
          "#games",
        );
      });
    },
  );

  await t.step("page shows where it is after a kick from a room", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      const bob = await server.join("bob");
      await bob.send("/join #games");
      await bob.next("*** You joined #games (1 member).");
      const cat = await server.join("cat");
      await withPage(browser, server, async (page) => {
        await join(page, "ada");
        await joinByForm(page, "#games");
        await waitShown(page, "#games");
        await bob.next("*** ada has joined #games.");
        await waitPeople(page, ["ada", "bob"]);
        await bob.send("/kick ada enough chess");
        await waitShown(page, "#chat");
        await waitLine(
          page,
          "*** You were kicked from #games by bob (enough chess).",
        );
        assert.deepEqual(await roomList(page), ["#chat"]);
        // The server's current room is the one on screen.
        await say(page, "still here");
        await cat.next("ada: still here");
        assert.ok(!bob.received.lines.includes("ada: still here"));
      });
    });
  });

  await t.step(
    "page rejoins its rooms after a lost connection, on the room it showed",
    async () => {
      await withServer({ webPort: 0 }, async (server) => {
        await using relay = new Relay(webPortOf(server));
        const bob = await server.join("bob");
        await bob.send("/join #games");
        await bob.next("*** You joined #games (1 member).");
        await using scope = new TestScope();
        const page = scope.track(await browser.newPage());
        await page.navigate(`http://127.0.0.1:${relay.port}/`);
        await join(page, "ada");
        await say(page, "/join #games");
        await waitShown(page, "#games");
        await bob.next("*** ada has joined #games.");
        await bob.sendRaw(new TextEncoder().encode("one\nsame\nsame\n"));
        await say(page, "p1");
        await waitLine(page, "ada: p1");
        await waitLine(page, "bob: same");
        const seen = (await logLines(page)).filter((l) =>
          /^(bob|ada): /.test(l)
        );
        assert.deepEqual(seen, [
          "bob: one",
          "bob: same",
          "bob: same",
          "ada: p1",
        ]);
        await clickRoom(page, "#chat");
        await waitShown(page, "#chat");

        // Off the network, and the connection cut: the server sees it go.
        await page.setOffline(true);
        await relay.cut();
        await waitLine(page, "Connection lost.");
        await bob.next(left("ada"));
        await bob.send("said while ada was away");
        const cat = await server.join("cat");
        await cat.send("the main room went on");
        await bob.next("[#chat] cat: the main room went on");

        // Back online: the page reconnects at once and joins #games again.
        await page.setOffline(false);
        await waitConnected(page, "ada", 10_000);
        await bob.next("*** ada has joined #games.");
        assert.ok(
          (await waitLine(page, "cat: the main room went on"))
            .includes("history"),
        );
        await waitShown(page, "#chat");
        assert.deepEqual(await roomList(page), ["#chat", "#games"]);
        // The room on screen is current again: plain text goes there.
        await say(page, "back in the main room");
        await cat.next("ada: back in the main room");
        await clickRoom(page, "#games");
        await waitShown(page, "#games");
        await waitLine(page, "bob: said while ada was away");
        const said = (await logLines(page)).filter((l) =>
          /^(bob|ada): /.test(l)
        );
        assert.deepEqual(said, [...seen, "bob: said while ada was away"]);
        await say(page, "back in games");
        await bob.next("ada: back in games");
        assert.deepEqual(
          (await allLogLines(page)).filter((l) =>
            l.startsWith("*** Your current room") ||
            l.startsWith("*** You left")
          ),
          [],
          "the page's own switches are not shown",
        );

        // Out of the main room, the page stays out of it after a reconnect.
        await say(page, "/part #chat");
        await waitLine(
          page,
          "*** You left #chat. Your current room is #games.",
        );
        await page.setOffline(true);
        await relay.cut();
        await waitLine(page, "Connection lost.");
        await bob.next(left("ada"));
        await page.setOffline(false);
        await waitConnected(page, "ada", 10_000);
        await bob.next("*** ada has joined #games.");
        await cat.next("*** ada has left #chat.");
        assert.deepEqual(await roomList(page), ["#games"]);
        await waitShown(page, "#games");
        await say(page, "only games now");
        await bob.next("ada: only games now");
        assert.deepEqual(
          (await allLogLines(page)).filter((l) => l.startsWith("*** You left")),
          ["*** You left #chat. Your current room is #games."],
        );
        assert.deepEqual(page.errors, []);
      });
    },
  );

  await t.step(
    "page rejoins by itself after the server restarts",
    async () => {
      await using scope = new TestScope();
      const first = scope.track(await startTestServer({ webPort: 0 }));
      const page = scope.track(await browser.newPage());
      await page.navigate(pageUrl(first));
      await join(page, "ada");
      await say(page, "/join #games");
      await waitShown(page, "#games");
      await first.cleanup();
      await waitLine(page, "Server is shutting down. Disconnecting...");
      await waitLine(page, "Connection lost.");
      await page.waitFor(
        `document.getElementById("status").textContent
        .startsWith("Connection lost. Reconnecting in")`,
        "the page to say it reconnects",
      );
      const second = scope.track(
        await startTestServer({ webPort: webPortOf(first) }),
      );
      const bob = await second.join("bob");
      // The first retry comes after about a second, the next after two.
      await waitConnected(page, "ada", 10_000);
      await bob.next(joined("ada"));
      await waitLine(page, "Reconnected as ada.");
      // The new server has no #games: the page makes it again, and stays.
      await page.waitFor(
        `[...document.querySelectorAll("#log .body")].filter((body) =>
          body.textContent === "*** You joined #games (1 member).").length ===
          2`,
        "#games joined again",
      );
      await waitShown(page, "#games");
      assert.deepEqual(await roomList(page), ["#chat", "#games"]);
      await bob.send("/join #games");
      await bob.next("*** You joined #games (2 members).");
      await waitPeople(page, ["ada", "bob"]);
      await say(page, "back again");
      await bob.next("ada: back again");
      await clickRoom(page, "#chat");
      await waitPeople(page, ["ada", "bob"]);
      assert.deepEqual(page.errors, []);
    },
  );

  await t.step(
    "page shows history it saw before a reconnect once",
    async () => {
      // The log outlives the first server: the second replays it.
      await using scope = new TestScope();
      const logPath = `${await scope.tempDir("chat_page_test_")}/chat.log`;
      const first = scope.track(await startTestServer({ webPort: 0, logPath }));
      const page = scope.track(await browser.newPage());
      await page.navigate(pageUrl(first));
      await join(page, "ada");
      const bob = await first.join("bob");
      await bob.sendRaw(
        new TextEncoder().encode("one\nsame\nsame\nthree\n"),
      );
      await say(page, "p1\np2");
      await waitLine(page, "bob: three");
      await waitLine(page, "ada: p2");
      const seen = (await logLines(page)).filter((l) => /^(bob|ada): /.test(l));
      assert.equal(seen.length, 6);
      // Off the network until the room has moved on without ada.
      await page.setOffline(true);
      await first.cleanup();
      await waitLine(page, "Connection lost.");
      // The log stamps a line when it records it, which can be a few
      // ms after the room's time the page showed; history after a
      // restart comes from the log. Make that lag sure: 5 ms.
      const log = await Deno.readTextFile(logPath);
      await Deno.writeTextFile(
        logPath,
        log.replace(
          /^\S+(?= )/gmu,
          (time) => new Date(Date.parse(time) + 5).toISOString(),
        ),
      );
      const second = scope.track(
        await startTestServer({ webPort: webPortOf(first), logPath }),
      );
      const carol = await second.join("carol");
      await carol.send("said while ada was away");
      // Alike a line ada saw, but a third one: shown.
      const bob2 = await second.join("bob");
      await bob2.send("same");
      await carol.next("bob: same");
      // Back online: the page reconnects at once.
      await page.setOffline(false);
      await waitConnected(page, "ada", 10_000);
      const missed = await waitLine(page, "carol: said while ada was away");
      assert.ok(missed.includes("history"), "it came as history");
      await waitLine(page, "end of history");
      const said = (await logLines(page)).filter((l) =>
        /^(bob|ada|carol): /.test(l)
      );
      assert.deepEqual(said, [
        ...seen,
        "carol: said while ada was away",
        "bob: same",
      ]);
      assert.deepEqual(page.errors, []);
    },
  );

  await t.step("page exit says goodbye and does not reconnect", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      const bob = await server.join("bob");
      await withPage(browser, server, async (page) => {
        await join(page, "ada");
        await bob.next(joined("ada"));
        await say(page, "exit");
        await bob.next(left("ada"));
        await waitLine(page, "Goodbye ada!");
        await page.waitFor(
          `!document.getElementById("ended").hidden &&
            document.getElementById("composer").hidden`,
          "the page to say the session ended",
        );
        // Longer than the first back-off: no new connection comes.
        await assertStaysFalse(
          page,
          `document.getElementById("status").textContent !==
            "Disconnected"`,
          1_600,
          "the page stays disconnected",
        );
        await bob.send("/who");
        await bob.next("Online (1): bob");
        // Join again, on purpose.
        await page.evaluate(`document.getElementById("rejoin").click()`);
        await page.waitFor(
          `document.activeElement === document.getElementById("name") &&
            document.getElementById("name").value === "ada"`,
          "the join form with the name",
        );
        await page.press("Enter");
        await waitConnected(page, "ada");
        await bob.next(joined("ada"));
      });
    });
  });

  await t.step("page asks for the server password", async () => {
    await withServer({ webPort: 0, password: "sesame" }, async (server) => {
      await withPage(browser, server, async (page) => {
        await submitName(page, "ada");
        await page.waitFor(
          `!document.getElementById("password-row").hidden &&
            document.activeElement === document.getElementById("password")`,
          "the password field",
        );
        await page.insertText("wrong");
        await page.press("Enter");
        await page.waitFor(
          `document.getElementById("join-error").textContent ===
            "Wrong password."`,
          "the wrong-password error",
        );
        // The server closes; the page does not try again by itself.
        await assertStaysFalse(
          page,
          `document.getElementById("status").textContent !== "Disconnected"`,
          1_200,
          "no reconnect after a wrong password",
        );
        await submitName(page, "ada");
        await page.waitFor(
          `document.activeElement === document.getElementById("password")`,
          "the password field again",
        );
        await page.evaluate(`document.getElementById("password").value = ""`);
        await page.insertText("sesame");
        await page.press("Enter");
        await waitConnected(page, "ada");
      });
    });
  });

  await t.step(
    "page asks a registered name's password in a field of its own, after the server's",
    async () => {
      await using accounts = await accountsFor();
      assert.equal(await accounts.register("ada", ACCOUNT_PASSWORD), "ok");
      await withServer({
        webPort: 0,
        password: "sesame",
        accounts: () => Promise.resolve(accounts),
      }, async (server) => {
        await withPage(browser, server, async (page) => {
          await submitName(page, "ada");
          await waitPasswordField(page, "Server password");
          await page.insertText("sesame");
          await page.press("Enter");
          await waitPasswordField(page, "Password for ada");
          assert.equal(
            await page.evaluate(`document.getElementById("password").value`),
            "",
            "the server password is not left in the field",
          );
          await page.insertText("not the password");
          await page.press("Enter");
          await page.waitFor(
            `document.getElementById("join-error").textContent ===
            "Wrong password for ada."`,
            "the wrong-password error",
          );
          await waitPasswordField(page, "Password for ada");
          await page.evaluate(`document.getElementById("password").value = ""`);
          await page.insertText(ACCOUNT_PASSWORD);
          await page.press("Enter");
          await waitConnected(page, "ada");

          // The same name logged in from elsewhere: the page stops there.
          const other = await server.connect();
          await other.next("Hello client. Please enter your name:");
          await other.send("ada");
          await other.next("Password:");
          await other.send("sesame");
          await other.next("Password for ada:");
          await other.send(ACCOUNT_PASSWORD);
          await other.next("Welcome ada!");
          await page.waitFor(
            `!document.getElementById("ended").hidden &&
            document.getElementById("ended-text").textContent ===
              "This name was logged in from elsewhere."`,
            "the session ended",
          );
          await assertStaysFalse(
            page,
            `document.getElementById("status").textContent !== "Disconnected"`,
            1_200,
            "no reconnect that would take the name back",
          );
          const lines = await allLogLines(page);
          assert.ok(
            !lines.some((l) => l.includes(ACCOUNT_PASSWORD)),
            lines.join("\n"),
          );
        });
      });
    },
  );

  await t.step(
    "page logs in again by itself after a lost connection, each password to its prompt",
    async () => {
      await using accounts = await accountsFor();
      assert.equal(await accounts.register("ada", ACCOUNT_PASSWORD), "ok");
      await withServer({
        webPort: 0,
        password: "sesame",
        accounts: () => Promise.resolve(accounts),
      }, async (server) => {
        await using relay = new Relay(webPortOf(server));
        const bob = await server.connect();
        await bob.next("Hello client. Please enter your name:");
        await bob.send("bob");
        await bob.next("Password:");
        await bob.send("sesame");
        await bob.next("Welcome bob!");
        await using scope = new TestScope();
        const page = scope.track(await browser.newPage());
        await page.navigate(`http://127.0.0.1:${relay.port}/`);
        await submitName(page, "ada");
        await waitPasswordField(page, "Server password");
        await page.insertText("sesame");
        await page.press("Enter");
        await waitPasswordField(page, "Password for ada");
        await page.insertText(ACCOUNT_PASSWORD);
        await page.press("Enter");
        await waitConnected(page, "ada");
        await bob.next(joined("ada"));

        await relay.cut();
        await waitLine(page, "Connection lost.");
        await bob.next(left("ada"));
        await waitConnected(page, "ada", 10_000);
        await bob.next(joined("ada"));
        await waitLine(page, "Reconnected as ada.");
        assert.equal(
          await page.evaluate(`document.getElementById("join").hidden`),
          true,
          "no password asked again",
        );
      });
    },
  );

  await t.step(
    "page gives a server operator actions on members, and no one else",
    async () => {
      await using accounts = await accountsFor(["boss"]);
      assert.equal(
        await accounts.register("boss", ACCOUNT_PASSWORD, { console: true }),
        "ok",
      );
      await withServer({
        webPort: 0,
        accounts: () => Promise.resolve(accounts),
      }, async (server) => {
        const bob = await server.join("bob");
        // Someone who is no operator sees no actions.
        await withPage(browser, server, async (page) => {
          await join(page, "carol");
          await waitPeople(page, ["bob", "carol"]);
          await assertStaysFalse(
            page,
            `document.querySelector("#people .moderate") !== null`,
            500,
            "no actions for a member who is no operator",
          );
          assert.ok(
            !(await allLogLines(page)).includes("Only operators can do that."),
            "the page's own /bans answered unseen",
          );
        });
        await withPage(browser, server, async (page) => {
          await submitName(page, "boss");
          await waitPasswordField(page, "Password for boss");
          await page.insertText(ACCOUNT_PASSWORD);
          await page.press("Enter");
          await waitConnected(page, "boss");
          const toggle = `[...document.querySelectorAll("#people li")]
          .find((li) => li.querySelector(".person").textContent === "bob")
          ?.querySelector(".moderate")`;
          await page.waitFor(
            `${toggle}?.getAttribute("aria-label") === "Moderate bob"`,
            "the actions on bob",
          );
          assert.equal(
            await page.evaluate(
              `document.querySelector("#people .me .moderate") === null`,
            ),
            true,
            "no actions on oneself",
          );
          assert.ok(!(await allLogLines(page)).includes("No bans."));

          // Opens bob's menu, picks how long, clicks `label`.
          const act = async (label: string, time?: string) => {
            await page.evaluate(`${toggle}.click()`);
            const menu = `${toggle}.parentElement`;
            await page.waitFor(
              `${menu}.querySelector(".moderate-panel") !== null`,
              "the menu open",
            );
            if (time !== undefined) {
              await page.evaluate(`(() => {
              const select = ${menu}.querySelector("select");
              select.value = ${js(time)};
              select.dispatchEvent(new Event("change"));
            })()`);
            }
            await page.evaluate(`[...${menu}.querySelectorAll("button")]
            .find((b) => b.textContent === ${js(label)}).click()`);
          };
          const answered = (pattern: RegExp) =>
            page.waitFor(
              `[...document.querySelectorAll("#logs .entry .body")]
              .some((body) => ${pattern}.test(body.textContent))`,
              `a line matching ${pattern}`,
            );
          await act("Mute", "10m");
          await answered(/^bob is muted until \d\d:\d\d\.$/);
          await bob.send("can anyone hear me");
          assert.match(
            await bob.next(/muted/),
            /^You are muted until \d\d:\d\d\.$/,
          );
          await act("Disconnect");
          await bob.next("You were removed from the chat.");
          await answered(/^bob was disconnected\.$/);
          await bob.received.closed();

          const dan = await server.join("dan");
          await page.waitFor(
            `${toggle.replace('"bob"', '"dan"')}?.textContent === "⋯"`,
            "the actions on dan",
          );
          await page.evaluate(`${toggle.replace('"bob"', '"dan"')}.click()`);
          const menu = `${toggle.replace('"bob"', '"dan"')}.parentElement`;
          await page.evaluate(`(() => {
          const select = ${menu}.querySelector("select");
          select.value = "";
          select.dispatchEvent(new Event("change"));
          [...${menu}.querySelectorAll("button")]
            .find((b) => b.textContent === "Ban").click();
        })()`);
          assert.equal(
            await dan.next(/banned/),
            "You are banned from this chat.",
          );
          await dan.received.closed();
          await answered(/^Banned dan until lifted, by boss\.$/);
          assert.deepEqual(
            (await accounts.bans()).map((ban) => ban.until),
            [null],
          );
        });
      });
    },
  );

  await t.step("page fits a 360 px wide phone", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      const bob = await server.join("bob_with_a_long_name");
      await withPage(browser, server, async (page) => {
        assert.ok(await scrollWidth(page) <= 360, "the join form fits");
        await join(page, "ada");
        // Rooms with long names and a long topic: the list scrolls sideways
        // in its own strip.
        const long = "#a_room_with_a_name_of_32_chars_";
        for (const room of [long, "#games", "#lab", "#chess-club"]) {
          await joinByForm(page, room);
          await waitShown(page, room);
        }
        await say(page, `/topic ${"a long topic ".repeat(20)}`);
        await clickRoom(page, "#chat");
        await waitShown(page, "#chat");
        await bob.send(`/join ${long}`);
        await bob.send("unread in the long room");
        await page.waitFor(
          `document.querySelector("#rooms .room .unread")?.textContent === "1"`,
          "an unread count on a phone",
        );
        await bob.send("/join #chat");
        await bob.send("x".repeat(300));
        await bob.send(
          `see https://example.com/${"very-long-path/".repeat(20)}`,
        );
        await bob.send("@ada " + "private ".repeat(40));
        await say(page, "y".repeat(200));
        await waitLine(page, `ada: ${"y".repeat(200)}`);
        const width = await scrollWidth(page);
        assert.ok(width <= 360, `scrollWidth ${width} <= 360`);
        const logWidth = await page.evaluate<number>(
          `document.getElementById("log").scrollWidth`,
        );
        assert.ok(logWidth <= 360, `the log's scrollWidth ${logWidth}`);
        // Every control is on screen; the log keeps most of the height.
        const rights = await page.evaluate<Record<string, number>>(
          `Object.fromEntries(["part", "room-join", "list-rooms", "send"]
            .map((id) => [id, document.getElementById(id)
              .getBoundingClientRect().right]))`,
        );
        for (const [id, right] of Object.entries(rights)) {
          assert.ok(right <= 360, `#${id} ends at ${right}`);
        }
        const logHeight = await page.evaluate<number>(
          `document.getElementById("log").clientHeight`,
        );
        assert.ok(logHeight >= 300, `the log is ${logHeight} px high`);
      }, { width: 360, height: 720, mobile: true });
    });
  });

  await t.step("page shows /help as a table", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      await withPage(browser, server, async (page) => {
        await join(page, "ada");
        await say(page, "/help");
        const rows = await page.waitFor<string[][]>(
          `(() => {
            const table = document.querySelector("#log .entry.help table");
            return table && [...table.rows].map((row) =>
              [...row.cells].map((cell) => cell.textContent));
          })()`,
          "the help table",
        );
        assert.deepEqual(
          rows,
          COMMANDS.map((command) => [command.usage, command.summary]),
        );
        assert.equal(
          await page.evaluate(
            `document.querySelector("#log .entry.help caption").textContent`,
          ),
          "Commands:",
        );
        // Every summary starts at the same x: a column, not spaces.
        const lefts = await page.evaluate<number[]>(
          `[...document.querySelectorAll("#log .entry.help td:last-child")]
            .map((cell) => Math.round(cell.getBoundingClientRect().left))`,
        );
        assert.equal(lefts.length, COMMANDS.length);
        assert.equal(new Set(lefts).size, 1, `lefts ${lefts.join(", ")}`);
        await page.setViewport({ width: 360, height: 720, mobile: true });
        const width = await scrollWidth(page);
        assert.ok(width <= 360, `scrollWidth ${width} <= 360 on a phone`);
        const logWidth = await page.evaluate<number>(
          `document.getElementById("log").scrollWidth`,
        );
        assert.ok(logWidth <= 360, `the log's scrollWidth ${logWidth}`);
      });
    });
  });

  await t.step("page is dark when the system is dark", async () => {
    await withServer({ webPort: 0 }, async (server) => {
      await withPage(browser, server, async (page) => {
        const background = () =>
          page.evaluate<string>(
            `getComputedStyle(document.body).backgroundColor`,
          );
        await page.setColorScheme("light");
        const light = luminance(await background());
        await page.setColorScheme("dark");
        const dark = luminance(await background());
        assert.ok(light > 0.8, `light background ${light}`);
        assert.ok(dark < 0.2, `dark background ${dark}`);
      });
    });
  });

  await t.step({
    name: "page screenshot for the README",
    ignore: !UPDATE_SCREENSHOT,
    fn: async () => {
      await withServer({ webPort: 0 }, async (server) => {
        const bob = await server.join("bob");
        const carol = await server.join("carol");
        await bob.send("/join #lab");
        await bob.send("/topic Lab 3: notes at https://example.com/notes");
        const slides =
          "morning all! the slides are up at https://example.com/slides";
        await bob.send(slides);
        await bob.next(/^\*\*\* bob set the topic/);
        await withPage(browser, server, async (page) => {
          await page.setColorScheme("light");
          await join(page, "ada");
          await joinByForm(page, "#lab");
          await waitShown(page, "#lab");
          await waitLine(page, "end of history");
          await say(page, "thanks bob, looking now");
          await bob.next("ada: thanks bob, looking now");
          await carol.send("/join #lab");
          await waitLine(page, "*** carol has joined #lab.");
          await carol.send("ada, can you share the lab notes too?");
          await waitLine(
            page,
            "carol: ada, can you share the lab notes too?",
          );
          // Meanwhile in the main room: unread, and a mention.
          const dave = await server.join("dave");
          await bob.send("/msg #chat lunch at noon, anyone?");
          await dave.send("ada, are you coming?");
          await page.waitFor(
            `document.querySelector("#rooms .room .unread")?.textContent ===
              "2"`,
            "two unread in #chat",
          );
          await bob.send("@ada save me a seat?");
          await waitLine(page, "private from bob: save me a seat?");
          await say(page, "@bob yes, see you there");
          await waitLine(page, "private to bob: yes, see you there");
          await say(page, "sure carol, give me five minutes");
          await waitLine(page, "ada: sure carol, give me five minutes");
          await page.evaluate(`document.getElementById("text").blur()`);
          await Deno.writeFile(SCREENSHOT_PATH, await page.screenshot());
        }, { width: 1000, height: 600 });
      });
    },
  });
});

/** The relative luminance (0 black, 1 white) of a CSS `rgb()` colour. */
function luminance(color: string): number {
  const [r, g, b] = color.match(/\d+(\.\d+)?/g)!.slice(0, 3).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
