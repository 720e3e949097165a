/// <reference lib="dom" />
/**
 * The chat page's script: it joins, shows the conversation and reconnects.
 * It speaks the socket protocol (README "The socket protocol") over a
 * WebSocket to `/chat` on the host that served the page. Everything the server sends is shown as text: the DOM is
 * built with `textContent` and text nodes only, and links are `<a>` elements
 * whose `href` is an `http:` or `https:` URL.
 *
 * @module
 */

import { findLinks } from "./links.js";

const BASE_TITLE = "Chat";
/** The first reconnect waits this long; each next one twice as long. */
const FIRST_DELAY_MS = 1_000;
/** No reconnect waits longer than this. */
const MAX_DELAY_MS = 30_000;
/** A taken name on an automatic rejoin is retried this often. */
const TAKEN_RETRIES = 3;
/** The oldest lines are dropped past this many. */
const MAX_ENTRIES = 5_000;
/**
 * A line on screen and a history line alike are one message if their
 * times are this close: history after a restart comes from the log, which
 * stamps a line when it records it, a moment after the room's time.
 */
const SAME_LINE_MS = 1_000;

const $ = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing`);
  return element;
};

const ui = {
  status: $("status"),
  join: $("join"),
  joinForm: $("join-form"),
  name: $("name"),
  passwordRow: $("password-row"),
  password: $("password"),
  joinError: $("join-error"),
  chat: $("chat"),
  log: $("log"),
  composer: $("composer"),
  text: $("text"),
  people: $("people"),
  peopleTitle: $("people-title"),
  ended: $("ended"),
  endedText: $("ended-text"),
  rejoin: $("rejoin"),
};

const state = {
  /** @type {WebSocket | null} */
  socket: null,
  /** What the server waits for: "name", "password" or null. */
  awaiting: null,
  /** The name asked for, then the name we have. */
  name: "",
  /** The password given, sent again on a rejoin. */
  password: "",
  /** Whether a name was ever accepted: closes then mean "rejoin". */
  joined: false,
  /** Whether the conversation is on screen. */
  inChat: false,
  /** No reconnect after goodbye, error or the user's own `exit`. */
  stopped: false,
  /** Reconnects tried since the last welcome. */
  attempt: 0,
  /** @type {number | undefined} */
  reconnectTimer: undefined,
  /** Taken-name answers on automatic rejoins in a row. */
  takenInRow: 0,
  /** `who` answers to the page's own `/who`, not shown. */
  ownWho: 0,
  /** Who is online: lower case to name. */
  online: new Map(),
  /** Messages that arrived while the tab was hidden. */
  unread: 0,
  /**
   * The public messages on screen, so that a rejoin's history skips what
   * is already shown: by sender, kind and text (messageKey), the times
   * (ms) they were said, oldest first, from `head` on.
   */
  seen: new Map(),
  /** The keys of `seen`, oldest first, to forget past MAX_ENTRIES. */
  seenOrder: [],
  /**
   * During a history replay: per key, the position in `seen` of the first
   * line on screen that no history line stood for yet.
   */
  replay: null,
  /** History shown on this connection. */
  historyShown: 0,
  /** Tab completion in progress. */
  completion: null,
};

// ---------------------------------------------------------------- text

const NAME_CHAR = String.raw`[\p{L}\p{M}\p{N}_.\-]`;

function escapeRegExp(text) {
  return text.replace(/[\\^$.*+?()[\]{}|/]/gu, "\\$&");
}

/** A pattern that finds `name` as a whole word, any case; null without one. */
function mentionPattern(name) {
  if (name === "") return null;
  return new RegExp(
    `(?<!${NAME_CHAR})${escapeRegExp(name)}(?!${NAME_CHAR.replace(".", "")})`,
    "giu",
  );
}

/**
 * Appends `text` to `parent` as text nodes, with `mark` elements around
 * `mention` matches. Returns whether there was one.
 */
function appendWithMentions(parent, text, mention) {
  if (mention === null) {
    parent.append(document.createTextNode(text));
    return false;
  }
  let found = false;
  let last = 0;
  mention.lastIndex = 0;
  for (const match of text.matchAll(mention)) {
    found = true;
    parent.append(document.createTextNode(text.slice(last, match.index)));
    const mark = document.createElement("mark");
    mark.textContent = match[0];
    parent.append(mark);
    last = match.index + match[0].length;
  }
  parent.append(document.createTextNode(text.slice(last)));
  return found;
}

/**
 * Appends `text` to `parent`: links as `<a>`, the rest as text, the user's
 * name marked when `highlight`. Returns whether the name was mentioned.
 */
function appendRichText(parent, text, highlight) {
  const mention = highlight ? mentionPattern(state.name) : null;
  let mentioned = false;
  let last = 0;
  // Linear in the text's length: any member can send any line.
  for (const { start, end, href } of findLinks(text)) {
    mentioned = appendWithMentions(
      parent,
      text.slice(last, start),
      mention,
    ) || mentioned;
    const link = document.createElement("a");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = text.slice(start, end);
    parent.append(link);
    last = end;
  }
  mentioned = appendWithMentions(parent, text.slice(last), mention) ||
    mentioned;
  return mentioned;
}

// ---------------------------------------------------------------- the log

function twoDigits(n) {
  return String(n).padStart(2, "0");
}

/** A `<time>` showing `iso` as local HH:MM; the full date in its title. */
function timeElement(iso) {
  const time = document.createElement("time");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    time.textContent = "--:--";
    return time;
  }
  time.dateTime = date.toISOString();
  time.textContent = `${twoDigits(date.getHours())}:${
    twoDigits(date.getMinutes())
  }`;
  time.title = date.toLocaleString();
  return time;
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

function nearBottom() {
  const log = ui.log;
  return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
}

/** Adds a line to the log; `fill` puts its content into the body. */
function addEntry(kind, time, fill) {
  const stick = nearBottom();
  const entry = document.createElement("li");
  entry.className = `entry ${kind}`;
  entry.append(timeElement(time ?? new Date().toISOString()));
  const body = document.createElement("span");
  body.className = "body";
  if (fill(body, entry)) entry.classList.add("mentioned");
  entry.append(body);
  ui.log.append(entry);
  while (ui.log.childElementCount > MAX_ENTRIES) {
    ui.log.firstElementChild?.remove();
  }
  if (stick) ui.log.scrollTop = ui.log.scrollHeight;
  return entry;
}

/** A muted line: joins, leaves, notices, what the page itself says. */
function addNotice(text, time, kind = "notice") {
  return addEntry(kind, time, (body) => {
    body.textContent = text;
    return false;
  });
}

/** A message, action or private message (`event` as the server sent it). */
function addMessage(event, { history = false } = {}) {
  const kind = event.type === "private"
    ? "private"
    : event.type === "action" || event.action
    ? "action"
    : "message";
  const classes = [kind];
  if (event.own) classes.push("own");
  if (history) classes.push("history");
  addEntry(classes.join(" "), event.time, (body) => {
    const highlight = !event.own;
    if (kind === "private") {
      body.append(
        span("badge", "private"),
        " ",
        span("from", event.own ? `to ${event.to}` : `from ${event.from}`),
        span("separator", ": "),
      );
    } else if (kind === "action") {
      body.append(span("from", `* ${event.from}`), " ");
    } else {
      body.append(span("from", event.from), span("separator", ": "));
    }
    const text = span("text", "");
    const mentioned = appendRichText(text, String(event.text ?? ""), highlight);
    body.append(text);
    return mentioned;
  });
  if (kind !== "private") remember(messageKey(event), Date.parse(event.time));
}

// ---------------------------------------------------------------- history

/** What a public message says, live or replayed: sender, kind and text. */
function messageKey(event) {
  return JSON.stringify([
    String(event.from),
    event.type === "action" || event.action === true,
    String(event.text ?? ""),
  ]);
}

/** Counts a public message as on screen, said at `time` (ms). */
function remember(key, time) {
  let said = state.seen.get(key);
  if (said === undefined) {
    said = { times: [], head: 0 };
    state.seen.set(key, said);
  }
  said.times.push(time);
  state.seenOrder.push(key);
  // Forgets in batches, so each message costs O(1) on average.
  if (state.seenOrder.length < MAX_ENTRIES + 1_000) return;
  const forgotten = state.seenOrder.splice(
    0,
    state.seenOrder.length - MAX_ENTRIES,
  );
  for (const old of forgotten) {
    const oldSaid = state.seen.get(old);
    oldSaid.head++;
    if (oldSaid.head === oldSaid.times.length) {
      state.seen.delete(old);
      state.replay?.delete(old);
    } else if (
      state.replay === null && oldSaid.head * 2 > oldSaid.times.length
    ) {
      // Not during a replay: its positions point into these arrays.
      oldSaid.times = oldSaid.times.slice(oldSaid.head);
      oldSaid.head = 0;
    }
  }
}

/**
 * A history event: shown unless it is a line already on screen from
 * before a rejoin. Time alone cannot tell (lines said in one millisecond
 * share it), so each line on screen stands for one history line alike in
 * sender, kind and text, said within SAME_LINE_MS of it, once per replay;
 * both come in the room's order, so one position per text is enough.
 */
function onHistory(event) {
  if (state.replay === null) state.replay = new Map();
  const key = messageKey(event);
  const time = Date.parse(event.time);
  const said = state.seen.get(key);
  if (said !== undefined) {
    let i = Math.max(state.replay.get(key) ?? 0, said.head);
    while (i < said.times.length && said.times[i] < time - SAME_LINE_MS) i++;
    state.replay.set(key, i);
    if (i < said.times.length && said.times[i] <= time + SAME_LINE_MS) {
      state.replay.set(key, i + 1);
      return;
    }
  }
  state.historyShown++;
  addMessage(event, { history: true });
  // What this replay shows is new: no later history line stands for it.
  state.replay.set(key, state.seen.get(key).times.length);
}

// ---------------------------------------------------------------- people

function renderPeople() {
  const names = [...state.online.values()].sort((a, b) =>
    a.localeCompare(b, undefined, { sensitivity: "base" })
  );
  ui.peopleTitle.textContent = `Online (${names.length})`;
  const items = names.map((name) => {
    const item = document.createElement("li");
    if (name.toLowerCase() === state.name.toLowerCase()) {
      item.className = "me";
      item.append(span("person", name), " ", span("you", "(you)"));
      return item;
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "person";
    button.textContent = name;
    button.title = `Send a private message to ${name}`;
    button.addEventListener("click", () => startPrivate(name));
    item.append(button);
    return item;
  });
  ui.people.replaceChildren(...items);
}

function addPerson(name) {
  if (typeof name !== "string" || name === "") return;
  state.online.set(name.toLowerCase(), name);
  renderPeople();
}

function removePerson(name) {
  if (typeof name !== "string") return;
  state.online.delete(name.toLowerCase());
  renderPeople();
}

/** Puts `@name ` at the start of the input, in place of another `@name`. */
function startPrivate(name) {
  const rest = ui.text.value.replace(/^@\S*\s*/u, "");
  ui.text.value = `@${name} ${rest}`;
  resizeInput();
  ui.text.focus();
  const end = ui.text.value.length;
  ui.text.setSelectionRange(end, end);
}

// ---------------------------------------------------------------- screens

function setStatus(text, tone = "") {
  ui.status.textContent = text;
  ui.status.className = tone === "" ? "status" : `status ${tone}`;
}

function updateTitle() {
  document.title = state.unread > 0
    ? `(${state.unread}) ${BASE_TITLE}`
    : BASE_TITLE;
}

function countUnread() {
  if (document.visibilityState !== "hidden") return;
  state.unread++;
  updateTitle();
}

function showJoinError(text) {
  ui.joinError.textContent = text;
  const field = state.awaiting === "password" ? ui.password : ui.name;
  if (text === "") {
    ui.name.removeAttribute("aria-invalid");
    ui.password.removeAttribute("aria-invalid");
  } else {
    field.setAttribute("aria-invalid", "true");
  }
}

/** The join form; `password` shows the password field and focuses it. */
function showJoin({ password = false, error = "" } = {}) {
  state.inChat = false;
  ui.chat.hidden = true;
  ui.join.hidden = false;
  ui.passwordRow.hidden = !password;
  showJoinError(error);
  const field = password ? ui.password : ui.name;
  field.focus();
  field.select();
}

function showChat() {
  const first = !state.inChat;
  state.inChat = true;
  ui.join.hidden = true;
  ui.chat.hidden = false;
  ui.ended.hidden = true;
  ui.composer.hidden = false;
  if (first) ui.text.focus();
}

/** The session is over for good: say why, offer to join again. */
function showEnded(text) {
  ui.composer.hidden = true;
  ui.endedText.textContent = text;
  ui.ended.hidden = false;
  ui.rejoin.focus();
}

// ---------------------------------------------------------------- socket

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/chat`;
}

