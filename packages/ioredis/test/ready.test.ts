import { Redis } from "ioredis";
import { describeReady } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";

describeReady<Redis>({
  name: "ioredis",
  startServer: startRedisServer,
  connectInBackground: (url) => new Redis(url).on("error", () => {}),
  close: (client) => client.disconnect(),
  createDriver: (client, options) => createIoredisDriver({ client, ...options }),
});
