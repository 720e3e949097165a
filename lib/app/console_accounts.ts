/**
 * The console's account and moderation commands: `register NAME PASSWORD`,
 * `password NAME NEWPASSWORD` (a reset), `unregister NAME`, `op NAME`,
 * `deop NAME`, and the operators' `ban`, `unban`, `bans`, `mute`,
 * `unmute` as the chat's commands take them. Each prints one answer; a
 * password is never printed.
 *
 * @module
 */

import { parseCommand } from "../languages/line/protocol.ts";
import type { Accounts } from "../room/accounts.ts";
import { accountNotice, moderate } from "../room/moderation.ts";
import type { ChatRoom } from "../room/chat_room.ts";
import { accountNoticeText, consoleText } from "../room/texts.ts";

/** The console's account words, with their usage. */
export const ACCOUNT_COMMANDS: Readonly<Record<string, string>> = {
  register: "register NAME PASSWORD",
  password: "password NAME NEWPASSWORD",
  unregister: "unregister NAME",
  op: "op NAME",
  deop: "deop NAME",
  ban: "ban NAME|ADDRESS[/PREFIX] [DURATION] [reason]",
  unban: "unban NAME|ADDRESS[/PREFIX]",
  bans: "bans",
  mute: "mute NAME [DURATION]",
  unmute: "unmute NAME",
};

/**
 * Runs an account command (`word` is one of {@linkcode ACCOUNT_COMMANDS});
 * resolves once its answer is printed.
 */
export async function runAccountCommand(
  word: string,
  rest: string,
  options: {
    room: ChatRoom;
    accounts: Accounts | null;
    print: (line: string) => void;
  },
): Promise<void> {
  const { room, accounts, print } = options;
  if (accounts === null) {
    print("No accounts are kept by this server.");
    return;
  }
  const [name, ...more] = rest.split(/\s+/).filter((w) => w !== "");
  const usage = () => print(consoleText.consoleUsage(ACCOUNT_COMMANDS[word]));
  const say = (text: string) => {
    for (const line of text.split("\n")) print(line);
  };
  switch (word) {
    case "register": {
      if (name === undefined || more.length === 0) return usage();
      const outcome = await accounts.register(name, more.join(" "), {
        console: true,
      });
      return say(accountNoticeText(
        accountNotice(outcome, name, { kind: "registered", name }),
      ));
    }
    case "password": {
      if (name === undefined || more.length === 0) return usage();
      const outcome = await accounts.changePassword(
        name,
        null,
        more.join(" "),
      );
      return say(accountNoticeText(
        accountNotice(outcome, name, { kind: "passwordChanged", name }),
      ));
    }
    case "unregister": {
      if (name === undefined) return usage();
      const outcome = await accounts.unregister(name, null);
      return say(accountNoticeText(
        accountNotice(outcome, name, { kind: "unregistered", name }),
      ));
    }
    case "op":
    case "deop": {
      if (name === undefined) return usage();
      const done = await accounts.setOperator(name, word === "op");
      return say(
        !done
          ? `Name "${name}" is not registered.`
          : word === "op"
          ? `${name} is now an operator.`
          : `${name} is no longer an operator.`,
      );
    }
  }
  const command = parseCommand(`/${word} ${rest}`.trim());
  if (command.kind !== "moderate") return usage();
  const notice = await moderate(
    accounts,
    {
      clock: () => Date.now(),
      disconnect: async (who, reason) =>
        (await room.kick(who, reason)) === "ok",
    },
    "console",
    command.action,
  );
  say(accountNoticeText(notice));
}
