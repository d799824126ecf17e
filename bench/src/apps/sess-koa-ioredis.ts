/** sess Koa on ioredis 6, default options (BENCH_NEAR_CACHE=1: with a near cache). */
import { once } from "node:events";
import Koa from "koa";
import { Redis } from "ioredis";
import { sessionMiddleware } from "@sess/koa";
import { createIoredisDriver } from "@sess/ioredis";
import { appEnv, onStop, sessStore } from "../shared.js";
import type { Data } from "./sess-data.js";
import { sessKoaRoutes } from "./sess-koa-routes.js";

const env = appEnv();
// BENCH_AUTOPIPELINING=1: the ioredis option that coalesces the commands of one tick into one write (off by default).
const client = new Redis(env.redisUrl, { enableAutoPipelining: process.env.BENCH_AUTOPIPELINING === "1" });
await once(client, "ready");
const sessions = sessionMiddleware<Data>({ driver: createIoredisDriver({ client, ...sessStore("sk-io") }) });
const app = new Koa();
app.use(sessions);
sessKoaRoutes(app, sessions);

const server = app.listen(env.port, "127.0.0.1");
onStop(async () => {
  server.close();
  await sessions.manager.close();
  client.disconnect();
});
