/**
 * The chat client's core: connect, pump typed lines to the server and the
 * server's lines to the screen, and leave by the rules.
 *
 * @module
 */

import { describeError } from "../io/errors.ts";
import { type ByteReader, LineReader } from "../io/line_reader.ts";
import { type ByteWriter, Outbox } from "../io/outbox.ts";
import { isExitWord } from "../room/protocol.ts";
import { serverText } from "../room/texts.ts";
import { clientText } from "./texts.ts";

/** A connection to the server: bytes both ways. */
export interface ClientConnection extends ByteReader, ByteWriter {
  /** Closes the connection. */
  close(): void;
}

/** Options of {@linkcode runChatClient}. */
export interface ChatClientOptions {
  /** The server as `HOST:PORT`, for messages. */
  address: string;
  /** Opens the connection. */
  connect: () => Promise<ClientConnection>;
  /** What the user types (stdin). */
  input: ByteReader;
  /** Shows one line to the user (stdout). */
  print: (line: string) => void;
  /** Shows one error line to the user (stderr). */
  printError: (line: string) => void;
  /** Answers the name prompt with this; typed lines wait until it is taken. */
  name?: string;
  /** Answers the password prompt with this. */
  password?: string;
  /** Aborting it (Ctrl+C) leaves the chat as `exit` does. */
  signal?: AbortSignal;
  /** Longest wait for the server to close after `exit`. Default 2000. */
  exitWaitMs?: number;
}

const encoder = new TextEncoder();
// Long enough for any line a server sends; the server bounds what we send.
const MAX_LINE_BYTES = 1024 * 1024;

/**
 * Runs the client until the chat ends, resolving with the exit code: 0 when
 * the user or the server ended the chat, 1 when the connection failed.
 * Never rejects.
 */
export async function runChatClient(
  options: ChatClientOptions,
): Promise<number> {
  const { address, print, password } = options;
  print(clientText.connecting(address));
  let conn: ClientConnection;
  try {
    conn = await options.connect();
  } catch (error) {
    options.printError(
      clientText.couldNotConnect(address, describeError(error)),
    );
    return 1;
  }

  const outbox = new Outbox({ writer: conn });
  const sendLine = (text: string) => outbox.send(encoder.encode(text + "\n"));
  const ended = Promise.withResolvers<void>();
  let leaving = false;
  let leaveTimer: ReturnType<typeof setTimeout> | undefined;
  // With a name given, typed lines wait until the server has taken it (or
  // refused it, and the user has to type another).
  let gate: PromiseWithResolvers<void> | null = null;
  const openGate = () => {
    gate?.resolve();
    gate = null;
  };

  const leave = (line = "exit") => {
    if (leaving) return;
    leaving = true;
    sendLine(line);
    leaveTimer = setTimeout(ended.resolve, options.exitWaitMs ?? 2000);
  };

  if (options.name !== undefined) {
    gate = Promise.withResolvers();
    sendLine(options.name);
  }

  const fromServer = async () => {
    const lines = new LineReader(conn, { maxLineBytes: MAX_LINE_BYTES });
    try {
      for (let batch; (batch = await lines.next()) !== null;) {
        for (const line of batch) {
          if (typeof line !== "string") continue;
          print(line);
          if (line === serverText.passwordPrompt) {
            if (password !== undefined) sendLine(password);
            else openGate();
          } else if (line !== serverText.namePrompt) {
            openGate();
          }
        }
      }
    } catch {
      // A reset is the server going away, like a close.
    }
  };

  const fromUser = async () => {
    const lines = new LineReader(options.input, {
      maxLineBytes: MAX_LINE_BYTES,
      minReadBytes: 4096,
    });
    try {
      while (!leaving) {
        if (gate !== null) await gate.promise;
        const batch = await lines.next();
        if (leaving) return;
        if (batch === null) {
          // End of input: what was typed goes first, then `exit`.
          const rest = lines.rest();
          if (rest !== null && rest.trim() !== "" && !isExitWord(rest.trim())) {
            sendLine(rest);
          }
          leave();
          return;
        }
        for (const line of batch) {
          if (typeof line !== "string") continue;
          if (isExitWord(line.trim())) {
            leave(line);
            return;
          }
          sendLine(line);
        }
      }
    } catch {
      leave();
    }
  };

  const onAbort = () => leave();
  options.signal?.addEventListener("abort", onAbort);
  fromServer().then(() => {
    openGate();
    ended.resolve();
  });
  fromUser();
  await ended.promise;

  options.signal?.removeEventListener("abort", onAbort);
  clearTimeout(leaveTimer);
  if (!leaving) print(clientText.disconnected);
  outbox.close();
  try {
    conn.close();
  } catch {
    // Closed already.
  }
  return 0;
}
