/**
 * The room's shared state in Redis, so that several server processes (the
 * nodes) serve one room: names in a hash claimed by Lua scripts, node
 * leases that a dead node stops refreshing, one pub/sub channel for the
 * room's events in one order, a channel per node for private messages,
 * a hash of the rooms' infos and a stream per room for history. Each node
 * keeps a replica of the names (with the rooms each holder is in), of the
 * rooms and of their histories for the room's synchronous reads.
 *
 * See `redis_scripts.ts` for the keys and the notifications.
 *
 * @module
 */

import type { HistoryEntry } from "../room/events.ts";
import { nameKey } from "../room/registry.ts";
import type {
  ClaimResult,
  EngineSink,
  Holder,
  KickRequest,
  KickResult,
  MemberAttributes,
  PrivateMessage,
  RoomEngine,
  RoomInfo,
  RoomMessage,
} from "./engine.ts";
import { roomKey } from "../room/room_names.ts";
import type { RedisScript } from "./redis_client.ts";
import {
  NodeLinks,
  type NodeLinksOptions,
  withTimeout,
} from "./redis_node_links.ts";
import { holderJson, Replica } from "./redis_replica.ts";
import { SharedRooms } from "./redis_rooms.ts";
import type { RespArg, RespValue } from "./resp.ts";
import {
  CLAIM,
  LEAVE_ROOM,
  PUBLISH_EVENT,
  REASSERT,
  REFRESH,
  RELEASE,
  RENAME,
  SWEEP,
  SWEEP_NODE,
  UPDATE,
} from "./redis_scripts.ts";

/** Options of {@linkcode RedisEngine}. */
export interface RedisEngineOptions {
  /** `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (or `rediss://`). */
  url: string;
  /** Messages kept for newcomers. */
  historyLimit: number;
  /** The log's tail, oldest first: seeds an empty stream once. */
  history?: readonly HistoryEntry[];
  /** The main room, which is never forgotten. Default `#chat`. */
  mainRoom?: string;
  /** Prefix of every key and channel. Default `chat:`. */
  prefix?: string;
  /**
   * A node's lease in ms; it is refreshed every quarter of it, and dead
   * nodes are looked for as often. Default 10000.
   */
  leaseMs?: number;
  /** How long a node with no members stays subscribed. Default 5000. */
  idleUnsubscribeMs?: number;
  /** First wait before reconnecting to Redis, doubled each try. Default 250. */
  retryInitialMs?: number;
  /** Longest wait between reconnects. Default 5000. */
  retryMaxMs?: number;
  /** Extra root certificates (PEM) for `rediss://`. */
  caCerts?: string[];
  /**
   * How often at most a member's activity (for idle times) is written for
   * the other nodes to see, in ms: a member who keeps talking costs one
   * write in this time, not one a message. Default 30000.
   */
  activeShareMs?: number;
}

function newNodeId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 12);
}

/**
 * One node of a room kept in Redis. `start()` connects (and rejects with
 * one clear error when Redis cannot be reached); afterwards a lost Redis
 * makes the room split (claims answer `unavailable`, events reach this
 * node's users only) until it is back and this node's place re-asserted.
 *
 * @example
 * ```ts
 * const engine = new RedisEngine({ url: "redis://127.0.0.1:6379", historyLimit: 20 });
 * const room = new ChatRoom({ engine });
 * await room.start();
 * ```
 */
