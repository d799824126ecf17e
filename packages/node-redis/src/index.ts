/**
 * @sess/node-redis: the sess storage driver on a node-redis 5 client (`createClient`,
 * `createCluster`, `createSentinel`). A thin binding of the client to the shared Redis port.
 */
import type { SessionDriver } from "@sess/core";
import { createReady, createRedisDriver, createVerify, watchConnectionErrors } from "@sess/redis-shared";
import type { StartupPort } from "@sess/redis-shared";

/** Options of `driver.verify()`. */
export interface VerifyOptions {
  /** Where warnings go. Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** What `driver.verify()` found. */
export interface VerifyReport {
  /** Whether the ACL command check ran (false on Redis < 7.0, which lacks `redis.acl_check_cmd`). */
  commandsChecked: boolean;
  /** `appendonly`, `appendfsync`, `maxmemory`, `maxmemory-policy`, when the user may read them. */
  settings: { appendonly?: string; appendfsync?: string; maxmemory?: string; "maxmemory-policy"?: string };
  /** This check's warnings (each is passed to `onWarning` only the first time this driver finds it). */
  warnings: string[];
}

/** Options of `driver.ready()`. */
export interface ReadyOptions {
  /** How long to wait for the client to be ready, in milliseconds. Default 10,000. */
  timeout?: number;
}

/** The driver, plus `ready()` (wait for the client's connection) and `verify()`: the start-up check (ACL commands, persistence and eviction settings). */
export interface NodeRedisDriver extends SessionDriver {
  /**
   * Checks that the connected user may run every command the driver uses on the prefix (rejects with
   * `SessionError("CONFIG_INVALID")` naming the missing ones) and warns once when Redis would lose
   * sessions on a restart (no AOF) or evict them. Call it once at start-up, after connecting.
   */
  verify(options?: VerifyOptions): Promise<VerifyReport>;
  /**
   * Resolves once the client is connected and ready to send commands; rejects with
   * `SessionError("STORE_UNAVAILABLE")` after `timeout` ms (default 10,000), the client's last
   * connection error as `cause` and in the message. Requests meanwhile get 503.
   */
  ready(options?: ReadyOptions): Promise<void>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- node-redis declares these with module-, RESP- and type-mapping-dependent generics */
type Command = (...args: any[]) => Promise<unknown>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * What the driver needs from a node-redis 5 client: satisfied by `createClient()`, `createCluster()`
 * and `createSentinel()` results (with any modules, scripts or RESP version).
 */
export interface NodeRedisClient {
  readonly isOpen: boolean;
  evalSha: Command;
  eval: Command;
  hGetAll: Command;
  hmGet: Command;
  zRangeWithScores: Command;
  zRem: Command;
  /** Used by `verify()` when present. */
  configGet?: Command;
}

export interface NodeRedisDriverOptions {
  /** The application's connected client: `createClient()`, `createCluster()` or `createSentinel()`, after `connect()`. Left open by `close()`. */
  client: NodeRedisClient;
  /** Key prefix. Default `"sess"`. Must not contain `{` or `}`. */
  prefix?: string;
}

/** The commands the port uses, as every node-redis client kind declares them. */
interface Commands {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  hGetAll(key: string): Promise<unknown>;
  hmGet(key: string, fields: string[]): Promise<unknown>;
  zRangeWithScores(key: string, start: number, stop: number): Promise<unknown>;
  zRem(key: string, members: string[]): Promise<unknown>;
  configGet?(parameter: string): Promise<unknown>;
}

interface State {
  isOpen: boolean;
  isReady?: boolean;
  /** Cluster only: the masters and their node clients once connected. */
  masters?: { client?: unknown }[];
}

function readiness(client: State): boolean {
  if (!client.isOpen) return false;
  if (typeof client.isReady === "boolean") return client.isReady;
  // Cluster: open, and every master's node client connected (a down master would otherwise queue).
  return (client.masters ?? []).every((master) => {
    const node = master.client as { isReady?: unknown } | undefined;
    return node === undefined || typeof node.isReady !== "boolean" || node.isReady;
  });
}

/** ", host:port" of a standalone client (from `socket` or `url`, never its credentials); "" for clusters and sentinels. */
function endpointOf(client: State): string {
  const options = (client as { options?: { url?: unknown; socket?: { host?: unknown; port?: unknown; path?: unknown } } }).options;
  const socket = options?.socket;
  if (typeof socket?.path === "string") return `, ${socket.path}`;
  if (socket?.host !== undefined || socket?.port !== undefined) return `, ${String(socket.host ?? "localhost")}:${String(socket.port ?? 6379)}`;
  if (typeof options?.url === "string") {
    try {
      const url = new URL(options.url);
      return `, ${url.hostname}:${url.port || "6379"}`;
    } catch {
      return "";
    }
  }
  return "";
}

function text(value: unknown): string {
  return value instanceof Uint8Array ? Buffer.from(value).toString("utf8") : String(value);
}

export function createNodeRedisDriver(options: NodeRedisDriverOptions): NodeRedisDriver {
  const client = options.client as unknown as Commands & State;
  const port: StartupPort = {
    name: "node-redis",
    isReady: () => readiness(client),
    describeState: () => `isOpen ${String(client.isOpen)}, isReady ${String(client.isReady ?? "n/a")}${endpointOf(client)}${client.isOpen ? "" : "; call client.connect()"}`,
    lastError: watchConnectionErrors(client),
    evalsha: (sha1, keys, args) => client.evalSha(sha1, { keys, arguments: args }),
    eval: (source, keys, args) => client.eval(source, { keys, arguments: args }),
    hgetall: async (key) => {
      const reply = await client.hGetAll(key);
      const hash: Record<string, string> = {};
      const entries = reply instanceof Map ? [...reply.entries()] : Object.entries(reply as Record<string, unknown>);
      for (const [name, value] of entries) {
        if (text(name) !== "__proto__") hash[text(name)] = text(value);
      }
      return hash;
    },
    hmget: async (key, fields) => {
      const reply = await client.hmGet(key, fields);
      return Array.isArray(reply) ? reply.map((value: unknown) => (value == null ? null : text(value))) : [];
    },
    zrangeWithScores: async (key) => {
      const reply = await client.zRangeWithScores(key, 0, -1);
      return (reply as { value: unknown; score: unknown }[]).map((entry) => ({
        member: text(entry.value),
        score: Number(entry.score),
      }));
    },
    zrem: async (key, members) => {
      await client.zRem(key, members);
    },
    configGet: async (name) => {
      if (typeof client.configGet !== "function") return null;
      const reply = await client.configGet(name);
      const entries = reply instanceof Map ? [...reply.entries()] : Object.entries((reply ?? {}) as Record<string, unknown>);
      const found = entries.find(([key]) => text(key) === name);
      return found === undefined ? null : text(found[1]);
    },
  };
  const driver = createRedisDriver(port, options.prefix === undefined ? {} : { prefix: options.prefix });
  return Object.assign(driver, { verify: createVerify(port, options.prefix), ready: createReady(port) });
}
