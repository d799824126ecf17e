import { createClient } from "redis";
import { describeReady } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../src/index.js";
import { close, type NodeRedisFamilyClient } from "./clients.js";

describeReady<NodeRedisFamilyClient>({
  name: "node-redis",
  startServer: startRedisServer,
  connectInBackground: (url) => {
    const client = createClient({ url });
    client.on("error", () => {});
    client.connect().catch(() => {});
    return client;
  },
  close,
  createDriver: (client, options) => createNodeRedisDriver({ client, ...options }),
});
