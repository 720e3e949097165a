/**
 * Every text a person sees: the lines the server sends, the server console,
 * the chat log's events and the client's own messages. Keeping them in one
 * module means the client recognises the server's prompts by the same
 * constants the server sends, and a translation touches one file.
 *
 * Lines are given without their `\n`.
 *
 * @module
 */

import type { AccountNotice } from "./events.ts";
import type { EndCode, EndReason } from "./reasons.ts";
import type { NameFault } from "./registry.ts";

/** Lines the server sends to a connection. */
export const serverText = {
  namePrompt: "Hello client. Please enter your name:",
  nameTaken: (name: string): string =>
    `${serverText.nameTakenPlain(name)} Please enter another name:`,
  nameTakenPlain: (name: string): string => `Name "${name}" is already taken.`,
  nameInvalid:
    "Invalid name: use 1-32 letters, digits, '_', '-', '.' or any of [ ] \\ ` ^ { } |. Please enter your name:",
  nameInvalidPlain:
    "Invalid name: use 1-32 letters, digits, '_', '-', '.' or any of [ ] \\ ` ^ { } |.",
  nameReserved: (name: string): string =>
    `${serverText.nameReservedPlain(name)} Please enter another name:`,
  nameReservedPlain: (name: string): string => `Name "${name}" is reserved.`,
  nameLooksLike: (name: string, holder: string): string =>
    `${serverText.nameLooksLikePlain(name, holder)} Please enter another name:`,
  nameLooksLikePlain: (name: string, holder: string): string =>
    `Name "${name}" looks like "${holder}", which is taken.`,
  /** The invalid-name prompt, naming the rule the name broke. */
  nameInvalidFor: (fault: NameFault): string =>
    fault.rule === "form"
      ? serverText.nameInvalid
      : `${serverText.nameInvalidPlainFor(fault)} Please enter your name:`,
  /** The same without the prompt (a `/nick`, IRC's 432). */
  nameInvalidPlainFor: (fault: NameFault): string =>
    fault.rule === "form"
      ? serverText.nameInvalidPlain
      : `Invalid name: ${nameFaultText(fault)}.`,
  wrongDoor: (webUrl: string | null): string =>
    webUrl === null
      ? "This is the chat port; connect with nc, telnet or the chat client."
      : `This is the chat port; the web chat is at ${webUrl}`,
  passwordPrompt: "Password:",
  wrongPassword: "Wrong password.",
  tooManyAttempts: "Too many attempts.",
  registrationTimedOut: "Registration timed out.",
  serverFull: "Server is full. Try again later.",
  tooManyFromAddress: "Too many connections from your address.",
  welcome: (name: string): string[] => [
    `Welcome ${name}!`,
    "Use '@<client_name> <message>' for private message.",
    "To send to all, just type your message.",
    "To disconnect, send 'exit'.",
    "Type '/who' to see who is online, '/help' for all commands.",
  ],
  welcomePrefix: "Welcome ",
  joined: (name: string): string => `*** ${name} has joined the chat.`,
  left: (name: string): string => `*** ${name} has left the chat.`,
  goodbyeUnnamed: "Goodbye!",
  goodbye: (name: string): string => `Goodbye ${name}!`,
  broadcast: (name: string, text: string): string => `${name}: ${text}`,
  privateMessage: (name: string, text: string): string =>
    `Private message from ${name}: ${text}`,
  notFound: (target: string): string => `Client "${target}" not found.`,
  privateUsage: "Usage: @<client_name> <message>",
  meUsage: "Usage: /me <action>",
  nickUsage: "Usage: /nick <new_name>",
  joinUsage: "Usage: /join #<room>",
  opUsage: "Usage: /op <client_name>",
  deopUsage: "Usage: /deop <client_name>",
  kickUsage: "Usage: /kick <client_name> [reason]",
  topiclockUsage: "Usage: /topiclock on|off",
  registerUsage: "Usage: /register <password>",
  passwordUsage: "Usage: /password <old> <new>",
  unregisterUsage: "Usage: /unregister <password>",
  disconnectUsage: "Usage: /disconnect <client_name> [reason]",
  banUsage:
    "Usage: /ban <client_name>|<address>[/<prefix>] [duration] [reason]",
  unbanUsage: "Usage: /unban <client_name>|<address>[/<prefix>]",
  muteUsage: "Usage: /mute <client_name> [duration]",
  unmuteUsage: "Usage: /unmute <client_name>",
  action: (name: string, text: string): string => `* ${name} ${text}`,
  renamedNotice: (from: string, to: string): string =>
    `*** ${from} is now known as ${to}.`,
  renamed: (name: string): string => `You are now known as ${name}.`,
  historyLine: (stamp: string, line: string): string => `[${stamp}] ${line}`,
  historyEnd: (count: number): string =>
    `*** End of history (${count} ${count === 1 ? "message" : "messages"}).`,
  announcement: (text: string): string => `*** Announcement: ${text}`,
  kicked: (reason: string): string =>
    reason === ""
      ? "You were removed from the chat."
      : `You were removed from the chat (${reason}).`,
  removed: (name: string): string => `*** ${name} was removed from the chat.`,
  online: (names: readonly string[]): string =>
    `Online (${names.length}): ${names.join(", ")}`,
  unknownCommand: (word: string): string =>
    `Unknown command "${word}". Type /help for the list of commands.`,
  lineTooLong: (limit: number): string =>
    `Message too long (limit ${limit} bytes); it was not delivered.`,
  shuttingDown: "Server is shutting down. Disconnecting...",
  binaryRefused: "Binary messages are not accepted; send text.",
  unavailable:
    "The room cannot be reached right now; please try again in a moment.",
  roomSplit:
    "*** The room is split: for now only the users of this server hear you.",
  roomWhole: "*** The room is whole again.",
  lostPlace: "This server lost its place in the room; please reconnect.",
  // Rooms (README "Rooms").
  invalidRoomName:
    "Invalid room name: use '#' and 1-32 letters, digits, '_' or '-'.",
  youJoined: (room: string, members: number, topic: string | null): string =>
    `*** You joined ${room} (${members} ${
      members === 1 ? "member" : "members"
    }).${topic === null ? "" : ` Topic: ${topic}`}`,
  joinedRoom: (name: string, room: string): string =>
    `*** ${name} has joined ${room}.`,
  currentRoom: (room: string): string => `*** Your current room is ${room}.`,
  inRoom: (room: string, line: string): string => `[${room}] ${line}`,
  youLeft: (room: string, current: string | null): string =>
    current === null
      ? `*** You left ${room}. You are in no room; /join #room to talk.`
      : `*** You left ${room}. Your current room is ${current}.`,
  leftRoom: (name: string, room: string, reason: string): string =>
    `*** ${name} has left ${room}${reason === "" ? "" : ` (${reason})`}.`,
  leftChatSaying: (name: string, reason: string): string =>
    `*** ${name} has left the chat (${reason}).`,
  notInRoom: (room: string): string => `You are not in ${room}.`,
  inNoRoom: "You are in no room; /join #room to talk.",
  roomsHeader: (count: number): string => `Rooms (${count}):`,
  roomLine: (room: string, members: number, topic: string | null): string =>
    `${room} (${members})${topic === null ? "" : `: ${topic}`}`,
  operators: (names: readonly string[]): string =>
    `Operators: ${names.join(", ")}`,
  onlineIn: (room: string, names: readonly string[]): string =>
    `Online in ${room} (${names.length}): ${names.join(", ")}`,
  noSuchRoom: (room: string): string => `No room called ${room}.`,
  topicOf: (room: string, topic: string): string =>
    `Topic of ${room}: ${topic}`,
  noTopic: (room: string): string => `${room} has no topic.`,
  topicSet: (name: string, room: string, topic: string): string =>
    `*** ${name} set the topic of ${room}: ${topic}`,
  topicCleared: (name: string, room: string): string =>
    `*** ${name} cleared the topic of ${room}.`,
  youWereKicked: (room: string, by: string, reason: string): string =>
    `*** You were kicked from ${room} by ${by}${
      reason === "" ? "" : ` (${reason})`
    }.`,
  wasKicked: (name: string, room: string, by: string, reason: string): string =>
    `*** ${name} was kicked from ${room} by ${by}${
      reason === "" ? "" : ` (${reason})`
    }.`,
  onlyOperatorsOf: (room: string): string =>
    `Only operators of ${room} can do that.`,
  opped: (by: string, name: string, room: string): string =>
    `*** ${by} made ${name} an operator of ${room}.`,
  deopped: (by: string, name: string, room: string): string =>
    `*** ${by} took operator from ${name} in ${room}.`,
  topicLocked: (by: string, room: string, locked: boolean): string =>
    `*** ${by} ${locked ? "locked" : "unlocked"} the topic of ${room}.`,
  tooManyRooms: (limit: number): string =>
    `The server has reached its limit of ${limit} rooms.`,
  notInRoomMember: (room: string): string =>
    `No one by that name is in ${room}.`,
  tooManyJoins: (limit: number): string =>
    `You are in ${limit} rooms, the limit.`,
} as const;

