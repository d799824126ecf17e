/** sess Hono on ioredis 6 over @hono/node-server, default options. */
import { once } from "node:events";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { Redis } from "ioredis";
import { sessionMiddleware, type SessionEnv } from "@sess/hono";
import { createIoredisDriver } from "@sess/ioredis";
import { appEnv, cartSummary, onStop, payloadFor, skuOf, usernameOf } from "../shared.js";
import { cartLinesOf, meOfSession, storeLogin, type Data } from "./sess-data.js";

const env = appEnv();
// BENCH_AUTOPIPELINING=1: the ioredis option that coalesces the commands of one tick into one write (off by default).
const client = new Redis(env.redisUrl, { enableAutoPipelining: process.env.BENCH_AUTOPIPELINING === "1" });
await once(client, "ready");
const sessions = sessionMiddleware<Data>({ driver: createIoredisDriver({ client, prefix: "sh-io" }) });
const app = new Hono<SessionEnv<Data>>();
const body = (request: Request): Promise<unknown> => request.json().catch(() => null);
app.use(sessions);

app.get("/health", (c) => c.json({ ok: true }));
app.post("/login", async (c) => {
  const username = usernameOf(await body(c.req.raw));
  if (username === null) return c.json({ error: "username required" }, 400);
  const payload = payloadFor(username);
  storeLogin(sessions.login(c, payload.userId), payload);
  return c.json({ ok: true });
});
app.get("/me", (c) => {
  const session = c.get("session");
  if (session.userId === null) return c.json({ error: "not logged in" }, 401);
  return c.json(meOfSession(session));
});
app.post("/cart", async (c) => {
  const sku = skuOf(await body(c.req.raw));
  if (sku === null) return c.json({ error: "sku required" }, 400);
  const session = c.get("session");
  if (session.userId === null) return c.json({ error: "not logged in" }, 401);
  return c.json({ sku, qty: session.increment(`cart:${sku}`) });
});
app.get("/cart", (c) => {
  const session = c.get("session");
  if (session.userId === null) return c.json({ error: "not logged in" }, 401);
  return c.json(cartSummary(cartLinesOf(session.all())));
});

const server = serve({ fetch: app.fetch, port: env.port, hostname: "127.0.0.1" });
onStop(async () => {
  server.close();
  await sessions.manager.close();
  client.disconnect();
});
