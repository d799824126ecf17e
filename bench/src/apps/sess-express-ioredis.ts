/** sess Express on ioredis 6, default options (BENCH_NEAR_CACHE=1: with a near cache). */
import { once } from "node:events";
import express from "express";
import { Redis } from "ioredis";
import { sessionMiddleware } from "@sess/express";
import { createIoredisDriver } from "@sess/ioredis";
import { appEnv, onStop, sessStore } from "../shared.js";
import type { Data } from "./sess-data.js";
import { sessRoutes } from "./sess-express-routes.js";

const env = appEnv();
// BENCH_AUTOPIPELINING=1: the ioredis option that coalesces the commands of one tick into one write (off by default).
const client = new Redis(env.redisUrl, { enableAutoPipelining: process.env.BENCH_AUTOPIPELINING === "1" });
await once(client, "ready");
const sessions = sessionMiddleware<Data>({ driver: createIoredisDriver({ client, ...sessStore("sx-io") }) });

const app = express();
app.use(express.json());
app.use(sessions);
sessRoutes(app, sessions);

const server = app.listen(env.port, "127.0.0.1");
onStop(async () => {
  server.close();
  await sessions.manager.close();
  client.disconnect();
});