// What is wrong with a name, for the rules other than the general one.
function nameFaultText(fault: Exclude<NameFault, { rule: "form" }>): string {
  switch (fault.rule) {
    case "start":
      return "it must start with a letter or a digit";
    case "invisible": {
      const hex = fault.codePoint.toString(16).toUpperCase().padStart(4, "0");
      return `it has an invisible character (U+${hex})`;
    }
    case "ipAddress":
      return "it looks like an IP address";
    case "scripts": {
      const names = fault.scripts.map((script) => script.replaceAll("_", " "));
      const list = names.length < 2
        ? names.join("")
        : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
      return `it mixes scripts ("${fault.name}" has ${list} letters)`;
    }
  }
}

/** Lines the server prints on its console. */
export const consoleText = {
  webAt: (url: string): string => `Web chat at ${url}`,
  roomSplit:
    "Lost the link to the room's other servers; only this server's users hear each other until it is back.",
  roomWhole: "The link to the room's other servers is back.",
  lostPlace:
    "This server lost its place in the room; its users were disconnected and it starts afresh.",
  clientRenamed: (from: string, to: string): string =>
    `Client ${from} is now known as ${to}.`,
  clientRemoved: (name: string, reason: string): string =>
    reason === ""
      ? `Client ${name} was removed from the chat.`
      : `Client ${name} was removed from the chat (${reason}).`,
  whoHeader: (count: number): string => `Online (${count}):`,
  /** The headings of `who`'s columns, in order. */
  whoColumns: ["NAME", "ADDRESS", "DOOR", "CONNECTED SINCE"],
  /** `who`'s time for a member whose node did not say when it connected. */
  whoSinceUnknown: "-",
  notOnline: (name: string): string => `No one called "${name}" is online.`,
  kickUnavailable: (name: string): string =>
    `The room cannot be reached right now; "${name}" was not removed.`,
  consoleUsage: (usage: string): string => `Usage: ${usage}`,
  consoleHelp: [
    "Console commands:",
    "  who                  list who is online: address, door, connected since",
    "  say TEXT             announce TEXT to everyone",
    "  kick NAME [reason]   disconnect NAME",
    "  register NAME PASSWORD, password NAME NEWPASSWORD, unregister NAME",
    "  op NAME, deop NAME   make a registered name an operator, or not",
    "  ban, unban, bans, mute, unmute   as the chat's /ban and the rest",
    "  help                 show this list",
    "  Terminate server     shut the server down",
  ],
  listening: (address: string): string =>
    `Server is listening on ${address}...`,
  redisAt: (url: string): string =>
    `The room is kept in Redis at ${url} (this server is one of its nodes).`,
  howToQuit: "Type 'Terminate server' to quit.",
  accepted: (address: string): string => `Accepted connection from: ${address}`,
  clientJoined: (name: string): string => `Client ${name} has joined.`,
  clientLeft: (name: string): string => `Client ${name} disconnected.`,
  clientCut: (name: string, reason: string): string =>
    `Client ${name} disconnected (${reason}).`,
  connectionClosed: (address: string, reason: string): string =>
    `Connection from ${address} closed (${reason}).`,
  acceptFailed: (reason: string): string =>
    `Accepting connections failed: ${reason}; retrying.`,
  logProblem: (path: string, reason: string): string =>
    `Cannot write the chat log "${path}": ${reason}; keeping lines and retrying.`,
  logRecovered: (path: string): string =>
    `The chat log "${path}" is writable again.`,
  logLost: (path: string, count: number): string =>
    `${count} chat log line(s) could not be written to "${path}".`,
  shuttingDown: "Shutting down...",
  shutDown: "Server has been shut down.",
  terminateCommand: "terminate server",
} as const;