function isOpen() {
  return state.socket !== null && state.socket.readyState === WebSocket.OPEN;
}

function send(text) {
  if (!isOpen()) return false;
  state.socket.send(text);
  return true;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = undefined;
  if (state.socket !== null) return;
  state.stopped = false;
  state.awaiting = null;
  state.historyShown = 0;
  state.replay = null;
  setStatus(state.joined ? "Reconnecting…" : "Connecting…", "warn");
  let socket;
  try {
    socket = new WebSocket(socketUrl());
  } catch {
    closed();
    return;
  }
  state.socket = socket;
  socket.addEventListener("message", (message) => {
    if (socket !== state.socket || typeof message.data !== "string") return;
    // A frame holds one or more events, one JSON object a line.
    for (const line of message.data.split("\n")) {
      let event;
      try {
        event = JSON.parse(line);
      } catch {
        continue;
      }
      if (event !== null && typeof event === "object") handle(event);
      // An event may end this socket (a reconnect, say): stop reading it.
      if (socket !== state.socket) return;
    }
  });
  socket.addEventListener("close", () => {
    if (socket === state.socket) closed();
  });
}

/** Closes the socket without reconnecting from its close. */
function dropSocket() {
  const socket = state.socket;
  state.socket = null;
  state.awaiting = null;
  socket?.close();
}

