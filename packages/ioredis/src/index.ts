/**
 * @sess/ioredis: the sess storage driver on an ioredis 5 client (`Redis`, `Cluster`, or a Sentinel
 * `Redis`). A thin binding of the client to the shared Redis port.
 */
import type { SessionDriver } from "@sess/core";
import type { Cluster, Redis } from "ioredis";
import { createRedisDriver } from "@sess/redis-shared";
import type { RedisPort } from "@sess/redis-shared";

export interface IoredisDriverOptions {
  /** The application's client: `new Redis(...)`, `new Redis({ sentinels, name })` or `new Cluster(...)`. Left open by `close()`. */
  client: Redis | Cluster;
  /** Key prefix. Default `"sess"`. Must not contain `{` or `}`. */
  prefix?: string;
}

function toStrings(reply: unknown): (string | null)[] {
  return Array.isArray(reply) ? reply.map((value) => (value == null ? null : String(value))) : [];
}

export function createIoredisDriver(options: IoredisDriverOptions): SessionDriver {
  const client = options.client;
  const port: RedisPort = {
    name: "ioredis",
    isReady: () => client.status === "ready",
    describeState: () => `status "${client.status}"`,
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
  };
  return createRedisDriver(port, options.prefix === undefined ? {} : { prefix: options.prefix });
}
