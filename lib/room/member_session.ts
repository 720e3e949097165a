/**
 * A session's API (`session_api.ts`) as the room builds it for each
 * connection: every language's calls land here and go to the membership,
 * the rooms and the accounts.
 *
 * @module
 */

import type { RoomEngine } from "../engine/engine.ts";
import type { Accounts } from "./accounts.ts";
import {
  accountApi,
  type AccountApiRoom,
  bannedNotice,
  welcomeBack,
} from "./account_api.ts";
import type { Limits } from "./limits.ts";
import type { Membership } from "./membership.ts";
import type { Metrics } from "./metrics.ts";
import type { EndReason } from "./reasons.ts";
import type { Session } from "./session.ts";
import type { MemberSession } from "./session_api.ts";

/** What a session's API needs of the room. */
export interface MemberSessionRoom extends AccountApiRoom {
  /** The shared state, for a room's history. */
  engine: RoomEngine;
  /** The account store's view, or null. */
  accounts: Accounts | null;
  /** The limits in force. */
  limits: Readonly<Limits>;
  /** Counters. */
  metrics: Metrics;
  /** Whether the server asks a password. */
  needsPassword: boolean;
  /** Whether `given` is the server's password. */
  checkPassword: (given: string) => boolean;
  /** Takes a flood token: how long to wait first, in ms. */
  takeToken: () => number;
  /** Ends this session at once. */
  cut: (reason: EndReason) => void;
  /** Members and rooms. */
  members: Membership;
}

/** The session API of `session`. */
export function memberSession(
  session: Session,
  room: MemberSessionRoom,
): MemberSession {
  const members = room.members;
  const rooms = members.rooms;
  const named = () => {
    if (session.name === null) throw new Error("No name claimed yet");
    return session.name;
  };
  const account = accountApi(session, room);
  const muted = (to?: string) => {
    const notice = account.muted(to);
    if (notice !== null) session.send({ type: "accountNotice", notice });
    return notice !== null;
  };
  return {
    get name() {
      return session.name;
    },
    get present() {
      return session.entered;
    },
    needsPassword: room.needsPassword,
    limits: room.limits,
    checkPassword: room.checkPassword,
    charge: () => {
      if (room.limits.floodRate <= 0) return session.ending === null;
      const wait = room.takeToken();
      if (wait <= 0) return session.ending === null;
      room.metrics.floodDelays++;
      return session.sleep(wait).then(() => session.ending === null);
    },
    claim: (wanted) => {
      const ban = room.accounts?.banOf(wanted, null);
      if (ban === undefined) return members.claimName(session, wanted);
      room.end(session, "banned", bannedNotice(ban));
      return "taken";
    },
    enter: (options) => {
      const joinMain = options?.joinMain ?? false;
      members.enter(
        session,
        joinMain,
        joinMain ? account.sinceFor(rooms.main) : null,
      );
      if (session.loggedIn && room.accounts !== null) {
        welcomeBack(session, room.accounts);
      }
    },
    farewell: (message) => {
      session.farewell = message;
    },
    say: (text, room, options) =>
      session.entered &&
      (muted() ||
        members.say(
          session,
          named(),
          text,
          false,
          room ?? null,
          options?.notice,
        )),
    act: (text, room) =>
      session.entered &&
      (muted() || members.say(session, named(), text, true, room ?? null)),
    mainRoom: rooms.main,
    get current() {
      return session.current;
    },
    get rooms() {
      return [...session.rooms.values()];
    },
    join: (room) => rooms.join(session, room),
    part: (room, reason = "") => rooms.part(session, room, reason),
    setTopic: (room, topic) => rooms.setTopic(session, room, topic),
    lockTopic: (room, locked) => rooms.lockTopic(session, room, locked),
    setOperator: (room, name, op) => rooms.setOperator(session, room, name, op),
    kickFromRoom: (room, name, reason) =>
      rooms.kick(session, room, name, reason),
    roomInfo: (room) => rooms.info(room),
    roomMembers: (room) => members.roomMembers(room),
    isOperator: (room, name) => rooms.isOperator(room, name),
    roomList: () => rooms.summaries(),
    history: (name) => room.engine.history(name),
    tell: (target, text) =>
      muted(target) ? target : members.tell(session, named(), target, text),
    accountsKept: account.accountsKept,
    get loggedIn() {
      return account.loggedIn;
    },
    get isServerOperator() {
      return account.isServerOperator;
    },
    isRegistered: (name) => account.isRegistered(name),
    reservedForOperator: (name) => account.reservedForOperator(name),
    login: (name, password) => account.login(name, password),
    takeOver: (name) => account.takeOver(name),
    register: (password) => account.register(password),
    changePassword: (old, password) => account.changePassword(old, password),
    unregister: (password) => account.unregister(password),
    moderate: (action) => account.moderate(action),
    banList: () => account.banList(),
    muted: (to) => account.muted(to),
    keepForOffline: (target, text) => account.keepForOffline(target, text),
    ignore: (name, on) => account.ignore(name, on),
    missed: (room, history) => account.missed(room, history),
    rename: (to) => members.rename(session, named(), to),
    setAttributes: (attributes) => members.describe(session, attributes),
    setAway: (text) => members.describe(session, { away: text }),
    touch: () => members.touch(session),
    ctcp: (target, text, notice) =>
      members.ctcp(session, named(), target, text, notice),
    ctcpRoom: (text, notice, room) =>
      members.ctcpRoom(session, named(), text, notice, room),
    who: () => members.members(),
    find: (name) => members.find(name),
    reply: (event) => session.send(event),
    end: (reason, notice) => {
      if (notice === undefined) room.cut(reason);
      else room.end(session, reason, notice);
    },
  };
}