/** Events written to the chat log, each after a timestamp. */
export const logText = {
  alive: (address: string): string =>
    `Server is now alive and listening on ${address}`,
  joined: (name: string, address: string): string =>
    `Client ${name} has joined the chat room (${address})`,
  message: (name: string, text: string): string => `${name}: ${text}`,
  privateMessage: (name: string, target: string, text: string): string =>
    `${name} -> ${target}: ${text}`,
  left: (name: string): string => `${name} has left the chat`,
  disconnected: (name: string, reason: string): string =>
    `${name} has been disconnected (${reason})`,
  renamed: (from: string, to: string): string =>
    `${from} is now known as ${to}`,
  action: (name: string, text: string): string => `* ${name} ${text}`,
  announcement: (text: string): string => `Announcement: ${text}`,
  removed: (name: string, reason: string): string =>
    reason === ""
      ? `${name} was removed from the chat`
      : `${name} was removed from the chat (${reason})`,
  shutdown: "Server has been shutdown",
  finished: "Chat finished",
  /** Written by the next start, before its own line, after a crash. */
  previousRunEnded: "The previous run ended without a shutdown",
  roomSplit:
    "Lost the link to the room's other servers; only this server's users hear each other until it is back",
  roomWhole: "The link to the room's other servers is back",
  lostPlace:
    "This server lost its place in the room; its users were disconnected and it starts afresh",
  /** A member of another node, present when this node began to follow. */
  inRoomElsewhere: (name: string, address: string): string =>
    `Client ${name} is in the chat room on another server (${address})`,
  /** A member of another node this node stops following. */
  unfollowed: (name: string, reason: string): string =>
    `${name} is no longer followed here (${reason})`,
  // Rooms: a line of a room other than the main one starts `[#room] `.
  inRoom: (room: string, line: string): string => `[${room}] ${line}`,
  leftSaying: (name: string, message: string): string =>
    `${name} has left the chat (${message})`,
  joinedRoom: (name: string, room: string, address: string): string =>
    `Client ${name} has joined ${room} (${address})`,
  partedRoom: (name: string, room: string, reason: string): string =>
    reason === ""
      ? `${name} has left ${room}`
      : `${name} has left ${room} (${reason})`,
  topicSet: (name: string, room: string, topic: string | null): string =>
    topic === null
      ? `${name} cleared the topic of ${room}`
      : `${name} set the topic of ${room}: ${topic}`,
  roomKick: (name: string, room: string, by: string, reason: string): string =>
    reason === ""
      ? `${name} was kicked from ${room} by ${by}`
      : `${name} was kicked from ${room} by ${by} (${reason})`,
  roomOp: (by: string, name: string, room: string, op: boolean): string =>
    op
      ? `${by} made ${name} an operator of ${room}`
      : `${by} took operator from ${name} in ${room}`,
  topicLock: (by: string, room: string, locked: boolean): string =>
    `${by} ${locked ? "locked" : "unlocked"} the topic of ${room}`,
  // Moderation, with who did it (an operator's name, or `console`).
  banned: (by: string, what: string, until: string | null, reason: string) =>
    `${by} banned ${what}${until === null ? "" : ` until ${until}`}${
      reason === "" ? "" : ` (${reason})`
    }`,
  unbanned: (by: string, what: string): string => `${by} unbanned ${what}`,
  muted: (by: string, name: string, until: string | null): string =>
    `${by} muted ${name}${until === null ? "" : ` until ${until}`}`,
  unmuted: (by: string, name: string): string => `${by} unmuted ${name}`,
  disconnectedBy: (by: string, name: string, reason: string): string =>
    `${by} disconnected ${name}${reason === "" ? "" : ` (${reason})`}`,
} as const;

