import { Redis } from "ioredis";
import { describeStartupChecks } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createIoredisDriver } from "../src/index.js";

async function connected(client: Redis): Promise<Redis> {
  client.on("error", () => {});
  await client.connect();
  return client;
}

describeStartupChecks<Redis>({
  name: "ioredis",
  startServer: startRedisServer,
  connect: (url, options) => connected(new Redis(url, { ...options, lazyConnect: true, maxRetriesPerRequest: 1, autoResendUnfulfilledCommands: false })),
  raw: (client, command, ...args) => client.call(command, ...args),
  close: (client) => client.disconnect(),
  createDriver: (client, options) => createIoredisDriver({ client, ...options }),
  readme: new URL("../README.md", import.meta.url),
  /** The ready check's INFO and PING, which the README's list leaves out. */
  extraAclCommands: " +info +ping",
  /** Re-sending unfulfilled commands is ioredis's default; set explicitly it must not be warned about either. */
  connectResending: [{}, { autoResendUnfulfilledCommands: true }].map(
    (options) => (url: string) => connected(new Redis(url, { ...options, lazyConnect: true })),
  ),
});
