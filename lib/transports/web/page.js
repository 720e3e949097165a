/// <reference lib="dom" />
/**
 * The chat page's script: it joins, shows the conversation room by room
 * and reconnects. It speaks the socket protocol (README "The socket
 * protocol") over a WebSocket to `/chat` on the host that served the page,
 * and sends the same lines a TCP user types (`/join #games`, `/part`,
 * `/rooms`). Everything the server sends is shown as text: the DOM is
 * built with `textContent` and text nodes only, and links are `<a>`
 * elements whose `href` is an `http:` or `https:` URL.
 *
 * Each room one is in has its own log; the room on screen is the server's
 * current room (choosing another sends `/join #room`, whose answer the
 * page does not show), so plain text goes where one is looking. The room
 * on screen is in the URL's fragment (`/#games`), and a link with one
 * opens that room.
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
/** The oldest lines of a room are dropped past this many. */
const MAX_ENTRIES = 5_000;
/**
 * A line on screen and a history line alike are one message if their
 * times are this close: history after a restart comes from the log, which
 * stamps a line when it records it, a moment after the room's time.
 */
const SAME_LINE_MS = 1_000;
/** A room's name: `#` and 1-32 letters, digits, `_` or `-`. */
const ROOM_NAME = /^#[A-Za-z0-9_-]{1,32}$/u;
/** The main room when the server does not name it. */
const DEFAULT_MAIN = "#chat";
/** The server's answer to an operator's command from anyone else. */
const ONLY_OPERATORS = "Only operators can do that.";
/** An operator's answer to `/bans`. */
const BANS_LIST = /^(?:No bans\.|Bans \(\d+\):)/u;
/** The server's answer when its accounts cannot be reached. */
const UNAVAILABLE =
  "The room cannot be reached right now; please try again in a moment.";
/** Notices that end the session: coming back would not help. */
const FINAL_NOTICE =
  /^(?:This name was logged in from elsewhere\.|You are banned from this chat)/u;
/** What an operator may do to a member from the list: label and command. */
const MODERATION = [
  ["Disconnect", "/disconnect"],
  ["Mute", "/mute"],
  ["Ban", "/ban"],
];
/** How long a mute or ban from the list lasts: label and duration. */
const MODERATION_TIMES = [
  ["10 minutes", "10m"],
  ["1 hour", "1h"],
  ["1 day", "1d"],
  ["until lifted", ""],
];

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
  passwordLabel: $("password-label"),
  password: $("password"),
  joinError: $("join-error"),
  chat: $("chat"),
  rooms: $("rooms"),
  roomForm: $("room-form"),
  roomName: $("room-name"),
  listRooms: $("list-rooms"),
  roomTitle: $("room-title"),
  roomTopic: $("room-topic"),
  part: $("part"),
  logs: $("logs"),
  composer: $("composer"),
  text: $("text"),
  people: $("people"),
  peopleTitle: $("people-title"),
  ended: $("ended"),
  endedText: $("ended-text"),
  rejoin: $("rejoin"),
};

/**
 * A room on screen, or the page's place for lines when it is in no room
 * (`name` null).
 *
 * @typedef {{
 *   key: string,
 *   name: string | null,
 *   log: HTMLOListElement,
 *   item: HTMLLIElement | null,
 *   unread: number,
 *   mentioned: boolean,
 *   topic: string | null,
 *   members: Map<string, string>,
 *   operators: Set<string>,
 *   atBottom: boolean,
 *   scrollTop: number,
 * }} View
 */

