import { createClient } from "redis";
import { describeReady } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../src/index.js";

type Client = ReturnType<typeof createClient>;

describeReady<Client>({
  name: "node-redis",
  startServer: startRedisServer,
  connectInBackground: (url) => {
    const client = createClient({ url }).on("error", () => {});
    client.connect().catch(() => {});
    return client;
  },
  close: (client) => {
    if (client.isOpen) client.destroy();
  },
  createDriver: (client, options) => createNodeRedisDriver({ client, ...options }),
});