function closed() {
  state.socket = null;
  state.awaiting = null;
  if (state.stopped) {
    setStatus("Disconnected", "bad");
    return;
  }
  if (!state.joined || !state.inChat) {
    setStatus("Not connected", "bad");
    if (ui.joinError.textContent === "") {
      showJoin({
        password: !ui.passwordRow.hidden,
        error: "Could not reach the chat server. Try again.",
      });
    }
    return;
  }
  if (state.attempt === 0) addNotice("Connection lost.", undefined, "system");
  ui.people.classList.add("stale");
  scheduleReconnect();
}

/** Waits 1 s, 2 s, 4 s … at most 30 s (each ±20%), then connects. */
function scheduleReconnect() {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** state.attempt);
  const delay = Math.min(MAX_DELAY_MS, base * (0.8 + Math.random() * 0.4));
  state.attempt++;
  setStatus(
    `Connection lost. Reconnecting in ${
      Math.max(1, Math.round(delay / 1000))
    } s…`,
    "bad",
  );
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = setTimeout(connect, delay);
}

// ---------------------------------------------------------------- events

function onPrompt(event) {
  state.awaiting = event.prompt === "password" ? "password" : "name";
  const error = typeof event.error === "string" ? event.error : "";
  if (state.awaiting === "name") {
    if (error === "") {
      if (state.name !== "") {
        send(state.name);
        state.awaiting = null;
      }
      return;
    }
    if (state.inChat && state.takenInRow < TAKEN_RETRIES) {
      // An automatic rejoin: our old session may not be gone yet.
      state.takenInRow++;
      addNotice(`${error} Trying again…`, event.time, "system");
      dropSocket();
      scheduleReconnect();
      return;
    }
    setStatus("Not connected", "bad");
    showJoin({ error });
    return;
  }
  if (error === "" && state.password !== "" && state.inChat) {
    send(state.password);
    state.awaiting = null;
    return;
  }
  setStatus("The server asks for a password", "warn");
  showJoin({ password: true, error });
}

