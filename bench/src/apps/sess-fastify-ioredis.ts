/** sess Fastify on ioredis 6, default options. */
import { once } from "node:events";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { sessionPlugin } from "@sess/fastify";
import { createIoredisDriver } from "@sess/ioredis";
import { appEnv, onStop } from "../shared.js";
import type { Data } from "./sess-data.js";
import { sessFastifyRoutes } from "./sess-fastify-routes.js";

const env = appEnv();
// BENCH_AUTOPIPELINING=1: the ioredis option that coalesces the commands of one tick into one write (off by default).
const client = new Redis(env.redisUrl, { enableAutoPipelining: process.env.BENCH_AUTOPIPELINING === "1" });
await once(client, "ready");
const sessions = sessionPlugin<Data>({ driver: createIoredisDriver({ client, prefix: "sf-io" }) });

const app = Fastify({ logger: false });
await app.register(sessions);
sessFastifyRoutes(app, sessions);

await app.listen({ port: env.port, host: "127.0.0.1" });
onStop(async () => {
  await app.close();
  await sessions.manager.close();
  client.disconnect();
});
