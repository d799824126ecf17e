import { afterAll, beforeAll, inject } from "vitest";
import { describeClientConformance } from "@sess/driver-conformance/redis";
import { startRedisCluster } from "@sess/redis-server";
import type { RedisCluster } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";
import { configurations } from "./clients.js";

/** The near cache on, as an application would turn it on. */
const nearCache = { maxEntries: 10_000, maxAge: 60_000 };

let cluster: RedisCluster | undefined;

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

for (const configuration of configurations(() => inject("redisUrl"), () => cluster!.nodes)) {
  describeClientConformance(configuration, {
    createDriver: (client, prefix) => createIoredisDriver({ client, prefix }),
    sessionKey: (prefix, id) => createKeySchema(prefix).session(id),
  });
}

// The same suite with the near cache on, on every standalone configuration (a Cluster refuses it).
for (const configuration of configurations(() => inject("redisUrl"), () => []).filter((each) => each.name.endsWith("standalone"))) {
  describeClientConformance(
    { ...configuration, name: `${configuration.name} near cache` },
    {
      createDriver: (client, prefix) => createIoredisDriver({ client, prefix, nearCache }),
      sessionKey: (prefix, id) => createKeySchema(prefix).session(id),
    },
  );
}
