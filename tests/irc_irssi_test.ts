/**
 * A real IRC client against the IRC door: irssi in tmux connects, joins
 * the main channel and talks with a TCP member and a browser-protocol (web
 * socket) member, both ways: channel and private messages, `/me`, `/nick`,
 * joins and leaves, two channels at once (a PART of one keeps the other),
 * and `/quit` with its message; and SASL PLAIN logging in to a registered
 * name, taking it over from an older connection (issue 20). What irssi
 * shows is read from its screen.
 *
 * Needs `irssi` and `tmux` on the PATH; real sockets on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { SqliteStore } from "../lib/engine/sqlite_store.ts";
import { Accounts } from "../lib/room/accounts.ts";
import { startIrcDoor } from "../lib/transports/irc_door.ts";
import {
  joined,
  startTestServer,
  TestScope,
  waitUntilAsync,
} from "./helpers.ts";
import { WebTestClient } from "./support/web_client.ts";

const SCREEN_MS = 10_000;

// No servers, networks or channels of its own, nothing saved, no logs:
// irssi does only what the test types.
const IRSSI_CONFIG = `settings = {
  core = {
    real_name = "Ira Irssi";
    user_name = "ira";
    nick = "ira";
    settings_autosave = "no";
    awaylog_file = "";
  };
  "fe-common/core" = { autolog = "no"; show_nickmode_empty = "no"; };
  # Typed lines arrive fast: no paste detection that could hold them.
  "fe-text" = { paste_detect_time = "0"; };
  # No anti-flood queue: the test's lines go at once.
  "irc/core" = { cmd_queue_speed = "50msec"; };
};
`;

/** irssi in a tmux session of its own. */
class IrssiInTmux {
  readonly socket = `irc_irssi_test_${Deno.pid}_${Date.now()}`;