function onWelcome(event) {
  const rejoin = state.inChat;
  state.name = String(event.name);
  state.joined = true;
  state.attempt = 0;
  state.takenInRow = 0;
  state.online.clear();
  ui.people.classList.remove("stale");
  showChat();
  setStatus(`Connected as ${state.name}`, "ok");
  if (rejoin) {
    addNotice(`Reconnected as ${state.name}.`, event.time, "system");
  } else {
    const lines = Array.isArray(event.lines) ? event.lines : [];
    for (const line of lines) addNotice(String(line), event.time);
  }
  state.ownWho++;
  send("/who");
}

function onWho(event) {
  const names = Array.isArray(event.names) ? event.names.map(String) : [];
  state.online.clear();
  for (const name of names) state.online.set(name.toLowerCase(), name);
  renderPeople();
  if (state.ownWho > 0) {
    state.ownWho--;
    return;
  }
  addNotice(`Online (${names.length}): ${names.join(", ")}`, event.time);
}

/** `/help`'s answer as a table: its text is aligned for a fixed font. */
function onHelp(event) {
  const lines = Array.isArray(event.lines) ? event.lines.map(String) : [];
  const commands = Array.isArray(event.commands) ? event.commands : [];
  if (commands.length === 0) {
    for (const line of lines) addNotice(line, event.time);
    return;
  }
  addEntry("help", event.time, (body) => {
    const table = document.createElement("table");
    table.className = "commands";
    table.createCaption().textContent = lines[0] ?? "Commands:";
    const rows = table.createTBody();
    for (const command of commands) {
      const row = rows.insertRow();
      const usage = document.createElement("code");
      usage.textContent = String(command?.usage ?? "");
      row.insertCell().append(usage);
      row.insertCell().textContent = String(command?.summary ?? "");
    }
    body.append(table);
    return false;
  });
}

