/**
 * The chat client's core: connect, pump typed lines to the server and the
 * server's lines to the screen, leave by the rules, and with `reconnect`
 * come back after the connection dropped, in the rooms it was in. How
 * lines look (colours, the editor) is the caller's: this module speaks the
 * protocol only. Passwords (the server's, a registered name's) are sent
 * and never shown: on a prompt the user answers, the caller is told to hide
 * the next line typed.
 *
 * @module
 */

import { describeError } from "../io/errors.ts";
import { type ByteReader, type Line, LineReader } from "../io/line_reader.ts";
import { type ByteWriter, Outbox } from "../io/outbox.ts";
import { isExitWord, parseCommand } from "../languages/line/protocol.ts";
import { stripControls } from "../room/sanitize.ts";
import { roomKey } from "../room/room_names.ts";
import { accountText, serverText } from "../room/texts.ts";
import { backoffDelayMs } from "./backoff.ts";
import { speaksHttp, webUrl } from "./http_probe.ts";
import { rejoinCommands, RoomBook, type RoomsSnapshot } from "./rooms.ts";
import { parseServerLine } from "./server_lines.ts";
import { clientText } from "./texts.ts";

/** A connection to the server: bytes both ways. */
export interface ClientConnection extends ByteReader, ByteWriter {
  /** Closes the connection. */
  close(): void;
}

/** Typed lines, as `LineReader` gives them. */
export interface LineSource {
  /** The next lines typed; null when the input ended (Ctrl+D). */
  next(): Promise<Line[] | null>;
  /** What was typed after the last full line, once the input ended. */
  rest(): string | null;
}

/** Options of {@linkcode runChatClient}. */
export interface ChatClientOptions {
  /** The server as `HOST:PORT`, for messages. */
  address: string;
  /** Opens the connection (and makes the TLS handshake). */
  connect: () => Promise<ClientConnection>;
  /** What the user types, as bytes (stdin); or see `lines`. */
  input?: ByteReader;
  /** What the user types, as lines (the line editor). Wins over `input`. */
  lines?: LineSource;
  /** Shows one line to the user (stdout). */
  print: (line: string) => void;
  /** Shows one error line to the user (stderr). */
  printError: (line: string) => void;
  /** Sees every line from the server, also those not shown. */
  observe?: (line: string) => void;
  /** Called with each typed line sent once the name was taken. */
  echo?: (line: string) => void;
  /** Called with each typed line that answers a prompt, passwords aside. */
  echoAnswer?: (line: string) => void;
  /** Answers the name prompt with this; typed lines wait until it is taken. */
  name?: string;
  /** Answers the password prompt with this. */
  password?: string;
  /**
   * Answers a registered name's `Password for NAME:` with this
   * (`CHAT_ACCOUNT_PASSWORD`) until the server refuses it.
   */
  accountPassword?: string;
  /**
   * Called when a password prompt is left to the user: the next line typed
   * is a password (the terminal hides it).
   */
  askSecret?: () => void;
  /** Sends `/who` after the welcome and shows not that one answer. */
  askWho?: boolean;
  /**
   * Sends `/topic` after the welcome and shows not that one answer: it
   * names the main room, which the welcome does not.
   */
  askRoom?: boolean;
  /**
   * Comes back after the connection dropped (README "Reconnecting"), and
   * rejoins the rooms it was in, the current one last.
   */
  reconnect?: boolean;
  /** The delay before reconnect attempt N (0 first). Default 1, 2, 4... s. */
  reconnectDelayMs?: (attempt: number) => number;
  /** Aborting it (Ctrl+C) leaves the chat as `exit` does. */
  signal?: AbortSignal;
  /** Longest wait for the server to close after `exit`. Default 2000. */
  exitWaitMs?: number;
  /** Longest wait for the server's first line. Default 10000. */
  greetingTimeoutMs?: number;
  /**
   * With no first line after this long, a second connection asks whether
   * the other end is a web server (which never speaks first). Default 1000.
   */
  probeAfterMs?: number;
  /** Whether the connection is TLS (says `https` for a web port). */
  tls?: boolean;
}

