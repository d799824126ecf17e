import { createClient } from "redis";
import { describeFaultRecovery } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../src/index.js";

const makeClient = (url: string) => createClient({ url });

describeFaultRecovery<ReturnType<typeof makeClient>>({
  name: "node-redis",
  startServer: startRedisServer,
  connect: (url) => makeClient(url).on("error", () => {}).connect(),
  isReady: (client) => client.isReady,
  close: (client) => {
    if (client.isOpen) client.destroy();
  },
  createDriver: (client, options) => createNodeRedisDriver({ client, ...options }),
});