function onEnd(event, stopped) {
  const text = String(event.text ?? "");
  if (stopped) {
    // The session is over: no reconnect, and a new try gets a new socket.
    state.stopped = true;
    dropSocket();
    setStatus("Disconnected", "bad");
    state.online.clear();
    renderPeople();
  }
  if (!state.inChat) {
    showJoin({ error: text });
    return;
  }
  addNotice(text, event.time, `${event.type} system`);
  if (stopped) showEnded(text);
  else setStatus(text, "bad");
}

/** Handles one event from the server. */
function handle(event) {
  switch (event.type) {
    case "prompt":
      return onPrompt(event);
    case "welcome":
      return onWelcome(event);
    case "history":
      return onHistory(event);
    case "historyEnd":
      state.replay = null;
      if (state.historyShown > 0) {
        addNotice("end of history", event.time, "history-end");
      }
      return;
    case "message":
    case "action":
    case "private":
      addMessage(event);
      if (!event.own) countUnread();
      return;
    case "join":
      addPerson(event.name);
      return addNotice(String(event.text ?? ""), event.time, "presence");
    case "leave":
      removePerson(event.name);
      return addNotice(String(event.text ?? ""), event.time, "presence");
    case "rename":
      removePerson(event.from);
      addPerson(event.to);
      return addNotice(String(event.text ?? ""), event.time, "presence");
    case "renamed":
      removePerson(state.name);
      state.name = String(event.name);
      addPerson(state.name);
      setStatus(`Connected as ${state.name}`, "ok");
      return addNotice(String(event.text ?? ""), event.time);
    case "who":
      return onWho(event);
    case "help":
      return onHelp(event);
    case "notice":
      return addNotice(String(event.text ?? ""), event.time);
    case "shutdown":
      return onEnd(event, false);
    case "error":
    case "goodbye":
      return onEnd(event, true);
  }
}

// ---------------------------------------------------------------- input

const LEAVE = /^\s*(exit|\/quit|\/exit)\s*$/iu;

