/** express-session + connect-redis 9 on node-redis 6: the documented setup (resave false, saveUninitialized false). */
import express from "express";
import session from "express-session";
import { RedisStore } from "connect-redis-9";
import { createClient } from "redis";
import { appEnv, onStop } from "../shared.js";
import { blobRoutes } from "./express-blob-routes.js";

const env = appEnv();
const client = createClient({ url: env.redisUrl });
await client.connect();

const app = express();
app.use(express.json());
app.use(
  session({
    store: new RedisStore({ client, prefix: "cr9:" }),
    resave: false,
    saveUninitialized: false,
    secret: "bench secret: express-session + connect-redis 9",
  }),
);
blobRoutes(app);

const server = app.listen(env.port, "127.0.0.1");
onStop(async () => {
  server.close();
  await client.close();
});
