/**
 * Several chat servers (nodes) as subprocesses on one Redis, for tests of
 * one room across processes: each with its own log, no web door and no
 * per-address limit, stopped together.
 *
 * @module
 */

import { spawnServer, type Subprocess } from "../helpers.ts";
import { RedisClient } from "../../lib/engine/redis_client.ts";
import type { RespArg, RespValue } from "../../lib/engine/resp.ts";

/** One node: a server process, its chat port and its log. */
export interface Node {
  /** The process. */
  process: Subprocess & { port: number };
  /** Its chat (TCP) port. */
  port: number;
  /** Its chat log. */
  logPath: string;
}

/** Options of {@linkcode startNodes}. */
export interface NodesOptions {
  /** The Redis URL every node uses. */
  redisUrl: string;
  /** How many nodes. */
  count: number;
  /** A short lease (`--redis-lease-ms`), so faults show quickly. */
  leaseMs?: number;
  /** More server flags, for every node. */
  args?: string[];
  /** The directory for the logs; a temporary one when left out. */
  dir?: string;
}

/** A set of nodes; `stop()` (or `await using`) ends them all. */
export class Nodes implements AsyncDisposable {
  /** The nodes, in the order they were started. */
  readonly list: Node[] = [];
  /** Where the logs are. */
  readonly dir: string;
  #options: NodesOptions;
  #ownDir: boolean;
  #serial = 0;

  private constructor(options: NodesOptions, dir: string, ownDir: boolean) {
    this.#options = options;
    this.dir = dir;
    this.#ownDir = ownDir;
  }

  /** Starts `count` nodes, one after the other. */
  static async start(options: NodesOptions): Promise<Nodes> {
    const dir = options.dir ??
      await Deno.makeTempDir({ prefix: "chat_nodes_" });
    const nodes = new Nodes(options, dir, options.dir === undefined);
    try {
      for (let i = 0; i < options.count; i++) await nodes.add();
    } catch (error) {
      await nodes.stop();
      throw error;
    }
    return nodes;
  }

  /** Starts one more node (with a log of its own unless `logPath` is given). */
  async add(logPath?: string): Promise<Node> {
    const path = logPath ?? `${this.dir}/node${++this.#serial}.txt`;
    const lease = this.#options.leaseMs === undefined
      ? []
      : ["--redis-lease-ms", String(this.#options.leaseMs)];
    const process = await spawnServer([
      "--max-per-ip",
      "0",
      "--no-web",
      "--redis",
      this.#options.redisUrl,
      "--log",
      path,
      ...lease,
      ...(this.#options.args ?? []),
    ]);
    const node = { process, port: process.port, logPath: path };
    this.list.push(node);
    return node;
  }

  /** The `i`-th node. */
  at(i: number): Node {
    return this.list[i];
  }

  /** Shuts one node down with SIGTERM and waits for it to exit. */
  async shutDown(node: Node): Promise<Deno.CommandStatus> {
    node.process.child.kill("SIGTERM");
    return await node.process.status(15_000);
  }

  /** Kills every node and removes the logs; harmless to repeat. */
  async stop(): Promise<void> {
    await Promise.allSettled(
      this.list.map(async (node) => {
        try {
          node.process.child.kill("SIGCONT");
        } catch {
          // Gone already.
        }
        await node.process.cleanup();
      }),
    );
    if (this.#ownDir) {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  /** Same as {@linkcode Nodes.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Runs one command on a fresh connection to `url` and returns the reply. */
export async function redisCommand(
  url: string,
  args: readonly RespArg[],
): Promise<RespValue> {
  const client = await RedisClient.connect({ url });
  try {
    return await client.command(args);
  } finally {
    await client.close();
  }
}