/**
 * Reasons a connection ends (and this node stops following a member of
 * another), as they appear in the log and on the console.
 */
export const reasonText: Readonly<
  Record<EndCode | "idle" | "unheard", string>
> = {
  closedByPeer: "connection closed",
  reset: "connection reset",
  sendQueue: "send queue exceeded",
  registrationTimeout: "registration timed out",
  tooManyAttempts: "too many attempts",
  wrongPassword: "wrong password",
  shutdown: "server shutdown",
  exit: "left",
  removed: "removed",
  frameTooLarge: "frame too large",
  lostPlace: "server lost its place in the room",
  wrongDoor: "HTTP request on the chat port",
  crashed: "server stopped without a shutdown",
  serverLost: "server lost",
  pingTimeout: "ping timeout",
  idle: "no client on this server",
  unheard: "left while the link was lost",
  protocolError: "protocol error",
  unmaskedFrame: "unmasked frame",
  invalidUtf8: "invalid UTF-8",
  ghosted: "logged in from elsewhere",
  banned: "banned",
} as const;

/** The English of a session's end reason, for the console and the log. */
export function endReasonText(reason: EndReason): string {
  return typeof reason === "string" ? reasonText[reason] : reason.error;
}

/** The web door's plain-text answers to HTTP requests, one line each. */
export const httpText = {
  healthy: "ok",
  shuttingDown: "shutting down",
  unknownHost: "Forbidden: unknown host.",
  crossOrigin: "Forbidden: cross-origin socket.",
  notFound: "Not found.",
  methodNotAllowed: "Method not allowed.",
  badRequest: "Bad request.",
  headerTooLarge: "Request header fields too large.",
  expectedUpgrade: "Expected a WebSocket upgrade.",
  badHandshake: "Invalid WebSocket handshake.",
} as const;