const encoder = new TextEncoder();
// Long enough for any line a server sends; the server bounds what we send.
const MAX_LINE_BYTES = 1024 * 1024;
const WELCOME_LAST = serverText.welcome("").at(-1)!;
const WELCOME_MIDDLE = new Set(serverText.welcome("").slice(1, -1));
// After these the server closes on purpose: coming back would not help (and
// after a login elsewhere it would throw the other one out in turn).
const FINAL_LINES: ReadonlySet<string> = new Set([
  serverText.wrongPassword,
  serverText.tooManyAttempts,
  serverText.registrationTimedOut,
  accountText.loggedInElsewhere,
]);
// `You are banned from this chat[ until ...][ (reason)].`
const BANNED_HEAD = accountText.banned(null, "").slice(0, -1);
// The first line of our server: its name prompt, or why it turns us away.
const GREETINGS: ReadonlySet<string> = new Set([
  serverText.namePrompt,
  serverText.serverFull,
  serverText.tooManyFromAddress,
  serverText.shuttingDown,
  serverText.unavailable,
]);
const HTTP_STATUS_LINE = /^HTTP\/\d(?:\.\d)? \d{3}(?: |$)/;
// The line after a `/who` answer when the room has operators.
const OPERATORS_HEAD = serverText.operators([]);
// The server's answers that move the user between rooms.
const ROOM_ANSWERS: ReadonlySet<string> = new Set([
  "youJoined",
  "currentRoom",
  "youLeft",
  "youWereKicked",
]);
const TOPIC_COMMAND = "/topic";
const UNKNOWN_TOPIC_COMMAND = serverText.unknownCommand(TOPIC_COMMAND);
// `/quit` and `/exit` with a reason leave as the bare words do.
const EXIT_WITH_REASON = /^\/(?:quit|exit)\s/i;
// Of a stranger's first line, this much is quoted, controls removed.
const QUOTED_CHARS = 80;

/** How one connection ended. */
type SessionEnd = "left" | "final" | "dropped" | "stranger";

