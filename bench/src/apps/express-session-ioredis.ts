/** express-session + connect-redis 8 on ioredis 6: the documented setup (resave false, saveUninitialized false). */
import { once } from "node:events";
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis-8";
import { Redis } from "ioredis";
import { appEnv, onStop } from "../shared.js";
import { blobRoutes } from "./express-blob-routes.js";

const env = appEnv();
const client = new Redis(env.redisUrl);
await once(client, "ready");

const app = express();
app.use(express.json());
app.use(
  session({
    store: new RedisStore({ client, prefix: "cr8:" }),
    resave: false,
    saveUninitialized: false,
    secret: "bench secret: express-session + connect-redis 8",
  }),
);
blobRoutes(app);

const server = app.listen(env.port, "127.0.0.1");
onStop(() => {
  server.close();
  client.disconnect();
});