/** Sends what was typed: one message a line, in one frame. */
function sendTyped() {
  // Trailing blanks (a completed name leaves one) are not worth sending.
  const lines = ui.text.value.split(/\r?\n/u).map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");
  if (lines.length === 0) return;
  if (!isOpen() || !state.inChat || state.awaiting !== null) {
    setStatus("Not connected: your message was kept.", "bad");
    return;
  }
  if (lines.some((line) => LEAVE.test(line))) state.stopped = true;
  send(lines.join("\n"));
  ui.text.value = "";
  resizeInput();
}

function resizeInput() {
  const lines = ui.text.value.split("\n").length;
  ui.text.rows = Math.min(6, Math.max(1, lines));
}

/** Tab: completes the name before the caret; again: the next match. */
function complete(event) {
  const input = ui.text;
  if (input.selectionStart !== input.selectionEnd) return;
  const caret = input.selectionStart;
  const value = input.value;
  let completion = state.completion;
  if (
    completion === null || completion.value !== value ||
    completion.caret !== caret
  ) {
    const before = value.slice(0, caret);
    const match = before.match(new RegExp(`${NAME_CHAR}+$`, "u"));
    if (match === null) return;
    const start = caret - match[0].length;
    const prefix = match[0].toLowerCase();
    const names = [...state.online.values()]
      .filter((name) =>
        name.toLowerCase().startsWith(prefix) &&
        name.toLowerCase() !== state.name.toLowerCase()
      )
      .sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" }));
    if (names.length === 0) return;
    completion = { start, end: caret, names, index: -1, value, caret };
  }
  event.preventDefault();
  completion.index = (completion.index + 1) % completion.names.length;
  const name = completion.names[completion.index];
  const after = value.slice(completion.caret);
  const insert = after === "" || !/^\s/u.test(after) ? `${name} ` : name;
  const head = value.slice(0, completion.start);
  input.value = head + insert + after;
  const newCaret = head.length + insert.length;
  input.setSelectionRange(newCaret, newCaret);
  completion.value = input.value;
  completion.caret = newCaret;
  state.completion = completion;
  resizeInput();
}

function onTextKey(event) {
  if (
    event.key === "Tab" && !event.shiftKey && !event.altKey &&
    !event.ctrlKey && !event.metaKey
  ) {
    complete(event);
    return;
  }
  if (event.key !== "Shift") state.completion = null;
  if (
    event.key === "Enter" && !event.shiftKey && !event.isComposing &&
    !event.altKey && !event.ctrlKey && !event.metaKey
  ) {
    event.preventDefault();
    sendTyped();
  }
}

// ---------------------------------------------------------------- wiring

ui.joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (state.awaiting === "password" && !ui.passwordRow.hidden) {
    if (ui.password.value === "") {
      showJoinError("Please enter the password.");
      return;
    }
    state.password = ui.password.value;
    showJoinError("");
    setStatus("Checking the password…", "warn");
    send(state.password);
    state.awaiting = null;
    return;
  }
  const name = ui.name.value.trim();
  if (name === "") {
    showJoinError("Please enter a name.");
    ui.name.focus();
    return;
  }
  state.name = name;
  if (!ui.passwordRow.hidden && ui.password.value !== "") {
    state.password = ui.password.value;
  }
  showJoinError("");
  if (state.awaiting === "name" && isOpen()) {
    send(name);
    state.awaiting = null;
  } else if (state.socket === null) {
    connect();
  }
});

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendTyped();
  ui.text.focus();
});

ui.text.addEventListener("keydown", onTextKey);
ui.text.addEventListener("input", () => {
  resizeInput();
});

ui.rejoin.addEventListener("click", () => {
  state.joined = false;
  state.online.clear();
  renderPeople();
  ui.name.value = state.name;
  showJoin();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.unread > 0) {
    state.unread = 0;
    updateTitle();
  }
});

// Back online: no need to wait for the back-off.
globalThis.addEventListener("online", () => {
  if (state.reconnectTimer !== undefined) connect();
});

updateTitle();
showJoin();
