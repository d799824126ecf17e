/**
 * @sess/ioredis: the sess storage driver on an ioredis 5 client (`Redis`, `Cluster`, or a Sentinel
 * `Redis`). A thin binding of the client to the shared Redis port.
 */
import type { SessionDriver } from "@sess/core";
import type { Cluster, Redis } from "ioredis";
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
export interface IoredisDriver extends SessionDriver {
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

export interface IoredisDriverOptions {
  /** The application's client: `new Redis(...)`, `new Redis({ sentinels, name })` or `new Cluster(...)`. Left open by `close()`. */
  client: Redis | Cluster;
  /** Key prefix. Default `"sess"`. Must not contain `{` or `}`. */
  prefix?: string;
}

/** ", host:port" of a standalone client (Sentinel and Cluster clients have several). */
function endpointOf(client: Redis | Cluster): string {
  const options = (client as { options?: { host?: unknown; port?: unknown; sentinels?: unknown; path?: unknown } }).options;
  if (!options || options.sentinels || typeof options.port !== "number") return "";
  return typeof options.path === "string" ? `, ${options.path}` : `, ${String(options.host)}:${options.port}`;
}

function toStrings(reply: unknown): (string | null)[] {
  return Array.isArray(reply) ? reply.map((value) => (value == null ? null : String(value))) : [];
}

export function createIoredisDriver(options: IoredisDriverOptions): IoredisDriver {
  const client = options.client;
  const port: StartupPort = {
    name: "ioredis",
    isReady: () => client.status === "ready",
    describeState: () => `status "${client.status}"${endpointOf(client)}`,
    lastError: watchConnectionErrors(client),
    evalsha: (sha1, keys, args) => client.evalsha(sha1, keys.length, ...keys, ...args),
    eval: (source, keys, args) => client.eval(source, keys.length, ...keys, ...args),
    hgetall: (key) => client.hgetall(key),
    hmget: async (key, fields) => toStrings(await client.hmget(key, ...fields)),
    zrangeWithScores: async (key) => {
      const flat = await client.zrange(key, 0, -1, "WITHSCORES");
      const entries: { member: string; score: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ member: String(flat[i]), score: Number(flat[i + 1]) });
      return entries;
    },
    zrem: async (key, members) => {
      await client.zrem(key, ...members);
    },
    configGet: async (name) => {
      const reply = (await client.config("GET", name)) as unknown;
      return Array.isArray(reply) && reply.length >= 2 ? String(reply[1]) : null;
    },
  };
  const driver = createRedisDriver(port, options.prefix === undefined ? {} : { prefix: options.prefix });
  return Object.assign(driver, { verify: createVerify(port, options.prefix), ready: createReady(port) });
}