/**
 * Runs the client until the chat ends, resolving with the exit code: 0 when
 * the user or the server ended the chat, 1 when the connection failed or
 * the other end is not a chat server. Never rejects.
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

  // The connection now, if any, and what typed lines wait for.
  let outbox: Outbox | null = null;
  let registered = false;
  let registeredName: string | undefined;
  let typedPassword: string | undefined;
  // The registered name's password as far as the client knows it: given,
  // typed at its prompt, or set by `/register` or `/password`; forgotten
  // once refused, so that a wrong one is never sent again.
  let accountPassword = options.accountPassword;
  // A password typed in a `/register` or `/password` not answered yet
  // (null: an `/unregister`).
  let accountPending: string | null | undefined;
  // Which password prompt the next typed line answers, if any.
  let secretFor: "server" | "account" | null = null;
  const held: string[] = [];
  // The rooms the user is in, to come back to; and where the user was while
  // a rejoin is not answered yet (a drop then must not lose the rooms).
  const rooms = new RoomBook();
  let owed: RoomsSnapshot | null = null;
  let leaving = false;
  let leaveTimer: ReturnType<typeof setTimeout> | undefined;
  let endSession: (() => void) | null = null;
  const stop = new AbortController();

  const sendLine = (text: string) => outbox?.send(encoder.encode(text + "\n"));

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
    if (outbox === null) {
      // Between connections: nothing to say goodbye to.
      stop.abort();
      return;
    }
    sendLine(line);
    leaveTimer = setTimeout(() => endSession?.(), options.exitWaitMs ?? 2000);
  };

  const sendTyped = (line: string) => {
    if (outbox === null) {
      held.push(line);
      return;
    }
    const secret = secretFor;
    if (secret === "server") typedPassword = line;
    if (secret === "account") accountPassword = line;
    secretFor = null;
    sendLine(line);
    if (registered) {
      noteAccountCommand(line);
      options.echo?.(line);
    } else if (secret === null) options.echoAnswer?.(line);
  };

  // What `/register`, `/password` and `/unregister` will set once the
  // server says they did.
  const noteAccountCommand = (line: string) => {
    const command = parseCommand(line);
    if (command.kind === "register" || command.kind === "password") {
      accountPending = command.password;
    } else if (command.kind === "unregister") accountPending = null;
  };

  const fromUser = async () => {
    const lines = options.lines ?? new LineReader(options.input!, {
      maxLineBytes: MAX_LINE_BYTES,
      minReadBytes: 4096,
    });
    try {
      while (!leaving) {
        if (gate !== null) await gate.promise;
        if (leaving) return;
        const batch = await lines.next();
        if (leaving) return;
        if (batch === null) {
          // End of input: what was typed goes first, then `exit`.
          const rest = lines.rest();
          if (rest !== null && rest.trim() !== "" && !isExitWord(rest.trim())) {
            sendTyped(rest);
          }
          leave();
          return;
        }
        for (const line of batch) {
          if (typeof line !== "string") continue;
          const trimmed = line.trim();
          if (isExitWord(trimmed) || EXIT_WITH_REASON.test(trimmed)) {
            leave(line);
            return;
          }
          sendTyped(line);
        }
      }
    } catch {
      leave();
    }
  };

  const session = async (
    connection: ClientConnection,
    rejoin: boolean,
  ): Promise<SessionEnd> => {
    const out = new Outbox({ writer: connection });
    outbox = out;
    registered = false;
    const ended = Promise.withResolvers<void>();
    endSession = ended.resolve;
    let final = false;
    // Until the first line, the other end may be no chat server at all.
    let greeted = false;
    let stranger: string | null = null;
    const greetingTimeoutMs = options.greetingTimeoutMs ?? 10_000;
    const greetingTimer = setTimeout(() => {
      stranger = clientText.noGreeting(address, greetingTimeoutMs / 1000);
      ended.resolve();
    }, greetingTimeoutMs);
    const probe = new AbortController();
    let probing: Promise<void> = Promise.resolve();
    const probeTimer = setTimeout(() => {
      probing = speaksHttp(options.connect, address, probe.signal).then(
        (http) => {
          if (!http || greeted || stranger !== null) return;
          stranger = clientText.webPort(address, webUrl(address, options.tls));
          ended.resolve();
        },
      );
    }, options.probeAfterMs ?? 1000);
    let whoPending = false;
    let operatorsPending = false;
    let topicPending = false;
    let hidingWelcome = false;
    let hidingHistory = false;
    // Where the user was, and the rooms being joined again whose history
    // (seen already, as the main room's) is not shown again.
    const snapshot = owed ?? rooms.snapshot();
    const rejoins = rejoin ? rejoinCommands(snapshot) : [];
    owed = rejoins.length > 0 ? snapshot : null;
    const rejoining = new Set<string>();
    if (rejoin) {
      gate ??= Promise.withResolvers();
    } else if (options.name !== undefined) {
      gate = Promise.withResolvers();
      sendLine(options.name);
    } else {
      // A fresh start: what was typed meanwhile answers the name prompt.
      openGate();
      for (const typed of held.splice(0)) sendTyped(typed);
    }

    // Whether the line just shown was a prompt the client answered itself.
    let answered = false;
    const show = (line: string): boolean => {
      if (line === serverText.namePrompt) {
        if (rejoin && registeredName !== undefined) {
          sendLine(registeredName);
          return false;
        }
        return true;
      }
      if (line === serverText.passwordPrompt) {
        const known = password ?? (rejoin ? typedPassword : undefined);
        return answerPassword("server", known);
      }
      const parsed = parseServerLine(line);
      if (!registered && parsed.kind === "accountPrompt") {
        return answerPassword("account", accountPassword);
      }
      if (!registered && parsed.kind === "loginRefused") {
        accountPassword = undefined;
      }
      if (registered && parsed.kind === "accountSet") {
        if (typeof accountPending === "string") {
          accountPassword = accountPending;
        }
        accountPending = undefined;
      }
      if (registered && parsed.kind === "accountGone") {
        accountPassword = accountPending = undefined;
      }
      rooms.follow(parsed);
      if (parsed.kind === "renamedSelf") registeredName = parsed.name;
      if (parsed.kind === "welcome") {
        registeredName = parsed.name;
        registered = true;
        if (rejoin) {
          hidingWelcome = true;
          print(clientText.reconnected(registeredName));
          return false;
        }
        return true;
      }
      if (line === WELCOME_LAST) {
        if (options.askWho) {
          sendLine("/who");
          whoPending = true;
        }
        if (options.askRoom) {
          sendLine(TOPIC_COMMAND);
          topicPending = true;
        }
        if (rejoin) {
          // The rooms first, so that what was typed goes where it was meant.
          for (const command of rejoins) {
            sendLine(command);
            const room = command.slice(command.indexOf(" ") + 1);
            if (command.startsWith("/join ")) rejoining.add(roomKey(room));
          }
          for (const typed of held.splice(0)) sendTyped(typed);
          hidingHistory = true;
        }
        const shown = !hidingWelcome;
        hidingWelcome = false;
        return shown;
      }
      if (hidingWelcome && WELCOME_MIDDLE.has(line)) return false;
      if (hidingHistory) {
        if (parsed.kind === "history") return false;
        hidingHistory = false;
        if (parsed.kind === "historyEnd") return false;
      }
      if (ROOM_ANSWERS.has(parsed.kind) && owed !== null) {
        const room = "room" in parsed ? roomKey(parsed.room) : "";
        const answered = parsed.kind !== "youLeft" && rejoining.delete(room);
        if (answered && parsed.kind === "youJoined") hidingHistory = true;
        // All answered, or the user moves on: the book is right again.
        if (!answered || rejoining.size === 0) owed = null;
      }
      const operators = operatorsPending;
      operatorsPending = false;
      if (whoPending && parsed.kind === "online") {
        whoPending = false;
        operatorsPending = true;
        return false;
      }
      if (operators && line.startsWith(OPERATORS_HEAD)) return false;
      // A server without rooms does not know the command: not shown either.
      if (
        topicPending &&
        (parsed.kind === "roomTopic" || line === UNKNOWN_TOPIC_COMMAND)
      ) {
        topicPending = false;
        return false;
      }
      if (FINAL_LINES.has(line) || line.startsWith(BANNED_HEAD)) final = true;
      return true;
    };

    // A password prompt: answered with the password known (and not shown
    // on a rejoin), or left to the user, whose next line is hidden.
    const answerPassword = (
      kind: "server" | "account",
      known: string | undefined,
    ): boolean => {
      answered = known !== undefined;
      if (known !== undefined) {
        sendLine(known);
        return !rejoin;
      }
      secretFor = kind;
      options.askSecret?.();
      return true;
    };

    const fromServer = async () => {
      const lines = new LineReader(connection, {
        maxLineBytes: MAX_LINE_BYTES,
      });
      try {
        for (let batch; (batch = await lines.next()) !== null;) {
          for (const line of batch) {
            if (typeof line !== "string") continue;
            if (!greeted) {
              clearTimeout(greetingTimer);
              clearTimeout(probeTimer);
              if (!GREETINGS.has(line)) {
                stranger = strangerText(line);
                return;
              }
              greeted = true;
            }
            options.observe?.(line);
            answered = false;
            if (show(line)) print(line);
            // A prompt the client answered itself keeps typed lines waiting.
            if (line !== serverText.namePrompt && !answered) openGate();
          }
        }
      } catch {
        // A reset is the server going away, like a close.
      }
      if (!greeted && stranger === null) {
        stranger = clientText.closedWithoutGreeting(address);
      }
    };

    fromServer().then(ended.resolve);
    await ended.promise;
    clearTimeout(greetingTimer);
    clearTimeout(probeTimer);
    probe.abort();
    await probing;
    clearTimeout(leaveTimer);
    out.close();
    outbox = null;
    endSession = null;
    try {
      connection.close();
    } catch {
      // Closed already.
    }
    if (stranger !== null) {
      options.printError(stranger);
      return "stranger";
    }
    if (leaving) return "left";
    return final ? "final" : "dropped";
  };

  // What to say of a first line that is not our server's.
  const strangerText = (line: string): string => {
    if (HTTP_STATUS_LINE.test(line)) {
      return clientText.webPort(address, webUrl(address, options.tls));
    }
    const clean = stripControls(line).replaceAll("\t", " ").trim();
    const quoted = clean.length > QUOTED_CHARS
      ? `${clean.slice(0, QUOTED_CHARS)}...`
      : clean;
    return clientText.notChatServer(address, quoted);
  };

  const onAbort = () => leave();
  options.signal?.addEventListener("abort", onAbort);
  const userDone = fromUser();
  let rejoin = false;
  let attempt = 0;
  let first = true;
  let code = 0;
  try {
    while (true) {
      const end = await session(conn, rejoin);
      if (registered) attempt = 0;
      if (end === "left") break;
      // Not a chat server at first: the wrong port. Later, with --reconnect,
      // something else took the port for now, and the client tries again.
      if (end === "stranger" && first) {
        code = 1;
        break;
      }
      first = false;
      if (end === "final" || !options.reconnect || leaving) {
        print(clientText.disconnected);
        break;
      }
      gate ??= Promise.withResolvers();
      let next: ClientConnection | null = null;
      while (next === null && !leaving) {
        const delay = (options.reconnectDelayMs ?? backoffDelayMs)(attempt++);
        print(clientText.reconnecting(Math.max(1, Math.round(delay / 1000))));
        await sleep(delay, stop.signal);
        if (leaving) break;
        try {
          next = await options.connect();
        } catch (error) {
          print(clientText.couldNotConnect(address, describeError(error)));
        }
      }
      if (next === null) break;
      conn = next;
      rejoin = registeredName !== undefined;
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    leaving = true;
    openGate();
  }
  // The user's reader may wait on input that never comes: it is not awaited.
  void userDone;
  return code;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
