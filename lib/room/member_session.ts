/**
 * A session's API (`session_api.ts`) as the room builds it for each
 * connection: every language's calls land here and go to the membership,
 * the rooms and the accounts.
 *
 * @module
 */

import type { ClaimResult, RoomEngine, RoomInfo } from "../engine/engine.ts";
import type { Ban } from "../engine/accounts.ts";
import type { Accounts, LoginOutcome } from "./accounts.ts";
import {
  accountApi,
  type AccountApiRoom,
  bannedNotice,
  type SessionAccounts,
  welcomeBack,
} from "./account_api.ts";
import type {
  AccountNotice,
  HistoryEntry,
  RoomEvent,
  RoomSummary,
} from "./events.ts";
import { beforeDelivery } from "./fan_out.ts";
import type { Limits } from "./limits.ts";
import type { Membership } from "./membership.ts";
import type { Metrics } from "./metrics.ts";
import type { ModerationAction } from "./moderation.ts";
import type { EndReason } from "./reasons.ts";
import type { JoinOutcome, RoomOutcome } from "./rooms.ts";
import type { Session } from "./session.ts";
import type { MemberInfo, MemberSession } from "./session_api.ts";

/**
 * What a session's API needs of the room: one object for all its sessions,
 * so the operations on one session take that session.
 */
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
  /** Takes a flood token of `session`: how long to wait first, in ms. */
  takeToken: (session: Session) => number;
  /** Ends `session` at once. */
  cut: (session: Session, reason: EndReason) => void;
  /** Members and rooms. */
  members: Membership;
}

/**
 * The session API of one session. A class, so that its operations live
 * once on the prototype: an idle connection holds three fields here, not
 * an object of some fifty closures (issue 21). The account part, which
 * keeps a login's state, is made on its first use.
 */
export class RoomSession implements MemberSession {
  readonly #session: Session;
  readonly #room: MemberSessionRoom;
  #account: SessionAccounts | null = null;

  /** The API of `session` in `room`. */
  constructor(session: Session, room: MemberSessionRoom) {
    this.#session = session;
    this.#room = room;
  }

  flushHeld(): void {
    beforeDelivery(this.#session);
  }

  // The account part, made the first time it is asked.
  #accounts(): SessionAccounts {
    return this.#account ??= accountApi(this.#session, this.#room);
  }

