/**
 * The IRC language of one connection, mapped onto the room's
 * {@linkcode MemberSession}: each line parsed and run through the command
 * table (`irc_commands.ts`), whose handlers live by concern: registration,
 * channels, messages and CTCP, queries, keep-alive. Away state, PING
 * timers and CTCP are the transport's own; the room never sees them.
 *
 * @module
 */

import { type Line, LINE_TOO_LONG } from "../../io/line_reader.ts";
import type { Interpreter, MemberSession } from "../../room/chat_room.ts";
import { IrcClient, type IrcClientOptions } from "./irc_client.ts";
import { dispatch } from "./irc_commands.ts";
import { KeepAlive } from "./irc_keepalive.ts";
import { parseMessage } from "./irc_message.ts";

/** The door's settings, shared by its connections. */
export type { IrcContext } from "./irc_client.ts";

/** Options of {@linkcode IrcInterpreter}. */
export type IrcInterpreterOptions = IrcClientOptions;

/**
 * Interprets the lines of one IRC connection. It is the connection's
 * {@linkcode IrcClient} too, which other IRC sessions look at (away
 * message, real name, idle).
 */
export class IrcInterpreter extends IrcClient implements Interpreter {
  #keepAlive: KeepAlive;

  /** Creates the interpreter of one connection and starts its PING timer. */
  constructor(options: IrcInterpreterOptions) {
    super(options);
    this.#keepAlive = new KeepAlive(this);
  }

  /** Stops the timers, and forgets its +i; the connection closed. */
  dispose(): void {
    this.#keepAlive.dispose();
    if (this.invisible) this.setInvisible(false);
  }

  /** Handles one line from the client. */
  handle(line: Line, session: MemberSession): void | Promise<void> {
    this.attach(session);
    this.#keepAlive.heard();
    if (line === LINE_TOO_LONG) {
      this.reply("inputTooLong");
      return;
    }
    const message = parseMessage(line);
    if (message === null) return;
    return dispatch(this, message);
  }
}
