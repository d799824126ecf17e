import { createClient } from "redis";
import { describeDurability } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createNodeRedisDriver } from "../src/index.js";

const makeClient = (url: string) => createClient({ url });

describeDurability<ReturnType<typeof makeClient>>({
  name: "node-redis",
  startServer: startRedisServer,
  connect: (url) => makeClient(url).on("error", () => {}).connect(),
  raw: (client, command, ...args) => client.sendCommand([command, ...args]),
  isReady: (client) => client.isReady,
  close: (client) => {
    if (client.isOpen) client.destroy();
  },
  createDriver: (client, options) => createNodeRedisDriver({ client, ...options }),
  sessionKey: (prefix, id) => createKeySchema(prefix).session(id),
});
