/** sess Express on node-redis 6, default options (BENCH_NEAR_CACHE=1: with a near cache). */
import express from "express";
import { createClient } from "redis";
import { sessionMiddleware } from "@sess/express";
import { createNodeRedisDriver } from "@sess/node-redis";
import { appEnv, onStop, sessStore } from "../shared.js";
import type { Data } from "./sess-data.js";
import { sessRoutes } from "./sess-express-routes.js";

const env = appEnv();
const client = createClient({ url: env.redisUrl });
await client.connect();
const sessions = sessionMiddleware<Data>({ driver: createNodeRedisDriver({ client, ...sessStore("sx-nr") }) });

const app = express();
app.use(express.json());
app.use(sessions);
sessRoutes(app, sessions);

const server = app.listen(env.port, "127.0.0.1");
onStop(async () => {
  server.close();
  await sessions.manager.close();
  await client.close();
});
