import { afterAll, beforeAll, inject } from "vitest";
import { Cluster, Redis } from "ioredis";
import type { SessionDriver } from "@sess/core";
import { describeDriverConformance } from "@sess/driver-conformance";
import type { ConformanceHarness, CorruptionKind } from "@sess/driver-conformance";
import { startRedisCluster } from "@sess/redis-server";
import type { RedisCluster } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";

const CORRUPT_FIELD = { name: "bad", text: '{"unterminated": [1, 2' };
const FOREIGN_FIELD = { name: "foreign", text: '"planted by another writer"' };

let standalone: Redis;
let cluster: RedisCluster;
let clusterClient: Cluster;

beforeAll(async () => {
  standalone = new Redis(inject("redisUrl"), { lazyConnect: true });
  await standalone.connect();
  cluster = await startRedisCluster();
  clusterClient = new Cluster(cluster.nodes, { lazyConnect: true });
  await clusterClient.connect();
});

afterAll(async () => {
  standalone?.disconnect();
  clusterClient?.disconnect();
  await cluster?.stop();
});

function harnessFor(name: string, client: () => Redis | Cluster): ConformanceHarness {
  const prefixes = new WeakMap<SessionDriver, string>();
  const keyOf = (driver: SessionDriver, id: string): string => {
    const prefix = prefixes.get(driver);
    if (prefix === undefined) throw new Error("driver not made by this harness");
    return createKeySchema(prefix).session(id);
  };
  return {
    name,
    createDriver() {
      const prefix = `t${Math.random().toString(36).slice(2, 10)}`;
      const driver = createIoredisDriver({ client: client(), prefix });
      prefixes.set(driver, prefix);
      return driver;
    },
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async remainingTtl(driver, id) {
      const ttl = await client().pttl(keyOf(driver, id));
      return ttl < 0 ? null : ttl;
    },
    async corrupt(driver, id, kind: CorruptionKind) {
      const key = keyOf(driver, id);
      const redis = client();
      if (kind === "wrong-type") {
        await redis.del(key);
        await redis.set(key, "not a hash", "PX", 60_000);
      } else if (kind === "bad-json-field") {
        await redis.hset(key, CORRUPT_FIELD.name, CORRUPT_FIELD.text);
      } else if (kind === "foreign-fields") {
        await redis.hset(key, FOREIGN_FIELD.name, FOREIGN_FIELD.text);
      } else {
        await redis.hdel(key, "$c", "$s", "$x", "$a", "$u", "$ua", "$ip");
      }
    },
  };
}

describeDriverConformance(harnessFor("ioredis standalone", () => standalone));
describeDriverConformance(harnessFor("ioredis cluster", () => clusterClient));
