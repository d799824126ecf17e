import { Redis } from "ioredis";
import { describeTombstones } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createKeySchema } from "@sess/redis-shared";
import { createIoredisDriver } from "../src/index.js";

describeTombstones<Redis>({
  name: "ioredis",
  startServer: startRedisServer,
  async connect(url) {
    const client = new Redis(url, { lazyConnect: true });
    client.on("error", () => {});
    await client.connect();
    return client;
  },
  raw: (client, command, ...args) => client.call(command, ...args),
  close: (client) => client.disconnect(),
  createDriver: (client, options) => createIoredisDriver({ client, ...options }),
  sessionKey: (prefix, id) => createKeySchema(prefix).session(id),
});