export class RedisEngine implements RoomEngine {
  // How to connect to Redis (with the node's id as it is then).
  #connect: Omit<NodeLinksOptions, "node" | "privates">;
  #leaseMs: number;
  #idleMs: number;
  #activeShareMs: number;
  // The activity time last written to Redis, by holder of this node.
  #activeShared = new WeakMap<Holder, number>();
  #seed: readonly HistoryEntry[];
  #node = newNodeId();
  // Former ids of this process, after it lost its place.
  #oldNodes = new Set<string>();
  #links: NodeLinks | null = null;
  #sink: EngineSink | null = null;
  // The names held on this node (authoritative here).
  #local = new Map<string, Holder>();
  // The others' names, and the rooms.
  #replica: Replica;
  #rooms: SharedRooms;
  // Resolves once subscribed and synced; null while not subscribed.
  #subscribed: Promise<void> | null = null;
  // Members that left the chat but whose leave was not published yet, with
  // the rooms they were in.
  #unannounced = new Map<string, readonly string[]>();
  #claimsInFlight = 0;
  #split = false;
  #healing = false;
  #losing = false;
  #closed = false;
  #ticking = false;
  #tickTimer: ReturnType<typeof setInterval> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #unlisten: (() => void)[] = [];

  /** Creates a node; nothing is connected before `start()`. */
  constructor(options: RedisEngineOptions) {
    const prefix = options.prefix ?? "chat:";
    const mainRoom = roomKey(options.mainRoom ?? "#chat");
    const leaseMs = Math.max(200, options.leaseMs ?? 10_000);
    this.#connect = {
      url: options.url,
      prefix,
      mainRoom,
      retryInitialMs: options.retryInitialMs ?? 250,
      retryMaxMs: options.retryMaxMs ?? 5_000,
      caCerts: options.caCerts,
      // A frozen Redis must count as lost well before leases run out.
      replyTimeoutMs: Math.max(1_000, Math.min(5_000, leaseMs / 2)),
    };
    this.#leaseMs = leaseMs;
    this.#idleMs = options.idleUnsubscribeMs ?? 5_000;
    this.#activeShareMs = Math.max(0, options.activeShareMs ?? 30_000);
    this.#seed = options.history ?? [];
    this.#rooms = new SharedRooms({
      historyLimit: options.historyLimit,
      mainRoom,
      prefix,
      run: (script, args) => this.#run(script, args),
      usable: () => this.#usable(),
      local: () => this.#local.values(),
    });
    this.#replica = new Replica({
      prefix,
      rooms: this.#rooms.replica,
      node: () => this.#node,
      isOldSelf: (node) => this.#oldNodes.has(node),
      deliver: (message) => this.#sink?.receive(message),
      lost: () => this.#lose(),
    });
  }

  /** This node's id; a new one after it lost its place. */
  get node(): string {
    return this.#node;
  }

  /** Whether the node is cut off from the room (for tests and metrics). */
  get split(): boolean {
    return this.#split;
  }

  async start(sink: EngineSink): Promise<void> {
    const links = await NodeLinks.connect({
      ...this.#connect,
      node: this.#node,
      privates: {
        receivePrivate: (message) => this.#sink?.receivePrivate(message),
        receiveKick: (request) => this.#sink?.receiveKick(request),
      },
    });
    this.#links = links;
    try {
      const placed = await this.#reassert();
      if (placed !== "ok") throw new Error("Redis refused this node's place");
      await this.#rooms.seed(this.#seed);
    } catch (error) {
      await this.#closeLinks();
      throw error;
    }
    this.#sink = sink;
    this.#unlisten = links.watch(() => this.#onDown(), () => this.#heal());
    this.#tickTimer = setInterval(() => this.#tick(), this.#leaseMs / 4);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#subscribed !== null) this.#sink?.unfollowing("shutdown");
    this.#sink = null;
    clearInterval(this.#tickTimer);
    clearTimeout(this.#idleTimer);
    for (const unlisten of this.#unlisten.splice(0)) unlisten();
    if (this.#links?.client.connected) {
      await withTimeout(this.#run(LEAVE_ROOM, []), 2_000).catch(() => {});
    }
    await this.#closeLinks();
  }

  claim(holder: Holder): ClaimResult | Promise<ClaimResult> {
    if (!this.#usable()) return "unavailable";
    return this.#claim(holder);
  }

  rename(holder: Holder, to: string): ClaimResult | Promise<ClaimResult> {
    const from = nameKey(holder.name);
    if (this.#local.get(from) !== holder) return "unavailable";
    if (!this.#usable()) return "unavailable";
    return this.#rename(holder, from, to);
  }

  release(holder: Holder): void {
    const key = nameKey(holder.name);
    if (!this.#isLocal(holder)) return;
    this.#local.delete(key);
    // While split, the re-assertion on healing deletes it.
    if (!this.#usable()) return this.#idleLater();
    this.#fire(RELEASE, [key]);
    const rooms = this.#unannounced.get(key);
    if (rooms !== undefined) {
      this.#unannounced.delete(key);
      // The room left it unannounced (it is shutting down): the other
      // nodes' users who shared a room with it must still see it leave.
      const gone: RoomMessage = {
        event: {
          type: "leave",
          time: Date.now(),
          name: holder.name,
          via: holder.transport,
          reason: "shutdown",
          rooms,
        },
        from: null,
        node: this.#node,
      };
      this.#fire(PUBLISH_EVENT, [JSON.stringify(gone), "", 0, this.#node]);
    }
    this.#idleLater();
  }

  setPresent(holder: Holder, present: boolean): void {
    holder.present = present;
    const key = nameKey(holder.name);
    if (!this.#isLocal(holder)) return;
    // The room takes a member out of the chat before out of its rooms.
    if (present) this.#unannounced.delete(key);
    else this.#unannounced.set(key, holder.rooms ?? []);
    this.#write(holder);
  }

  update(holder: Holder, attributes: MemberAttributes): void {
    holder.user = attributes.user;
    holder.realName = attributes.realName;
    holder.away = attributes.away;
    if (this.#isLocal(holder)) this.#write(holder);
  }

  touch(holder: Holder, time: number): void {
    holder.active = time;
    if (!this.#isLocal(holder)) return;
    const shared = this.#activeShared.get(holder) ?? 0;
    if (time - shared >= this.#activeShareMs) this.#write(holder);
  }

  find(name: string): Holder | undefined {
    const key = nameKey(name);
    return this.#local.get(key) ?? this.#replica.get(key);
  }

  present(): Holder[] {
    const mine = [...this.#local.values()].filter((holder) => holder.present);
    return mine.concat(this.#replica.present(this.#local));
  }

  setRooms(holder: Holder, rooms: string[]): void {
    // The info of the rooms it joined goes with it, so that Redis makes
    // again a room whose last member left meanwhile.
    const joined = this.#rooms.joined(holder.rooms, rooms);
    holder.rooms = rooms;
    if (this.#isLocal(holder)) this.#write(holder, joined);
  }

  roomInfo(room: string): RoomInfo | undefined {
    return this.#rooms.info(room);
  }

  setRoomInfo(room: string, info: RoomInfo | null): void {
    this.#rooms.set(room, info);
  }

  history(room?: string): HistoryEntry[] {
    return this.#rooms.history(room);
  }

  publish(message: RoomMessage): void {
    const event = message.event;
    // The room already saw these users leave (the sweep of this node told
    // it): only this node's log and users hear them.
    const local = event.type === "leave" &&
      event.reason === "lostPlace";
    if (local || !this.#usable() || this.#subscribed === null) {
      // Split, or no subscription to bring it back: delivered here at once.
      this.#rooms.keepHere(event);
      this.#sink?.receive(message);
      if (local || !this.#usable()) return;
    }
    if (event.type === "leave" || event.type === "removed") {
      this.#unannounced.delete(nameKey(event.name));
    }
    this.#fire(PUBLISH_EVENT, this.#rooms.publishArgs(message));
  }

  sendPrivate(message: PrivateMessage): void {
    // While split, a private message to another node cannot get there.
    if (!this.#usable()) return;
    this.#links!.sendPrivate(message).catch(() => {});
  }

  kick(request: KickRequest): KickResult | Promise<KickResult> {
    if (!this.#usable()) return { kind: "unavailable" };
    const key = nameKey(request.name.trim().normalize("NFC"));
    return this.#links!.kick(
      this.#node,
      key,
      request.reason,
      request.ghost === true,
    );
  }

  // ---- Claims ----

  #usable(): boolean {
    return !this.#closed && !this.#split && !this.#losing &&
      this.#links !== null && this.#links.client.connected;
  }

  async #claim(holder: Holder): Promise<ClaimResult> {
    this.#claimsInFlight++;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    try {
      await this.#ensureSubscribed();
      const node = this.#node;
      if (holder.node !== node || !this.#usable()) return "unavailable";
      const key = nameKey(holder.name);
      const result = await this.#run(CLAIM, [key, holderJson(holder)]);
      if (result === "ok") {
        // Lost its place meanwhile: the new id does not hold it.
        if (this.#node !== node) return "unavailable";
        this.#local.set(key, holder);
        this.#activeShared.set(holder, holder.active ?? 0);
        return "ok";
      }
      if (result === "taken") return "taken";
      // Its own lease is gone: find out why before claiming again.
      this.#tick();
      return "unavailable";
    } catch {
      return "unavailable";
    } finally {
      this.#claimsInFlight--;
      this.#idleLater();
    }
  }

  async #rename(
    holder: Holder,
    from: string,
    to: string,
  ): Promise<ClaimResult> {
    const key = nameKey(to);
    const moved = holderJson({ ...holder, name: to });
    let result: RespValue;
    try {
      result = await this.#run(RENAME, [from, key, moved]);
    } catch {
      return "unavailable";
    }
    if (result === "taken") return "taken";
    if (result !== "ok" || this.#local.get(from) !== holder) {
      this.#tick();
      return "unavailable";
    }
    this.#local.delete(from);
    this.#local.set(key, holder);
    holder.name = to;
    return "ok";
  }

  // Whether this node holds `holder`'s name.
  #isLocal(holder: Holder): boolean {
    return holder.node === this.#node &&
      this.#local.get(nameKey(holder.name)) === holder;
  }

  // Writes a holder of this node (its presence, rooms or attributes
  // changed), with the info of the rooms it joined, if Redis can be
  // reached: healing re-asserts every holder as it is then.
  #write(holder: Holder, joined: readonly string[] = []): void {
    if (!this.#usable()) return;
    this.#fire(UPDATE, [nameKey(holder.name), holderJson(holder), ...joined]);
    this.#activeShared.set(holder, holder.active ?? 0);
  }

  // ---- Subscription and replica ----

  #ensureSubscribed(): Promise<void> {
    if (this.#subscribed === null) {
      const subscribing = this.#subscribeAndSync();
      this.#subscribed = subscribing;
      subscribing.catch(() => {
        if (this.#subscribed === subscribing) this.#subscribed = null;
      });
    }
    return withTimeout(this.#subscribed, 5_000);
  }

  async #subscribeAndSync(): Promise<void> {
    const links = this.#links!;
    this.#replica.hold();
    await links.follow(this.#node, (text) => this.#replica.take(text));
    await this.#replica.load(links.client);
    this.#sink?.following(this.#replica.present(this.#local));
  }

  // No members for a while: stop listening to the room (and forget the
  // others' names, which would go stale).
  #idleLater(): void {
    if (
      this.#closed || this.#idleTimer !== undefined ||
      this.#local.size > 0 || this.#claimsInFlight > 0 ||
      this.#subscribed === null
    ) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#local.size > 0 || this.#claimsInFlight > 0) return;
      this.#unsubscribe();
    }, this.#idleMs);
  }

  #unsubscribe(): void {
    if (this.#subscribed === null) return;
    this.#subscribed = null;
    this.#replica.clearNames();
    this.#sink?.unfollowing("idle");
    this.#links!.unfollow();
  }

  // ---- Leases, sweeps and faults ----

  async #tick(): Promise<void> {
    if (this.#ticking || this.#closed || !this.#links?.client.connected) {
      return;
    }
    this.#ticking = true;
    try {
      if (this.#split) {
        await this.#heal();
        return;
      }
      if (this.#losing) return;
      const [lease] = await Promise.all([
        this.#run(REFRESH, [this.#leaseMs]),
        this.#run(SWEEP, []),
      ]);
      if (lease === "swept") await this.#lose();
      else if (lease === "expired") {
        // Nobody swept it yet: its names are its own if still free.
        const placed = await this.#reassert();
        if (placed !== "ok") await this.#lose();
      }
    } catch {
      // Lost on the way: `down` makes the room split, and `up` heals it.
    } finally {
      this.#ticking = false;
    }
  }

  #onDown(): void {
    if (this.#closed || this.#split) return;
    this.#split = true;
    this.#sink?.status("split");
  }

  // Both links are back: take this node's place again, reload the replica,
  // and tell the users the room is whole.
  async #heal(): Promise<void> {
    if (this.#healing || this.#closed || !this.#split) return;
    const links = this.#links;
    if (links === null || !links.connected) return;
    this.#healing = true;
    try {
      const placed = await this.#reassert();
      if (placed !== "ok") {
        await this.#lose();
        return;
      }
      // What Redis lost (it was restarted empty) is made again from here.
      await this.#rooms.heal();
      if (this.#subscribed !== null) await this.#replica.load(links.client);
      if (!links.connected) return;
      if (this.#closed) return;
      this.#split = false;
      this.#sink?.status("whole");
      if (this.#subscribed !== null) {
        this.#sink?.following(this.#replica.present(this.#local));
      }
    } catch {
      // Lost again: the next `up` (or tick) tries again.
    } finally {
      this.#healing = false;
    }
  }

  // This node lost its place (the room saw its users leave, or one of its
  // names is someone else's): its users are disconnected, whatever of its
  // former self is left in Redis is swept once, and it starts afresh under
  // a new id.
  async #lose(): Promise<void> {
    if (this.#losing || this.#closed) return;
    this.#losing = true;
    const old = this.#node;
    this.#oldNodes.add(old);
    this.#local.clear();
    this.#unannounced.clear();
    this.#node = newNodeId();
    this.#sink?.status("lostPlace");
    try {
      await this.#run(SWEEP_NODE, [old], old);
      const placed = await this.#reassert();
      if (placed !== "ok") throw new Error("Redis refused this node's place");
      if (this.#subscribed !== null) {
        await this.#links!.movePrivate(old, this.#node);
      }
      this.#split = false;
    } catch {
      // Redis went away meanwhile: the room is split until it heals.
      if (!this.#split && !this.#closed) {
        this.#split = true;
        this.#sink?.status("split");
      }
    } finally {
      this.#losing = false;
      this.#idleLater();
    }
  }

  #reassert(): Promise<RespValue> {
    const pairs: string[] = [];
    for (const [key, holder] of this.#local) {
      pairs.push(key, holderJson(holder));
    }
    return this.#run(REASSERT, [this.#leaseMs, ...pairs]);
  }

  // ---- Plumbing ----

  #run(
    script: RedisScript,
    args: readonly RespArg[],
    node = this.#node,
  ): Promise<RespValue> {
    const links = this.#links;
    if (links === null) return Promise.reject(new Error("Not started"));
    return links.run(script, node, args);
  }

  // A change whose failure the fault handling covers (a lost connection
  // makes the room split; healing re-asserts the state).
  #fire(script: RedisScript, args: readonly RespArg[]): void {
    this.#run(script, args).catch(() => {});
  }

  async #closeLinks(): Promise<void> {
    const links = this.#links;
    this.#links = null;
    await links?.close();
  }
}