/**
 * Lines of registered names, operators and stored messages (issue 20), as
 * the server sends them. Times come formatted (`durations.ts`): a ban's
 * end as `2026-12-08 14:30`, a mute's as `14:30` on the same day.
 */
export const accountText = {
  registered: (name: string): string =>
    `Name "${name}" is now registered. You will be asked for this password when you use it.`,
  passwordTooShort: (minimum: number): string =>
    `A password needs at least ${minimum} characters; it was not taken.`,
  passwordPrompt: (name: string): string => `Password for ${name}:`,
  wrongPassword: (name: string): string => `Wrong password for ${name}.`,
  loginDelayed: (name: string, seconds: number): string =>
    `Too many wrong passwords for ${name}; try again in ${seconds} ${
      seconds === 1 ? "second" : "seconds"
    }.`,
  loginLocked: (name: string, until: string): string =>
    `Too many wrong passwords for ${name}; try again after ${until}.`,
  passwordsBusy:
    "The server is busy checking passwords; please try again in a moment.",
  loggedInElsewhere: "This name was logged in from elsewhere.",
  banned: (until: string | null, reason: string): string =>
    `You are banned from this chat${until === null ? "" : ` until ${until}`}${
      reason === "" ? "" : ` (${reason})`
    }.`,
  muted: (until: string | null): string =>
    until === null ? "You are muted." : `You are muted until ${until}.`,
  onlyOperators: "Only operators can do that.",
  keptForOffline: (name: string): string =>
    `${name} is offline; your message will be delivered when ${name} logs in.`,
  offlineDropped: (count: number, limit: number): string =>
    `*** ${count} older private ${
      count === 1 ? "message was" : "messages were"
    } dropped (at most ${limit} are kept).`,
  historySinceEnd: (count: number): string =>
    `*** End of history (${count} ${
      count === 1 ? "message" : "messages"
    } since you left).`,
  ignoring: (name: string, kept: boolean): string =>
    `You are ignoring ${name}${
      kept ? "" : " for this session"
    }; /unignore ${name} shows its lines again.`,
  alreadyIgnoring: (name: string): string =>
    `You are ignoring ${name} already.`,
  unignored: (name: string): string => `You are no longer ignoring ${name}.`,
  notIgnoring: (name: string): string => `You are not ignoring ${name}.`,
  ignoreFull: (limit: number): string =>
    `You are ignoring ${limit} names, the most there can be; /unignore one first.`,
  ignoreSelf: "You cannot ignore yourself.",
  ignoreInvalid: (name: string): string => `"${name}" cannot be anyone's name.`,
  ignoreList: (names: readonly string[]): string =>
    names.length === 0
      ? "You are ignoring no one."
      : `You are ignoring: ${names.join(", ")}.`,
  unignoreUsage: "Usage: /unignore <client_name>",
} as const;

/** The line for an account or moderation notice. */
export function accountNoticeText(notice: AccountNotice): string {
  switch (notice.kind) {
    case "registered":
      return accountText.registered(notice.name);
    case "passwordTooShort":
      return accountText.passwordTooShort(notice.minimum);
    case "passwordTooLong":
      return `A password may have at most ${notice.maximum} bytes; it was not taken.`;
    case "nameRegistered":
      return `Name "${notice.name}" is registered; it is had by logging in to it.`;
    case "wrongPassword":
      return accountText.wrongPassword(notice.name);
    case "loginDelayed":
      return accountText.loginDelayed(notice.name, notice.seconds);
    case "loginLocked":
      return accountText.loginLocked(notice.name, notice.until);
    case "passwordChanged":
      return `The password of "${notice.name}" was changed.`;
    case "unregistered":
      return `Name "${notice.name}" is no longer registered.`;
    case "notRegistered":
      return `Name "${notice.name}" is not registered.`;
    case "alreadyRegistered":
      return `Name "${notice.name}" is registered already.`;
    case "operatorName":
      return `Name "${notice.name}" is an operator's; it is registered from the server's console.`;
    case "wrongOldPassword":
      return "Wrong password; nothing was changed.";
    case "unavailable":
      return serverText.unavailable;
    case "loggedInElsewhere":
      return accountText.loggedInElsewhere;
    case "banned":
      return accountText.banned(notice.until, notice.reason);
    case "muted":
      return accountText.muted(notice.until);
    case "onlyOperators":
      return accountText.onlyOperators;
    case "keptForOffline":
      return accountText.keptForOffline(notice.name);
    case "offlineMessage":
      return `[${notice.stamp}] ${
        serverText.privateMessage(notice.from, notice.text)
      }`;
    case "offlineDropped":
      return accountText.offlineDropped(notice.count, notice.limit);
    case "done":
      return notice.text;
  }
}
