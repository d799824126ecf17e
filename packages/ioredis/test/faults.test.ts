import { Redis } from "ioredis";
import { describeFaultRecovery } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";

describeFaultRecovery<Redis>({
  name: "ioredis",
  startServer: startRedisServer,
  // ioredis on its defaults: it connects by itself; the suite waits for status "ready".
  connect: (url) => Promise.resolve(new Redis(url).on("error", () => {})),
  isReady: (client) => client.status === "ready",
  close: (client) => client.disconnect(),
  createDriver: (client, options) => createIoredisDriver({ client, ...options }),
});