  async #tmux(...args: string[]): Promise<string> {
    const output = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(
        `tmux ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`,
      );
    }
    return new TextDecoder().decode(output.stdout);
  }

  /**
   * Starts irssi with `home` as its home, connecting to 127.0.0.1:`port`,
   * or connecting nowhere with `port` null.
   */
  start(home: string, port: number | null): Promise<string> {
    return this.#tmux(
      "new-session",
      "-d",
      "-x",
      "120",
      "-y",
      "40",
      port === null
        ? `irssi --home=${home} -n ira`
        : `irssi --home=${home} -n ira -c 127.0.0.1 -p ${port}`,
    );
  }

  /** Types `text` and Enter. */
  async type(text: string): Promise<void> {
    // -l: literally, so that `;` or a key name in the text stays text.
    await this.#tmux("send-keys", "-t", "0", "-l", text);
    await this.#tmux("send-keys", "-t", "0", "Enter");
  }

  /** The screen as text. */
  screen(): Promise<string> {
    return this.#tmux("capture-pane", "-p", "-t", "0");
  }

  /** Waits until the screen shows `text` (a string or a pattern). */
  async shows(text: string | RegExp, timeoutMs = SCREEN_MS): Promise<void> {
    let last = "";
    try {
      await waitUntilAsync(
        async () => {
          last = await this.screen();
          return typeof text === "string"
            ? last.includes(text)
            : text.test(last);
        },
        `irssi's screen to show ${String(text)}`,
        timeoutMs,
      );
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- screen ---\n${last}\n---`,
      );
    }
  }

  /** Whether the session (irssi) is still running. */
  async running(): Promise<boolean> {
    const output = await new Deno.Command("tmux", {
      args: ["-L", this.socket, "has-session"],
      stdout: "null",
      stderr: "null",
    }).output();
    return output.success;
  }

  /** Stops tmux and irssi with it, if still running. */
  async stop(): Promise<void> {
    await new Deno.Command("tmux", {
      args: ["-L", this.socket, "kill-server"],
      stdout: "null",
      stderr: "null",
    }).output();
  }
}

Deno.test("irssi talks with TCP and web members through the IRC door", async () => {
  await using scope = new TestScope();
  const home = await scope.tempDir("irssi_home_");
  await Deno.writeTextFile(`${home}/config`, IRSSI_CONFIG);
  const server = scope.track(await startTestServer({ web: { port: 0 } }));
  const door = startIrcDoor({
    room: server.server.room,
    hostname: "127.0.0.1",
    port: 0,
    channel: "#chat",
    serverName: "irc.test",
    onConsole: () => {},
  });
  scope.defer(() => door.close());
  const clients = scope.track(new TestScope());
  const irssi = new IrssiInTmux();
  scope.defer(() => irssi.stop());
  try {
    const bob = await clients.join(server.port, "bob");
    await irssi.start(home, door.addr.port);
    await irssi.shows("MOTD File is missing");
    await irssi.shows("Welcome to the DenoChat IRC network, ira!irc@chat");

    // Joins: irssi sees everyone online, the others see irssi arrive.
    await irssi.type("/join #chat");
    await irssi.shows("ira [irc@chat] has joined #chat");
    await irssi.shows(/\[ ?bob\s*\]/);
    await bob.next(joined("ira"));
    const webPort = server.server.webAddr!.port;
    const wendy = clients.track(await WebTestClient.join(webPort, "wendy"));
    await irssi.shows("wendy [web@chat] has joined #chat");

    // Channel messages, all three ways.
    await irssi.type("hello from irssi");
    await bob.next("ira: hello from irssi");
    await wendy.next((f) =>
      f.type === "message" && f.from === "ira" && f.text === "hello from irssi"
    );
    await bob.send("hi ira, bob here");
    await irssi.shows("<bob> hi ira, bob here");
    wendy.send("hi ira, wendy here");
    await irssi.shows("<wendy> hi ira, wendy here");

    // /me both ways.
    await irssi.type("/me waves");
    await bob.next("* ira waves");
    await bob.send("/me bows");
    await irssi.shows("* bob bows");
    wendy.send("/me smiles");
    await irssi.shows("* wendy smiles");

    // Private messages both ways, with each of them.
    await irssi.type("/msg bob psst bob");
    await bob.next("Private message from ira: psst bob");
    await irssi.type("/msg wendy psst wendy");
    await wendy.next((f) =>
      f.type === "private" && f.from === "ira" && f.text === "psst wendy"
    );
    await bob.send("@ira psst back");
    wendy.send("@ira web psst back");
    await irssi.type("/query bob");
    await irssi.shows("<bob> psst back");
    await irssi.type("/query wendy");
    await irssi.shows("<wendy> web psst back");
    await irssi.type("/window goto #chat");

    // /nick both ways.
    await irssi.type("/nick iris");
    await irssi.shows("You're now known as iris");
    await bob.next("*** ira is now known as iris.");
    await bob.send("/nick bobby");
    await irssi.shows("bob is now known as bobby");
    await bob.send("still here");
    await irssi.shows("<bobby> still here");

    // Two channels at once: #games beside #chat, its operator marked.
    await bob.send("/join #games");
    await bob.next(/^\*\*\* You joined #games/);
    await irssi.type("/join #games");
    await irssi.shows("iris [irc@chat] has joined #games");
    await irssi.shows(/\[@bobby\s*\]/);
    await bob.next("*** iris has joined #games.");
    await irssi.type("in games");
    await bob.next("iris: in games");
    await bob.send("/msg #chat over in chat");
    await irssi.type("/window goto #chat");
    await irssi.shows("<bobby> over in chat");
    // A PART of #games, with its message, keeps #chat.
    await irssi.type("/part #games bye games");
    await bob.next("*** iris has left #games (bye games).");
    await irssi.type("/window goto #chat");
    await bob.send("/msg #chat still with us?");
    await irssi.shows("<bobby> still with us?");
    await irssi.type("yes, in chat");
    await bob.next("[#chat] iris: yes, in chat");
    await bob.send("/part #games");
    await bob.next(/^\*\*\* You left #games/);

    // A leave on another transport is a QUIT on IRC.
    await wendy.close();
    await irssi.shows("wendy [web@chat] has quit [Left the chat]");

    // /quit: the others see the leave and its message; irssi exits.
    await irssi.type("/quit see you");
    await bob.next("*** iris has left the chat (see you).");
    await waitUntilAsync(
      async () => !(await irssi.running()),
      "irssi to exit after /quit",
      SCREEN_MS,
    );
    assert.deepEqual(server.server.room.names(), ["bobby"]);
  } catch (error) {
    // What irssi showed says more than the assertion alone.
    const screen = await irssi.screen().catch(() => "(no screen)");
    throw new Error(`${(error as Error).message}\n--- screen ---\n${screen}`);
  }
});

Deno.test("irssi logs in to a registered name with SASL PLAIN and takes it over from an older connection", async () => {
  await using scope = new TestScope();
  const home = await scope.tempDir("irssi_home_");
  await Deno.writeTextFile(`${home}/config`, IRSSI_CONFIG);
  const dir = await scope.tempDir("irssi_accounts_");
  const accounts = new Accounts({ store: await SqliteStore.open({ dir }) });
  await accounts.start();
  const server = scope.track(
    await startTestServer({
      accounts: () => Promise.resolve(accounts),
      irc: { port: 0, serverName: "irc.test" },
    }),
  );
  const port = server.server.ircAddr!.port;
  const clients = scope.track(new TestScope());
  const irssi = new IrssiInTmux();
  scope.defer(() => irssi.stop());
  // No space: irssi's /network add takes one word.
  const password = "correct-horse-battery";
  try {
    const ada = await clients.join(server.port, "ada");
    await ada.send(`/register ${password}`);
    await ada.next(/is now registered/);
    const bob = await clients.join(server.port, "bob");
    await irssi.start(home, null);
    await irssi.type(
      `/network add -nick ada -sasl_mechanism plain -sasl_username ada -sasl_password ${password} chatnet`,
    );
    await irssi.type(`/server add -network chatnet 127.0.0.1 ${port}`);
    await irssi.type("/connect chatnet");
    // The older connection (a ghost, as far as irssi's user knows) is
    // told and closed; irssi is ada.
    await ada.next("This name was logged in from elsewhere.");
    await ada.received.closed();
    await irssi.shows("SASL authentication succeeded");
    await irssi.shows("Welcome to the DenoChat IRC network, ada!irc@chat");
    await irssi.type("/join #chat");
    await irssi.shows(/\[ ?bob\s*\]/);
    await irssi.type("hello from irssi");
    await bob.next("ada: hello from irssi");
  } catch (error) {
    const screen = await irssi.screen().catch(() => "(no screen)");
    throw new Error(`${(error as Error).message}\n--- screen ---\n${screen}`);
  } finally {
    await accounts.close();
  }
});
