import { createClient } from "redis";
import { describeStartupChecks } from "@sess/driver-conformance/redis";
import { startRedisServer } from "@sess/redis-server";
import { createNodeRedisDriver } from "../src/index.js";

const makeClient = (url: string, options: { username?: string; password?: string } = {}) => createClient({ url, ...options });
type Client = ReturnType<typeof makeClient>;

describeStartupChecks<Client>({
  name: "node-redis",
  startServer: startRedisServer,
  connect: (url, options) => makeClient(url, options).on("error", () => {}).connect(),
  raw: (client, command, ...args) => client.sendCommand([command, ...args]),
  close: (client) => {
    if (client.isOpen) client.destroy();
  },
  createDriver: (client, options) => createNodeRedisDriver({ client, ...options }),
  readme: new URL("../README.md", import.meta.url),
  extraAclCommands: "",
});
