import { afterAll, beforeAll, inject } from "vitest";
import { describeClientConformance } from "@sess/driver-conformance/redis";
import { startRedisCluster } from "@sess/redis-server";
import type { RedisCluster } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";
import { configurations } from "./clients.js";

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
