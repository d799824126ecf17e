import { afterAll, beforeAll, inject } from "vitest";
import { Redis } from "ioredis";
import { describeSessionEvents } from "@sess/driver-conformance";
import { describeUnavailableEvents } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";

let client: Redis;
beforeAll(async () => {
  client = new Redis(inject("redisUrl"), { lazyConnect: true });
  await client.connect();
});
afterAll(() => client?.disconnect());

describeSessionEvents({
  name: "ioredis",
  // close() of a driver given a client leaves the client open: the suite's managers share this one.
  createDriver: () => createIoredisDriver({ client, prefix: `ev${Math.random().toString(36).slice(2, 10)}` }),
});

describeUnavailableEvents<Redis>({
  name: "ioredis",
  startServer: startRedisServer,
  connect: (url) => Promise.resolve(new Redis(url).on("error", () => {})),
  isReady: (client) => client.status === "ready",
  close: (client) => client.disconnect(),
  createDriver: (client, options) => createIoredisDriver({ client, ...options }),
});
