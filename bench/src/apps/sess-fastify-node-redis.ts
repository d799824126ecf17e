/** sess Fastify on node-redis 6, default options. */
import Fastify from "fastify";
import { createClient } from "redis";
import { sessionPlugin } from "@sess/fastify";
import { createNodeRedisDriver } from "@sess/node-redis";
import { appEnv, onStop } from "../shared.js";
import type { Data } from "./sess-data.js";
import { sessFastifyRoutes } from "./sess-fastify-routes.js";

const env = appEnv();
const client = createClient({ url: env.redisUrl });
await client.connect();
const sessions = sessionPlugin<Data>({ driver: createNodeRedisDriver({ client, prefix: "sf-nr" }) });

const app = Fastify({ logger: false });
await app.register(sessions);
sessFastifyRoutes(app, sessions);

await app.listen({ port: env.port, host: "127.0.0.1" });
onStop(async () => {
  await app.close();
  await sessions.manager.close();
  await client.close();
});