const state = {
  /** @type {WebSocket | null} */
  socket: null,
  /** What the server waits for: "name", "password" or null. */
  awaiting: null,
  /** The name asked for, then the name we have. */
  name: "",
  /** The password given, sent again on a rejoin. */
  password: "",
  /**
   * The registered name's password given, sent again on a rejoin; forgotten
   * once refused.
   */
  accountPassword: "",
  /** Which password the field is for: "server" or "account". */
  passwordFor: "server",
  /** Whether this socket got its welcome yet. */
  welcomed: false,
  /** Why the last login was refused, shown with the prompt that follows. */
  loginError: "",
  /** Whether the server said we are one of its operators. */
  operator: false,
  /** `/bans` the page sent itself to learn that; their answers hidden. */
  quietBans: 0,
  /** The member whose moderation menu is open (a lower-case name), if any. */
  moderating: null,
  /** How long a mute or ban from that menu lasts (`MODERATION_TIMES`). */
  modTime: "1h",
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
  /** The main room, which everyone joins on registering. */
  main: DEFAULT_MAIN,
  /** @type {Map<string, View>} The rooms one is in, by key, join order. */
  views: new Map(),
  /** @type {View | null} Where lines go while one is in no room. */
  lobby: null,
  /** @type {View | null} The room (or lobby) on screen. */
  shown: null,
  /** The server's current room as the page made it: a key, or null. */
  current: null,
  /** Per room key: `/join`s the page sent to switch, whose answer it hides. */
  quietSwitches: new Map(),
  /** Per room key: `/part`s the page sent itself, whose answer it hides. */
  quietParts: new Map(),
  /** Per room key: `/who #room`s the page sent itself, not shown. */
  quietWho: new Map(),
  /** The page's own `/who`s, oldest first: the room each asked about. */
  whoFor: [],
  /** Keys of the rooms a reconnect is joining again (not switched to). */
  rejoining: new Set(),
  /** The key of the room whose history comes next. */
  historyRoom: null,
  /** Messages that arrived while the tab was hidden. */
  unread: 0,
  /**
   * The public messages on screen, so that a rejoin's history skips what
   * is already shown: by room, sender, kind and text (messageKey), the
   * times (ms) they were said, oldest first, from `head` on.
   */
  seen: new Map(),
  /** The keys of `seen`, oldest first, to forget past MAX_ENTRIES. */
  seenOrder: [],
  /**
   * During a history replay: per key, the position in `seen` of the first
   * line on screen that no history line stood for yet.
   */
  replay: null,
  /** History shown of the room whose history is coming. */
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

function nearBottom(log) {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 48;
}

/**
 * Adds a line to `view`'s log (the room on screen by default); `fill`
 * puts its content into the body and says whether it mentions the user.
 */
function addEntry(kind, time, fill, view = state.shown) {
  const log = view.log;
  const stick = view === state.shown && nearBottom(log);
  const entry = document.createElement("li");
  entry.className = `entry ${kind}`;
  entry.append(timeElement(time ?? new Date().toISOString()));
  const body = document.createElement("span");
  body.className = "body";
  const mentioned = fill(body, entry);
  if (mentioned) entry.classList.add("mentioned");
  entry.append(body);
  log.append(entry);
  while (log.childElementCount > MAX_ENTRIES) {
    log.firstElementChild?.remove();
  }
  if (stick) log.scrollTop = log.scrollHeight;
  return mentioned;
}

/** A muted line: joins, leaves, notices, what the page itself says. */
function addNotice(text, time, kind = "notice", view = state.shown) {
  addEntry(kind, time, (body) => {
    body.textContent = text;
    return false;
  }, view);
}

/**
 * A message, action or private message (`event` as the server sent it),
 * in `view`. A room's message that is not on screen counts as unread
 * there, and marks it if it mentions the user.
 */
function addMessage(event, view, { history = false } = {}) {
  const kind = event.type === "private"
    ? "private"
    : event.type === "action" || event.action
    ? "action"
    : "message";
  const classes = [kind];
  if (event.own) classes.push("own");
  if (history) classes.push("history");
  const mentioned = addEntry(classes.join(" "), event.time, (body) => {
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
  }, view);
  if (kind === "private") return;
  remember(messageKey(event, view), Date.parse(event.time));
  if (!history && !event.own && view !== state.shown) {
    view.unread++;
    if (mentioned) view.mentioned = true;
    updateRoomItem(view);
  }
}

// ---------------------------------------------------------------- history

/** What a public message says, live or replayed: room, sender, kind, text. */
function messageKey(event, view) {
  return JSON.stringify([
    view.key,
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

/** The room a history line or its end belongs to, if one is in it. */
function historyView(event) {
  const key = typeof event.room === "string"
    ? roomKey(event.room)
    : state.historyRoom;
  return key === null ? undefined : state.views.get(key);
}

/**
 * A history event: shown unless it is a line already on screen from
 * before a rejoin. Time alone cannot tell (lines said in one millisecond
 * share it), so each line on screen stands for one history line alike in
 * sender, kind and text, said within SAME_LINE_MS of it, once per replay;
 * both come in the room's order, so one position per text is enough.
 */
function onHistory(event) {
  const view = historyView(event);
  if (view === undefined) return;
  if (state.replay === null) state.replay = new Map();
  const key = messageKey(event, view);
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
  addMessage(event, view, { history: true });
  // What this replay shows is new: no later history line stands for it.
  state.replay.set(key, state.seen.get(key).times.length);
}

function onHistoryEnd(event) {
  state.replay = null;
  const view = historyView(event);
  if (view !== undefined && event.sinceLeft === true) {
    // A registered member back: what was said since it left, counted.
    addNotice(
      `end of history (${event.count} since you left)`,
      event.time,
      "history-end",
      view,
    );
  } else if (view !== undefined && state.historyShown > 0) {
    addNotice("end of history", event.time, "history-end", view);
  }
  state.historyShown = 0;
}

// ---------------------------------------------------------------- rooms

/** The key two room names share: rooms are named without regard to case. */
function roomKey(name) {
  return String(name).toLowerCase();
}

/** `games` or `#games` as `#games`, or null if it is no room's name. */
function roomName(text) {
  const name = text.startsWith("#") ? text : `#${text}`;
  return ROOM_NAME.test(name) ? name : null;
}

/**
 * The room a URL fragment names (`#games`, `#%23games`), or null. Only a
 * valid name is ever sent: a link cannot make the page say anything.
 */
function roomFromHash(hash) {
  let text = hash.startsWith("#") ? hash.slice(1) : hash;
  try {
    text = decodeURIComponent(text);
  } catch {
    return null;
  }
  return roomName(text);
}

/** Adds one to `map`'s count for `key`. */
function bump(map, key) {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Takes one from `map`'s count for `key`; false when there was none. */
function take(map, key) {
  const count = map.get(key) ?? 0;
  if (count === 0) return false;
  if (count === 1) map.delete(key);
  else map.set(key, count - 1);
  return true;
}

/** A view with its own log; a room's also gets an item in the room list. */
function makeView(name) {
  const log = document.createElement("ol");
  log.className = "log";
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute(
    "aria-label",
    name === null ? "Messages" : `Messages in ${name}`,
  );
  log.tabIndex = 0;
  log.hidden = true;
  ui.logs.append(log);
  /** @type {View} */
  const view = {
    key: name === null ? "" : roomKey(name),
    name,
    log,
    item: null,
    unread: 0,
    mentioned: false,
    topic: null,
    members: new Map(),
    operators: new Set(),
    atBottom: true,
    scrollTop: 0,
  };
  if (name !== null) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "room";
    button.addEventListener("click", () => {
      show(view, { sync: true });
      ui.text.focus();
    });
    item.append(button);
    view.item = item;
    updateRoomItem(view);
  }
  return view;
}

/** The view of room `name`, made (and listed) if one was not in it. */
function ensureView(name) {
  const key = roomKey(name);
  let view = state.views.get(key);
  if (view === undefined) {
    view = makeView(name);
    state.views.set(key, view);
    ui.rooms.append(view.item);
  }
  return view;
}

/**
 * Forgets a room one left; if it was on screen, shows `next` (else the
 * first room one is in, else the lobby). Returns whether it was on screen.
 */
function removeView(view, next = undefined) {
  state.views.delete(view.key);
  view.item?.remove();
  const wasShown = state.shown === view;
  if (wasShown) {
    view.log.removeAttribute("id");
    state.shown = null;
    show(next ?? state.views.values().next().value ?? lobby());
  }
  view.log.remove();
  return wasShown;
}

function lobby() {
  state.lobby ??= makeView(null);
  return state.lobby;
}

/** The room's item in the list: its name, unread count, mention mark. */
function updateRoomItem(view) {
  const button = view.item?.firstElementChild;
  if (!button) return;
  const label = [view.name];
  const parts = [span("room-name", view.name)];
  if (view.mentioned) {
    parts.push(span("mention", "@"));
    label.push("you were mentioned");
  }
  if (view.unread > 0) {
    parts.push(span("unread", String(view.unread)));
    label.push(`${view.unread} unread`);
  }
  button.replaceChildren(...parts);
  button.classList.toggle("has-mention", view.mentioned);
  button.setAttribute("aria-label", label.join(", "));
  if (view === state.shown) button.setAttribute("aria-current", "true");
  else button.removeAttribute("aria-current");
}

/**
 * Puts `view` on screen. With `sync`, also makes it the server's current
 * room (`/join #room`, whose answer is not shown), so that plain text goes
 * there.
 */
function show(view, { sync = false } = {}) {
  const old = state.shown;
  if (old !== view) {
    if (old !== null) {
      old.atBottom = nearBottom(old.log);
      old.scrollTop = old.log.scrollTop;
      old.log.hidden = true;
      old.log.removeAttribute("id");
    }
    state.shown = view;
    view.log.hidden = false;
    view.log.id = "log";
    view.log.scrollTop = view.atBottom ? view.log.scrollHeight : view.scrollTop;
    if (old !== null) updateRoomItem(old);
  }
  view.unread = 0;
  view.mentioned = false;
  updateRoomItem(view);
  renderHead();
  renderPeople();
  setFragment(view);
  if (
    sync && view.name !== null && state.current !== view.key && canSend()
  ) {
    state.current = view.key;
    bump(state.quietSwitches, view.key);
    send(`/join ${view.name}`);
  }
}

/** Shows room `name` if one is in it, else joins it (and the answer shows). */
function openRoom(name) {
  const view = state.views.get(roomKey(name));
  if (view !== undefined) show(view, { sync: true });
  else if (canSend()) send(`/join ${name}`);
}

/** The room on screen in the URL, so that a link to it opens it. */
function setFragment(view) {
  if (!state.inChat) return;
  const hash = view.name === null ? "" : view.name;
  if (location.hash === hash) return;
  history.replaceState(
    null,
    "",
    hash === "" ? location.pathname + location.search : hash,
  );
}

/** The header over the log: the room's name, its topic, Leave. */
function renderHead() {
  const view = state.shown;
  ui.roomTitle.textContent = view.name ?? "No room";
  const topic = view.topic ?? "";
  ui.roomTopic.replaceChildren();
  ui.roomTopic.hidden = topic === "";
  ui.roomTopic.title = topic;
  appendRichText(ui.roomTopic, topic, false);
  ui.part.hidden = view.name === null;
  if (view.name !== null) ui.part.title = `Leave ${view.name}`;
  ui.text.placeholder = view.name === null
    ? "/join #room to talk"
    : `Message ${view.name}`;
}

function setTopic(view, topic) {
  view.topic = typeof topic === "string" && topic !== "" ? topic : null;
  if (view === state.shown) renderHead();
}

/** `names` (and `operators`, when given) are whom `view` has now. */
function setMembers(view, names, operators) {
  view.members.clear();
  for (const name of names) view.members.set(name.toLowerCase(), name);
  if (operators !== undefined) {
    view.operators = new Set(operators.map((name) => name.toLowerCase()));
  }
  if (view === state.shown) renderPeople();
}

function strings(value) {
  return Array.isArray(value) ? value.map(String) : [];
}

/** The room a room's event is in: ours, made if the page missed the join. */
function eventView(event) {
  return ensureView(typeof event.room === "string" ? event.room : state.main);
}

function isMe(name) {
  return String(name).toLowerCase() === state.name.toLowerCase();
}

/** You joined a room: the server made it current; its history follows. */
function onYouJoined(event) {
  const view = ensureView(String(event.room));
  state.current = view.key;
  state.historyRoom = view.key;
  state.historyShown = 0;
  state.replay = null;
  // A switch that found one out of the room joined it again.
  state.quietSwitches.delete(view.key);
  setTopic(view, event.topic);
  // The room's maker is its operator.
  if (event.members === 1) view.operators.add(state.name.toLowerCase());
  addNotice(String(event.text ?? ""), event.time, "notice", view);
  if (!state.rejoining.delete(view.key)) show(view);
  askMembers(view);
}

/** Asks who is in `view`'s room, without showing the answer. */
function askMembers(view) {
  bump(state.quietWho, view.key);
  send(`/who ${view.name}`);
}

function onCurrentRoom(event) {
  const view = ensureView(String(event.room));
  state.current = view.key;
  // A reconnect that took over its own session finds it still in its rooms.
  if (state.rejoining.delete(view.key)) {
    askMembers(view);
    return;
  }
  if (take(state.quietSwitches, view.key)) return;
  show(view);
  addNotice(String(event.text ?? ""), event.time, "notice", view);
}

/** Keeps the server's current room the one on screen. */
function syncCurrent() {
  const view = state.shown;
  if (view.name === null || state.current === view.key) return;
  state.current = null;
  show(view, { sync: true });
}

function onYouLeft(event) {
  const key = roomKey(String(event.room));
  const current = typeof event.current === "string"
    ? state.views.get(roomKey(event.current))
    : undefined;
  state.current = current?.key ?? null;
  const quiet = take(state.quietParts, key);
  const view = state.views.get(key);
  if (view !== undefined) removeView(view, current);
  if (!quiet) addNotice(String(event.text ?? ""), event.time);
  syncCurrent();
}

function onYouWereKicked(event) {
  const key = roomKey(String(event.room));
  const view = state.views.get(key);
  // Where the server put us now is not said: say where we are.
  if (state.current === key) state.current = null;
  if (view !== undefined) removeView(view);
  addNotice(String(event.text ?? ""), event.time, "notice kick");
  syncCurrent();
}

// The problems a `/join` can meet.
const JOIN_PROBLEMS = new Set(["invalidName", "tooManyRooms", "tooManyJoins"]);

function onRoomProblem(event) {
  if (typeof event.room === "string" && JOIN_PROBLEMS.has(event.problem)) {
    const key = roomKey(event.room);
    // A join the page sent (a switch, a rejoin) that failed: not in it.
    const ours = take(state.quietSwitches, key) || state.rejoining.delete(key);
    const view = state.views.get(key);
    if (ours && view !== undefined) removeView(view);
  }
  // The page's own `/part` of a room the server had not put it in.
  if (
    event.problem === "notIn" && typeof event.room === "string" &&
    take(state.quietParts, roomKey(event.room))
  ) {
    return;
  }
  addNotice(String(event.text ?? ""), event.time, "notice problem");
  // A link to a room that could not be joined: the URL names this one.
  setFragment(state.shown);
}

/** `/rooms`' answer: a list to join from. */
function onRooms(event) {
  const rooms = Array.isArray(event.rooms) ? event.rooms : [];
  const lines = strings(event.lines);
  for (const room of rooms) {
    const view = state.views.get(roomKey(room?.name));
    if (view !== undefined) setTopic(view, room.topic);
  }
  addEntry("rooms-list", event.time, (body) => {
    body.append(span("caption", lines[0] ?? `Rooms (${rooms.length}):`));
    const list = document.createElement("ul");
    list.className = "room-choices";
    for (const room of rooms) {
      const name = roomName(String(room?.name ?? ""));
      if (name === null) continue;
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "room-choice";
      button.textContent = name;
      const inIt = state.views.has(roomKey(name));
      button.title = inIt ? `Show ${name}` : `Join ${name}`;
      button.addEventListener("click", () => openRoom(name));
      item.append(button, " ", span("members", `(${Number(room.members)})`));
      if (typeof room.topic === "string" && room.topic !== "") {
        const topic = span("room-topic", "");
        appendRichText(topic, room.topic, false);
        item.append(" ", topic);
      }
      list.append(item);
    }
    body.append(list);
    return false;
  });
}

function onRoomWho(event) {
  const names = strings(event.names);
  const view = state.views.get(roomKey(String(event.room)));
  if (view !== undefined) {
    setMembers(
      view,
      names,
      Array.isArray(event.operators) ? strings(event.operators) : undefined,
    );
  }
  if (take(state.quietWho, roomKey(String(event.room)))) return;
  addNotice(String(event.text ?? ""), event.time);
}

function onRoomTopic(event) {
  const view = state.views.get(roomKey(String(event.room)));
  if (view !== undefined) setTopic(view, event.topic);
  addNotice(String(event.text ?? ""), event.time);
}

/** A room's own event: a join, a part, a kick, a topic, an operator. */
function onRoomEvent(event) {
  const view = eventView(event);
  const name = String(event.name ?? "");
  const lower = name.toLowerCase();
  switch (event.type) {
    case "join":
      if (name !== "") view.members.set(lower, name);
      break;
    case "part":
    case "roomKick":
      view.members.delete(lower);
      view.operators.delete(lower);
      break;
    case "roomOp":
      if (event.op) view.operators.add(lower);
      else view.operators.delete(lower);
      break;
    case "topic":
      setTopic(view, event.topic);
      break;
  }
  if (view === state.shown) renderPeople();
  // Our own join and part are answered by youJoined and youLeft.
  const own = (event.type === "join" || event.type === "part") && isMe(name);
  if (!own) {
    const kind = event.type === "topic" || event.type === "topicLock" ||
        event.type === "roomOp"
      ? "notice"
      : "presence";
    addNotice(String(event.text ?? ""), event.time, kind, view);
  }
}

/**
 * Someone left the chat or changed name: said in each room of ours it was
 * in (once on screen if the page knew of none), and the lists follow.
 */
function onPersonEvent(event) {
  const from = String(event.type === "rename" ? event.from : event.name);
  const lower = from.toLowerCase();
  const rooms = new Set(strings(event.rooms).map(roomKey));
  const where = [...state.views.values()].filter((view) =>
    view.members.has(lower) || rooms.has(view.key)
  );
  for (const view of state.views.values()) {
    if (!view.members.has(lower)) continue;
    const op = view.operators.delete(lower);
    view.members.delete(lower);
    if (event.type === "rename") {
      const to = String(event.to);
      view.members.set(to.toLowerCase(), to);
      if (op) view.operators.add(to.toLowerCase());
    }
  }
  renderPeople();
  const text = String(event.text ?? "");
  if (where.length === 0) where.push(state.shown);
  for (const view of where) addNotice(text, event.time, "presence", view);
}

/** Our own new name, in every room's list. */
function onRenamed(event) {
  const old = state.name.toLowerCase();
  state.name = String(event.name);
  for (const view of state.views.values()) {
    const op = view.operators.delete(old);
    if (view.members.delete(old)) {
      view.members.set(state.name.toLowerCase(), state.name);
    }
    if (op) view.operators.add(state.name.toLowerCase());
  }
  renderPeople();
  setStatus(`Connected as ${state.name}`, "ok");
  addNotice(String(event.text ?? ""), event.time);
}

// ---------------------------------------------------------------- people

function byName(a, b) {
  return a.localeCompare(b, undefined, { sensitivity: "base" });
}

/** Who is in the room on screen, its operators marked. */
function renderPeople() {
  const view = state.shown;
  if (view === null) return;
  const names = [...view.members.values()].sort(byName);
  ui.peopleTitle.textContent = view.name === null
    ? "Online"
    : `Online (${names.length})`;
  const items = names.map((name) => {
    const item = document.createElement("li");
    const op = view.operators.has(name.toLowerCase());
    if (op) {
      const mark = span("op", "@");
      mark.title = `Operator of ${view.name}`;
      item.append(mark);
    }
    if (isMe(name)) {
      item.classList.add("me");
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
    if (state.operator) item.append(...moderationMenu(name));
    return item;
  });
  ui.people.replaceChildren(...items);
}

/**
 * A server operator's actions on `name`: a button that opens a menu of
 * disconnect, mute and ban (for the time chosen), sent as the slash
 * commands one would type. Their answers are the server's, in the log.
 */
function moderationMenu(name) {
  const key = name.toLowerCase();
  const open = state.moderating === key;
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "moderate";
  toggle.textContent = "⋯";
  toggle.title = `Moderate ${name}`;
  toggle.setAttribute("aria-label", `Moderate ${name}`);
  toggle.setAttribute("aria-expanded", String(open));
  toggle.addEventListener("click", () => {
    state.moderating = open ? null : key;
    renderPeople();
    const focus = open ? ".moderate" : ".moderate-panel button";
    ui.people.querySelector(focus)?.focus();
  });
  if (!open) return [toggle];
  const panel = document.createElement("div");
  panel.className = "moderate-panel";
  const time = document.createElement("select");
  time.setAttribute("aria-label", `How long a mute or ban of ${name} lasts`);
  for (const [label, value] of MODERATION_TIMES) {
    time.append(new Option(label, value, false, value === state.modTime));
  }
  time.addEventListener("change", () => {
    state.modTime = time.value;
  });
  for (const [label, command] of MODERATION) {
    const action = document.createElement("button");
    action.type = "button";
    action.className = "quiet";
    action.textContent = label;
    action.title = `${label} ${name}`;
    action.addEventListener("click", () => {
      if (!canSend()) {
        setStatus("Not connected: try again in a moment.", "bad");
        return;
      }
      const lasting = command !== "/disconnect" && time.value !== "";
      send(`${command} ${name}${lasting ? ` ${time.value}` : ""}`);
      state.moderating = null;
      renderPeople();
    });
    panel.append(action);
  }
  panel.append(time);
  return [toggle, panel];
}

/** Everyone the page knows of, in any room: whom Tab completes. */
function knownPeople() {
  const known = new Map();
  for (const view of state.views.values()) {
    for (const [key, name] of view.members) known.set(key, name);
  }
  return [...known.values()];
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
  state.welcomed = false;
  state.quietBans = 0;
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

/** Whether a line the page sends now reaches the server as a chat line. */
function canSend() {
  return isOpen() && state.inChat && state.awaiting === null;
}

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
  // A registered name's password, asked after the server's own.
  const account = typeof event.name === "string";
  state.passwordFor = account ? "account" : "server";
  ui.passwordLabel.textContent = account
    ? `Password for ${event.name}`
    : "Server password";
  const known = account ? state.accountPassword : state.password;
  if (error === "" && known !== "" && state.inChat) {
    send(known);
    state.awaiting = null;
    return;
  }
  setStatus("The server asks for a password", "warn");
  showJoin({ password: true, error: error || state.loginError });
  state.loginError = "";
}

function onWelcome(event) {
  const rejoin = state.inChat;
  state.welcomed = true;
  state.loginError = "";
  // Whether we may moderate: the answer to a `/bans` the page asks itself.
  state.quietBans++;
  send("/bans");
  state.name = String(event.name);
  state.joined = true;
  state.attempt = 0;
  state.takenInRow = 0;
  state.main = typeof event.room === "string" && ROOM_NAME.test(event.room)
    ? event.room
    : DEFAULT_MAIN;
  const mainKey = roomKey(state.main);
  // The server put us in the main room, and only there.
  state.current = mainKey;
  state.historyRoom = mainKey;
  state.historyShown = 0;
  state.quietSwitches.clear();
  state.quietParts.clear();
  state.quietWho.clear();
  state.whoFor = [];
  state.rejoining.clear();
  for (const view of state.views.values()) {
    view.members.clear();
    view.operators.clear();
  }
  ui.people.classList.remove("stale");
  if (rejoin) {
    setStatus(`Connected as ${state.name}`, "ok");
    addNotice(`Reconnected as ${state.name}.`, event.time, "system");
    rejoinRooms();
    return;
  }
  // A link to a room (`/#games`) opens it, once the main room is shown.
  const wanted = roomFromHash(location.hash);
  // A new session (the first, or after leaving): the main room only.
  for (const view of [...state.views.values()]) {
    if (view.key !== mainKey) removeView(view);
  }
  const main = ensureView(state.main);
  showChat();
  show(main);
  setStatus(`Connected as ${state.name}`, "ok");
  const lines = Array.isArray(event.lines) ? event.lines : [];
  for (const line of lines) addNotice(String(line), event.time, "notice", main);
  state.whoFor.push(mainKey);
  send("/who");
  if (wanted !== null && roomKey(wanted) !== mainKey) send(`/join ${wanted}`);
}

/**
 * After a reconnect: joins again the rooms the page was in (their history
 * skips what is on screen), leaves the main room if it had left it, and
 * makes the room on screen current again.
 */
function rejoinRooms() {
  const mainKey = roomKey(state.main);
  const lines = [];
  if (state.views.has(mainKey)) {
    state.whoFor.push(mainKey);
    lines.push("/who");
  }
  let current = mainKey;
  for (const view of state.views.values()) {
    if (view.key === mainKey) continue;
    state.rejoining.add(view.key);
    lines.push(`/join ${view.name}`);
    current = view.key;
  }
  if (!state.views.has(mainKey)) {
    bump(state.quietParts, mainKey);
    lines.push(`/part ${state.main}`);
    current = null;
  }
  const shown = state.shown;
  if (shown.name !== null && shown.key !== current) {
    bump(state.quietSwitches, shown.key);
    lines.push(`/join ${shown.name}`);
  }
  state.current = shown.name === null ? null : shown.key;
  send(lines.join("\n"));
}

function onWho(event) {
  const names = strings(event.names);
  const operators = strings(event.operators);
  const own = state.whoFor.length > 0;
  // `/who` is about the current room (everyone, in none).
  const key = own ? state.whoFor.shift() : state.current;
  const view = key === null ? undefined : state.views.get(key);
  if (view !== undefined) setMembers(view, names, operators);
  if (own) return;
  addNotice(`Online (${names.length}): ${names.join(", ")}`, event.time);
  if (operators.length > 0) {
    addNotice(`Operators: ${operators.join(", ")}`, event.time);
  }
}

/** `/help`'s answer as a table: its text is aligned for a fixed font. */
function onHelp(event) {
  const lines = strings(event.lines);
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

function onNotice(event) {
  const text = String(event.text ?? "");
  if (FINAL_NOTICE.test(text)) return onEnd(event, true);
  if (!state.welcomed) {
    // A login refused: the password is not sent again, and the prompt
    // that follows says why.
    state.accountPassword = "";
    state.loginError = text;
  }
  if (text === ONLY_OPERATORS) setOperator(false);
  else if (BANS_LIST.test(text)) setOperator(true);
  const answer = text === ONLY_OPERATORS || BANS_LIST.test(text) ||
    text === UNAVAILABLE;
  if (answer && state.quietBans > 0) {
    state.quietBans--;
    return;
  }
  addNotice(text, event.time);
}

function setOperator(operator) {
  if (state.operator === operator) return;
  state.operator = operator;
  state.moderating = null;
  renderPeople();
}

function onEnd(event, stopped) {
  const text = String(event.text ?? "");
  if (stopped) {
    // The session is over: no reconnect, and a new try gets a new socket.
    state.stopped = true;
    dropSocket();
    setStatus("Disconnected", "bad");
    for (const view of state.views.values()) view.members.clear();
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

/** A message or action said in a room, or a private message. */
function onMessage(event) {
  const view = event.type === "private" ? state.shown : eventView(event);
  addMessage(event, view);
  if (!event.own) countUnread();
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
      return onHistoryEnd(event);
    case "message":
    case "action":
    case "private":
      return onMessage(event);
    case "join":
    case "part":
    case "topic":
    case "roomKick":
    case "roomOp":
    case "topicLock":
      return onRoomEvent(event);
    case "leave":
    case "rename":
      return onPersonEvent(event);
    case "renamed":
      return onRenamed(event);
    case "youJoined":
      return onYouJoined(event);
    case "currentRoom":
      return onCurrentRoom(event);
    case "youLeft":
      return onYouLeft(event);
    case "youWereKicked":
      return onYouWereKicked(event);
    case "roomProblem":
      return onRoomProblem(event);
    case "rooms":
      return onRooms(event);
    case "roomWho":
      return onRoomWho(event);
    case "roomTopic":
      return onRoomTopic(event);
    case "who":
      return onWho(event);
    case "help":
      return onHelp(event);
    case "notice":
      return onNotice(event);
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
    const names = knownPeople()
      .filter((name) =>
        name.toLowerCase().startsWith(prefix) &&
        name.toLowerCase() !== state.name.toLowerCase()
      )
      .sort(byName);
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

/** Keeps a password typed, for the prompt it answers, for a rejoin. */
function keepPassword(password) {
  if (state.passwordFor === "account") state.accountPassword = password;
  else state.password = password;
}

// ---------------------------------------------------------------- wiring

ui.joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (state.awaiting === "password" && !ui.passwordRow.hidden) {
    if (ui.password.value === "") {
      showJoinError("Please enter the password.");
      return;
    }
    const given = ui.password.value;
    keepPassword(given);
    // Not left in the form for the next prompt (a registered name's).
    ui.password.value = "";
    showJoinError("");
    setStatus("Checking the password…", "warn");
    send(given);
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
    keepPassword(ui.password.value);
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
  ui.name.value = state.name;
  showJoin();
});

ui.roomForm.addEventListener("submit", (event) => {
  event.preventDefault();
  // One line: a paste cannot add a second command.
  const text = ui.roomName.value.replace(/[\r\n]+/gu, " ").trim();
  if (text === "") {
    ui.roomName.focus();
    return;
  }
  if (!canSend()) {
    setStatus("Not connected: try again in a moment.", "bad");
    return;
  }
  // A bad name goes to the server too: its answer says what is allowed.
  const name = roomName(text);
  if (name !== null) openRoom(name);
  else send(`/join ${text}`);
  ui.roomName.value = "";
});

ui.listRooms.addEventListener("click", () => {
  if (canSend()) send("/rooms");
});

ui.part.addEventListener("click", () => {
  const view = state.shown;
  if (view?.name && canSend()) send(`/part ${view.name}`);
});

// A link to another room of this chat (`/#games`) opens it.
globalThis.addEventListener("hashchange", () => {
  if (!state.inChat) return;
  const name = roomFromHash(location.hash);
  if (name !== null) openRoom(name);
  else setFragment(state.shown);
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
show(lobby());
showJoin();
