import { afterAll, beforeAll, inject } from "vitest";
import { createClient } from "redis";
import { describeSessionEvents } from "@sess/driver-conformance";
import { describeUnavailableEvents } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../src/index.js";

const makeClient = (url: string) => createClient({ url });

let client: ReturnType<typeof makeClient>;
beforeAll(async () => {
  client = makeClient(inject("redisUrl"));
  await client.connect();
});
afterAll(async () => {
  if (client?.isOpen) await client.close();
});

describeSessionEvents({
  name: "node-redis",
  // close() of a driver given a client leaves the client open: the suite's managers share this one.
  createDriver: () => createNodeRedisDriver({ client, prefix: `ev${Math.random().toString(36).slice(2, 10)}` }),
});

describeUnavailableEvents<ReturnType<typeof makeClient>>({
  name: "node-redis",
  startServer: startRedisServer,
  connect: (url) => makeClient(url).on("error", () => {}).connect(),
  isReady: (client) => client.isReady,
  close: (client) => {
    if (client.isOpen) client.destroy();
  },
  createDriver: (client, options) => createNodeRedisDriver({ client, ...options }),
});