  #named(): string {
    const name = this.#session.name;
    if (name === null) throw new Error("No name claimed yet");
    return name;
  }

  // Whether a mute holds this member back (its notice then sent).
  #silenced(to?: string): boolean {
    const notice = this.muted(to);
    if (notice !== null) {
      this.#session.send({ type: "accountNotice", notice });
    }
    return notice !== null;
  }

  /** The name held, or null before a claim succeeded. */
  get name(): string | null {
    return this.#session.name;
  }
  /** Whether the session is in the room. */
  get present(): boolean {
    return this.#session.entered;
  }
  /** Whether the server asks for a password. */
  get needsPassword(): boolean {
    return this.#room.needsPassword;
  }
  /** The limits in force. */
  get limits(): Readonly<Limits> {
    return this.#room.limits;
  }
  /** Whether `given` is the server's password. */
  checkPassword(given: string): boolean {
    return this.#room.checkPassword(given);
  }
  /** Takes one more flood token (see `MemberSession.charge`). */
  charge(): boolean | Promise<boolean> {
    const session = this.#session;
    const room = this.#room;
    if (room.limits.floodRate <= 0) return session.ending === null;
    const wait = room.takeToken(session);
    if (wait <= 0) return session.ending === null;
    room.metrics.floodDelays++;
    return session.sleep(wait).then(() => session.ending === null);
  }
  /** Holds `wanted` without entering. */
  claim(wanted: string): ClaimResult | Promise<ClaimResult> {
    const room = this.#room;
    const ban = room.accounts?.banOf(wanted, null);
    if (ban === undefined) return room.members.claimName(this.#session, wanted);
    room.end(this.#session, "banned", bannedNotice(ban));
    return "taken";
  }
  /** Enters the chat (see `MemberSession.enter`). */
  enter(options?: { joinMain?: boolean }): void {
    const session = this.#session;
    const room = this.#room;
    const members = room.members;
    const joinMain = options?.joinMain ?? false;
    // Without the account part there was no login: nothing was missed.
    members.enter(
      session,
      joinMain,
      joinMain ? this.#account?.sinceFor(members.rooms.main) ?? null : null,
    );
    if (session.loggedIn && room.accounts !== null) {
      welcomeBack(session, room.accounts);
    }
  }
  /** Keeps what the member says as it leaves. */
  farewell(message: string): void {
    this.#session.farewell = message;
  }
  /** Says `text` in `room`, or in its current room. */
  say(text: string, room?: string, options?: { notice?: boolean }): boolean {
    const session = this.#session;
    return session.entered &&
      (this.#silenced() ||
        this.#room.members.say(
          session,
          this.#named(),
          text,
          false,
          room ?? null,
          options?.notice,
        ));
  }
  /** A `/me` action. */
  act(text: string, room?: string): boolean {
    const session = this.#session;
    return session.entered &&
      (this.#silenced() ||
        this.#room.members.say(
          session,
          this.#named(),
          text,
          true,
          room ?? null,
        ));
  }
  /** The main room's name. */
  get mainRoom(): string {
    return this.#room.members.rooms.main;
  }
  /** The room plain text goes to; null for none. */
  get current(): string | null {
    return this.#session.current;
  }
  /** The rooms it is in, in the order it joined them. */
  get rooms(): readonly string[] {
    return [...this.#session.rooms.values()];
  }
  /** Joins a room, or makes one it is in current. */
  join(room: string): JoinOutcome {
    return this.#room.members.rooms.join(this.#session, room);
  }
  /** Leaves a room. */
  part(room: string | null, reason = ""): RoomOutcome {
    return this.#room.members.rooms.part(this.#session, room, reason);
  }
  /** Sets or clears a room's topic. */
  setTopic(room: string | null, topic: string | null): RoomOutcome {
    return this.#room.members.rooms.setTopic(this.#session, room, topic);
  }
  /** Locks or unlocks a room's topic. */
  lockTopic(room: string | null, locked: boolean): RoomOutcome {
    return this.#room.members.rooms.lockTopic(this.#session, room, locked);
  }
  /** Makes `name` an operator of a room, or no longer one. */
  setOperator(room: string | null, name: string, op: boolean): RoomOutcome {
    return this.#room.members.rooms.setOperator(this.#session, room, name, op);
  }
  /** Puts `name` out of a room. */
  kickFromRoom(room: string | null, name: string, reason: string): RoomOutcome {
    return this.#room.members.rooms.kick(this.#session, room, name, reason);
  }
  /** What is kept of a room. */
  roomInfo(room: string): RoomInfo | undefined {
    return this.#room.members.rooms.info(room);
  }
  /** Who is in a room. */
  roomMembers(room: string): MemberInfo[] | undefined {
    return this.#room.members.roomMembers(room);
  }
  /** Whether `name` operates `room`. */
  isOperator(room: string, name: string): boolean {
    return this.#room.members.rooms.isOperator(room, name);
  }
  /** Every room, sorted by name. */
  roomList(): RoomSummary[] {
    return this.#room.members.rooms.summaries();
  }
  /** A room's last messages, oldest first. */
  history(name: string): HistoryEntry[] {
    return this.#room.engine.history(name);
  }
  /** A private message. */
  tell(target: string, text: string): string | null {
    return this.#silenced(target)
      ? target
      : this.#room.members.tell(this.#session, this.#named(), target, text);
  }
  /** Whether names can be registered here. */
  get accountsKept(): boolean {
    return this.#room.accounts !== null;
  }
  /** Whether this session logged in to a registered name. */
  get loggedIn(): boolean {
    return this.#session.loggedIn;
  }
  /** Whether the name held is a server operator, logged in. */
  get isServerOperator(): boolean {
    return this.#room.accounts !== null && this.#accounts().isServerOperator;
  }
  // isRegistered and reservedForOperator, which every newcomer's claim
  // asks, go straight to the store as the account part does, so that an
  // idle member holds no account part (issue 21).
  /** Whether `name` is registered (false when the store cannot say). */
  async isRegistered(name: string): Promise<boolean> {
    const accounts = this.#room.accounts;
    if (accounts === null) return false;
    try {
      return (await accounts.account(name)) !== undefined;
    } catch {
      return false;
    }
  }
  /** Whether `name` is an `--operator` name no one registered yet. */
  reservedForOperator(name: string): boolean {
    return this.#room.accounts?.reservedForOperator(name) ?? false;
  }
  /** Checks the password of a registered name. */
  login(name: string, password: string): Promise<LoginOutcome> {
    return this.#accounts().login(name, password);
  }
  /** After a login: holds the name, taking it from an older connection. */
  takeOver(name: string): Promise<ClaimResult> {
    return this.#accounts().takeOver(name);
  }
  /** Registers the name held. */
  register(password: string): Promise<AccountNotice> {
    return this.#accounts().register(password);
  }
  /** Changes the password of the name held. */
  changePassword(old: string, password: string): Promise<AccountNotice> {
    return this.#accounts().changePassword(old, password);
  }
  /** Gives up the registration of the name held. */
  unregister(password: string): Promise<AccountNotice> {
    return this.#accounts().unregister(password);
  }
  /** An operator's action. */
  moderate(action: ModerationAction): Promise<AccountNotice> {
    return this.#accounts().moderate(action);
  }
  /** The bans in force, for a server operator. */
  banList(): Promise<readonly Ban[]> {
    return this.#accounts().banList();
  }
  /** Why this member may not say anything now, or null. */
  muted(to?: string): AccountNotice | null {
    // Without an account store no one is muted.
    if (this.#room.accounts === null) return null;
    return this.#accounts().muted(to);
  }
  /** Keeps a private message for a registered name that is away. */
  keepForOffline(target: string, text: string): Promise<boolean> {
    return this.#accounts().keepForOffline(target, text);
  }
  /** `/ignore`, `/unignore` and the list. */
  ignore(name: string | null, on: boolean): Promise<AccountNotice> {
    return this.#accounts().ignore(name, on);
  }
  /** What a registered member back missed of a room's `history`. */
  missed(
    room: string,
    history: readonly HistoryEntry[],
  ): HistoryEntry[] | null {
    // Without the account part there was no login: nothing was missed.
    return this.#account?.missed(room, history) ?? null;
  }
  /** Renames. */
  rename(to: string): ClaimResult | Promise<ClaimResult> {
    return this.#room.members.rename(this.#session, this.#named(), to);
  }
  /** Tells what the member says about itself (IRC's USER). */
  setAttributes(attributes: { user?: string; realName?: string }): void {
    this.#room.members.describe(this.#session, attributes);
  }
  /** Marks the member away with `text`, or back with null. */
  setAway(text: string | null): void {
    this.#room.members.describe(this.#session, { away: text });
  }
  /** Notes that the member did something. */
  touch(): void {
    this.#room.members.touch(this.#session);
  }
  /** A CTCP to the member who holds `target`. */
  ctcp(target: string, text: string, notice: boolean): string | null {
    return this.#room.members.ctcp(
      this.#session,
      this.#named(),
      target,
      text,
      notice,
    );
  }
  /** A CTCP to the members of `room`. */
  ctcpRoom(text: string, notice: boolean, room: string): boolean {
    return this.#room.members.ctcpRoom(
      this.#session,
      this.#named(),
      text,
      notice,
      room,
    );
  }
  /** Who is present, sorted by name. */
  who(): MemberInfo[] {
    return this.#room.members.members();
  }
  /** Finds who holds `name`. */
  find(name: string): MemberInfo | undefined {
    return this.#room.members.find(name);
  }
  /** Sends `event` to this connection alone. */
  reply(event: RoomEvent): void {
    this.#session.send(event);
  }
  /** Ends the session, after `notice` or at once. */
  end(reason: EndReason, notice?: RoomEvent): void {
    if (notice === undefined) this.#room.cut(this.#session, reason);
    else this.#room.end(this.#session, reason, notice);
  }
}
