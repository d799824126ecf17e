/** sess Koa on node-redis 6, default options (BENCH_NEAR_CACHE=1: with a near cache). */
import Koa from "koa";
import { createClient } from "redis";
import { sessionMiddleware } from "@sess/koa";
import { createNodeRedisDriver } from "@sess/node-redis";
import { appEnv, onStop, sessStore } from "../shared.js";
import type { Data } from "./sess-data.js";
import { sessKoaRoutes } from "./sess-koa-routes.js";

const env = appEnv();
const client = createClient({ url: env.redisUrl });
await client.connect();
const sessions = sessionMiddleware<Data>({ driver: createNodeRedisDriver({ client, ...sessStore("sk-nr") }) });
const app = new Koa();
app.use(sessions);
sessKoaRoutes(app, sessions);

const server = app.listen(env.port, "127.0.0.1");
onStop(async () => {
  server.close();
  await sessions.manager.close();
  await client.close();
});
