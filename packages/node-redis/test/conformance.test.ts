import { afterAll, beforeAll, inject } from "vitest";
import { createClient, createCluster } from "redis";
import type { SessionDriver } from "@sess/core";
import { describeDriverConformance } from "@sess/driver-conformance";
import type { ConformanceHarness, CorruptionKind } from "@sess/driver-conformance";
import { startRedisCluster } from "@sess/redis-server";
import type { RedisCluster } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createNodeRedisDriver } from "../src/index.js";

const CORRUPT_FIELD = { name: "bad", text: '{"unterminated": [1, 2' };
const FOREIGN_FIELD = { name: "foreign", text: '"planted by another writer"' };

const makeClient = (url: string) => createClient({ url });
const makeCluster = (urls: string[]) => createCluster({ rootNodes: urls.map((url) => ({ url })) });
type Client = ReturnType<typeof makeClient>;
type ClusterClient = ReturnType<typeof makeCluster>;

let standalone: Client;
let cluster: RedisCluster;
let clusterClient: ClusterClient;

beforeAll(async () => {
  standalone = makeClient(inject("redisUrl"));
  await standalone.connect();
  cluster = await startRedisCluster();
  clusterClient = makeCluster(cluster.urls);
  await clusterClient.connect();
});

afterAll(async () => {
  await standalone?.close();
  await clusterClient?.close();
  await cluster?.stop();
});

function harnessFor(
  name: string,
  client: () => Client | ClusterClient,
  driverFor: (prefix: string) => SessionDriver,
): ConformanceHarness {
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
      const driver = driverFor(prefix);
      prefixes.set(driver, prefix);
      return driver;
    },
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    async remainingTtl(driver, id) {
      const ttl = await client().pTTL(keyOf(driver, id));
      return ttl < 0 ? null : ttl;
    },
    async corrupt(driver, id, kind: CorruptionKind) {
      const key = keyOf(driver, id);
      const redis = client();
      if (kind === "wrong-type") {
        await redis.del(key);
        await redis.set(key, "not a hash", { PX: 60_000 });
      } else if (kind === "bad-json-field") {
        await redis.hSet(key, CORRUPT_FIELD.name, CORRUPT_FIELD.text);
      } else if (kind === "foreign-fields") {
        await redis.hSet(key, FOREIGN_FIELD.name, FOREIGN_FIELD.text);
      } else {
        await redis.hDel(key, ["$c", "$s", "$x", "$a", "$u", "$ua", "$ip"]);
      }
    },
  };
}

describeDriverConformance(
  harnessFor("node-redis standalone", () => standalone, (prefix) => createNodeRedisDriver({ client: standalone, prefix })),
);
describeDriverConformance(
  harnessFor("node-redis cluster", () => clusterClient, (prefix) => createNodeRedisDriver({ client: clusterClient, prefix })),
);
